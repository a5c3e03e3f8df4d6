/// TFRecord framing, the container format of TensorBoard event files
/// (tensorflow/core/lib/io/record_writer.h). Each record is
///
///     uint64  length            little-endian
///     uint32  masked_crc32c(length bytes)
///     byte    data[length]
///     uint32  masked_crc32c(data)
///
/// with the CRC-32C and the mask of `CRC32C.masked(_:)`. There is no file header or index: a
/// reader walks records from byte 0, so a torn final record is detectable but not skippable.
public enum TFRecord {
    /// Bytes of framing around each record: 8 (length) + 4 (length CRC) + 4 (data CRC).
    public static let overhead = 16

    /// Appends the framed `data` to `output`.
    public static func frame(_ data: [UInt8], into output: inout [UInt8]) {
        output.reserveCapacity(output.count + data.count + overhead)
        var length = UInt64(data.count).littleEndian
        let lengthCRC = withUnsafeBytes(of: &length) { CRC32C.masked(CRC32C.checksum($0)) }
        withUnsafeBytes(of: &length) { output.append(contentsOf: $0) }
        withUnsafeBytes(of: lengthCRC.littleEndian) { output.append(contentsOf: $0) }
        output.append(contentsOf: data)
        let dataCRC = data.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
        withUnsafeBytes(of: dataCRC.littleEndian) { output.append(contentsOf: $0) }
    }

    /// One record: its payload and where its framing starts in the file.
    public struct Record: Sendable, Equatable {
        public var offset: Int
        public var data: [UInt8]
    }

    /// Splits `bytes` (a whole file) into records, verifying both CRCs of every record.
    /// - Parameter path: used only in error messages.
    /// - Throws: `TelemetryError.truncatedRecord` when the bytes end inside a record,
    ///   `TelemetryError.corruptRecord` on a CRC mismatch.
    public static func records(in bytes: [UInt8], path: String) throws -> [Record] {
        var records: [Record] = []
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= 12 else {
                throw TelemetryError.truncatedRecord(path: path, offset: offset, needed: 12, available: remaining)
            }
            let length = readLittleEndian(UInt64.self, bytes, at: offset)
            let storedLengthCRC = readLittleEndian(UInt32.self, bytes, at: offset + 8)
            let lengthCRC = bytes.withUnsafeBytes {
                CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + 8])))
            }
            guard lengthCRC == storedLengthCRC else {
                throw TelemetryError.corruptRecord(
                    path: path, offset: offset,
                    reason: "length CRC mismatch (stored \(hex(storedLengthCRC)), computed \(hex(lengthCRC)))")
            }
            // The length is trusted only after its CRC matched, so a flipped bit cannot ask for
            // an absurd allocation.
            guard length <= UInt64(remaining - 12), remaining - 12 - Int(length) >= 4 else {
                let needed = 12 + (length > UInt64(Int.max - 16) ? Int.max - 16 : Int(length)) + 4
                throw TelemetryError.truncatedRecord(path: path, offset: offset, needed: needed, available: remaining)
            }
            let dataStart = offset + 12
            let dataEnd = dataStart + Int(length)
            let storedDataCRC = readLittleEndian(UInt32.self, bytes, at: dataEnd)
            let dataCRC = bytes.withUnsafeBytes {
                CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[dataStart ..< dataEnd])))
            }
            guard dataCRC == storedDataCRC else {
                throw TelemetryError.corruptRecord(
                    path: path, offset: offset,
                    reason: "data CRC mismatch (stored \(hex(storedDataCRC)), computed \(hex(dataCRC)))")
            }
            records.append(Record(offset: offset, data: Array(bytes[dataStart ..< dataEnd])))
            offset = dataEnd + 4
        }
        return records
    }

    private static func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0 ..< MemoryLayout<T>.size {
            value |= T(bytes[offset + i]) << (8 * i)
        }
        return value
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
