// LSTM: a hand-computed step and BPTT over several steps checked by finite differences.
import Foundation
import Testing
@testable import NeuralCore

@Suite("LSTM")
struct LSTMTests {
    @Test("one step with H = 1, I = 1 against the gate equations by hand")
    func knownValues() {
        let shape = LSTMShape(inputSize: 1, hiddenSize: 1)
        // Gate order i, f, g, o.
        let weightIH = FloatBuffer([0.5, -0.5, 1.0, 0.25]), weightHH = FloatBuffer([0.1, 0.2, 0.3, 0.4])
        let biasIH = FloatBuffer([0.1, 0, 0, 0]), biasHH = FloatBuffer([0, 0.2, 0, 0])
        let x = FloatBuffer([1]), h0 = FloatBuffer([0.5]), c0 = FloatBuffer([-0.2])
        let h = FloatBuffer(count: 1), c = FloatBuffer(count: 1), tanhC = FloatBuffer(count: 1), gates = FloatBuffer(count: 4)
        let hPrev = FloatBuffer(count: 1), cPrev = FloatBuffer(count: 1)
        lstmForward(h: h.pointer, c: c.pointer, tanhC: tanhC.pointer, gates: gates.pointer, hPrev: hPrev.pointer, cPrev: cPrev.pointer,
                    input: x.pointer, h0: h0.pointer, c0: c0.pointer, weightIH: weightIH.pointer, weightHH: weightHH.pointer,
                    biasIH: biasIH.pointer, biasHH: biasHH.pointer, steps: 1, shape: shape)
        func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }
        let i = sigmoid(0.5 * 1 + 0.1 * 0.5 + 0.1)      // z_i = 0.65
        let f = sigmoid(-0.5 * 1 + 0.2 * 0.5 + 0.2)     // z_f = -0.2
        let g = Foundation.tanh(1.0 * 1 + 0.3 * 0.5)    // z_g = 1.15
        let o = sigmoid(0.25 * 1 + 0.4 * 0.5)           // z_o = 0.45
        let cExpected = f * -0.2 + i * g
        let hExpected = o * Foundation.tanh(cExpected)
        #expect(abs(Double(c[0]) - cExpected) < 1e-6)
        #expect(abs(Double(h[0]) - hExpected) < 1e-6)
        #expect(abs(Double(gates[0]) - i) < 1e-6 && abs(Double(gates[1]) - f) < 1e-6)
        #expect(abs(Double(gates[2]) - g) < 1e-6 && abs(Double(gates[3]) - o) < 1e-6)
    }

    @Test("BPTT over 4 steps: every parameter, the inputs and the initial state")
    func backpropagationThroughTime() {
        var rng = Xoshiro256StarStar(seed: 21)
        let shape = LSTMShape(inputSize: 3, hiddenSize: 4)
        let (steps, hs, gc, inSize) = (4, 4, 16, 3)
        let weightIH = randomBuffer(gc * inSize, rng: &rng), weightHH = randomBuffer(gc * hs, rng: &rng)
        let biasIH = randomBuffer(gc, rng: &rng), biasHH = randomBuffer(gc, rng: &rng)
        let input = randomBuffer(steps * inSize, rng: &rng), h0 = randomBuffer(hs, rng: &rng), c0 = randomBuffer(hs, rng: &rng)
        let upstream = randomBuffer(steps * hs, rng: &rng)
        let h = FloatBuffer(count: steps * hs), c = FloatBuffer(count: steps * hs), tanhC = FloatBuffer(count: steps * hs)
        let gates = FloatBuffer(count: steps * gc), hPrev = FloatBuffer(count: steps * hs), cPrev = FloatBuffer(count: steps * hs)
        func loss() -> Double {
            lstmForward(h: h.pointer, c: c.pointer, tanhC: tanhC.pointer, gates: gates.pointer, hPrev: hPrev.pointer,
                        cPrev: cPrev.pointer, input: input.pointer, h0: h0.pointer, c0: c0.pointer, weightIH: weightIH.pointer,
                        weightHH: weightHH.pointer, biasIH: biasIH.pointer, biasHH: biasHH.pointer, steps: steps, shape: shape)
            return weightedSum(h.pointer, upstream.pointer, count: h.count) // L = sum_t upstream_t . h_t
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeightIH = FloatBuffer(count: weightIH.count)
        let dWeightHH = FloatBuffer(count: weightHH.count), dBiasIH = FloatBuffer(count: gc), dBiasHH = FloatBuffer(count: gc)
        let dH0 = FloatBuffer(count: hs), dC0 = FloatBuffer(count: hs)
        let dGates = FloatBuffer(count: steps * gc), carry = FloatBuffer(count: 2 * hs)
        lstmBackward(dInput: dInput.pointer, dWeightIH: dWeightIH.pointer, dWeightHH: dWeightHH.pointer, dBiasIH: dBiasIH.pointer,
                     dBiasHH: dBiasHH.pointer, dH0: dH0.pointer, dC0: dC0.pointer, dH: upstream.pointer, input: input.pointer,
                     hPrev: hPrev.pointer, cPrev: cPrev.pointer, gates: gates.pointer, tanhC: tanhC.pointer,
                     weightIH: weightIH.pointer, weightHH: weightHH.pointer, dGates: dGates.pointer, carry: carry.pointer,
                     steps: steps, shape: shape)
        let tolerance = 2e-3
        let cases: [(String, FloatBuffer, FloatBuffer)] = [
            ("lstm.weight_ih", weightIH, dWeightIH), ("lstm.weight_hh", weightHH, dWeightHH), ("lstm.bias_ih", biasIH, dBiasIH),
            ("lstm.bias_hh", biasHH, dBiasHH), ("lstm.input", input, dInput), ("lstm.h0", h0, dH0), ("lstm.c0", c0, dC0),
        ]
        for (name, values, gradient) in cases {
            #expect(maxGradientError(name, values: values.pointer, analytic: gradient.pointer, indices: Array(0..<values.count),
                                     epsilon: 1e-2, loss: loss) < tolerance, "\(name)")
        }
    }
}
