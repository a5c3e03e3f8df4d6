import Foundation
import ThreadSafety

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends rows to a CSV file (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180), e.g. one row
/// per episode in `episodes.csv`.
///
/// Resuming: if the file already exists with the same header, rows are appended after the
/// existing ones, so a resumed run keeps one continuous table; a different header throws
/// `TelemetryError.csvHeaderMismatch` instead of mixing two tables in one file. A new or empty
/// file gets the header first. If a previous run died mid-row (the file does not end in a line
/// break), a line break is added first so the new rows stay well-formed.
///
/// Quoting: a field is quoted when it contains a comma, a double quote, CR or LF; quotes inside
/// are doubled (RFC 4180 section 2, rules 5-7). Lines end in LF rather than the RFC's CRLF, as
/// pandas and Python's csv module write by default; every CSV reader accepts both.
///
/// Thread-safe (one lock); each row is appended whole.
public final class CSVWriter: Sendable {
    public let url: URL
    /// Column names; every row must have this many fields.
    public let header: [String]

    private let state: LockedValue<_BufferedAppender>

    /// Opens (creating if needed) the CSV file at `url`; its directory must exist.
    /// - Throws: `TelemetryError.io` if the file cannot be opened or read,
    ///   `.csvHeaderMismatch` if it has another header, `.malformedCSV` if its header is not CSV.
    public init(url: URL, header: [String], flushPolicy: FlushPolicy = .writeThrough) throws {
        precondition(!header.isEmpty, "a CSV header needs at least one column")
        self.url = url.absoluteURL
        self.header = header
        let path = self.url.path
        let file = try _POSIXFile(path: path, flags: O_RDWR | O_CREAT | O_APPEND)
        let size = try file.size()
        var prefix: [UInt8] = []
        if size == 0 {
            prefix = Array(CSVWriter.line(header).utf8)
        } else {
            let existing = try CSVWriter.readHeader(of: file, size: size)
            guard existing == header else {
                throw TelemetryError.csvHeaderMismatch(path: path, expected: header, found: existing)
            }
            if try file.read(count: 1, at: size - 1) != [UInt8(ascii: "\n")] {
                prefix = [UInt8(ascii: "\n")]
            }
        }
        var appender = _BufferedAppender(file: file, policy: flushPolicy)
        if !prefix.isEmpty { try appender.append(prefix) }
        state = LockedValue(appender)
    }

    deinit {
        state.withLockedValue { try? $0.close() }
    }

    /// Appends one row.
    /// - Precondition: `row.count == header.count`.
    public func append(row: [String]) throws {
        precondition(row.count == header.count,
                     "CSV row has \(row.count) fields but '\(url.lastPathComponent)' has \(header.count) columns \(header)")
        let bytes = Array(CSVWriter.line(row).utf8)
        try state.withLockedValue { try $0.append(bytes) }
    }

    /// Hands buffered rows to the OS; with `sync` (or a policy with `syncToDisk`) also fsyncs.
    public func flush(sync: Bool = false) throws {
        try state.withLockedValue { try $0.flush(sync: sync || $0.policy.syncToDisk) }
    }

    /// Flushes and closes; later appends throw `TelemetryError.writerClosed`.
    public func close() throws {
        try state.withLockedValue { try $0.close() }
    }

    // MARK: - Formatting

    /// One field, quoted if it must be.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.utf8.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record with its line break. A row of a single empty field is written `""` so it is
    /// not mistaken for a blank line.
    public static func line(_ fields: [String]) -> String {
        if fields.count == 1 && fields[0].isEmpty { return "\"\"\n" }
        return fields.map(escape).joined(separator: ",") + "\n"
    }

