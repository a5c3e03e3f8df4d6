// safetensors files (https://github.com/huggingface/safetensors), float32 only:
//
//   bytes 0..<8        N, the header length, UInt64 little-endian
//   bytes 8..<8+N      JSON: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//                            "__metadata__": {string: string}}, padded with spaces so 8 + N is a multiple of 8
//   bytes 8+N..<end    the data section; offsets are relative to its start
//
// The writer is atomic (temporary file in the same directory, fsync, rename, fsync of the directory), so a
// crash leaves the old file or the new one, never half of one. It stores the CRC-32 (IEEE, as zlib) of the
// data section in __metadata__["a3c.crc32"]; the reader verifies it when present.
//
// The reader trusts nothing: header size capped (100 MB) and checked against the file size, JSON parsed by a
// small strict parser with a depth limit, dtype must be F32, shapes and offsets checked for overflow, range,
// size, overlap and full coverage of the data section. Every problem is a thrown SafeTensorsError.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What is wrong with a safetensors file (or with loading it into a model).
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "safetensors: " + message }
}

/// A named float32 tensor: shape (row-major) and values.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "NamedTensor \(name): shape \(shape) does not hold \(values.count) values")
        self.name = name; self.shape = shape; self.values = values
    }
}

/// The contents of a safetensors file: tensors in file order (of their data offsets) and metadata.
public struct SafeTensorsFile: Equatable, Sendable {
    public var tensors: [NamedTensor]
    public var metadata: [String: String]

    /// The tensor called `name`, if any.
    public subscript(name: String) -> NamedTensor? { tensors.first { $0.name == name } }
}

/// Reading and writing safetensors files.
public enum SafeTensors {
    /// Largest header the reader accepts: 100 MB (the reference implementation's limit), far above any
    /// real header, so a corrupt length cannot make the reader allocate gigabytes.
    public static let maximumHeaderSize = 100_000_000
    /// Metadata key of the CRC-32 of the data section, 8 lowercase hex digits.
    public static let crcMetadataKey = "a3c.crc32"

    // MARK: Writing

