// Readers of what Telemetry writes, for tests only: GIF files back to palette indices, TensorBoard
// event files back to events. Written from the formats' specifications, not from the writers.

/// A minimal GIF reader for round-trip tests: parses the block structure of a GIF89a file and
/// LZW-decodes every image to palette indices. It handles what `GIFEncoder` writes plus local
/// colour tables and unknown extensions (skipped); it does not de-interlace, composite frames or
/// apply disposal methods.
public struct GIFDecoder {
    public struct Frame {
        public var left = 0, top = 0, width = 0, height = 0
        public var delayCentiseconds = 0
        public var disposalMethod = 0
        /// Palette indices, row-major.
        public var indices: [UInt8] = []
    }

    public var version = ""
    public var screenWidth = 0
    public var screenHeight = 0
    /// Flattened RGB triples; empty without a global table.
    public var globalPalette: [UInt8] = []
    /// From the NETSCAPE2.0 extension; nil when absent (play once).
    public var loopCount: Int?
    public var frames: [Frame] = []

    public init(_ bytes: [UInt8]) throws {
        var position = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - position >= count else {
                throw GIFDecodingError(description: "GIF ends at byte \(bytes.count), inside a block starting at \(position)")
            }
            defer { position += count }
            return bytes[position ..< position + count]
        }
        func byte() throws -> Int { Int(try take(1).first!) }
        func uint16() throws -> Int { let pair = try take(2); return Int(pair.first!) | Int(pair.last!) << 8 }
        func subBlocks() throws -> [UInt8] {
            var data: [UInt8] = []
            while true {
                let size = try byte()
                if size == 0 { return data }
                data += try take(size)
            }
        }

        version = String(decoding: try take(6), as: UTF8.self)
        guard version == "GIF89a" || version == "GIF87a" else {
            throw GIFDecodingError(description: "not a GIF: header is \(version.debugDescription)")
        }
        screenWidth = try uint16()
        screenHeight = try uint16()
        let screenFlags = try byte()
        _ = try take(2)  // background colour, aspect ratio
        if screenFlags & 0x80 != 0 {
            globalPalette = Array(try take(3 << ((screenFlags & 7) + 1)))
        }
        var pending = Frame()
        while true {
            switch try byte() {
            case 0x21:  // extension
                let label = try byte()
                let data = try subBlocks()
                if label == 0xF9, data.count >= 4 {
                    pending.disposalMethod = Int(data[0] >> 2) & 7
                    pending.delayCentiseconds = Int(data[1]) | Int(data[2]) << 8
                } else if label == 0xFF, data.count >= 14, String(decoding: data[0 ..< 11], as: UTF8.self) == "NETSCAPE2.0",
                          data[11] == 1 {
                    loopCount = Int(data[12]) | Int(data[13]) << 8
                }
            case 0x2C:  // image
                pending.left = try uint16()
                pending.top = try uint16()
                pending.width = try uint16()
                pending.height = try uint16()
                let flags = try byte()
                if flags & 0x40 != 0 {
                    throw GIFDecodingError(description: "interlaced images are not supported by this test decoder")
                }
                if flags & 0x80 != 0 { _ = try take(3 << ((flags & 7) + 1)) }
                let minimumCodeSize = try byte()
                pending.indices = try LZWDecoder.decode(try subBlocks(), minimumCodeSize: minimumCodeSize,
                                                         pixelCount: pending.width * pending.height)
                frames.append(pending)
                pending = Frame()
            case 0x3B:  // trailer
                guard position == bytes.count else {
                    throw GIFDecodingError(description: "\(bytes.count - position) bytes after the GIF trailer")
                }
                return
            case let other:
                throw GIFDecodingError(description: "unknown block 0x\(String(other, radix: 16)) at byte \(position - 1)")
            }
        }
    }
}

/// Why GIF data could not be decoded.
public struct GIFDecodingError: Error, CustomStringConvertible {
    public let description: String
}