    /// Parses the first record of the file, reading only as far as it reaches.
    private static func readHeader(of file: _POSIXFile, size: Int) throws -> [String] {
        var bytes: [UInt8] = []
        var offset = 0
        while offset < size {
            bytes += try file.read(count: min(4096, size - offset), at: offset)
            offset = bytes.count
            var parser = _CSVParser(path: file.path)
            if let record = try parser.firstRecord(bytes, isComplete: offset >= size) {
                return record
            }
        }
        return []
    }
}

/// Reads whole CSV files (RFC 4180, CRLF or LF line breaks): episodes.csv for a resume and for
/// `a3c report`, and the tests.
public enum CSVReader {
    /// All records of the file, the header included.
    /// - Throws: `TelemetryError.io` if it cannot be read, `.malformedCSV` if it is not CSV.
    public static func read(_ url: URL) throws -> [[String]] {
        let path = url.absoluteURL.path
        var parser = _CSVParser(path: path)
        return try parser.records(_POSIXFile.readWholeFile(path))
    }

    /// All records of CSV text.
    public static func parse(_ text: String) throws -> [[String]] {
        var parser = _CSVParser(path: "<string>")
        return try parser.records(Array(text.utf8))
    }
}

/// RFC 4180 state machine over UTF-8 bytes. Quotes are only special at the start of a field
/// and, inside a quoted field, as `""` or the closing quote; all delimiters are ASCII, so
/// splitting UTF-8 bytewise never cuts a character.
struct _CSVParser {
    let path: String
    private var line = 1

    init(path: String) {
        self.path = path
    }

    mutating func records(_ bytes: [UInt8]) throws -> [[String]] {
        var records: [[String]] = []
        var position = 0
        while position < bytes.count {
            guard let (record, next) = try parseRecord(bytes, from: position, isComplete: true) else { break }
            records.append(record)
            position = next
        }
        return records
    }

    /// The first record, or nil if `bytes` (a prefix of the file unless `isComplete`) ends
    /// before the record does.
    mutating func firstRecord(_ bytes: [UInt8], isComplete: Bool) throws -> [String]? {
        try parseRecord(bytes, from: 0, isComplete: isComplete)?.record
    }

    private mutating func parseRecord(_ bytes: [UInt8], from start: Int, isComplete: Bool)
        throws -> (record: [String], next: Int)? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var fields: [String] = []
        var field: [UInt8] = []
        var position = start
        var fieldIsQuoted = false
        while true {
            // At the start of a field.
            if position < bytes.count && bytes[position] == quote {
                fieldIsQuoted = true
                position += 1
                while true {
                    guard position < bytes.count else {
                        if !isComplete { return nil }
                        throw TelemetryError.malformedCSV(path: path, line: line, reason: "quoted field is never closed")
                    }
                    let byte = bytes[position]
                    if byte == quote {
                        if position + 1 < bytes.count && bytes[position + 1] == quote {
                            field.append(quote)
                            position += 2
                            continue
                        }
                        if position + 1 >= bytes.count && !isComplete { return nil }
                        position += 1
                        break
                    }
                    if byte == lf { line += 1 }
                    field.append(byte)
                    position += 1
                }
            } else {
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == comma || byte == lf || byte == cr { break }
                    if byte == quote {
                        throw TelemetryError.malformedCSV(path: path, line: line,
                                                          reason: "quote inside an unquoted field")
                    }
                    field.append(byte)
                    position += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            // After a field: a comma, a line break, or the end.
            guard position < bytes.count else {
                if !isComplete { return nil }
                return (fields, position)
            }
            switch bytes[position] {
            case comma:
                position += 1
                fieldIsQuoted = false
            case cr where position + 1 < bytes.count && bytes[position + 1] == lf:
                line += 1
                return (fields, position + 2)
            case cr where position + 1 >= bytes.count && !isComplete:
                return nil
            case lf, cr:
                line += 1
                return (fields, position + 1)
            default:
                let what = fieldIsQuoted ? "text after a closing quote" : "unexpected byte"
                throw TelemetryError.malformedCSV(path: path, line: line, reason: what)
            }
        }
    }
}
