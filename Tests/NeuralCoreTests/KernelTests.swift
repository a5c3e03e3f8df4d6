// _NeuralKernels: every instruction-set variant (scalar, AVX2, AVX-512, as far as this CPU has them)
// against a scalar Double reference, and the variants against each other (bit-identical by design).
// Edge cases: large inputs of both signs, +-0, +-Inf, NaN, and counts that are not a multiple of 8 or 16.
import Foundation
import Testing
import _NeuralKernels
@testable import NeuralCore
import GradientCheckSupport

/// The levels this CPU can run, lowest first.
private let supportedLevels: [nk_level] = [NK_LEVEL_SCALAR, NK_LEVEL_AVX2, NK_LEVEL_AVX512]
    .filter { $0.rawValue <= nk_supported_level().rawValue }

/// Runs `body` once per supported level (restoring the best level afterwards) and returns its results.
private func perLevel<Result>(_ body: () -> Result) -> [(level: nk_level, result: Result)] {
    defer { _ = nk_set_level(NK_LEVEL_AVX512) }
    return supportedLevels.map { level in
        #expect(nk_set_level(level) == level)
        return (level, body())
    }
}

/// Inputs for the activations: edge cases, then a sweep of [-100, 100], 1037 values in all (1037 = 64 * 16 + 13).
private let activationInputs: [Float] = {
    var values: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-6, -1e-6, 0.5, -0.5, 20, -20, 86.9, -86.9, 87, -87, 88, -88,
                           -89, -100, -1000, 1000, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                           .infinity, -.infinity, .nan]
    var rng = Xoshiro256StarStar(seed: 21)
    while values.count < 1037 { values.append(Float(rng.nextUniform(-100, 100))) }
    return values
}()

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

@Suite("Element-wise kernels (_NeuralKernels)", .serialized)
struct KernelTests {
    @Test("the dispatcher picks a supported level and can be lowered")
    func dispatch() {
        let best = nk_supported_level()
        #expect(nk_current_level().rawValue <= best.rawValue)
        #expect(nk_set_level(NK_LEVEL_SCALAR) == NK_LEVEL_SCALAR)
        #expect(nk_set_level(NK_LEVEL_AVX512) == best)
        print("_NeuralKernels level: \(best.rawValue) (0 scalar, 1 AVX2, 2 AVX-512)")
    }

    /// `apply` runs one activation over `activationInputs`; compares with `reference` within `tolerance`
    /// (absolute), NaN in -> NaN out, and all levels bit-identical.
    private func checkActivation(_ name: String, tolerance: Double, reference: (Double) -> Double,
                                 apply: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void) {
        let input = FloatBuffer(activationInputs)
        for count in [activationInputs.count, 1, 7, 15, 17] {  // tails alone, and vector body plus tail
            let results = perLevel { () -> [Float] in
                let out = FloatBuffer(count: count)
                apply(out.pointer, input.pointer, count)
                return out.array
            }
            var worst = 0.0
            for (level, out) in results {
                for i in 0..<count {
                    let x = Double(activationInputs[i]), expected = reference(x)
                    if x.isNaN {
                        #expect(out[i].isNaN, "\(name)(nan) = \(out[i]) at level \(level.rawValue)")
                        continue
                    }
                    let error = abs(Double(out[i]) - expected)
                    worst = max(worst, expected.isInfinite && Double(out[i]) == expected ? 0 : error)
                }
                #expect(bits(out) == bits(results[0].result), "\(name): level \(level.rawValue) differs from scalar")
            }
            #expect(worst < tolerance, "\(name): max error \(worst) over \(count) values")
            if count == activationInputs.count { print("\(name): max abs error \(worst) against Double") }
        }
        // In place gives the same values.
        let inPlace = FloatBuffer(activationInputs), separate = FloatBuffer(count: activationInputs.count)
        apply(separate.pointer, inPlace.pointer, inPlace.count)
        apply(inPlace.pointer, inPlace.pointer, inPlace.count)
        #expect(bits(inPlace.array) == bits(separate.array))
    }

    @Test("ELU forward against expm1 in Double")
    func elu() {
        checkActivation("elu", tolerance: 2e-7, reference: { $0 > 0 ? $0 : Foundation.expm1($0) }) {
            eluForward(out: $0, input: $1, count: $2)
        }
    }

    @Test("sigmoid against 1 / (1 + exp(-x)) in Double")
    func sigmoid() {
        checkActivation("sigmoid", tolerance: 2e-7, reference: { 1 / (1 + Foundation.exp(-$0)) }) {
            sigmoidForward(out: $0, input: $1, count: $2)
        }
    }

