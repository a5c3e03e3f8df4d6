import Testing
@testable import ViZDoom

/// Reference area resize in double precision, by direct 2-D integration over each output cell.
private func referenceAreaResize(_ image: [[Double]], outputHeight: Int, outputWidth: Int) -> [[Double]] {
    let inputHeight = image.count, inputWidth = image[0].count
    let sy = Double(inputHeight) / Double(outputHeight), sx = Double(inputWidth) / Double(outputWidth)
    func overlap(_ a0: Double, _ a1: Double, _ b0: Double, _ b1: Double) -> Double { max(0, min(a1, b1) - max(a0, b0)) }
    return (0..<outputHeight).map { i in
        (0..<outputWidth).map { j in
            var sum = 0.0
            for y in 0..<inputHeight {
                let wy = overlap(Double(i) * sy, Double(i + 1) * sy, Double(y), Double(y + 1))
                if wy == 0 { continue }
                for x in 0..<inputWidth {
                    let wx = overlap(Double(j) * sx, Double(j + 1) * sx, Double(x), Double(x + 1))
                    sum += wy * wx * image[y][x]
                }
            }
            return sum / (sy * sx)
        }
    }
}

private func preprocess(_ frame: [UInt8], with preprocessor: FramePreprocessor) -> [Float] {
    var output = [Float](repeating: -1, count: preprocessor.outputCount)
    frame.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { preprocessor.process(input, into: $0) }
    }
    return output
}

@Suite("Frame preprocessing")
struct FramePreprocessorTests {
    @Test("a uniform frame maps to value/255 everywhere", arguments: [0, 1, 128, 255] as [UInt8])
    func uniformFrame(value: UInt8) {
        let preprocessor = FramePreprocessor()
        let output = preprocess([UInt8](repeating: value, count: 160 * 120), with: preprocessor)
        let expected = Float(value) / 255
        #expect(output.allSatisfy { abs($0 - expected) < 1e-6 })
    }

    @Test("pixels outside the crop (rows 10..<110, columns 30..<130) do not matter")
    func cropIgnoresOutside() {
        let preprocessor = FramePreprocessor()
        var frame = [UInt8](repeating: 255, count: 160 * 120)
        for row in 10..<110 { for column in 30..<130 { frame[row * 160 + column] = 100 } }
        let output = preprocess(frame, with: preprocessor)
        #expect(output.allSatisfy { abs($0 - 100 / 255) < 1e-6 })
    }

    @Test("the full view sees the columns the centre view cuts, and matches a double-precision reference")
    func fullView() {
        var frame = [UInt8](repeating: 0, count: 160 * 120)
        var state: UInt32 = 777
        for index in frame.indices { state = state &* 1_664_525 &+ 1_013_904_223; frame[index] = UInt8(state >> 24) }
        let full = FramePreprocessor(view: .full)
        #expect(full.cropRows == 0..<120 && full.cropColumns == 0..<160)
        let reference = referenceAreaResize((0..<120).map { row in (0..<160).map { Double(frame[row * 160 + $0]) / 255 } },
                                            outputHeight: 84, outputWidth: 84)
        let output = preprocess(frame, with: full)
        var maxDifference = 0.0
        for i in 0..<84 { for j in 0..<84 { maxDifference = max(maxDifference, abs(Double(output[i * 84 + j]) - reference[i][j])) } }
        #expect(maxDifference < 1e-5)
        // A bright band in the 30 columns left of the centre crop: the full view's left edge shows
        // it, the centre view (the seed's) does not.
        var band = [UInt8](repeating: 0, count: 160 * 120)
        for row in 0..<120 { for column in 0..<30 { band[row * 160 + column] = 255 } }
        #expect(preprocess(band, with: full)[42 * 84] > 0.99)
        #expect(preprocess(band, with: FramePreprocessor(view: .center)).allSatisfy { $0 == 0 })
    }

    @Test("a 2x shrink gives the mean of each 2x2 block")
    func integerShrinkKnownValues() {
        let preprocessor = FramePreprocessor(inputWidth: 4, inputHeight: 4, cropRows: 0..<4, cropColumns: 0..<4,
                                             outputWidth: 2, outputHeight: 2)
        let frame: [UInt8] = [0, 2, 10, 20,
                              4, 6, 30, 40,
                              100, 100, 255, 255,
                              50, 50, 255, 255]
        let output = preprocess(frame, with: preprocessor)
        let expected: [Float] = [3, 25, 75, 255].map { $0 / 255 }
        for (got, want) in zip(output, expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test("the seed's 100x100 -> 84x84 resize matches a double-precision reference")
    func matchesReference() {
        let preprocessor = FramePreprocessor()
        var frame = [UInt8](repeating: 0, count: 160 * 120)
        var state: UInt32 = 12345
        for index in frame.indices { state = state &* 1_664_525 &+ 1_013_904_223; frame[index] = UInt8(state >> 24) }
        let crop = (10..<110).map { row in (30..<130).map { Double(frame[row * 160 + $0]) / 255 } }
        let reference = referenceAreaResize(crop, outputHeight: 84, outputWidth: 84)
        let output = preprocess(frame, with: preprocessor)
        var maxDifference = 0.0
        for i in 0..<84 { for j in 0..<84 { maxDifference = max(maxDifference, abs(Double(output[i * 84 + j]) - reference[i][j])) } }
        print("preprocessing max difference vs reference: \(maxDifference)")
        #expect(maxDifference < 1e-5)
    }

    @Test("area taps sum to one for every output index")
    func tapsSumToOne() {
        for (input, output) in [(100, 84), (160, 84), (7, 3), (5, 5)] {
            let taps = _AreaTaps(inputLength: input, outputLength: output)
            for i in 0..<output {
                let sum = (0..<_AreaTaps.maxTaps).reduce(Float(0)) { $0 + taps.weights[i * _AreaTaps.maxTaps + $1] }
                #expect(abs(sum - 1) < 1e-5, "output \(i) of \(input)->\(output) sums to \(sum)")
            }
        }
    }
}
