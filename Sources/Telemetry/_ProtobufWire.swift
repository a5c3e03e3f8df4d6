/// The protobuf wire format, by hand, for the handful of messages an event file needs.
///
/// Reference: https://protobuf.dev/programming-guides/encoding/ . A field is a key
/// `(field_number << 3) | wire_type` written as a varint, then the value:
///   wire type 0 VARINT   base-128, least significant group first, high bit = "more follows"
///   wire type 1 I64      8 bytes little-endian (double, fixed64)
///   wire type 2 LEN      varint length, then that many bytes (string, bytes, sub-message)
///   wire type 5 I32      4 bytes little-endian (float, fixed32)
/// Negative int64 values are varints of their two's-complement bits (10 bytes), not zigzag
/// (zigzag is only for sint32/sint64, which these messages do not use).
enum _WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Appends protobuf fields to a byte array. Proto3 semantics: writers omit fields holding the
/// default value where the caller says so; this encoder writes exactly what it is told.
struct _ProtobufEncoder {
    var bytes: [UInt8] = []

    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func appendKey(field: Int, _ wireType: _WireType) {
        precondition(field > 0 && field < (1 << 29), "protobuf field number \(field) out of range")
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// int32/int64/uint64/enum field.
    mutating func appendVarintField(_ field: Int, _ value: Int64) {
        appendKey(field: field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// double field (wire type I64).
    mutating func appendDoubleField(_ field: Int, _ value: Double) {
        appendKey(field: field, .fixed64)
        appendLittleEndian(value.bitPattern)
    }

    /// float field (wire type I32).
    mutating func appendFloatField(_ field: Int, _ value: Float) {
        appendKey(field: field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    /// bytes or embedded-message field.
    mutating func appendBytesField(_ field: Int, _ value: [UInt8]) {
        appendKey(field: field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// string field, UTF-8 as proto3 requires.
    mutating func appendStringField(_ field: Int, _ value: String) {
        appendBytesField(field, Array(value.utf8))
    }

    /// Embedded message field, built by `body`.
    mutating func appendMessageField(_ field: Int, _ body: (inout _ProtobufEncoder) -> Void) {
        var inner = _ProtobufEncoder()
        body(&inner)
        appendBytesField(field, inner.bytes)
    }

    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Why a protobuf payload could not be decoded; wrapped into `TelemetryError.malformedEvent`.
struct _ProtobufDecodingError: Error, CustomStringConvertible {
    let description: String
}

/// Reads protobuf fields from a byte slice, one `(field, wire type)` at a time.
struct _ProtobufDecoder {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    init(_ bytes: [UInt8]) {
        self.init(bytes[...])
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else {
                throw _ProtobufDecodingError(description: "varint runs past the end of the message")
            }
            let byte = bytes[position]
            position += 1
            // The 10th byte may only carry the top bit of a 64-bit value.
            if shift == 63 && byte > 1 {
                throw _ProtobufDecodingError(description: "varint longer than 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next key, or nil at the end of the message.
    mutating func readKey() throws -> (field: Int, wireType: _WireType)? {
        guard !isAtEnd else { return nil }
        let key = try readVarint()
        guard let wireType = _WireType(rawValue: UInt8(key & 7)) else {
            throw _ProtobufDecodingError(description: "unknown wire type \(key & 7)")
        }
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw _ProtobufDecodingError(description: "field number 0") }
        return (field, wireType)
    }

    mutating func readLittleEndian<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - position >= size else {
            throw _ProtobufDecodingError(description: "\(size)-byte value runs past the end of the message")
        }
        var value: T = 0
        for i in 0 ..< size {
            value |= T(bytes[position + i]) << (8 * i)
        }
        position += size
        return value
    }

    mutating func readDouble() throws -> Double {
        Double(bitPattern: try readLittleEndian(UInt64.self))
    }

    mutating func readFloat() throws -> Float {
        Float(bitPattern: try readLittleEndian(UInt32.self))
    }

    mutating func readLengthDelimited() throws -> ArraySlice<UInt8> {
        let length = try readVarint()
        guard length <= UInt64(bytes.endIndex - position) else {
            throw _ProtobufDecodingError(
                description: "length-delimited field of \(length) bytes runs past the end of the message")
        }
        let slice = bytes[position ..< position + Int(length)]
        position += Int(length)
        return slice
    }

    mutating func readString() throws -> String {
        let slice = try readLengthDelimited()
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw _ProtobufDecodingError(description: "string field is not valid UTF-8")
        }
        return string
    }

    /// Skips a field this reader does not need (proto readers must ignore unknown fields).
    mutating func skip(_ wireType: _WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readLittleEndian(UInt64.self)
        case .fixed32: _ = try readLittleEndian(UInt32.self)
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup:
            throw _ProtobufDecodingError(description: "deprecated group encoding is not supported")
        }
    }

    /// Checks that a known field arrived with the wire type its declaration implies.
    static func expect(_ actual: _WireType, _ expected: _WireType, field: Int, in message: String) throws {
        guard actual == expected else {
            throw _ProtobufDecodingError(
                description: "\(message) field \(field) has wire type \(actual.rawValue), expected \(expected.rawValue)")
        }
    }
}
