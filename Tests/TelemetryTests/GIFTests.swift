import Foundation
import TelemetryTestSupport
import Testing
@testable import Telemetry

@Suite("Animated GIF")
struct GIFTests {
    /// LZW-compresses `indices` and decodes them back with the independent decoder.
    static func lzwRoundTrip(_ indices: [UInt8]) throws -> (decoded: [UInt8], statistics: LZWDecoder.Statistics) {
        var packed: [UInt8] = []
        indices.withUnsafeBufferPointer { _LZWEncoder(minimumCodeSize: 8).encode($0, into: &packed) }
        var statistics = LZWDecoder.Statistics()
        let decoded = try LZWDecoder.decode(packed, minimumCodeSize: 8, pixelCount: indices.count,
                                             statistics: &statistics)
        return (decoded, statistics)
    }

    @Test("header, screen descriptor, palette, loop extension and trailer bytes")
    func fileStructure() {
        let encoder = GIFEncoder(width: 160, height: 120, framesPerSecond: 10, scale: 2)
        let bytes = encoder.encode(frames: [[UInt8](repeating: 7, count: 160 * 120)])
        #expect(Array(bytes[0 ..< 6]) == Array("GIF89a".utf8))
        #expect(Array(bytes[6 ..< 13]) == [0x40, 0x01, 0xF0, 0x00, 0xF7, 0x00, 0x00])  // 320 x 240
        #expect(Array(bytes[13 + 3 * 200 ..< 13 + 3 * 201]) == [200, 200, 200])  // grey ramp
        let netscape = 13 + 768
        #expect(Array(bytes[netscape ..< netscape + 3]) == [0x21, 0xFF, 0x0B])
        #expect(Array(bytes[netscape + 3 ..< netscape + 14]) == Array("NETSCAPE2.0".utf8))
        #expect(Array(bytes[netscape + 14 ..< netscape + 19]) == [0x03, 0x01, 0x00, 0x00, 0x00])
        let control = netscape + 19
        #expect(Array(bytes[control ..< control + 8]) == [0x21, 0xF9, 0x04, 0x04, 10, 0, 0, 0])
        #expect(Array(bytes[control + 8 ..< control + 19]) == [0x2C, 0, 0, 0, 0, 0x40, 0x01, 0xF0, 0x00, 0x00, 0x08])
        #expect(bytes.last == 0x3B)
    }

    @Test("frame delay from frames per second, clamped to what viewers honour")
    func delays() {
        #expect(GIFEncoder(width: 1, height: 1, framesPerSecond: 10).delayCentiseconds == 10)
        #expect(GIFEncoder(width: 1, height: 1, framesPerSecond: 8.75).delayCentiseconds == 11)
        #expect(GIFEncoder(width: 1, height: 1, framesPerSecond: 35).delayCentiseconds == 3)
        #expect(GIFEncoder(width: 1, height: 1, framesPerSecond: 1000).delayCentiseconds == 2)
        #expect(GIFEncoder(width: 1, height: 1, delayCentiseconds: 100_000).delayCentiseconds == 65535)
    }

    @Test("sub-blocks hold at most 255 bytes and end with a zero block")
    func subBlocks() {
        var bytes: [UInt8] = []
        GIFEncoder.appendSubBlocks([UInt8](repeating: 9, count: 600), to: &bytes)
        #expect(bytes.count == 600 + 4)
        #expect(bytes[0] == 255 && bytes[256] == 255 && bytes[512] == 90 && bytes.last == 0)
        var empty: [UInt8] = []
        GIFEncoder.appendSubBlocks([], to: &empty)
        #expect(empty == [0])
    }

    @Test("LZW round trip of noise resets the 12-bit code table")
    func lzwNoise() throws {
        let noise = pseudoRandomBytes(count: 160 * 120, seed: 1)
        let (decoded, statistics) = try Self.lzwRoundTrip(noise)
        #expect(decoded == noise)
        #expect(statistics.widestCode == 12)
        #expect(statistics.clearCodes >= 4)
    }

    @Test("LZW round trip of constant and low-entropy frames")
    func lzwConstant() throws {
        for value: UInt8 in [0, 255] {
            let constant = [UInt8](repeating: value, count: 160 * 120)
            #expect(try Self.lzwRoundTrip(constant).decoded == constant)
        }
        // Long runs and repeats: few, long strings; with 2 symbols the table fills at 12 bits.
        let twoLevels = pseudoRandomBytes(count: 200_000, seed: 2, alphabet: 2).map { $0 * 255 }
        let (decoded, statistics) = try Self.lzwRoundTrip(twoLevels)
        #expect(decoded == twoLevels)
        #expect(statistics.widestCode == 12 && statistics.clearCodes >= 2)
    }

