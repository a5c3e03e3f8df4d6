// Finite-difference gradient checks and known values for every layer.
// Tolerance: errors (relative for |g| > 1, absolute below) under 2e-3 with eps = 1e-2 in Float: the
// layers are linear or smooth, so the central difference's truncation error is O(eps^2) and rounding
// of Float outputs (~1e-7 relative) contributes ~1e-5.
import Foundation
import Testing
@testable import NeuralCore
import GradientCheckSupport

@Suite("Layer gradients (finite differences)")
struct LayerGradientTests {
    static let tolerance = 2e-3

    @Test("conv2d: dWeight, dBias, dInput; batch 2, stride 2, padded strides (scalar and vector forward)",
          arguments: [3, 16])
    func conv2d(outChannels: Int) {
        var rng = Xoshiro256StarStar(seed: 11)
        let shape = Conv2DShape(inChannels: 2, inHeight: 7, inWidth: 6, outChannels: outChannels, kernelHeight: 3, kernelWidth: 2, stride: 2)
        let batch = 2
        let inputStride = batch * shape.inPixels + 5, outputStride = batch * shape.outPixels + 3
        let columnsStride = batch * shape.outPixels + 1
        let input = randomBuffer(shape.inChannels * inputStride, rng: &rng)
        let weight = randomBuffer(shape.weightCount, rng: &rng), bias = randomBuffer(shape.outChannels, rng: &rng)
        let upstream = randomBuffer(shape.outChannels * outputStride, rng: &rng)
        let out = FloatBuffer(count: upstream.count), scratch = FloatBuffer(count: shape.outChannels * columnsStride)
        func loss() -> Double {
            out.zero()
            conv2dForward(out: out.pointer, outputChannelStride: outputStride, input: input.pointer, inputChannelStride: inputStride,
                          weight: weight.pointer, bias: bias.pointer, batch: batch, shape: shape)
            return weightedSum(out.pointer, upstream.pointer, count: out.count) // padding of out stays 0
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count), dBias = FloatBuffer(count: bias.count)
        let dColumns = FloatBuffer(count: shape.patchSize * columnsStride)
        // Padding entries of upstream must not matter: zero them (they are not outputs).
        for o in 0..<shape.outChannels { for i in (batch * shape.outPixels)..<outputStride { upstream.pointer[o * outputStride + i] = 0 } }
        conv2dBackward(dInput: dInput.pointer, dInputChannelStride: inputStride, dWeight: dWeight.pointer, dBias: dBias.pointer,
                       dOut: upstream.pointer, outputChannelStride: outputStride, input: input.pointer,
                       inputChannelStride: inputStride, transposeScratch: scratch.pointer, dColumns: dColumns.pointer,
                       columnsStride: columnsStride, weight: weight.pointer, batch: batch, shape: shape)
        #expect(maxGradientError("conv.weight", values: weight.pointer, analytic: dWeight.pointer, indices: Array(0..<weight.count), loss: loss) < Self.tolerance)
        #expect(maxGradientError("conv.bias", values: bias.pointer, analytic: dBias.pointer, indices: Array(0..<bias.count), loss: loss) < Self.tolerance)
        let realInputs = (0..<shape.inChannels).flatMap { c in (0..<(batch * shape.inPixels)).map { c * inputStride + $0 } }
        #expect(maxGradientError("conv.input", values: input.pointer, analytic: dInput.pointer, indices: realInputs, loss: loss) < Self.tolerance)
        // Backward accumulates: a second call doubles the gradients (after a forward on the unperturbed input).
        _ = loss()
        let once = dWeight.array
        conv2dBackward(dInput: nil, dInputChannelStride: 0, dWeight: dWeight.pointer, dBias: nil, dOut: upstream.pointer,
                       outputChannelStride: outputStride, input: input.pointer, inputChannelStride: inputStride,
                       transposeScratch: scratch.pointer, dColumns: nil, columnsStride: columnsStride,
                       weight: weight.pointer, batch: batch, shape: shape)
        #expect(zip(once, dWeight.array).allSatisfy { abs(2 * $0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test("conv2d known values: 3x3 input, 2x2 kernel, stride 1 and 2")
    func conv2dKnownValues() {
        let input = FloatBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9])
        let weight = FloatBuffer([1, 0, 0, 1]), bias = FloatBuffer([0.5])
        let stride1 = Conv2DShape(inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2, stride: 1)
        let out = FloatBuffer(count: 4)
        conv2dForward(out: out.pointer, outputChannelStride: 4, input: input.pointer, inputChannelStride: 9, weight: weight.pointer,
                      bias: bias.pointer, batch: 1, shape: stride1)
        // out[y, x] = in[y, x] + in[y+1, x+1] + 0.5
        #expect(out.array == [6.5, 8.5, 12.5, 14.5])
        let stride2 = Conv2DShape(inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2, stride: 2)
        #expect(stride2.outHeight == 1 && stride2.outWidth == 1)
        conv2dForward(out: out.pointer, outputChannelStride: 1, input: input.pointer, inputChannelStride: 9, weight: weight.pointer,
                      bias: bias.pointer, batch: 1, shape: stride2)
        #expect(out[0] == 6.5)
        // The seed's geometry: 84 -> 20 -> 9.
        #expect(ActorCriticNetwork.conv1.outHeight == 20 && ActorCriticNetwork.conv2.outHeight == 9)
        #expect(ActorCriticNetwork.conv2.outChannels * ActorCriticNetwork.conv2.outPixels == ActorCriticNetwork.flattenedSize)
    }

    @Test("dense: batch 1 and batch 3 (forward: the few-rows kernel nk_dense_rows; backward: sgemm)", arguments: [1, 3])
    func dense(batch: Int) {
        var rng = Xoshiro256StarStar(seed: 12)
        let (inF, outF) = (5, 4)
        let input = randomBuffer(batch * inF, rng: &rng), weight = randomBuffer(outF * inF, rng: &rng)
        let bias = randomBuffer(outF, rng: &rng), upstream = randomBuffer(batch * outF, rng: &rng)
        let out = FloatBuffer(count: batch * outF)
        func loss() -> Double {
            denseForward(out: out.pointer, input: input.pointer, weight: weight.pointer, bias: bias.pointer,
                         batch: batch, inFeatures: inF, outFeatures: outF)
            return weightedSum(out.pointer, upstream.pointer, count: out.count)
        }
        let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count), dBias = FloatBuffer(count: outF)
        denseBackward(dInput: dInput.pointer, dWeight: dWeight.pointer, dBias: dBias.pointer, dOut: upstream.pointer,
                      input: input.pointer, weight: weight.pointer, batch: batch, inFeatures: inF, outFeatures: outF)
        #expect(maxGradientError("dense.weight", values: weight.pointer, analytic: dWeight.pointer, indices: Array(0..<weight.count), loss: loss) < Self.tolerance)
        #expect(maxGradientError("dense.bias", values: bias.pointer, analytic: dBias.pointer, indices: Array(0..<outF), loss: loss) < Self.tolerance)
        #expect(maxGradientError("dense.input", values: input.pointer, analytic: dInput.pointer, indices: Array(0..<input.count), loss: loss) < Self.tolerance)
    }

    @Test("ELU: forward values and gradient on both sides of 0")
    func elu() {
        let input = FloatBuffer([-3, -1, -0.5, -0.1, 0.1, 0.5, 2, -20, -90])
        let out = FloatBuffer(count: input.count)
        eluForward(out: out.pointer, input: input.pointer, count: input.count)
        for i in 0..<input.count {
            let x = Double(input[i]), expected = x > 0 ? x : Foundation.exp(x) - 1
            #expect(abs(Double(out[i]) - expected) < 2e-7, "elu(\(x)) = \(out[i]), expected \(expected)")
        }
        var rng = Xoshiro256StarStar(seed: 13)
        let upstream = randomBuffer(input.count, rng: &rng), dInput = FloatBuffer(count: input.count)
        eluBackward(dInput: dInput.pointer, dOut: upstream.pointer, out: out.pointer, count: input.count)
        func loss() -> Double {
            eluForward(out: out.pointer, input: input.pointer, count: input.count)
            return weightedSum(out.pointer, upstream.pointer, count: out.count)
        }
        #expect(maxGradientError("elu", values: input.pointer, analytic: dInput.pointer, indices: Array(0..<input.count),
                                 epsilon: 1e-3, loss: loss) < Self.tolerance)
    }

    @Test("softmax and log-softmax: values and gradients")
    func softmaxAndLogSoftmax() {
        var rng = Xoshiro256StarStar(seed: 14)
        let (rows, cols) = (3, 5)
        let logits = randomBuffer(rows * cols, -3, 3, rng: &rng), upstream = randomBuffer(rows * cols, rng: &rng)
        let probs = FloatBuffer(count: rows * cols), logProbs = FloatBuffer(count: rows * cols)
        softmaxForward(probs: probs.pointer, logits: logits.pointer, rows: rows, cols: cols)
        logSoftmaxForward(logProbs: logProbs.pointer, logits: logits.pointer, rows: rows, cols: cols)
        for r in 0..<rows {
            let sum = (0..<cols).reduce(Float(0)) { $0 + probs[r * cols + $1] }
            #expect(abs(sum - 1) < 1e-6)
            for j in 0..<cols { #expect(abs(logf(probs[r * cols + j]) - logProbs[r * cols + j]) < 1e-5) }
        }
        // Huge logits do not overflow.
        let huge = FloatBuffer([1000, 0, -1000]), hugeOut = FloatBuffer(count: 3)
        logSoftmaxForward(logProbs: hugeOut.pointer, logits: huge.pointer, rows: 1, cols: 3)
        #expect(hugeOut[0] == 0 && hugeOut[1] == -1000 && hugeOut[2] == -2000)

        let dSoftmax = FloatBuffer(count: rows * cols), dLogSoftmax = FloatBuffer(count: rows * cols)
        softmaxBackward(dLogits: dSoftmax.pointer, dProbs: upstream.pointer, probs: probs.pointer, rows: rows, cols: cols)
        logSoftmaxBackward(dLogits: dLogSoftmax.pointer, dLogProbs: upstream.pointer, probs: probs.pointer, rows: rows, cols: cols)
        let scratch = FloatBuffer(count: rows * cols)
        #expect(maxGradientError("softmax", values: logits.pointer, analytic: dSoftmax.pointer, indices: Array(0..<logits.count), loss: {
            softmaxForward(probs: scratch.pointer, logits: logits.pointer, rows: rows, cols: cols)
            return weightedSum(scratch.pointer, upstream.pointer, count: scratch.count)
        }) < Self.tolerance)
        #expect(maxGradientError("logSoftmax", values: logits.pointer, analytic: dLogSoftmax.pointer, indices: Array(0..<logits.count), loss: {
            logSoftmaxForward(logProbs: scratch.pointer, logits: logits.pointer, rows: rows, cols: cols)
            return weightedSum(scratch.pointer, upstream.pointer, count: scratch.count)
        }) < Self.tolerance)
    }
}
