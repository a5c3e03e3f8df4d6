// The losses of the algorithm layer: known values by hand, gradients against finite differences.
// Tolerance as in NeuralCore's gradient checks: errors (relative for |g| > 1, absolute below) under
// 2e-3 with eps = 1e-2 in Float, at points at least that far from the clipped losses' kinks.
import Foundation
import Testing
import Algorithms
import NeuralCore
import GradientCheckSupport

@Suite("Losses (A3C, PPO)")
struct LossTests {
    static let tolerance = 2e-3

    @Test("A3C loss: terms by hand and gradient w.r.t. logits and values")
    func a3cLoss() {
        // Two steps, two actions, uniform policy: hand-computed terms.
        let logits = FloatBuffer([0, 0, 0, 0]), probs = FloatBuffer(count: 4), logProbs = FloatBuffer(count: 4)
        softmaxForward(probs: probs.pointer, logits: logits.pointer, rows: 2, cols: 2)
        logSoftmaxForward(logProbs: logProbs.pointer, logits: logits.pointer, rows: 2, cols: 2)
        let values = FloatBuffer([1, 2]), returns = FloatBuffer([2, 0]), advantages = FloatBuffer([1, -0.5])
        var actions: [Int] = [0, 1]
        let terms = a3cLossForward(logProbs: logProbs.pointer, probs: probs.pointer, values: values.pointer, actions: &actions,
                                   returns: returns.pointer, advantages: advantages.pointer, steps: 2, actionCount: 2)
        let ln2 = Foundation.log(2.0)
        #expect(abs(Double(terms.valueLoss) - 0.5 * (1 + 4)) < 1e-6)           // 0.5 * sum (R - V)^2
        #expect(abs(Double(terms.policyLoss) - (ln2 * 1 + ln2 * -0.5)) < 1e-6)   // -sum log(1/2) * A
        #expect(abs(Double(terms.entropy) - 2 * ln2) < 1e-6)
        #expect(abs(Double(terms.total) - (0.5 * 2.5 + 0.5 * ln2 - 0.01 * 2 * ln2)) < 1e-6)

        var rng = Xoshiro256StarStar(seed: 15)
        let (steps, a) = (4, 3)
        let randomLogits = randomBuffer(steps * a, -2, 2, rng: &rng), randomValues = randomBuffer(steps, rng: &rng)
        let randomReturns = randomBuffer(steps, rng: &rng), randomAdvantages = randomBuffer(steps, rng: &rng)
        var randomActions: [Int] = [2, 0, 1, 2]
        let p = FloatBuffer(count: steps * a), lp = FloatBuffer(count: steps * a)
        let coefficients = A3CLossCoefficients(valueLoss: 0.5, entropy: 0.2) // a larger entropy weight, to test that term
        func loss() -> Double {
            softmaxForward(probs: p.pointer, logits: randomLogits.pointer, rows: steps, cols: a)
            logSoftmaxForward(logProbs: lp.pointer, logits: randomLogits.pointer, rows: steps, cols: a)
            return Double(a3cLossForward(logProbs: lp.pointer, probs: p.pointer, values: randomValues.pointer, actions: &randomActions,
                                         returns: randomReturns.pointer, advantages: randomAdvantages.pointer, steps: steps,
                                         actionCount: a, coefficients: coefficients).total)
        }
        _ = loss()
        let dLogits = FloatBuffer(count: steps * a), dValues = FloatBuffer(count: steps)
        a3cLossBackward(dLogits: dLogits.pointer, dValues: dValues.pointer, logProbs: lp.pointer, probs: p.pointer,
                        values: randomValues.pointer, actions: &randomActions, returns: randomReturns.pointer,
                        advantages: randomAdvantages.pointer, steps: steps, actionCount: a, coefficients: coefficients)
        #expect(maxGradientError("a3c.logits", values: randomLogits.pointer, analytic: dLogits.pointer, indices: Array(0..<steps * a),
                                 epsilon: 1e-2, loss: loss) < Self.tolerance)
        #expect(maxGradientError("a3c.values", values: randomValues.pointer, analytic: dValues.pointer, indices: Array(0..<steps),
                                 loss: loss) < Self.tolerance)
    }

    /// Softmax and log-softmax of (N, A) logits into new buffers.
    private func heads(_ logits: FloatBuffer, rows: Int, cols: Int) -> (probs: FloatBuffer, logProbs: FloatBuffer) {
        let probs = FloatBuffer(count: rows * cols), logProbs = FloatBuffer(count: rows * cols)
        softmaxForward(probs: probs.pointer, logits: logits.pointer, rows: rows, cols: cols)
        logSoftmaxForward(logProbs: logProbs.pointer, logits: logits.pointer, rows: rows, cols: cols)
        return (probs, logProbs)
    }

    @Test("PPO loss: on-policy terms by hand (ratio 1, no clipping: A2C's loss per sample)")
    func ppoOnPolicy() {
        let logits = FloatBuffer([0, 0, 0, 0]), (probs, logProbs) = heads(logits, rows: 2, cols: 2)
        let values = FloatBuffer([1, 2]), dLogits = FloatBuffer(count: 4), dValues = FloatBuffer(count: 2)
        let actions = [0, 1], behaviour: [Float] = [logProbs.pointer[0], logProbs.pointer[3]]
        let oldValues: [Float] = [1, 2], returns: [Float] = [2, 0], advantages: [Float] = [1, -0.5]
        let recorded = RecordedHeads(slots: 2, actionCount: 2, logits: logits.pointer, logProbs: logProbs.pointer,
                                     probs: probs.pointer, values: values.pointer, dLogits: dLogits.pointer, dValues: dValues.pointer)
        let terms = withSamples(actions, behaviour, oldValues, returns, advantages) { samples in
            ppoLoss(recorded, samples: samples, gradient: true)
        }
        let ln2 = Foundation.log(2.0)
        #expect(abs(Double(terms.policyLoss) - (-(1 - 0.5) / 2)) < 1e-6)          // -mean ratio * A
        #expect(abs(Double(terms.valueLoss) - 0.5 * (1 + 4) / 2) < 1e-6)          // 0.5 * mean (V - R)^2
        #expect(abs(Double(terms.entropy) - ln2) < 1e-6)
        #expect(abs(Double(terms.total) - (-0.25 + 0.5 * 1.25 - 0.01 * ln2)) < 1e-6)
        #expect(terms.clipFraction == 0 && abs(terms.approximateKL) < 1e-7)
        // dV = cv / N * (V - R); d logit of the action taken = -A / N * (1 - p) (+ no entropy gradient at the uniform policy).
        #expect(abs(dValues.pointer[0] - 0.25 * -1) < 1e-6 && abs(dValues.pointer[1] - 0.25 * 2) < 1e-6)
        #expect(abs(dLogits.pointer[0] - (-0.5 * 0.5)) < 1e-6 && abs(dLogits.pointer[3] - (0.25 * 0.5)) < 1e-6)
    }

    @Test("PPO loss: gradient w.r.t. logits and values, with ratios and values inside and outside their clip ranges")
    func ppoGradient() {
        var rng = Xoshiro256StarStar(seed: 27)
        let (n, a) = (8, 4)
        let logits = randomBuffer(n * a, -2, 2, rng: &rng), values = randomBuffer(n, rng: &rng)
        let actions = (0..<n).map { $0 % a }
        let (_, logProbs) = heads(logits, rows: n, cols: a)
        // log ratios of +-0.04 (inside eps = 0.1) and +-0.4 (outside), with advantages of both signs,
        // so that every branch of the min is taken; value moves of +-0.05 (inside epsV = 0.2) and +-0.5.
        let logRatios: [Float] = [0.04, -0.04, 0.4, -0.4, 0.04, -0.4, 0.4, -0.04]
        let behaviour = (0..<n).map { logProbs.pointer[$0 * a + actions[$0]] - logRatios[$0] }
        let moves: [Float] = [0.05, -0.5, 0.5, -0.05, 0.5, 0.05, -0.5, -0.05]
        let oldValues = (0..<n).map { values.pointer[$0] - moves[$0] }
        let returns = (0..<n).map { _ in Float(rng.nextUniform(-2, 2)) }
        let advantages: [Float] = [1, -1, 0.5, -0.5, -1, 1, -0.5, 0.5]
        let coefficients = PPOLossCoefficients(clip: 0.1, valueClip: 0.2, valueLoss: 0.5, entropy: 0.2)
        let probs = FloatBuffer(count: n * a), lp = FloatBuffer(count: n * a)
        let dLogits = FloatBuffer(count: n * a), dValues = FloatBuffer(count: n)
        func evaluate(gradient: Bool) -> PPOLossTerms {
            softmaxForward(probs: probs.pointer, logits: logits.pointer, rows: n, cols: a)
            logSoftmaxForward(logProbs: lp.pointer, logits: logits.pointer, rows: n, cols: a)
            let recorded = RecordedHeads(slots: n, actionCount: a, logits: logits.pointer, logProbs: lp.pointer, probs: probs.pointer,
                                         values: values.pointer, dLogits: dLogits.pointer, dValues: dValues.pointer)
            return withSamples(actions, behaviour, oldValues, returns, advantages) { samples in
                ppoLoss(recorded, samples: samples, coefficients: coefficients, gradient: gradient)
            }
        }
        let terms = evaluate(gradient: true)
        #expect(terms.clipFraction == 0.5, "four of eight ratios lie outside [0.9, 1.1]")
        #expect(terms.approximateKL > 0)
        let analyticLogits = FloatBuffer(count: n * a), analyticValues = FloatBuffer(count: n)
        analyticLogits.pointer.update(from: dLogits.pointer, count: n * a)
        analyticValues.pointer.update(from: dValues.pointer, count: n)
        let loss = { Double(evaluate(gradient: false).total) }
        #expect(maxGradientError("ppo.logits", values: logits.pointer, analytic: analyticLogits.pointer, indices: Array(0..<n * a),
                                 epsilon: 1e-2, loss: loss) < Self.tolerance)
        #expect(maxGradientError("ppo.values", values: values.pointer, analytic: analyticValues.pointer, indices: Array(0..<n),
                                 epsilon: 1e-2, loss: loss) < Self.tolerance)
        // Where the clipped surrogate is the smaller (ratio > 1 + eps with A > 0, ratio < 1 - eps with A < 0)
        // the policy term pulls nothing: those rows' logit gradients are the entropy's alone.
        let clippedRows = (0..<n).filter { (logRatios[$0] > 0.1 && advantages[$0] > 0) || (logRatios[$0] < -0.1 && advantages[$0] < 0) }
        #expect(clippedRows == [2, 3])
        // Where the clipped value error is the larger and the value moved beyond epsV, the value term pulls nothing.
        for t in 0..<n where abs(moves[t]) > 0.2 {
            let error = values.pointer[t] - returns[t], clippedError = oldValues[t] + (moves[t] > 0 ? 0.2 : -0.2) - returns[t]
            if clippedError * clippedError > error * error { #expect(analyticValues.pointer[t] == 0) }
        }
    }

    @Test("PPO loss against PyTorch: CleanRL's formulation computed once (scripts/ppo-reference.py), ratios inside and outside the clip")
    func ppoAgainstPyTorch() {
        let (n, a) = (4, 3)
        let logits = FloatBuffer([0.5, -1.0, 0.25, 1.5, 0.0, -0.5, -0.25, 0.75, 0.1, 0.0, 0.3, -1.2])
        let (probs, logProbs) = heads(logits, rows: n, cols: a)
        let values = FloatBuffer([0.8, -0.4, 1.9, 0.1]), dLogits = FloatBuffer(count: n * a), dValues = FloatBuffer(count: n)
        let recorded = RecordedHeads(slots: n, actionCount: a, logits: logits.pointer, logProbs: logProbs.pointer,
                                     probs: probs.pointer, values: values.pointer, dLogits: dLogits.pointer, dValues: dValues.pointer)
        let terms = withSamples([0, 2, 1, 1], [-0.7429, -2.0832, -0.8189, -0.3183], [0.7, 0.1, 1.2, 0.15], [1.5, -1.0, 0.5, 0.4],
                                [0.6, -1.2, 0.9, 0.3]) { samples in
            ppoLoss(recorded, samples: samples, coefficients: PPOLossCoefficients(clip: 0.1, valueClip: 0.2, valueLoss: 0.5, entropy: 0.01),
                    gradient: true)
        }
        // PyTorch (float64): policy -0.187500576, value 0.41875, entropy 0.919952737, total 0.0126748969,
        // clip fraction 0.75, approx KL 0.0246779804.
        #expect(abs(terms.policyLoss - -0.187500576) < 1e-6 && abs(terms.valueLoss - 0.41875) < 1e-6)
        #expect(abs(terms.entropy - 0.919952737) < 1e-6 && abs(terms.total - 0.0126748969) < 1e-6)
        #expect(terms.clipFraction == 0.75 && abs(terms.approximateKL - 0.0246779804) < 1e-6)
        let torchLogits: [Float] = [-0.0784955381, 0.0172102301, 0.061285308, 0.000820088468, -0.000432957132, -0.000387131335,
                                    -0.000304534687, 0.000494992556, -0.000190457869, 0.019788326, -0.0254076161, 0.0056192901]
        let torchValues: [Float] = [-0.0875, 0, 0.175, -0.0375]
        for i in 0..<n * a { #expect(abs(dLogits.pointer[i] - torchLogits[i]) < 1e-6, "dLogits[\(i)]") }
        for t in 0..<n { #expect(abs(dValues.pointer[t] - torchValues[t]) < 1e-6, "dValues[\(t)]") }
    }

    private func withSamples<R>(_ actions: [Int], _ behaviourLogProbs: [Float], _ behaviourValues: [Float], _ returns: [Float],
                                _ advantages: [Float], _ body: (PPOSamples) -> R) -> R {
        actions.withUnsafeBufferPointer { a in
            behaviourLogProbs.withUnsafeBufferPointer { lp in
                behaviourValues.withUnsafeBufferPointer { v in
                    returns.withUnsafeBufferPointer { r in
                        advantages.withUnsafeBufferPointer { adv in
                            body(PPOSamples(actions: a.baseAddress!, behaviourLogProbs: lp.baseAddress!, behaviourValues: v.baseAddress!,
                                            returns: r.baseAddress!, advantages: adv.baseAddress!))
                        }
                    }
                }
            }
        }
    }
}
