// Telemetry: TensorBoard event files, animated GIFs, CSV, SVG line charts.
//
// Every file this module writes is in a format that a stock tool reads:
//   TensorBoardWriter  `events.out.tfevents.*` (TFRecord framing of `tensorboard.Event` protos)
//   GIFWriter          animated GIF89a (any browser, PIL, ImageMagick)
//   CSVWriter          RFC 4180 CSV (pandas, Python's csv, spreadsheets)
//   LineChartSVG       SVG 1.1 line charts (any browser, Inkscape, rsvg-convert)
// and the module has no dependency but Foundation.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to write or read one of the telemetry files. Every case names the file, and
/// `description` says what went wrong and what to do about it.
public enum TelemetryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: `operation` is what was being done ("open", "write", "fsync",
    /// "create directory", ...), `errno` the OS error number.
    case io(operation: String, path: String, errno: Int32)
    /// A TFRecord ends before the length (or the payload, or a CRC) it announces.
    case truncatedRecord(path: String, offset: Int, needed: Int, available: Int)
    /// A TFRecord whose length CRC or data CRC does not match its bytes.
    case corruptRecord(path: String, offset: Int, reason: String)
    /// A record whose payload is not a well-formed `tensorboard.Event` protobuf.
    case malformedEvent(path: String, offset: Int, reason: String)
    /// A CSV file exists with a different header than the one asked for.
    case csvHeaderMismatch(path: String, expected: [String], found: [String])
    /// `GIFWriter.finish()` with no frame: a GIF needs at least one image.
    case emptyAnimation(path: String)
    /// A write after `close()`.
    case writerClosed(path: String)
    /// A CSV file that is not RFC 4180 (an unterminated quoted field, a stray quote).
    case malformedCSV(path: String, line: Int, reason: String)

    /// The OS's text for `errno` (`strerror`).
    public static func reason(forErrno code: Int32) -> String {
        String(cString: strerror(code))
    }

    public var description: String {
        switch self {
        case let .io(operation, path, code):
            let reason = TelemetryError.reason(forErrno: code)
            return "cannot \(operation) '\(path)': \(reason) (errno \(code)). "
                + TelemetryError.hint(forErrno: code)
        case let .truncatedRecord(path, offset, needed, available):
            return "truncated TFRecord in '\(path)' at byte \(offset): the record needs \(needed) bytes "
                + "but only \(available) remain. A writer may still be writing the file or was "
                + "killed mid-record: read again after it closes, or ignore the partial tail."
        case let .corruptRecord(path, offset, reason):
            return "corrupt TFRecord in '\(path)' at byte \(offset): \(reason). The file was "
                + "damaged after it was written (or is not an event file); records before byte "
                + "\(offset) are intact."
        case let .malformedEvent(path, offset, reason):
            return "record at byte \(offset) of '\(path)' is not a valid tensorboard.Event: "
                + "\(reason). Check that the file was written by a TensorBoard event writer."
        case let .csvHeaderMismatch(path, expected, found):
            return "CSV file '\(path)' has header \(found) but this run writes \(expected). "
                + "Resume only into a run directory written with the same columns, or write "
                + "to a new run directory."
        case let .emptyAnimation(path):
            return "no frame was appended to GIF '\(path)', so it was not written: append at "
                + "least one frame, or call cancel() for an episode with nothing to show."
        case let .writerClosed(path):
            return "write to '\(path)' after its writer was closed: log before calling close(), "
                + "or open a new writer."
        case let .malformedCSV(path, line, reason):
            return "CSV file '\(path)' line \(line): \(reason). Fix or remove the damaged line."
        }
    }

    /// What a user can do about the common `errno` values.
    static func hint(forErrno code: Int32) -> String {
        switch code {
        case ENOENT: return "Create the parent directory first (or check the path for typos)."
        case EACCES, EPERM: return "Check the permissions of the file and its directory."
        case ENOSPC: return "The disk is full: free space or write the run to another disk."
        case EROFS: return "The file system is read-only: choose a writable run directory."
        case ENOTDIR: return "A component of the path is a file, not a directory."
        case EISDIR: return "The path names a directory; give a file name."
        default: return "Check that the path is writable."
        }
    }
}