    @Test("LZW round trip at every length around the code-width boundaries")
    func lzwLengths() throws {
        for alphabet in [1, 2, 3, 256] {
            for count in Array(0 ... 40) + Array(250 ... 270) + Array(500 ... 530) + [4093, 4094, 4095, 4096, 4097] {
                let indices = pseudoRandomBytes(count: count, seed: UInt64(count * 1000 + alphabet), alphabet: alphabet)
                #expect(try Self.lzwRoundTrip(indices).decoded == indices, "alphabet \(alphabet) length \(count)")
            }
        }
    }

    @Test("GRAY8 frames round-trip pixel-exact through the file")
    func grayRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("episode.gif")
            let frames = (0 ..< 5).map { pseudoRandomBytes(count: 84 * 84, seed: UInt64($0), alphabet: 64 + $0 * 40) }
            try GIFWriter.write(frames: frames, to: url, width: 84, height: 84, framesPerSecond: 20)
            let gif = try GIFDecoder(fileBytes(url))
            #expect(gif.screenWidth == 84 && gif.screenHeight == 84 && gif.loopCount == 0)
            #expect(gif.frames.map(\.indices) == frames)
            #expect(gif.frames.allSatisfy { $0.delayCentiseconds == 5 })
            #expect(gif.globalPalette == GIFEncoder(width: 1, height: 1, framesPerSecond: 1).palette)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["episode.gif"])
        }
    }

    @Test("scale 2 upscales nearest-neighbour")
    func upscaling() throws {
        let frame: [UInt8] = [1, 2, 3,
                              4, 5, 6]
        let bytes = GIFEncoder(width: 3, height: 2, framesPerSecond: 10, scale: 2).encode(frames: [frame])
        let gif = try GIFDecoder(bytes)
        #expect(gif.screenWidth == 6 && gif.screenHeight == 4)
        #expect(gif.frames[0].indices == [1, 1, 2, 2, 3, 3,
                                          1, 1, 2, 2, 3, 3,
                                          4, 4, 5, 5, 6, 6,
                                          4, 4, 5, 5, 6, 6])
    }

    @Test("RGB24 frames map to the nearest colour of the 8x8x4 cube")
    func rgbQuantization() throws {
        let encoder = GIFEncoder(width: 4, height: 1, pixelFormat: .rgb24, framesPerSecond: 10)
        let frame: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 150, 200]
        let gif = try GIFDecoder(encoder.encode(frames: [frame]))
        let palette = gif.globalPalette
        func color(_ index: UInt8) -> [UInt8] { Array(palette[Int(index) * 3 ..< Int(index) * 3 + 3]) }
        let colors = gif.frames[0].indices.map(color)
        #expect(colors[0] == [255, 0, 0] && colors[1] == [0, 255, 0] && colors[2] == [0, 0, 255])
        // Each channel within half a level step of the original: 255/7/2 for red/green, 255/3/2 blue.
        #expect(abs(Int(colors[3][0]) - 100) <= 18 && abs(Int(colors[3][1]) - 150) <= 18)
        #expect(abs(Int(colors[3][2]) - 200) <= 43)
    }

    @Test("GIFWriter leaves nothing behind when it has no frame or is cancelled")
    func writerLifecycle() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("empty.gif")
            let empty = try GIFWriter(url: url, width: 8, height: 8, framesPerSecond: 10)
            #expect(throws: TelemetryError.emptyAnimation(path: url.path)) { try empty.finish() }

            let cancelled = try GIFWriter(url: url, width: 8, height: 8, framesPerSecond: 10)
            try cancelled.append(frame: [UInt8](repeating: 1, count: 64))
            cancelled.cancel()
            #expect(throws: TelemetryError.writerClosed(path: url.path)) {
                try cancelled.append(frame: [UInt8](repeating: 1, count: 64))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

            let missing = directory.appendingPathComponent("no/such/dir/x.gif")
            let error = #expect(throws: TelemetryError.self) {
                try GIFWriter(url: missing, width: 8, height: 8, framesPerSecond: 10)
            }
            #expect(error?.description.contains(directory.appendingPathComponent("no/such/dir").path) == true)
        }
    }
}
