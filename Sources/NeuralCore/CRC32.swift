// CRC-32 of checkpoint data (safetensors files) and of parameter vectors (a distributed job checks
// that every rank holds the final parameters).

/// CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected; the same value as zlib's `crc32`).
/// Stored in every safetensors file's metadata (`a3c.crc32`); distinct from Telemetry's CRC32C
/// (Castagnoli), which TensorBoard's record framing uses.
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