    /// The file's bytes: header (with the CRC added to `metadata`) and data, tensors in the given order.
    public static func encode(tensors: [NamedTensor], metadata: [String: String] = [:]) -> [UInt8] {
        var seen = Set<String>()
        for tensor in tensors {
            precondition(tensor.name != "__metadata__" && seen.insert(tensor.name).inserted,
                         "SafeTensors: tensor name \(tensor.name) is reserved or duplicated")
        }
        var data = [UInt8]()
        data.reserveCapacity(tensors.reduce(0) { $0 + $1.values.count * 4 })
        var entries: [String] = []
        for tensor in tensors {
            let begin = data.count
            #if _endian(little)
            tensor.values.withUnsafeBytes { data.append(contentsOf: $0) }  // F32 little-endian as in memory: one copy
            #else
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(_jsonString(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(data.count)]}")
        }
        var fullMetadata = metadata
        fullMetadata[crcMetadataKey] = String(format: "%08x", CRC32.checksum(data))
        let metadataEntries = fullMetadata.keys.sorted().map { "\(_jsonString($0)):\(_jsonString(fullMetadata[$0]!))" }
        entries.insert("\"__metadata__\":{\(metadataEntries.joined(separator: ","))}", at: 0)
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: data)
        return bytes
    }

    /// Writes a safetensors file ATOMICALLY: the bytes go to a temporary file in the same directory,
    /// which is fsynced and renamed over `url`, then the directory is fsynced.
    public static func write(tensors: [NamedTensor], metadata: [String: String] = [:], to url: URL) throws {
        try writeAtomically(encode(tensors: tensors, metadata: metadata), to: url)
    }

    /// Atomic replace of the file at `url` by `bytes` (temporary file, fsync, rename, fsync directory).
    public static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SafeTensorsError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) }; unlink(temporary) } // unlink fails harmlessly after the rename
        var written = 0
        try bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = _posixWrite(fd, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw SafeTensorsError("cannot write \(temporary): \(String(cString: strerror(errno)))")
                }
                written += result
            }
        }
        guard fsync(fd) == 0 else { throw SafeTensorsError("fsync of \(temporary) failed: \(String(cString: strerror(errno)))") }
        closed = true
        guard close(fd) == 0 else { throw SafeTensorsError("close of \(temporary) failed: \(String(cString: strerror(errno)))") }
        guard rename(temporary, url.path) == 0 else {
            throw SafeTensorsError("cannot rename \(temporary) to \(url.path): \(String(cString: strerror(errno)))")
        }
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD) // best effort: some file systems refuse fsync on directories
            close(directoryFD)
        }
    }

    // MARK: Reading

    /// Reads and validates a safetensors file.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode([UInt8](data))
    }

    /// Parses and validates the bytes of a safetensors file.
    public static func decode(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw SafeTensorsError("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maximumHeaderSize) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the limit of \(maximumHeaderSize) bytes")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the \(bytes.count - 8) bytes after the length (file truncated?)")
        }
        let headerEnd = 8 + Int(headerLength)
        var parser = _JSONParser(bytes: bytes[8..<headerEnd])
        let root = try parser.parseDocument()
        guard case .object(let members) = root else { throw SafeTensorsError("header is not a JSON object") }

        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        var names = Set<String>()
        for (name, value) in members {
            guard names.insert(name).inserted else { throw SafeTensorsError("duplicate key \"\(name)\" in header") }
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw SafeTensorsError("__metadata__ is not an object") }
                for (key, item) in pairs {
                    guard case .string(let text) = item else { throw SafeTensorsError("__metadata__[\"\(key)\"] is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard case .object(let fields) = value else { throw SafeTensorsError("entry \"\(name)\" is not an object") }
            var dtype: String?, shape: [Int]?, offsets: [Int]?
            for (key, field) in fields {
                switch key {
                case "dtype":
                    guard case .string(let text) = field else { throw SafeTensorsError("\"\(name)\": dtype is not a string") }
                    dtype = text
                case "shape": shape = try _integers(field, what: "\"\(name)\": shape")
                case "data_offsets": offsets = try _integers(field, what: "\"\(name)\": data_offsets")
                default: throw SafeTensorsError("\"\(name)\": unknown field \"\(key)\"")
                }
            }
            guard let dtype else { throw SafeTensorsError("\"\(name)\": no dtype") }
            guard dtype == "F32" else { throw SafeTensorsError("\"\(name)\": dtype \(dtype) is not supported (only F32)") }
            guard let shape else { throw SafeTensorsError("\"\(name)\": no shape") }
            guard let offsets, offsets.count == 2 else { throw SafeTensorsError("\"\(name)\": data_offsets must be [begin, end]") }
            var elementCount = 1
            for dimension in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataCount else {
                    throw SafeTensorsError("\"\(name)\": shape \(shape) has more elements than the data section holds")
                }
                elementCount = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataCount else {
                throw SafeTensorsError("\"\(name)\": data_offsets [\(begin), \(end)] out of range of the \(dataCount)-byte data section")
            }
            guard end - begin == elementCount * 4 else {
                throw SafeTensorsError("\"\(name)\": data_offsets span \(end - begin) bytes but shape \(shape) of F32 needs \(elementCount * 4)")
            }
            entries.append((name, shape, begin, end))
        }
        // The tensors must tile the data section: no gap, no overlap, nothing after the last one.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for entry in entries {
            guard entry.begin == position else {
                throw SafeTensorsError(entry.begin < position
                    ? "\"\(entry.name)\": data overlaps the previous tensor (begins at \(entry.begin), previous ends at \(position))"
                    : "\"\(entry.name)\": gap in the data section before byte \(entry.begin) (previous tensor ends at \(position))")
            }
            position = entry.end
        }
        guard position == dataCount else {
            throw SafeTensorsError("tensors cover \(position) bytes but the data section has \(dataCount)")
        }
        if let stored = metadata[crcMetadataKey] {
            let actual = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer($0)[headerEnd...])) }
            guard stored.lowercased() == String(format: "%08x", actual) else {
                throw SafeTensorsError("CRC-32 of the data section is \(String(format: "%08x", actual)) but the header says \(stored) (file corrupted)")
            }
        }
        let tensors = bytes.withUnsafeBufferPointer { raw -> [NamedTensor] in
            entries.map { entry in
                let count = (entry.end - entry.begin) / 4
                let start = raw.baseAddress! + headerEnd + entry.begin
                let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count {
                        var bits: UInt32 = 0
                        for b in 0..<4 { bits |= UInt32(start[4 * i + b]) << (8 * UInt32(b)) }
                        buffer[i] = Float(bitPattern: bits)
                    }
                    initialized = count
                }
                return NamedTensor(name: entry.name, shape: entry.shape, values: values)
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    private static func _integers(_ value: _JSONValue, what: String) throws -> [Int] {
        guard case .array(let items) = value else { throw SafeTensorsError("\(what) is not an array") }
        return try items.map { item in
            guard case .integer(let number) = item, number >= 0 else {
                throw SafeTensorsError("\(what) must hold non-negative integers")
            }
            return number
        }
    }
}

