import Foundation
import NeuralCore
import Telemetry

/// The checkpoints of a run: `checkpoints/ckpt-<frames>/` folders, newest last, plus `checkpoints/best/`.
///
/// Each checkpoint folder holds
///   - `model.safetensors`      the parameters under PyTorch names (loads with `load_state_dict(strict=True)`)
///   - `optimizer.safetensors`  the optimizer state (Adam m, v and step, or RMSProp's mean square)
///   - `state.json`             the run's counters (`TrainingStatistics.Counters`)
/// Every file is written atomically and the safetensors files carry a CRC-32 of their data; the
/// folder is assembled under a temporary name and renamed into place only when complete, so a
/// crash mid-write leaves either the previous set of checkpoints or the new one, never half of one.
public struct CheckpointStore {
    public let directory: URL
    public let keep: Int

    public static let modelFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "state.json"

    public init(runDirectory: URL, keep: Int) {
        directory = runDirectory.appendingPathComponent("checkpoints")
        self.keep = keep
    }

    /// Completed periodic checkpoints, oldest first.
    public func checkpoints() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        // Only finished folders: "ckpt-" and digits (not a ".tmp" staging or a ".old" being replaced).
        return names.filter { $0.hasPrefix("ckpt-") && $0.dropFirst(5).allSatisfy(\.isNumber) && $0.count > 5 }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }

    public var best: URL { directory.appendingPathComponent("best") }

    /// Removes what an interrupted write left: `*.tmp` staging folders (a crash, or a directory made
    /// read-only mid-write, where even the clean-up could not run) and `*.old` folders being replaced.
    /// An `X.old` without its `X` (a crash between the two renames of the swap, e.g. of `best/`) is
    /// the complete previous checkpoint: it is renamed back to `X`, not removed.
    /// Call it only while no checkpoint is being written (a run has one writer: its trainer).
    public func removeLeftovers() {
        let fileManager = FileManager.default
        let names = (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasSuffix(".old") {
            let old = directory.appendingPathComponent(name)
            let final = directory.appendingPathComponent(String(name.dropLast(".old".count)))
            if !fileManager.fileExists(atPath: final.path), (try? fileManager.moveItem(at: old, to: final)) != nil { continue }
            try? fileManager.removeItem(at: old)
        }
        for name in names where name.hasSuffix(".tmp") {
            try? fileManager.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes a checkpoint named by the frame count, then prunes to the newest `keep`; if `isBest`,
    /// also replaces `best/`.
    @discardableResult
    public func save(shared: SharedParameters, counters: TrainingStatistics.Counters, isBest: Bool,
                     metadata: [String: String]) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = String(format: "ckpt-%012d", counters.frames)
        let final = directory.appendingPathComponent(name)
        do {
            try write(to: final, shared: shared, counters: counters, metadata: metadata)
            if isBest { try write(to: best, shared: shared, counters: counters, metadata: metadata) }
        } catch {
            throw TrainingError.unwritable(path: directory.path, reason: fileErrorDescription(error))
        }
        let all = checkpoints()
        for old in all.dropLast(keep) { try? FileManager.default.removeItem(at: old) }
        return final
    }

    private func write(to final: URL, shared: SharedParameters, counters: TrainingStatistics.Counters,
                       metadata: [String: String]) throws {
        let fileManager = FileManager.default
        let staging = final.deletingLastPathComponent().appendingPathComponent(final.lastPathComponent + ".tmp")
        try? fileManager.removeItem(at: staging)
        // A failed write (full disk, read-only file system) removes its staging folder, which
        // also gives back the space it took; the checkpoints already in place are not touched.
        var complete = false
        defer { if !complete { try? fileManager.removeItem(at: staging) } }
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        var fileMetadata = metadata
        fileMetadata["a3c.frames"] = String(counters.frames)
        fileMetadata["a3c.episodes"] = String(counters.episodes)
        let files = shared.checkpointBytes(metadata: fileMetadata)
        try AtomicFile.write(bytes: files.model, to: staging.appendingPathComponent(Self.modelFile))
        try AtomicFile.write(bytes: files.optimizer, to: staging.appendingPathComponent(Self.optimizerFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(data: try encoder.encode(counters), to: staging.appendingPathComponent(Self.stateFile))
        // Swap into place: an existing folder of the same name (the same frame count, or best/) goes first.
        let old = final.deletingLastPathComponent().appendingPathComponent(final.lastPathComponent + ".old")
        try? fileManager.removeItem(at: old)
        if fileManager.fileExists(atPath: final.path) { try fileManager.moveItem(at: final, to: old) }
        do { try fileManager.moveItem(at: staging, to: final) } catch {
            if fileManager.fileExists(atPath: old.path) { try? fileManager.moveItem(at: old, to: final) }
            throw error
        }
        complete = true
        try? fileManager.removeItem(at: old)
        let descriptor = open(final.deletingLastPathComponent().path, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
    }

    /// Reads the counters of a checkpoint folder.
    public static func counters(in checkpoint: URL) throws -> TrainingStatistics.Counters {
        let url = checkpoint.appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.incompatibleCheckpoint("\(url.path) is missing")
        }
        do { return try JSONDecoder().decode(TrainingStatistics.Counters.self, from: data) } catch {
            throw TrainingError.incompatibleCheckpoint("\(url.path) is not a valid state file: \(error)")
        }
    }

    /// Loads the newest checkpoint that reads completely into `shared`; a damaged newer one is
    /// reported through `warn` and skipped. Returns the folder used and its counters.
    public func restoreNewest(into shared: SharedParameters, warn: (String) -> Void) throws -> (URL, TrainingStatistics.Counters) {
        let candidates = checkpoints().reversed()
        guard !candidates.isEmpty else { throw TrainingError.noCheckpoint(directory.path) }
        for checkpoint in candidates {
            do {
                let counters = try Self.counters(in: checkpoint)
                try shared.loadCheckpoint(parametersFrom: checkpoint.appendingPathComponent(Self.modelFile),
                                          optimizerStateFrom: checkpoint.appendingPathComponent(Self.optimizerFile))
                return (checkpoint, counters)
            } catch {
                warn("checkpoint \(checkpoint.lastPathComponent) is damaged (\(error)); trying the previous one")
            }
        }
        throw TrainingError.noCheckpoint(directory.path)
    }
}

/// "<path>: <the OS's reason>" for a Foundation file error (e.g. ".../ckpt-000000006036.tmp:
/// Permission denied"), instead of its NSError dump; other errors as they describe themselves.
func fileErrorDescription(_ swiftError: Error) -> String {
    let error = swiftError as NSError
    guard error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain else { return "\(swiftError)" }
    let path = error.userInfo[NSFilePathErrorKey] as? String
    if let underlying = (error.userInfo[NSUnderlyingErrorKey] as? Error).map({ $0 as NSError }),
       underlying.domain == NSPOSIXErrorDomain {
        let reason = String(cString: strerror(Int32(underlying.code)))
        return path.map { "\($0): \(reason)" } ?? reason
    }
    if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
    return "\(error)"
}
