/// The part of the screen the network sees (`--view`): the crop a `FramePreprocessor` resizes to 84x84.
public enum ScreenView: String, Codable, Sendable, CaseIterable {
    /// The seed's: the 100x100 centre of the 160x120 frame (rows 10..<110, columns 30..<130). Enough
    /// where the action happens in front of the player (basic's monster, defend_the_center's aim),
    /// at 1.19 input pixels per network pixel. The 30 columns cut from each side are 37.5% of the
    /// width: of Doom's 90-degree field of view the centre keeps 64 (atan(50/80) = 32 degrees each
    /// side of the aim).
    case center
    /// The whole frame, 160x120 squeezed into 84x84 (1.9 input pixels a column, 1.43 a row): the
    /// field's usual input (Sample Factory and the ViZDoom papers resize the whole screen), for
    /// scenarios and maps of one's own where what comes from the sides matters. Measured on
    /// take_cover (seed 1, constant rate, 4 M frames each, one run after the other): it learned no
    /// faster than the centre (rolling survival at the end 559 tics against 618; both began to rise
    /// between 2 and 2.5 M frames), so no preset uses it.
    case full

    /// The rows and columns this view keeps of a `width` x `height` frame. The centre's ranges are
    /// the seed's for its 160x120 screen, which is what every scenario here renders.
    public func crop(width: Int, height: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        switch self {
        case .center: return (10..<110, 30..<130)
        case .full: return (0..<height, 0..<width)
        }
    }
}

/// Turns a GRAY8 frame into the network's input: crop (by default the seed's rows 10..<110 and
/// columns 30..<130 of the 120x160 frame; see `ScreenView`), area-resize the crop to 84x84, and
/// scale to [0, 1].
///
/// Area resizing (like OpenCV's INTER_AREA) gives each output pixel the mean of the input area it
/// covers: output pixel `i` on an axis of scale `s = inputLength / outputLength` covers
/// `[i*s, (i+1)*s)`, and each input pixel contributes in proportion to its overlap. The resize is
/// separable, so it runs as a horizontal pass (crop rows -> `cropHeight x outputWidth`) then a
/// vertical pass, with the taps computed once in `init`. `process` allocates nothing.
///
/// Shapes: frame (inputHeight, inputWidth) UInt8, row-major; output (outputHeight, outputWidth) Float.
public final class FramePreprocessor {
    public let inputWidth: Int
    public let inputHeight: Int
    public let cropRows: Range<Int>
    public let cropColumns: Range<Int>
    public let outputWidth: Int
    public let outputHeight: Int
    public var outputCount: Int { outputWidth * outputHeight }

    private let horizontal: _AreaTaps
    private let vertical: _AreaTaps
    /// (cropRows.count, outputWidth): the crop after the horizontal pass.
    private let rowsResized: UnsafeMutablePointer<Float>
    /// (cropColumns.count): one cropped row as Floats, converted once instead of once per tap.
    private let rowFloats: UnsafeMutablePointer<Float>
    /// (horizontal.tapCount, outputWidth): the horizontal taps as flat tables read in the hot loop
    /// (the [Int]/[Float] arrays of `_AreaTaps` cost bounds checks and a clamp per tap): the column
    /// each tap reads, clamped to the crop, and its weight; tap-major so the inner loop runs over j.
    private let tapColumns: UnsafeMutablePointer<Int>
    private let tapWeights: UnsafeMutablePointer<Float>

    /// The seed's preprocessing by default. Precondition: the crop lies inside the frame and the
    /// output is no larger than the crop (area resizing only shrinks).
    public init(inputWidth: Int = 160, inputHeight: Int = 120,
                cropRows: Range<Int> = ScreenView.center.crop(width: 160, height: 120).rows,
                cropColumns: Range<Int> = ScreenView.center.crop(width: 160, height: 120).columns,
                outputWidth: Int = 84, outputHeight: Int = 84) {
        precondition(cropRows.lowerBound >= 0 && cropRows.upperBound <= inputHeight && !cropRows.isEmpty,
                     "crop rows \(cropRows) must lie inside 0..<\(inputHeight)")
        precondition(cropColumns.lowerBound >= 0 && cropColumns.upperBound <= inputWidth && !cropColumns.isEmpty,
                     "crop columns \(cropColumns) must lie inside 0..<\(inputWidth)")
        precondition(outputWidth >= 1 && outputWidth <= cropColumns.count && outputHeight >= 1 && outputHeight <= cropRows.count,
                     "area resize only shrinks: output \(outputHeight)x\(outputWidth) vs crop \(cropRows.count)x\(cropColumns.count)")
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.cropRows = cropRows
        self.cropColumns = cropColumns
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        horizontal = _AreaTaps(inputLength: cropColumns.count, outputLength: outputWidth)
        vertical = _AreaTaps(inputLength: cropRows.count, outputLength: outputHeight)
        rowsResized = .allocate(capacity: cropRows.count * outputWidth)
        rowFloats = .allocate(capacity: cropColumns.count)
        let taps = horizontal.tapCount
        tapColumns = .allocate(capacity: outputWidth * taps)
        tapWeights = .allocate(capacity: outputWidth * taps)
        for j in 0..<outputWidth {
            for k in 0..<taps {
                tapColumns[k * outputWidth + j] = min(horizontal.starts[j] + k, cropColumns.count - 1)
                tapWeights[k * outputWidth + j] = horizontal.weights[j * _AreaTaps.maxTaps + k]
            }
        }
    }