#if canImport(Glibc)
private let _posixWrite = Glibc.write
#elseif canImport(Darwin)
private let _posixWrite = Darwin.write
#endif

// MARK: - CRC-32

extension SafeTensors {
/// CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected; the same value as zlib's `crc32`).
/// Nested in SafeTensors so it cannot clash with another module's CRC (TensorBoard's CRC-32C).
public enum CRC32 {
    /// tables[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8, Intel's method:
    /// eight bytes per step with eight independent lookups, ~5x faster than a byte at a time;
    /// the result is the same CRC-32).
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = tables[(k - 1) * 256 + n]
                tables[k * 256 + n] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()

    /// CRC-32 (ISO-HDLC, zlib's and PNG's: reflected polynomial 0xEDB88320, initial and final
    /// value 0xFFFFFFFF) of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= count {
                let low = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < count {
                crc = t[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
}

// MARK: - JSON (just enough for safetensors headers, strict)

enum _JSONValue {
    case object([(String, _JSONValue)]), array([_JSONValue]), string(String), integer(Int), number, bool, null
}

/// A strict recursive-descent JSON parser over UTF-8 bytes. Integers that fit Int are kept exactly
/// (safetensors offsets and shapes); other numbers are recognised but not kept. Depth is limited.
struct _JSONParser {
    private let bytes: ArraySlice<UInt8>
    private var index: Int
    private var depth = 0
    private static let maximumDepth = 64

    init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; index = bytes.startIndex }

    mutating func parseDocument() throws -> _JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.endIndex else { throw error("unexpected data after the JSON value") }
        return value
    }

    private func error(_ message: String) -> SafeTensorsError {
        SafeTensorsError("bad JSON header at byte \(index - bytes.startIndex): \(message)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        for byte in literal.utf8 {
            guard index < bytes.endIndex, bytes[index] == byte else { throw error("expected \(literal)") }
            index += 1
        }
    }

    private mutating func parseValue() throws -> _JSONValue {
        skipWhitespace()
        guard index < bytes.endIndex else { throw error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
            index += 1
            var members: [(String, _JSONValue)] = []
            skipWhitespace()
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let key = try parseString()
                skipWhitespace()
                try expect(":")
                members.append((key, try parseValue()))
                skipWhitespace()
                guard index < bytes.endIndex else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw error("expected , or }")
            }
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
            index += 1
            var items: [_JSONValue] = []
            skipWhitespace()
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                items.append(try parseValue())
                skipWhitespace()
                guard index < bytes.endIndex else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected , or ]")
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool
        case UInt8(ascii: "f"): try expect("false"); return .bool
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try parseNumber()
        }
    }

    private mutating func parseString() throws -> String {
        index += 1 // opening quote
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.endIndex else { throw error("unterminated string") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in string") }
            if byte != UInt8(ascii: "\\") { utf8.append(byte); continue }
            guard index < bytes.endIndex else { throw error("unterminated escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code) {
                    try expect("\\u")
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw error("lone low surrogate")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point") }
                utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw error("invalid escape")
            }
        }
        guard let string = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return string
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.endIndex, let digit = _hexDigit(bytes[index]) else { throw error("invalid \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func _hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func parseNumber() throws -> _JSONValue {
        let start = index
        func isDigit(_ i: Int) -> Bool { i < bytes.endIndex && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { throw error("unexpected character") }
        if bytes[index] == 0x30 { index += 1 } else { while isDigit(index) { index += 1 } }
        var isInteger = true
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard isDigit(index) else { throw error("digit expected after .") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw error("digit expected in exponent") }
            while isDigit(index) { index += 1 }
        }
        if isInteger, let value = Int(String(decoding: bytes[start..<index], as: UTF8.self)) { return .integer(value) }
        return .number
    }
}

/// A JSON string literal for `text`, escaping quotes, backslashes and control characters.
func _jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 { result += String(format: "\\u%04x", scalar.value) } else { result.unicodeScalars.append(scalar) }
        }
    }
    return result + "\""
}
