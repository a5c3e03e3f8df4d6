// LSTM: a hand-computed step, and BPTT over a batch of sequences of unequal length checked by
// finite differences.
import Foundation
import Testing
@testable import NeuralCore
import GradientCheckSupport

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
        lstmStepForward(h: h.pointer, c: c.pointer, tanhC: tanhC.pointer, gates: gates.pointer, input: x.pointer,
                        hPrev: h0.pointer, cPrev: c0.pointer, weightIH: weightIH.pointer, weightHH: weightHH.pointer,
                        biasIH: biasIH.pointer, biasHH: biasHH.pointer, rows: 1, shape: shape)
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

    @Test("BPTT over a batch of 3 sequences of 4, 2 and 3 steps: every parameter, the inputs and the initial states")
    func backpropagationThroughTime() {
        var rng = Xoshiro256StarStar(seed: 21)
        let shape = LSTMShape(inputSize: 3, hiddenSize: 4)
        let (hs, gc, inSize) = (4, 16, 3)
        // Step k holds the sequences still running, in order: {0, 1, 2}, {0, 1, 2}, {0, 2}, {0}.
        let lengths = [4, 2, 3], sequences = 3, steps = 4
        let stepRows = (0..<steps).map { k in (0..<sequences).filter { lengths[$0] > k } }
        let stepFirstRow = stepRows.indices.map { k in stepRows[..<k].reduce(0) { $0 + $1.count } }
        let stepRowCount = stepRows.map(\.count), rowSequence = stepRows.flatMap { $0 }
        let rows = rowSequence.count
        let weightIH = randomBuffer(gc * inSize, rng: &rng), weightHH = randomBuffer(gc * hs, rng: &rng)
        let biasIH = randomBuffer(gc, rng: &rng), biasHH = randomBuffer(gc, rng: &rng)
        let input = randomBuffer(rows * inSize, rng: &rng)
        let h0 = randomBuffer(sequences * hs, rng: &rng), c0 = randomBuffer(sequences * hs, rng: &rng)
        let upstream = randomBuffer(rows * hs, rng: &rng)
        let h = FloatBuffer(count: rows * hs), c = FloatBuffer(count: rows * hs), tanhC = FloatBuffer(count: rows * hs)
        let gates = FloatBuffer(count: rows * gc), hPrev = FloatBuffer(count: rows * hs), cPrev = FloatBuffer(count: rows * hs)
        let stateH = FloatBuffer(count: sequences * hs), stateC = FloatBuffer(count: sequences * hs)
        func loss() -> Double {
            // Step by step as the actor-critic does: gather each running sequence's state, one batched step, scatter.
            stateH.copy(from: h0); stateC.copy(from: c0)
            for k in 0..<steps {
                let first = stepFirstRow[k]
                for (j, q) in stepRows[k].enumerated() {
                    (hPrev.pointer + (first + j) * hs).update(from: stateH.pointer + q * hs, count: hs)
                    (cPrev.pointer + (first + j) * hs).update(from: stateC.pointer + q * hs, count: hs)
                }
                lstmStepForward(h: h.pointer + first * hs, c: c.pointer + first * hs, tanhC: tanhC.pointer + first * hs,
                                gates: gates.pointer + first * gc, input: input.pointer + first * inSize,
                                hPrev: hPrev.pointer + first * hs, cPrev: cPrev.pointer + first * hs,
                                weightIH: weightIH.pointer, weightHH: weightHH.pointer, biasIH: biasIH.pointer,
                                biasHH: biasHH.pointer, rows: stepRowCount[k], shape: shape)
                for (j, q) in stepRows[k].enumerated() {
                    (stateH.pointer + q * hs).update(from: h.pointer + (first + j) * hs, count: hs)
                    (stateC.pointer + q * hs).update(from: c.pointer + (first + j) * hs, count: hs)
                }
            }
            return weightedSum(h.pointer, upstream.pointer, count: h.count) // L = sum_r upstream_r . h_r
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeightIH = FloatBuffer(count: weightIH.count)
        let dWeightHH = FloatBuffer(count: weightHH.count), dBiasIH = FloatBuffer(count: gc), dBiasHH = FloatBuffer(count: gc)
        let dH0 = FloatBuffer(count: sequences * hs), dC0 = FloatBuffer(count: sequences * hs)
        let dGates = FloatBuffer(count: rows * gc), carry = FloatBuffer(count: 2 * sequences * hs)
        let dhPrevRows = FloatBuffer(count: sequences * hs)
        stepFirstRow.withUnsafeBufferPointer { first in
            stepRowCount.withUnsafeBufferPointer { counts in
                rowSequence.withUnsafeBufferPointer { sequence in
                    let schedule = LSTMSchedule(steps: steps, sequenceCount: sequences, stepFirstRow: first.baseAddress!,
                                                stepRowCount: counts.baseAddress!, rowSequence: sequence.baseAddress!)
                    #expect(schedule.rowCount == rows)
                    lstmBackward(dInput: dInput.pointer, dWeightIH: dWeightIH.pointer, dWeightHH: dWeightHH.pointer,
                                 dBiasIH: dBiasIH.pointer, dBiasHH: dBiasHH.pointer, dInitialHidden: dH0.pointer,
                                 dInitialCell: dC0.pointer, dH: upstream.pointer, input: input.pointer,
                                 hPrev: hPrev.pointer, cPrev: cPrev.pointer, gates: gates.pointer, tanhC: tanhC.pointer,
                                 weightIH: weightIH.pointer, weightHH: weightHH.pointer, dGates: dGates.pointer,
                                 carry: carry.pointer, dhPrevRows: dhPrevRows.pointer, schedule: schedule, shape: shape)
                }
            }
        }
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