    /// The preprocessing of `view` for frames of `inputWidth` x `inputHeight`, to 84x84.
    public convenience init(view: ScreenView, inputWidth: Int = 160, inputHeight: Int = 120) {
        let crop = view.crop(width: inputWidth, height: inputHeight)
        self.init(inputWidth: inputWidth, inputHeight: inputHeight, cropRows: crop.rows, cropColumns: crop.columns)
    }

    deinit {
        rowsResized.deallocate()
        rowFloats.deallocate()
        tapColumns.deallocate()
        tapWeights.deallocate()
    }

    /// Preprocesses one frame. Precondition: `frame.count == inputHeight * inputWidth` (GRAY8) and
    /// `output.count == outputHeight * outputWidth`.
    public func process(_ frame: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(frame.count == inputWidth * inputHeight,
                     "frame has \(frame.count) bytes, expected \(inputHeight)x\(inputWidth) GRAY8")
        precondition(output.count == outputCount, "output has \(output.count) floats, expected \(outputCount)")
        let pixels = frame.baseAddress!
        let out = output.baseAddress!
        let tapsPerOutput = _AreaTaps.maxTaps
        // Horizontal pass: rowsResized[r, j] = sum_k w[j,k] * frame[cropRows.lower + r, cropColumns.lower + start[j] + k]
        // (summed in the order k = 0, 1, ..., from 0, as always).
        let taps = horizontal.tapCount, cropWidth = cropColumns.count
        let (columns, weights, row) = (tapColumns, tapWeights, rowFloats)
        for r in 0..<cropRows.count {
            let source = pixels + (cropRows.lowerBound + r) * inputWidth + cropColumns.lowerBound
            for x in 0..<cropWidth { row[x] = Float(source[x]) }
            let target = rowsResized + r * outputWidth
            for j in 0..<outputWidth { target[j] = 0 }
            for k in 0..<taps {
                let (tapColumn, tapWeight) = (columns + k * outputWidth, weights + k * outputWidth)
                for j in 0..<outputWidth { target[j] += tapWeight[j] * row[tapColumn[j]] }
            }
        }
        // Vertical pass, with the 1/255 scaling folded into the weights' use:
        // out[i, j] = (1/255) * sum_k w[i,k] * rowsResized[start[i] + k, j]
        let scale: Float = 1.0 / 255.0
        for i in 0..<outputHeight {
            let start = vertical.starts[i]
            let target = out + i * outputWidth
            for j in 0..<outputWidth { target[j] = 0 }
            for k in 0..<vertical.tapCount {
                let weight = vertical.weights[i * tapsPerOutput + k] * scale
                if weight == 0 { continue }
                let row = rowsResized + min(start + k, cropRows.count - 1) * outputWidth
                for j in 0..<outputWidth { target[j] += weight * row[j] }
            }
        }
    }
}

/// The taps of a 1-D area resize: for each output index, the first input index it overlaps and
/// up to `maxTaps` weights (overlap / scale, summing to 1). Zero weights pad short tap lists.
struct _AreaTaps {
    /// The stride of `weights`: enough taps for shrink factors up to 7.
    static let maxTaps = 8
    /// The most taps any output index of this resize uses (3 for 100 -> 84).
    let tapCount: Int
    let starts: [Int]
    let weights: [Float]

    init(inputLength: Int, outputLength: Int) {
        let scale = Double(inputLength) / Double(outputLength)
        precondition(Int(scale.rounded(.up)) + 1 <= _AreaTaps.maxTaps, "shrink factor \(scale) needs more than \(_AreaTaps.maxTaps) taps")
        var starts = [Int](repeating: 0, count: outputLength)
        var weights = [Float](repeating: 0, count: outputLength * _AreaTaps.maxTaps)
        var used = 0
        for i in 0..<outputLength {
            let begin = Double(i) * scale
            let end = Double(i + 1) * scale
            let first = Int(begin.rounded(.down))
            starts[i] = first
            var k = 0
            var position = first
            while Double(position) < end - 1e-9 && position < inputLength {
                let overlap = min(end, Double(position + 1)) - max(begin, Double(position))
                weights[i * _AreaTaps.maxTaps + k] = Float(overlap / scale)
                k += 1
                position += 1
            }
            used = max(used, k)
        }
        self.starts = starts
        self.weights = weights
        tapCount = used
    }
}
