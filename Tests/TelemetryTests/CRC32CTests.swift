import Testing
@testable import Telemetry

/// Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one.
private func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0 ..< 8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
    }
    return ~crc
}

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("check value and RFC 3720 appendix B.4 vectors")
    func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0 ..< 32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0 ..< 32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    }

    @Test("masked CRCs match tensorboard's own masked_crc32c")
    func maskedVectors() {
        // Values printed by tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c.
        func maskedLength(_ length: UInt64) -> UInt32 {
            withUnsafeBytes(of: length.littleEndian) { CRC32C.masked(CRC32C.checksum($0)) }
        }
        #expect(maskedLength(0) == 0x0798_0329)
        #expect(maskedLength(13) == 0x34B8_373C)
        #expect(maskedLength(300) == 0x9D5B_FEF2)
        #expect(CRC32C.masked(CRC32C.checksum(Array("123456789".utf8))) == 0xC78A_B0E5)
        for crc: UInt32 in [0, 1, 0xE306_9283, .max] {
            #expect(CRC32C.unmasked(CRC32C.masked(crc)) == crc)
        }
    }

    @Test("slicing-by-8 equals bit-at-a-time for every length and alignment up to 70")
    func matchesReference() {
        let bytes = pseudoRandomBytes(count: 80, seed: 7)
        for start in 0 ..< 8 {
            for length in 0 ... 70 {
                let slice = Array(bytes[start ..< start + length])
                #expect(CRC32C.checksum(slice) == referenceCRC32C(slice), "start \(start) length \(length)")
            }
        }
    }

    @Test("checksum continues across pieces")
    func incremental() {
        let bytes = pseudoRandomBytes(count: 1000, seed: 8)
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.checksum($0) }
            let both = bytes[split...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
            #expect(both == whole, "split at \(split)")
        }
    }
}
