/// CRC-32C (Castagnoli), the checksum of TFRecord framing.
///
/// Reflected polynomial 0x82F63B78 (normal form 0x1EDC6F41), initial value and final XOR
/// 0xFFFFFFFF; check value `crc32c("123456789") == 0xE3069283` (RFC 3720, iSCSI, appendix B.4).
/// Computed with slicing-by-8 (Kounavis & Berry, Intel 2005): eight 256-entry tables let the
/// loop consume 8 bytes per step, about 4x the byte-at-a-time table loop. Pure Swift so the
/// module needs no C target; a CRC of a few hundred bytes per event is nowhere near a hot path,
/// but GIF-sized payloads make the faster loop worth its 8 KiB of tables.
public enum CRC32C {
    /// Reflected Castagnoli polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78

    /// The constant that TFRecord adds after rotating a CRC (see `masked(_:)`).
    public static let maskDelta: UInt32 = 0xA282_EAD8

    /// tables[k * 256 + b] is the CRC contribution of byte b followed by k zero bytes.
    /// tables[0 ..< 256] is the classic byte-at-a-time table.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0 ..< 256 {
            var crc = UInt32(byte)
            for _ in 0 ..< 8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for k in 1 ..< 8 {
            for byte in 0 ..< 256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// CRC-32C of `bytes`. To checksum data in pieces pass the previous result as `continuing`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = ~previous
        tables.withUnsafeBufferPointer { table in
            var index = 0
            let count = bytes.count
            // Eight bytes per step: XOR the running CRC into the first four, then look up all eight.
            while count - index >= 8 {
                let low = (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24) ^ crc
                crc = table[7 * 256 + Int(low & 0xFF)]
                    ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(bytes[index + 4])]
                    ^ table[2 * 256 + Int(bytes[index + 5])]
                    ^ table[1 * 256 + Int(bytes[index + 6])]
                    ^ table[Int(bytes[index + 7])]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
        }
        return ~crc
    }

    /// CRC-32C of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// TFRecord's masked CRC: `((crc >> 15) | (crc << 17)) &+ 0xa282ead8`.
    /// Masking exists because a CRC of data that itself contains CRCs is weak
    /// (tensorflow/core/lib/hash/crc32c.h, `Mask`).
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// Inverse of `masked(_:)`.
    public static func unmasked(_ maskedCRC: UInt32) -> UInt32 {
        let rotated = maskedCRC &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }
}