/// The inverse of Telemetry's LZW encoder, written from the specification (not from the encoder) so that
/// round-trip tests check the encoder against an independent reading of the format.
public enum LZWDecoder {
    /// What a decode saw, for tests that must prove a path was exercised.
    public struct Statistics {
        /// Clear codes in the stream, the leading one included.
        public var clearCodes = 0
        /// Widest code read, in bits.
        public var widestCode = 0
        public init() {}
    }

    /// Decodes a packed code stream into exactly `pixelCount` indices.
    public static func decode(_ data: [UInt8], minimumCodeSize: Int, pixelCount: Int) throws -> [UInt8] {
        var statistics = Statistics()
        return try decode(data, minimumCodeSize: minimumCodeSize, pixelCount: pixelCount, statistics: &statistics)
    }

    public static func decode(_ data: [UInt8], minimumCodeSize: Int, pixelCount: Int,
                       statistics: inout Statistics) throws -> [UInt8] {
        guard (2 ... 8).contains(minimumCodeSize) else {
            throw GIFDecodingError(description: "LZW minimum code size \(minimumCodeSize) outside 2...8")
        }
        let clearCode = 1 << minimumCodeSize
        let endCode = clearCode + 1
        // Each table entry is (prefix code, last byte, length); strings are rebuilt backwards.
        var prefixes = [Int](repeating: -1, count: 4096)
        var suffixes = [UInt8](repeating: 0, count: 4096)
        var lengths = [Int](repeating: 0, count: 4096)
        for code in 0 ..< clearCode {
            suffixes[code] = UInt8(code)
            lengths[code] = 1
        }
        var codeWidth = minimumCodeSize + 1
        var nextCode = endCode + 1
        var previous = -1
        var output: [UInt8] = []
        output.reserveCapacity(pixelCount)

        var bitPosition = 0
        func readCode() -> Int? {
            guard bitPosition + codeWidth <= data.count * 8 else { return nil }
            var code = 0
            for bit in 0 ..< codeWidth {
                let position = bitPosition + bit
                if data[position >> 3] & (1 << (position & 7)) != 0 { code |= 1 << bit }
            }
            bitPosition += codeWidth
            statistics.widestCode = max(statistics.widestCode, codeWidth)
            return code
        }

        func firstByte(of code: Int) -> UInt8 {
            var code = code
            while prefixes[code] >= 0 { code = prefixes[code] }
            return suffixes[code]
        }

        func append(string code: Int) {
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: lengths[code]))
            var code = code
            var position = start + lengths[code] - 1
            while code >= 0 {
                output[position] = suffixes[code]
                position -= 1
                code = prefixes[code]
            }
        }

        while true {
            guard let code = readCode() else {
                throw GIFDecodingError(description: "LZW data ends without an end code after \(output.count) pixels")
            }
            if code == clearCode {
                statistics.clearCodes += 1
                codeWidth = minimumCodeSize + 1
                nextCode = endCode + 1
                previous = -1
                continue
            }
            if code == endCode { break }
            if previous < 0 {
                guard code < clearCode else {
                    throw GIFDecodingError(description: "first code after clear is \(code), not a pixel value")
                }
                append(string: code)
                previous = code
                continue
            }
            guard code <= nextCode, code != clearCode, code != endCode else {
                throw GIFDecodingError(description: "code \(code) not yet defined (next is \(nextCode))")
            }
            // code == nextCode is the KwKwK case: the string is previous + first byte of previous.
            let first = code == nextCode ? firstByte(of: previous) : firstByte(of: code)
            if nextCode < 4096 {
                prefixes[nextCode] = previous
                suffixes[nextCode] = first
                lengths[nextCode] = lengths[previous] + 1
                nextCode += 1
                if nextCode == 1 << codeWidth && codeWidth < 12 { codeWidth += 1 }
            }
            append(string: code)
            previous = code
        }
        guard output.count == pixelCount else {
            throw GIFDecodingError(description: "LZW data decodes to \(output.count) pixels, expected \(pixelCount)")
        }
        return output
    }
}
