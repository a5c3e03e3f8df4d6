#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file descriptor with throwing, `EINTR`-safe `write`/`fsync`/`close`. The telemetry writers
/// use the POSIX calls directly (not `FileHandle`) so that every failure becomes a
/// `TelemetryError.io` naming the path and the OS reason, and so that `O_EXCL`/`O_APPEND` are
/// available.
final class _POSIXFile {
    let path: String
    private(set) var descriptor: Int32

    /// Opens `path` with `open(2)` flags (`O_CLOEXEC` is always added); new files get mode 0644.
    init(path: String, flags: Int32) throws {
        self.path = path
        var fd: Int32
        repeat {
            fd = open(path, flags | O_CLOEXEC, 0o644)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            throw TelemetryError.io(operation: "open", path: path, errno: errno)
        }
        self.descriptor = fd
    }

    deinit {
        if descriptor >= 0 { _ = _systemClose(descriptor) }
    }

    var isOpen: Bool { descriptor >= 0 }

    /// Writes all of `bytes`, looping over short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(isOpen, "write to closed file '\(path)'")
        var offset = 0
        while offset < bytes.count {
            let written = _systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw TelemetryError.io(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Asks the OS to put the file's data on disk (`fsync(2)`).
    func sync() throws {
        precondition(isOpen, "fsync of closed file '\(path)'")
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw TelemetryError.io(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Size of the file in bytes (`fstat(2)`).
    func size() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw TelemetryError.io(operation: "stat", path: path, errno: errno)
        }
        return Int(info.st_size)
    }

    /// Cuts the file to `length` bytes (`ftruncate(2)`): used to take back a partly written record.
    func truncate(to length: Int) throws {
        precondition(isOpen, "truncate of closed file '\(path)'")
        while ftruncate(descriptor, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw TelemetryError.io(operation: "truncate", path: path, errno: errno)
        }
    }

    /// Reads up to `count` bytes at `offset` (`pread(2)`).
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = result.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + filled, count - filled, off_t(offset + filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw TelemetryError.io(operation: "read", path: path, errno: errno)
            }
            if got == 0 { break }
            filled += got
        }
        result.removeLast(count - filled)
        return result
    }

    /// Closes the descriptor. An error from `close(2)` can report a failed delayed write
    /// (NFS, full disk), so it is thrown, not ignored.
    func close() throws {
        guard isOpen else { return }
        let fd = descriptor
        descriptor = -1
        if _systemClose(fd) != 0 && errno != EINTR {
            throw TelemetryError.io(operation: "close", path: path, errno: errno)
        }
    }

    /// The whole content of the file at `path` (readers of event files and CSVs load it whole:
    /// they serve tests and reports, not the training loop).
    static func readWholeFile(_ path: String) throws -> [UInt8] {
        let file = try _POSIXFile(path: path, flags: O_RDONLY)
        defer { try? file.close() }
        return try file.read(count: try file.size(), at: 0)
    }

    /// `fsync` of a directory, so that a `rename` or a newly created entry survives a crash.
    /// Some file systems refuse to fsync directories (EINVAL); that is not an error worth failing
    /// a training run for, so only other errors are thrown.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TelemetryError.io(operation: "open directory", path: path, errno: errno)
        }
        defer { _ = _systemClose(fd) }
        if fsync(fd) != 0 && errno != EINVAL && errno != EINTR {
            throw TelemetryError.io(operation: "fsync directory", path: path, errno: errno)
        }
    }
}

// `close` and `write` are shadowed by the methods above; these name the C functions.
@inline(__always)
private func _systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #elseif canImport(Musl)
    return Musl.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}

@inline(__always)
private func _systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