    @Test("tanh against tanh in Double")
    func tanh() {
        checkActivation("tanh", tolerance: 2e-7, reference: { Foundation.tanh($0) }) {
            tanhForward(out: $0, input: $1, count: $2)
        }
    }

    @Test("ELU backward: dInput += dOut * (y > 0 ? 1 : y + 1), accumulating, NaN propagating")
    func eluBackwardKernel() {
        let count = 1037
        var rng = Xoshiro256StarStar(seed: 22)
        let y = randomBuffer(count, -1, 3, rng: &rng), dOut = randomBuffer(count, rng: &rng)
        let start = randomBuffer(count, rng: &rng)
        y[5] = .nan; dOut[9] = .nan; y[10] = 0; y[11] = -1
        let results = perLevel { () -> [Float] in
            let dInput = FloatBuffer(start.array)
            eluBackward(dInput: dInput.pointer, dOut: dOut.pointer, out: y.pointer, count: count)
            return dInput.array
        }
        for (level, dInput) in results {
            #expect(bits(dInput) == bits(results[0].result), "level \(level.rawValue) differs from scalar")
            for i in 0..<count {
                let yi = Double(y[i]), expected = Double(start[i]) + Double(dOut[i]) * (yi > 0 ? 1 : yi + 1)
                if expected.isNaN { #expect(dInput[i].isNaN); continue }
                #expect(abs(Double(dInput[i]) - expected) < 1e-6, "element \(i): \(dInput[i]) vs \(expected)")
            }
        }
    }

    @Test("Adam kernel: TF1 update against Double, mirror and zeroing, all levels bit-identical",
          arguments: [1037, 16, 5])
    func adamKernel(count: Int) {
        var rng = Xoshiro256StarStar(seed: 23)
        let theta0 = randomBuffer(count, rng: &rng), m0 = randomBuffer(count, -0.1, 0.1, rng: &rng)
        let v0 = randomBuffer(count, 0, 0.01, rng: &rng), g0 = randomBuffer(count, -5, 5, rng: &rng)
        v0[0] = 0; g0[0] = 0; g0[count - 1] = 1e15  // sqrt(0) + epsilon; a huge gradient (whose square still fits a Float)
        let k = nk_adam_constants(rate: 1e-3, beta1: 0.9, beta2: 0.999, one_minus_beta1: 1 - 0.9, one_minus_beta2: 1 - 0.999,
                                  epsilon: 1e-8, gradient_scale: 0.25)
        for (mirrored, zeroing) in [(false, false), (true, true), (true, false), (false, true)] {
            let results = perLevel { () -> [[Float]] in
                let theta = FloatBuffer(theta0.array), m = FloatBuffer(m0.array), v = FloatBuffer(v0.array)
                let g = FloatBuffer(g0.array), mirror = FloatBuffer(count: count)
                nk_adam_step(theta.pointer, m.pointer, v.pointer, g.pointer, count, k, mirrored ? mirror.pointer : nil, zeroing)
                return [theta.array, m.array, v.array, g.array, mirror.array]
            }
            for (level, r) in results {
                #expect(r.map(bits) == results[0].result.map(bits), "level \(level.rawValue) differs from scalar")
                let (theta, m, v, g, mirror) = (r[0], r[1], r[2], r[3], r[4])
                for i in 0..<count {
                    // The Float constants (1 - 0.999 in Float is 0.00099998713), then Double arithmetic.
                    let gi = Double(g0[i]) * 0.25, c1 = Double(k.one_minus_beta1), c2 = Double(k.one_minus_beta2)
                    let mi = Double(k.beta1) * Double(m0[i]) + c1 * gi, vi = Double(k.beta2) * Double(v0[i]) + c2 * gi * gi
                    let expected = Double(theta0[i]) - Double(k.rate) * mi / (vi.squareRoot() + Double(k.epsilon))
                    #expect(abs(Double(m[i]) - mi) <= 1e-6 * max(1, abs(mi)))
                    #expect(abs(Double(v[i]) - vi) <= 1e-5 * vi + 1e-12)
                    #expect(abs(Double(theta[i]) - expected) <= 1e-6 * max(1, abs(expected)), "theta[\(i)]: \(theta[i]) vs \(expected)")
                    #expect(g[i] == (zeroing ? 0 : g0[i]))
                    #expect(mirror[i] == (mirrored ? theta[i] : 0))
                }
            }
        }
        // A NaN gradient makes its parameter NaN (the kernel hides nothing; `SharedParameters.apply` never calls it then).
        let theta = FloatBuffer([1, 2]), m = FloatBuffer(count: 2), v = FloatBuffer(count: 2), g = FloatBuffer([.nan, 1])
        nk_adam_step(theta.pointer, m.pointer, v.pointer, g.pointer, 2, k, nil, false)
        #expect(theta[0].isNaN && m[0].isNaN && theta[1].isFinite)
    }

    @Test("RMSProp kernel: the paper's update against Double, mirror and zeroing, all levels bit-identical",
          arguments: [1037, 3])
    func rmsPropKernel(count: Int) {
        var rng = Xoshiro256StarStar(seed: 24)
        let theta0 = randomBuffer(count, rng: &rng), ms0 = randomBuffer(count, 0, 0.5, rng: &rng)
        let g0 = randomBuffer(count, -5, 5, rng: &rng)
        let k = nk_rmsprop_constants(rate: 7e-4, decay: 0.99, one_minus_decay: 1 - 0.99, epsilon: 0.1, gradient_scale: 0.5)
        for (mirrored, zeroing) in [(false, false), (true, true)] {
            let results = perLevel { () -> [[Float]] in
                let theta = FloatBuffer(theta0.array), ms = FloatBuffer(ms0.array), g = FloatBuffer(g0.array)
                let mirror = FloatBuffer(count: count)
                nk_rmsprop_step(theta.pointer, ms.pointer, g.pointer, count, k, mirrored ? mirror.pointer : nil, zeroing)
                return [theta.array, ms.array, g.array, mirror.array]
            }
            for (level, r) in results {
                #expect(r.map(bits) == results[0].result.map(bits), "level \(level.rawValue) differs from scalar")
                for i in 0..<count {
                    let gi = Double(g0[i]) * 0.5, s = Double(k.decay) * Double(ms0[i]) + Double(k.one_minus_decay) * gi * gi
                    let expected = Double(theta0[i]) - Double(k.rate) * gi / (s + Double(k.epsilon)).squareRoot()
                    #expect(abs(Double(r[1][i]) - s) <= 1e-6 * max(1, s))
                    #expect(abs(Double(r[0][i]) - expected) <= 1e-6 * max(1, abs(expected)))
                    #expect(r[2][i] == (zeroing ? 0 : g0[i]) && r[3][i] == (mirrored ? r[0][i] : 0))
                }
            }
        }
    }

    @Test("LSTM cell kernels: forward and backward element-wise parts against Double, all levels bit-identical",
          arguments: [256, 13])
    func lstmCell(hidden: Int) {
        var rng = Xoshiro256StarStar(seed: 25)
        let z = randomBuffer(4 * hidden, -6, 6, rng: &rng), cPrev = randomBuffer(hidden, -2, 2, rng: &rng)
        let dH = randomBuffer(hidden, rng: &rng), dhNext = randomBuffer(hidden, rng: &rng), dcNext0 = randomBuffer(hidden, rng: &rng)
        let results = perLevel { () -> [[Float]] in
            let gates = FloatBuffer(z.array), h = FloatBuffer(count: hidden), c = FloatBuffer(count: hidden)
            let tanhC = FloatBuffer(count: hidden), dGates = FloatBuffer(count: 4 * hidden), dcNext = FloatBuffer(dcNext0.array)
            nk_lstm_cell_forward(h.pointer, c.pointer, tanhC.pointer, gates.pointer, cPrev.pointer, hidden)
            nk_lstm_cell_backward(dGates.pointer, dcNext.pointer, dhNext.pointer, dH.pointer, gates.pointer, tanhC.pointer,
                                  cPrev.pointer, hidden)
            return [gates.array, h.array, c.array, tanhC.array, dGates.array, dcNext.array]
        }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        for (level, r) in results {
            #expect(r.map(bits) == results[0].result.map(bits), "level \(level.rawValue) differs from scalar")
            var worst = 0.0
            for j in 0..<hidden {
                let i = sigmoid(Double(z[j])), f = sigmoid(Double(z[hidden + j]))
                let g = Foundation.tanh(Double(z[2 * hidden + j])), o = sigmoid(Double(z[3 * hidden + j]))
                let c = f * Double(cPrev[j]) + i * g, tc = Foundation.tanh(c), h = o * tc
                let dh = Double(dH[j]) + Double(dhNext[j]), dc = Double(dcNext0[j]) + dh * o * (1 - tc * tc)
                let expected: [(Float, Double)] = [
                    (r[0][j], i), (r[0][hidden + j], f), (r[0][2 * hidden + j], g), (r[0][3 * hidden + j], o),
                    (r[1][j], h), (r[2][j], c), (r[3][j], tc),
                    (r[4][j], dc * g * i * (1 - i)), (r[4][hidden + j], dc * Double(cPrev[j]) * f * (1 - f)),
                    (r[4][2 * hidden + j], dc * i * (1 - g * g)), (r[4][3 * hidden + j], dh * tc * o * (1 - o)),
                    (r[5][j], dc * f),
                ]
                for (value, reference) in expected { worst = max(worst, abs(Double(value) - reference)) }
            }
            #expect(worst < 2e-6, "LSTM cell level \(level.rawValue): max error \(worst)")
        }
    }

    @Test("nk_sum: 64 partial sums against a Double sum, all levels bit-identical, NaN and Inf propagate",
          arguments: [0, 1, 63, 64, 65, 1037, 12_000])
    func sum(count: Int) {
        var rng = Xoshiro256StarStar(seed: 26)
        let x = randomBuffer(max(count, 1), -1, 1, rng: &rng)
        let results = perLevel { nk_sum(x.pointer, count) }
        let exact = (0..<count).reduce(0.0) { $0 + Double(x[$1]) }
        for (level, value) in results {
            #expect(value.bitPattern == results[0].result.bitPattern, "level \(level.rawValue) differs from scalar")
            #expect(abs(Double(value) - exact) < 1e-6 * Double(max(count, 1)), "sum of \(count): \(value) vs \(exact)")
        }
        if count > 0 {
            x[count - 1] = .infinity
            #expect(perLevel { nk_sum(x.pointer, count) }.allSatisfy { $0.result == .infinity })
            x[count / 2] = .nan
            #expect(perLevel { nk_sum(x.pointer, count) }.allSatisfy { $0.result.isNaN })
        }
    }

    /// Dense: 5 rows (a tile of 4 and a row alone), 37 inputs (a vector body and a tail), 7 outputs
    /// (output pairs and one); 6 rows (tiles of 4 and 2) and 19 outputs (two blocks of 8 and a tail);
    /// 1 row, 16 outputs (the single-row path only). Convolution: 16 output channels and 9 output
    /// columns (one tile); 32 channels (two-register blocks) and 20 columns (two tiles of 10).
    @Test("dense rows and direct convolution: every level bit-identical, and equal to the matrix products to rounding",
          arguments: [(5, 37, 7, 16, 11, 20), (6, 40, 19, 32, 9, 42), (1, 24, 16, 16, 11, 20)])
    func denseRowsAndConvolution(rows: Int, inputs: Int, outputs: Int, outChannels: Int, inHeight: Int, inWidth: Int) {
        var rng = Xoshiro256StarStar(seed: 31)
        let x = randomBuffer(rows * inputs, rng: &rng), w = randomBuffer(outputs * inputs, rng: &rng)
        let bias = randomBuffer(outputs, rng: &rng), start = randomBuffer(rows * outputs, rng: &rng)
        for accumulate in [false, true] {
            let results = perLevel { () -> [Float] in
                let out = FloatBuffer(start.array)
                nk_dense_rows(out.pointer, outputs, x.pointer, inputs, w.pointer, inputs, accumulate ? nil : bias.pointer,
                              accumulate, rows, inputs, outputs)
                return out.array
            }
            for (level, out) in results { #expect(bits(out) == bits(results[0].result), "level \(level.rawValue)") }
            // Against a Double reference.
            var worst = 0.0
            for r in 0..<rows {
                for o in 0..<outputs {
                    var sum = accumulate ? Double(start[r * outputs + o]) : Double(bias[o])
                    for k in 0..<inputs { sum += Double(x[r * inputs + k]) * Double(w[o * inputs + k]) }
                    worst = max(worst, abs(sum - Double(results[0].result[r * outputs + o])))
                }
            }
            #expect(worst < 1e-5, "dense rows differ from the reference by \(worst)")
            // One row alone gives the same bits as inside the batch.
            let row = rows / 2
            let single = FloatBuffer(Array(start.array[(row * outputs)..<((row + 1) * outputs)]))
            nk_dense_rows(single.pointer, outputs, x.pointer + row * inputs, inputs, w.pointer, inputs,
                          accumulate ? nil : bias.pointer, accumulate, 1, inputs, outputs)
            #expect(bits(single.array) == bits(Array(results[0].result[(row * outputs)..<((row + 1) * outputs)])))
        }
        let shape = Conv2DShape(inChannels: 3, inHeight: inHeight, inWidth: inWidth, outChannels: outChannels,
                                kernelHeight: 3, kernelWidth: 4, stride: 2)
        let batch = 2, inputStride = batch * shape.inPixels + 3, outStride = batch * shape.outPixels + 5
        let input = randomBuffer(shape.inChannels * inputStride, rng: &rng)
        let weight = randomBuffer(shape.weightCount, rng: &rng), convBias = randomBuffer(shape.outChannels, rng: &rng)
        let convResults = perLevel { () -> [Float] in
            let out = FloatBuffer(count: shape.outChannels * outStride)
            nk_conv2d_forward(out.pointer, outStride, input.pointer, inputStride, weight.pointer, convBias.pointer, batch,
                              shape.inChannels, shape.inHeight, shape.inWidth, shape.outChannels, shape.kernelHeight,
                              shape.kernelWidth, shape.stride)
            return out.array
        }
        for (level, out) in convResults { #expect(bits(out) == bits(convResults[0].result), "conv level \(level.rawValue)") }
        // im2col + sgemm, the backward pass's lowering, computes the same convolution.
        let columns = FloatBuffer(count: shape.patchSize * batch * shape.outPixels)
        _im2col(columns: columns.pointer, columnsStride: batch * shape.outPixels, input: input.pointer,
                inputChannelStride: inputStride, batch: batch, shape: shape)
        var worst: Float = 0
        for o in 0..<shape.outChannels {
            for j in 0..<(batch * shape.outPixels) {
                var sum = convBias[o]
                for k in 0..<shape.patchSize { sum += weight[o * shape.patchSize + k] * columns[k * batch * shape.outPixels + j] }
                worst = max(worst, abs(sum - convResults[0].result[o * outStride + j]))
            }
        }
        #expect(worst < 1e-5, "direct convolution differs from im2col by \(worst)")
    }

    /// The network's two convolutions (conv1: 1 channel, 8x8 stride 4, 16 filters; conv2: 16 channels,
    /// 4x4 stride 2, 32 filters, on smaller images) and one the vector variants do not take (3x3).
    @Test("convolution weight gradient: every level bit-identical, and equal to im2col and a matrix product to rounding",
          arguments: [(1, 28, 28, 16, 8, 4), (16, 10, 10, 32, 4, 2), (2, 9, 9, 16, 3, 2)])
    func convolutionWeightGradient(channels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int) {
        var rng = Xoshiro256StarStar(seed: 41)
        let shape = Conv2DShape(inChannels: channels, inHeight: height, inWidth: width, outChannels: outChannels,
                                kernelHeight: kernel, kernelWidth: kernel, stride: stride)
        let batch = 3, inputStride = batch * shape.inPixels + 7, outStride = batch * shape.outPixels + 2
        let np = batch * shape.outPixels
        let input = randomBuffer(channels * inputStride, rng: &rng), dOut = randomBuffer(outChannels * outStride, rng: &rng)
        let start = randomBuffer(shape.weightCount, rng: &rng)
        let results = perLevel { () -> [Float] in
            let dWeight = FloatBuffer(start.array), scratch = FloatBuffer(count: np * outChannels)
            nk_conv2d_weight_gradient(dWeight.pointer, dOut.pointer, outStride, input.pointer, inputStride, scratch.pointer,
                                      batch, channels, height, width, outChannels, kernel, kernel, stride)
            return dWeight.array
        }
        for (level, out) in results { #expect(bits(out) == bits(results[0].result), "level \(level.rawValue)") }
        let columns = FloatBuffer(count: shape.patchSize * np)
        _im2col(columns: columns.pointer, columnsStride: np, input: input.pointer, inputChannelStride: inputStride,
                batch: batch, shape: shape)
        var worst = 0.0
        for o in 0..<outChannels {
            for k in 0..<shape.patchSize {
                var sum = Double(start[o * shape.patchSize + k])
                for j in 0..<np { sum += Double(dOut[o * outStride + j]) * Double(columns[k * np + j]) }
                worst = max(worst, abs(sum - Double(results[0].result[o * shape.patchSize + k])))
            }
        }
        print("convolution weight gradient \(shape.kernelHeight)x\(shape.kernelWidth): max difference \(worst)")
        #expect(worst < 1e-4, "the direct weight gradient differs from im2col by \(worst)")
    }
}
