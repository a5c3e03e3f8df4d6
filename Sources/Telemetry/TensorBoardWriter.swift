import Foundation
import ThreadSafety

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a TensorBoard event file: `events.out.tfevents.<unix seconds>.<hostname>` in a log
/// directory, readable by `tensorboard --logdir` (and by the tests' `EventFileReader`).
///
/// The file is a sequence of TFRecords (`TFRecord`), each holding a serialized
/// `tensorboard.Event` (`TensorBoardEvent`). The first record carries only `wall_time` and
/// `file_version = "brain.Event:2"`, as TensorFlow's `EventsWriter` writes it; TensorBoard uses
/// that record to recognize the file.
///
/// Thread-safe: A3C workers log from their own threads, so all state sits behind one lock and
/// each event is appended whole.
///
/// ```swift
/// let writer = try TensorBoardWriter(logDirectory: runDirectory)
/// try writer.addHyperparameters([("learning rate", "7e-4"), ("workers", "8")])
/// try writer.addScalars([("Perf/Reward", reward), ("Losses/Value Loss", valueLoss)], step: step)
/// try writer.close()
/// ```
public final class TensorBoardWriter: Sendable {
    /// The event file being written.
    public let url: URL

    private let state: LockedValue<_BufferedAppender>

    /// Creates the log directory (and its parents) if needed and a new event file in it.
    ///
    /// - Parameters:
    ///   - logDirectory: one run's directory; TensorBoard shows each directory as one run.
    ///   - filenameSuffix: appended to the file name (TensorFlow's `filename_suffix`).
    ///   - flushPolicy: when events reach the OS; the default writes each one through at once.
    ///   - wallTime: time of the file-version event and of the name; defaults to now.
    /// - Throws: `TelemetryError.io` if the directory or the file cannot be created.
    ///
    /// The name is `events.out.tfevents.<seconds>.<hostname><suffix>`; if that file exists
    /// (two writers in the same second), `.<pid>.<n>` is added so no writer appends to another's
    /// file. The file is created with `O_EXCL` so that check has no race.
    public init(logDirectory: URL, filenameSuffix: String = "", flushPolicy: FlushPolicy = .writeThrough,
                wallTime: Double = Date().timeIntervalSince1970) throws {
        let directory = logDirectory.absoluteURL
        try _makeDirectories(directory.path)
        let baseName = "events.out.tfevents.\(Int64(wallTime.rounded(.down))).\(_hostName())"
        var candidate = baseName + filenameSuffix
        var attempt = 0
        var file: _POSIXFile?
        while file == nil {
            let path = directory.appendingPathComponent(candidate).path
            do {
                file = try _POSIXFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
            } catch TelemetryError.io(_, _, EEXIST) where attempt < 1000 {
                attempt += 1
                candidate = baseName + ".\(getpid()).\(attempt)" + filenameSuffix
            }
        }
        url = directory.appendingPathComponent(candidate)
        var appender = _BufferedAppender(file: file!, policy: flushPolicy)
        var first: [UInt8] = []
        TFRecord.frame(TensorBoardEvent(wallTime: wallTime, fileVersion: TensorBoardEvent.currentFileVersion)
            .serialized(), into: &first)
        try appender.append(first)
        state = LockedValue(appender)
    }

    deinit {
        // Best effort: a writer dropped without close() still hands its buffer to the OS.
        state.withLockedValue { try? $0.close() }
    }

    // MARK: - Logging

    /// Appends one event. The other `add...` methods are shorthands for this.
    public func add(_ event: TensorBoardEvent) throws {
        var record: [UInt8] = []
        TFRecord.frame(event.serialized(), into: &record)
        try state.withLockedValue { try $0.append(record) }
    }

    /// Logs one point of the scalar chart `tag` (e.g. "Losses/Value Loss"; slashes group charts
    /// in TensorBoard). TensorBoard stores scalars as 32-bit floats (`simple_value`).
    public func addScalar<Value: BinaryFloatingPoint>(tag: String, value: Value, step: Int,
                                                      wallTime: Double = Date().timeIntervalSince1970) throws {
        try add(TensorBoardEvent(wallTime: wallTime, step: Int64(step),
                                 scalars: [.init(tag: tag, value: Float(value))]))
    }

    /// Logs several scalars at the same step as one event (one record instead of one per tag).
    public func addScalars(_ values: [(tag: String, value: Double)], step: Int,
                           wallTime: Double = Date().timeIntervalSince1970) throws {
        guard !values.isEmpty else { return }
        try add(TensorBoardEvent(wallTime: wallTime, step: Int64(step),
                                 scalars: values.map { .init(tag: $0.tag, value: Float($0.value)) }))
    }

    /// Marks a restart at `step` (a `SessionLog` START event, as TensorFlow's supervisor wrote on
    /// restoring a checkpoint): TensorBoard then hides the points of earlier event files whose
    /// step is >= `step`, i.e. what a crashed session logged after its last checkpoint.
    public func addSessionStart(step: Int, checkpointPath: String = "",
                                wallTime: Double = Date().timeIntervalSince1970) throws {
        try add(TensorBoardEvent(wallTime: wallTime, step: Int64(step), sessionStart: checkpointPath))
    }

    /// Logs a text summary, shown (as Markdown) in TensorBoard's Text tab: a rank-0 DT_STRING
    /// tensor with plugin metadata "text", the format `tf.summary.text` writes.
    public func addText(tag: String, text: String, step: Int = 0,
                        wallTime: Double = Date().timeIntervalSince1970) throws {
        try add(TensorBoardEvent(wallTime: wallTime, step: Int64(step),
                                 texts: [.init(tag: tag, text: text, pluginName: "text")]))
    }

    /// Logs hyperparameters as a Markdown table under `tag`, as cleanrl does at the start of a
    /// run, so a run's settings sit next to its curves. Order is kept; `|` in values is escaped.
    public func addHyperparameters(_ parameters: [(name: String, value: String)], tag: String = "hyperparameters",
                                   step: Int = 0) throws {
        try addText(tag: tag, text: TensorBoardWriter.markdownTable(parameters), step: step)
    }

    /// `|param|value|` table of `parameters`.
    public static func markdownTable(_ parameters: [(name: String, value: String)]) -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var lines = ["|param|value|", "|-|-|"]
        for (name, value) in parameters {
            lines.append("|\(cell(name))|\(cell(value))|")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Flushing

    /// Hands buffered events to the OS; with `sync` (or a policy with `syncToDisk`) also
    /// fsyncs, so they survive a power loss.
    public func flush(sync: Bool = false) throws {
        try state.withLockedValue { try $0.flush(sync: sync || $0.policy.syncToDisk) }
    }

    /// Flushes and closes the file. Later `add...` calls throw `TelemetryError.writerClosed`;
    /// closing twice is allowed.
    public func close() throws {
        try state.withLockedValue { try $0.close() }
    }
}

/// `mkdir -p`: creates `path` and missing parents (mode 0755); existing directories are fine.
func _makeDirectories(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        return
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty && parent != path {
        try _makeDirectories(parent)
    }
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw TelemetryError.io(operation: "create directory", path: path, errno: errno)
    }
}

/// The host name, as TensorFlow puts it in event file names (`gethostname`); "localhost" if
/// the call fails. Slashes would make it a path, so they are replaced.
func _hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(cString: buffer)
    return name.isEmpty ? "localhost" : name.replacingOccurrences(of: "/", with: "_")
}
