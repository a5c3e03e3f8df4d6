/// Encodes frames into an animated GIF89a (https://www.w3.org/Graphics/GIF/spec-gif89a.txt).
///
/// File layout, section numbers of the specification:
///
///     "GIF89a"                                      17. header
///     logical screen descriptor                     18. width, height, global-table flags
///     global color table, 256 x RGB                 19.
///     NETSCAPE2.0 application extension             26. (Netscape's loop-count block)
///     per frame: graphic control extension          23. delay in 1/100 s
///                image descriptor                   20. full-screen, no local table
///                LZW minimum code size + data       22. sub-blocks of at most 255 bytes, then 0
///     0x3B                                          27. trailer
///
/// Colours: GRAY8 frames index a 256-level grey ramp directly (lossless). RGB24 frames are
/// quantized to a fixed 8 x 8 x 4 colour cube (3 bits red, 3 green, 2 blue: the eye is least
/// sensitive to blue), nearest level per channel, without dithering; a fixed palette keeps the
/// encoder single-pass and every frame comparable, at the price of banding.
///
/// Not thread-safe: `GIFWriter` wraps one behind a lock.
public final class GIFEncoder {
    /// Pixel layout of the frames handed to `encodeFrame`: row-major, top row first, no padding.
    public enum PixelFormat: Sendable, Equatable {
        /// One byte per pixel, 0 = black, 255 = white (the trainer's preprocessed frames).
        case gray8
        /// Three bytes per pixel: red, green, blue.
        case rgb24

        public var bytesPerPixel: Int { self == .gray8 ? 1 : 3 }
    }

    /// Frame size in source pixels.
    public let width: Int
    public let height: Int
    public let pixelFormat: PixelFormat
    /// Nearest-neighbour upscaling factor: an 84 x 84 frame is a thumbnail on a modern screen,
    /// `scale: 2` or more makes it watchable. The GIF is `width * scale` by `height * scale`.
    public let scale: Int
    /// Delay after each frame in 1/100 s (GIF's unit).
    public let delayCentiseconds: Int
    /// 0 loops forever.
    public let loopCount: Int

    /// The screen size written in the file: 16-bit fields.
    public var outputWidth: Int { width * scale }
    public var outputHeight: Int { height * scale }

    private let lzw = _LZWEncoder(minimumCodeSize: 8)
    private var indices: [UInt8]
    private var packed: [UInt8] = []

    /// - Parameters:
    ///   - delayCentiseconds: clamped to 2...65535, because browsers and many viewers replace
    ///     delays of 0 and 1 with 10 (a tenth of a second), which would play fast clips slowly.
    ///   - loopCount: 0 loops forever (the NETSCAPE2.0 convention), n plays n + 1 times.
    public init(width: Int, height: Int, pixelFormat: PixelFormat = .gray8, delayCentiseconds: Int,
                scale: Int = 1, loopCount: Int = 0) {
        precondition(width > 0 && height > 0, "GIF frame size must be positive, got \(width) x \(height)")
        precondition(scale >= 1, "GIF scale must be at least 1, got \(scale)")
        precondition(width * scale <= 65535 && height * scale <= 65535,
                     "GIF size \(width * scale) x \(height * scale) exceeds the 16-bit limit 65535")
        precondition((0 ... 65535).contains(loopCount), "GIF loop count must be 0...65535")
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.scale = scale
        self.delayCentiseconds = min(max(delayCentiseconds, 2), 65535)
        self.loopCount = loopCount
        indices = [UInt8](repeating: 0, count: width * scale * height * scale)
    }

    /// - Parameter framesPerSecond: playback rate, rounded to GIF's 1/100 s delays (so 30 fps
    ///   plays at 33.3 fps, and rates above 50 fps are capped there; see `delayCentiseconds`).
    public convenience init(width: Int, height: Int, pixelFormat: PixelFormat = .gray8,
                            framesPerSecond: Double, scale: Int = 1, loopCount: Int = 0) {
        precondition(framesPerSecond > 0, "framesPerSecond must be positive, got \(framesPerSecond)")
        self.init(width: width, height: height, pixelFormat: pixelFormat,
                  delayCentiseconds: Int((100 / framesPerSecond).rounded()), scale: scale, loopCount: loopCount)
    }

    /// Bytes in one source frame: `width * height * pixelFormat.bytesPerPixel`.
    public var frameByteCount: Int { width * height * pixelFormat.bytesPerPixel }

    // MARK: - Palette

    /// The 256 RGB triples of the global colour table, flattened (768 bytes).
    public var palette: [UInt8] {
        var table: [UInt8] = []
        table.reserveCapacity(768)
        for index in 0 ..< 256 {
            switch pixelFormat {
            case .gray8:
                table += [UInt8(index), UInt8(index), UInt8(index)]
            case .rgb24:
                let red = index >> 5, green = (index >> 2) & 7, blue = index & 3
                table += [UInt8((red * 255 + 3) / 7), UInt8((green * 255 + 3) / 7), UInt8(blue * 85)]
            }
        }
        return table
    }

