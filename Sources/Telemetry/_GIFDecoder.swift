/// A minimal GIF reader for round-trip tests: parses the block structure of a GIF89a file and
/// LZW-decodes every image to palette indices. It handles what `GIFEncoder` writes plus local
/// colour tables and unknown extensions (skipped); it does not de-interlace, composite frames or
/// apply disposal methods.
struct _GIFDecoder {
    struct Frame {
        var left = 0, top = 0, width = 0, height = 0
        var delayCentiseconds = 0
        var disposalMethod = 0
        /// Palette indices, row-major.
        var indices: [UInt8] = []
    }

    var version = ""
    var screenWidth = 0
    var screenHeight = 0
    /// Flattened RGB triples; empty without a global table.
    var globalPalette: [UInt8] = []
    /// From the NETSCAPE2.0 extension; nil when absent (play once).
    var loopCount: Int?
    var frames: [Frame] = []

    init(_ bytes: [UInt8]) throws {
        var position = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - position >= count else {
                throw _GIFDecodingError(description: "GIF ends at byte \(bytes.count), inside a block starting at \(position)")
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
            throw _GIFDecodingError(description: "not a GIF: header is \(version.debugDescription)")
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
                    throw _GIFDecodingError(description: "interlaced images are not supported by this test decoder")
                }
                if flags & 0x80 != 0 { _ = try take(3 << ((flags & 7) + 1)) }
                let minimumCodeSize = try byte()
                pending.indices = try _LZWDecoder.decode(try subBlocks(), minimumCodeSize: minimumCodeSize,
                                                         pixelCount: pending.width * pending.height)
                frames.append(pending)
                pending = Frame()
            case 0x3B:  // trailer
                guard position == bytes.count else {
                    throw _GIFDecodingError(description: "\(bytes.count - position) bytes after the GIF trailer")
                }
                return
            case let other:
                throw _GIFDecodingError(description: "unknown block 0x\(String(other, radix: 16)) at byte \(position - 1)")
            }
        }
    }
}
