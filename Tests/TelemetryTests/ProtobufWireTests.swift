import Testing
@testable import Telemetry

@Suite("Protobuf wire format")
struct ProtobufWireTests {
    /// (value, its varint bytes): each 7-bit group boundary and the 64-bit extremes.
    static let varintCases: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (300, [0xAC, 0x02]),
        (16383, [0xFF, 0x7F]),
        (16384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test("varint encodings", arguments: varintCases)
    func varint(value: UInt64, expected: [UInt8]) throws {
        var encoder = _ProtobufEncoder()
        encoder.appendVarint(value)
        #expect(encoder.bytes == expected)
        var decoder = _ProtobufDecoder(encoder.bytes)
        #expect(try decoder.readVarint() == value)
        #expect(decoder.isAtEnd)
    }

    @Test("negative int64 is a 10-byte two's-complement varint, not zigzag")
    func negativeInt64() throws {
        var encoder = _ProtobufEncoder()
        encoder.appendVarintField(2, -1)
        #expect(encoder.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        var decoder = _ProtobufDecoder(encoder.bytes)
        let key = try decoder.readKey()
        #expect(key?.field == 2 && key?.wireType == .varint)
        #expect(Int64(bitPattern: try decoder.readVarint()) == -1)
    }

    @Test("keys, fixed-width and length-delimited fields")
    func fields() throws {
        var encoder = _ProtobufEncoder()
        encoder.appendDoubleField(1, 1.5)
        encoder.appendFloatField(2, -2)
        encoder.appendStringField(3, "é")
        encoder.appendStringField(536_870_911, "")
        #expect(encoder.bytes == [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,
                                  0x15, 0, 0, 0, 0xC0,
                                  0x1A, 0x02, 0xC3, 0xA9,
                                  0xFA, 0xFF, 0xFF, 0xFF, 0x0F, 0x00])
        var decoder = _ProtobufDecoder(encoder.bytes)
        #expect(try decoder.readKey()?.field == 1)
        #expect(try decoder.readDouble() == 1.5)
        #expect(try decoder.readKey()?.wireType == .fixed32)
        #expect(try decoder.readFloat() == -2)
        _ = try decoder.readKey()
        #expect(try decoder.readString() == "é")
        #expect(try decoder.readKey()?.field == 536_870_911)
        #expect(try decoder.readString() == "")
        #expect(try decoder.readKey() == nil)
    }

    @Test("malformed input is rejected, not misread")
    func malformed() {
        var overlong = _ProtobufDecoder([UInt8](repeating: 0xFF, count: 10) + [0x01])
        #expect(throws: _ProtobufDecodingError.self) { try overlong.readVarint() }
        var unterminated = _ProtobufDecoder([0x80, 0x80])
        #expect(throws: _ProtobufDecodingError.self) { try unterminated.readVarint() }
        var shortLength = _ProtobufDecoder([0x05, 0x61])
        #expect(throws: _ProtobufDecodingError.self) { try shortLength.readLengthDelimited() }
        var badWireType = _ProtobufDecoder([0x0F])
        #expect(throws: _ProtobufDecodingError.self) { try badWireType.readKey() }
        #expect(throws: _ProtobufDecodingError.self) { try TensorBoardEvent(serialized: [0x09, 0x00]) }
    }
}