    /// Palette index of an RGB colour in the 8 x 8 x 4 cube: each channel to its nearest level.
    @inline(__always)
    public static func cubeIndex(red: UInt8, green: UInt8, blue: UInt8) -> UInt8 {
        let r = (Int(red) * 7 + 127) / 255
        let g = (Int(green) * 7 + 127) / 255
        let b = (Int(blue) * 3 + 127) / 255
        return UInt8(r << 5 | g << 2 | b)
    }

    // MARK: - Blocks

    /// Header, logical screen descriptor, global colour table, and the looping extension.
    public func header() -> [UInt8] {
        var bytes: [UInt8] = Array("GIF89a".utf8)
        appendUInt16(outputWidth, to: &bytes)
        appendUInt16(outputHeight, to: &bytes)
        // Global table present (0x80), 8 bits of colour resolution (7 << 4), unsorted,
        // 2^(7+1) = 256 entries (7).
        bytes += [0xF7, 0 /* background colour index */, 0 /* no aspect ratio */]
        bytes += palette
        // Application extension: 0x21 0xFF, an 11-byte block "NETSCAPE2.0", then the sub-block
        // [1, loop count (16-bit LE)], then the block terminator.
        bytes += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01]
        appendUInt16(loopCount, to: &bytes)
        bytes.append(0x00)
        return bytes
    }

    /// The trailer that ends every GIF.
    public static let trailer: [UInt8] = [0x3B]

    /// Graphic control extension, image descriptor and LZW data for one frame.
    /// - Precondition: `pixels.count == frameByteCount`.
    public func encodeFrame(_ pixels: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        precondition(pixels.count == frameByteCount,
                     "GIF frame has \(pixels.count) bytes, expected \(width) x \(height) x \(pixelFormat.bytesPerPixel) = \(frameByteCount)")
        mapToIndices(pixels)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(indices.count / 2 + 64)
        // Graphic control extension: 0x21 0xF9, block size 4, packed fields (disposal method 1,
        // "leave in place": every frame covers the whole screen anyway; no transparency),
        // delay, transparent index (unused), terminator.
        bytes += [0x21, 0xF9, 0x04, 0x04]
        appendUInt16(delayCentiseconds, to: &bytes)
        bytes += [0x00, 0x00]
        // Image descriptor: 0x2C, left, top, width, height, packed fields (no local table,
        // not interlaced).
        bytes.append(0x2C)
        appendUInt16(0, to: &bytes)
        appendUInt16(0, to: &bytes)
        appendUInt16(outputWidth, to: &bytes)
        appendUInt16(outputHeight, to: &bytes)
        bytes.append(0x00)
        // Image data: LZW minimum code size, then the code stream in sub-blocks.
        bytes.append(UInt8(lzw.minimumCodeSize))
        packed.removeAll(keepingCapacity: true)
        indices.withUnsafeBufferPointer { lzw.encode($0, into: &packed) }
        GIFEncoder.appendSubBlocks(packed, to: &bytes)
        return bytes
    }

    public func encodeFrame(_ pixels: [UInt8]) -> [UInt8] {
        pixels.withUnsafeBufferPointer { encodeFrame($0) }
    }

    /// A complete GIF of `frames` in memory.
    public func encode(frames: [[UInt8]]) -> [UInt8] {
        var bytes = header()
        for frame in frames {
            bytes += encodeFrame(frame)
        }
        return bytes + GIFEncoder.trailer
    }

    /// Data sub-blocks (section 15): a size byte 1...255 and that many bytes, repeated, then a
    /// zero-size block terminator.
    static func appendSubBlocks(_ data: [UInt8], to bytes: inout [UInt8]) {
        var start = 0
        while start < data.count {
            let count = min(255, data.count - start)
            bytes.append(UInt8(count))
            bytes += data[start ..< start + count]
            start += count
        }
        bytes.append(0x00)
    }

    // MARK: - Pixels to palette indices

    /// Fills `indices` (output size) with palette indices, upscaling by `scale`.
    private func mapToIndices(_ pixels: UnsafeBufferPointer<UInt8>) {
        let outputWidth = self.outputWidth
        let scale = self.scale
        let width = self.width
        let pixelFormat = self.pixelFormat
        indices.withUnsafeMutableBufferPointer { out in
            for y in 0 ..< height {
                let row = y * scale * outputWidth  // start of the first output row of source row y
                for x in 0 ..< width {
                    let index: UInt8
                    switch pixelFormat {
                    case .gray8:
                        index = pixels[y * width + x]
                    case .rgb24:
                        let source = (y * width + x) * 3
                        index = GIFEncoder.cubeIndex(red: pixels[source], green: pixels[source + 1],
                                                     blue: pixels[source + 2])
                    }
                    for dx in 0 ..< scale {
                        out[row + x * scale + dx] = index
                    }
                }
                // Copy it to the other `scale - 1` output rows.
                for dy in 1 ..< scale {
                    let target = row + dy * outputWidth
                    for x in 0 ..< outputWidth {
                        out[target + x] = out[row + x]
                    }
                }
            }
        }
    }

    private func appendUInt16(_ value: Int, to bytes: inout [UInt8]) {
        precondition((0 ... 65535).contains(value), "GIF 16-bit field out of range: \(value)")
        bytes.append(UInt8(value & 0xFF))
        bytes.append(UInt8(value >> 8))
    }
}
