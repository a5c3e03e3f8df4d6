import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole files so that a reader (or a crash) sees either the old file or the complete new
/// one, never a torn mix: the bytes go to a temporary file in the same directory, which is
/// fsync'ed, renamed over the target (`rename(2)` is atomic within a file system), and then the
/// directory is fsync'ed so the new name is durable.
///
/// Use for anything a person or a resumed run reads back whole: GIFs, checkpoints, configs.
public enum AtomicFile {
    /// Atomically replaces (or creates) the file at `url` with `data`.
    /// - Throws: `TelemetryError.io` naming the temporary or final path and the OS reason.
    public static func write(data: Data, to url: URL) throws {
        let staging = try _StagedFile(destination: url)
        do {
            try data.withUnsafeBytes { try staging.file.write($0) }
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
    }

    /// Atomically replaces (or creates) the file at `url` with `bytes`.
    public static func write(bytes: [UInt8], to url: URL) throws {
        try write(data: Data(bytes), to: url)
    }
}

/// A temporary file next to its destination, renamed into place by `commit()`.
/// Shared by `AtomicFile` and the streaming `GIFWriter`.
final class _StagedFile {
    let destinationPath: String
    let temporaryPath: String
    let file: _POSIXFile
    private var finished = false

    init(destination: URL) throws {
        let url = destination.absoluteURL
        destinationPath = url.path
        let directory = url.deletingLastPathComponent().path
        // Hidden, and unique per process and call, so concurrent writers never share it.
        let nonce = UInt32.random(in: 0 ... .max)
        temporaryPath = directory + "/." + url.lastPathComponent
            + ".tmp.\(getpid()).\(String(nonce, radix: 16))"
        file = try _POSIXFile(path: temporaryPath, flags: O_WRONLY | O_CREAT | O_EXCL)
    }

    /// fsync, close, rename over the destination, fsync the directory.
    func commit() throws {
        precondition(!finished, "commit of '\(destinationPath)' after it was committed or discarded")
        try file.sync()
        try file.close()
        guard rename(temporaryPath, destinationPath) == 0 else {
            throw TelemetryError.io(operation: "rename '\(temporaryPath)' to", path: destinationPath,
                                    errno: errno)
        }
        finished = true
        try _POSIXFile.syncDirectory((destinationPath as NSString).deletingLastPathComponent)
    }

    /// Closes and removes the temporary file; the destination is left untouched.
    func discard() {
        guard !finished else { return }
        finished = true
        try? file.close()
        unlink(temporaryPath)
    }

    deinit {
        discard()
    }
}
