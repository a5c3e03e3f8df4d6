import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// When a writer hands its buffered bytes to the OS, and whether it also forces them to disk.
public struct FlushPolicy: Sendable, Equatable {
    /// Hand the buffer to the OS (one `write(2)`) once it holds this many bytes.
    public var maxBufferedBytes: Int
    /// ... or once this many seconds have passed since the last flush, checked on each append
    /// (there is no background timer). 0 writes every append through at once.
    public var maxDelaySeconds: Double
    /// Also `fsync(2)` on every flush, so that a power loss cannot lose what was flushed.
    /// Off by default: a crash of the process loses nothing that reached the OS, and an fsync
    /// can stall a training step for tens of milliseconds on a busy disk.
    public var syncToDisk: Bool

    public init(maxBufferedBytes: Int = 64 * 1024, maxDelaySeconds: Double = 0, syncToDisk: Bool = false) {
        precondition(maxBufferedBytes >= 0 && maxDelaySeconds >= 0, "flush limits must be non-negative")
        self.maxBufferedBytes = maxBufferedBytes
        self.maxDelaySeconds = maxDelaySeconds
        self.syncToDisk = syncToDisk
    }

    /// Every append reaches the OS immediately, so `tensorboard` and `tail -f` see it at once.
    /// The default: A3C logs a few events per second at most, so buffering saves nothing.
    public static let writeThrough = FlushPolicy()

    /// Buffer up to 64 KiB or 10 s: for high-rate logging.
    public static let buffered = FlushPolicy(maxBufferedBytes: 64 * 1024, maxDelaySeconds: 10)
}

/// An append-only file with an in-memory buffer, flushed by a `FlushPolicy`. Not thread-safe
/// itself: each writer keeps one inside its `LockedValue`.
///
/// A failed write (a full disk, a file system turned read-only) may have put part of the buffer
/// in the file; the appender cuts the file back to the length it had before that write, so the
/// file ends with the last whole record or row (if even that cut fails, the file may end torn;
/// readers stop at a torn tail). It then refuses further writes, rethrowing the first error,
/// so nothing is ever appended after a torn record.
struct _BufferedAppender {
    let path: String
    let policy: FlushPolicy
    private var file: _POSIXFile?
    private var buffer: [UInt8] = []
    private var lastFlush: UInt64
    private var failure: TelemetryError?
    /// Bytes of the file that are whole records: its size at open plus every completed write.
    private var committedLength: Int?

    init(file: _POSIXFile, policy: FlushPolicy) {
        self.path = file.path
        self.file = file
        self.policy = policy
        self.lastFlush = _BufferedAppender.monotonicNanoseconds()
        self.committedLength = try? file.size()
    }

    var isClosed: Bool { file == nil }

    mutating func append(_ bytes: [UInt8]) throws {
        try checkUsable()
        buffer.append(contentsOf: bytes)
        let elapsed = Double(_BufferedAppender.monotonicNanoseconds() - lastFlush) / 1e9
        if buffer.count >= policy.maxBufferedBytes || elapsed >= policy.maxDelaySeconds {
            try flush(sync: policy.syncToDisk)
        }
    }

    mutating func flush(sync: Bool) throws {
        try checkUsable()
        guard let file else { return }
        do {
            if !buffer.isEmpty {
                do {
                    try file.write(buffer)
                } catch {
                    // Take back the part of this write that reached the file (O_APPEND: it starts
                    // at committedLength).
                    if let committedLength { try? file.truncate(to: committedLength) }
                    throw error
                }
                committedLength = committedLength.map { $0 + buffer.count }
                buffer.removeAll(keepingCapacity: true)
            }
            if sync { try file.sync() }
        } catch let error as TelemetryError {
            failure = error
            throw error
        }
        lastFlush = _BufferedAppender.monotonicNanoseconds()
    }

    /// Flushes, fsyncs if the policy says so, and closes. Closing twice is allowed.
    mutating func close() throws {
        guard let file else { return }
        defer { self.file = nil }
        if failure == nil {
            try flush(sync: policy.syncToDisk)
        }
        try file.close()
    }

    private func checkUsable() throws {
        if let failure { throw failure }
        if file == nil { throw TelemetryError.writerClosed(path: path) }
    }

    static func monotonicNanoseconds() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}
