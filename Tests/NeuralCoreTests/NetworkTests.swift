// The actor-critic network: whole-network gradient check, recorded vs recomputed rollouts,
// seeded initialisation, acting.
import Foundation
import Testing
@testable import NeuralCore

/// A random rollout for a network.
struct RolloutFixture {
    let steps: Int
    let frames: FloatBuffer
    let initialState: LSTMState
    let actions: [Int]
    let returns: [Float]
    let advantages: [Float]

    init(steps: Int, actionCount: Int, seed: UInt64) {
        var rng = Xoshiro256StarStar(seed: seed)
        self.steps = steps
        frames = randomBuffer(steps * ActorCriticNetwork.frameSize, 0, 1, rng: &rng)
        var state = LSTMState()
        for j in 0..<ActorCriticNetwork.hiddenSize {
            state.hidden[j] = Float(rng.nextUniform(-0.5, 0.5)); state.cell[j] = Float(rng.nextUniform(-1, 1))
        }
        initialState = state
        actions = (0..<steps).map { _ in Int(rng.next() % UInt64(actionCount)) }
        returns = (0..<steps).map { _ in Float(rng.nextUniform(-2, 2)) }
        advantages = (0..<steps).map { _ in Float(rng.nextUniform(-1, 1)) }
    }
}

@Suite("Actor-critic network")
struct NetworkTests {
    @Test("whole-network loss gradient w.r.t. a sample of parameters in every tensor")
    func wholeNetworkGradientCheck() {
        let network = ActorCriticNetwork(actionCount: 3, maxRolloutLength: 4, seed: 7)
        // Larger heads than the seed's 0.01 so the policy-gradient path is not negligible in the check.
        let policy = network.parameterPointer("policy.weight")
        for i in 0..<(3 * 256) { policy[i] *= 30 }
        let rollout = RolloutFixture(steps: 3, actionCount: 3, seed: 8)
        let coefficients = A3CLossCoefficients(valueLoss: 0.5, entropy: 0.1)
        network.zeroGradients()
        let terms = network.forwardBackwardRollout(frames: rollout.frames.pointer, initialState: rollout.initialState,
                                                   actions: rollout.actions, returns: rollout.returns,
                                                   advantages: rollout.advantages, coefficients: coefficients)
        print("loss terms \(terms)")
        func loss() -> Double {
            Double(network.rolloutLoss(frames: rollout.frames.pointer, initialState: rollout.initialState, actions: rollout.actions,
                                       returns: rollout.returns, advantages: rollout.advantages, coefficients: coefficients).total)
        }
        var rng = Xoshiro256StarStar(seed: 9)
        for view in network.layout.views {
            // The entry with the largest gradient plus random ones.
            let gradient = network.gradients.pointer + view.offset
            let largest = (0..<view.count).max { abs(gradient[$0]) < abs(gradient[$1]) }!
            var indices = [largest]
            for _ in 0..<5 { indices.append(Int(rng.next() % UInt64(view.count))) }
            let error = maxGradientError(view.name, values: network.parameters.pointer + view.offset, analytic: gradient,
                                         indices: indices, epsilon: 1e-3, loss: loss)
            // Float forward passes: the loss (~1-10) is rounded to ~1e-6, so the difference quotient with
            // eps = 1e-3 carries up to ~1e-3 of noise; we allow 1e-2.
            #expect(error < 1e-2, "\(view.name): \(error)")
        }
    }

    @Test("backwardRecorded equals forwardBackwardRollout (same loss, same gradients)")
    func recordedEqualsRecomputed() {
        let network = ActorCriticNetwork(actionCount: 4, maxRolloutLength: 6, seed: 3)
        let rollout = RolloutFixture(steps: 5, actionCount: 4, seed: 4)
        var state = rollout.initialState
        var actedValues: [Float] = []
        for t in 0..<rollout.steps {
            let step = network.act(frame: rollout.frames.pointer + t * ActorCriticNetwork.frameSize, state: &state, recordSlot: t)
            actedValues.append(step.value)
            #expect(abs(step.probabilities.reduce(0, +) - 1) < 1e-5)
        }
        network.zeroGradients()
        let recorded = network.backwardRecorded(actions: rollout.actions, returns: rollout.returns, advantages: rollout.advantages)
        let recordedGradients = network.gradients.array
        network.zeroGradients()
        let recomputed = network.forwardBackwardRollout(frames: rollout.frames.pointer, initialState: rollout.initialState,
                                                        actions: rollout.actions, returns: rollout.returns,
                                                        advantages: rollout.advantages)
        let recomputedGradients = network.gradients.array
        // Acting uses sgemv, the batched forward sgemm: the same sums in another order, so the two agree to
        // Float rounding (not bit for bit).
        var worst: Float = 0
        for (a, b) in zip(recordedGradients, recomputedGradients) { worst = max(worst, abs(a - b) / max(1e-3, abs(a), abs(b))) }
        print("recorded vs recomputed: max relative gradient difference \(worst), losses \(recorded.total) vs \(recomputed.total)")
        #expect(worst < 1e-3)
        #expect(abs(recorded.total - recomputed.total) <= 1e-5 * max(1, abs(recorded.total)))
        #expect(abs(recorded.entropy - recomputed.entropy) <= 1e-5 * max(1, abs(recorded.entropy)))
        #expect(recordedGradients.contains { $0 != 0 })
        // And recording the same rollout again gives bit-identical gradients (deterministic).
        state = rollout.initialState
        for t in 0..<rollout.steps {
            network.act(frame: rollout.frames.pointer + t * ActorCriticNetwork.frameSize, state: &state, recordSlot: t)
        }
        network.zeroGradients()
        network.backwardRecorded(actions: rollout.actions, returns: rollout.returns, advantages: rollout.advantages)
        do { let same = network.gradients.array == recordedGradients; #expect(same) }  // a Bool: a failing array #expect diffs every element for minutes
    }

    @Test("acting: next state and outputs match the batched forward; unrecorded steps use a scratch slot")
    func acting() {
        let network = ActorCriticNetwork(actionCount: 3, maxRolloutLength: 3, seed: 5)
        let rollout = RolloutFixture(steps: 3, actionCount: 3, seed: 6)
        var state = rollout.initialState
        var values: [Float] = []
        for t in 0..<3 {
            values.append(network.act(frame: rollout.frames.pointer + t * ActorCriticNetwork.frameSize, state: &state).value)
        }
        #expect(state != rollout.initialState)
        #expect(state.hidden.allSatisfy { abs($0) < 1 })
        let terms = network.rolloutLoss(frames: rollout.frames.pointer, initialState: rollout.initialState, actions: rollout.actions,
                                        returns: rollout.returns, advantages: [0, 0, 0],
                                        coefficients: A3CLossCoefficients(valueLoss: 1, entropy: 0))
        // With zero advantages and no entropy, total = 0.5 sum (R - V)^2 with the acting values.
        let expected = zip(rollout.returns, values).reduce(Float(0)) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }
        #expect(abs(terms.total - expected) < 1e-4 * max(1, expected))
        // Sampling inverts the CDF.
        let probabilities: [Float] = [0.2, 0.5, 0.3]
        probabilities.withUnsafeBufferPointer { buffer in
            let step = ActingStep(value: 0, probabilities: buffer)
            #expect(step.sampleAction(uniform: 0.1) == 0)
            #expect(step.sampleAction(uniform: 0.69) == 1)
            #expect(step.sampleAction(uniform: 0.71) == 2)
            #expect(step.sampleAction(uniform: 0.99999999) == 2)
        }
    }

    @Test("initialisation: same seed is bit-identical, another seed differs")
    func seededInitialisation() {
        let a = ActorCriticNetwork(actionCount: 5, seed: 42), b = ActorCriticNetwork(actionCount: 5, seed: 42)
        let c = ActorCriticNetwork(actionCount: 5, seed: 43)
        do { let same = a.parameters.array == b.parameters.array; #expect(same) }  // a Bool: a failing array #expect diffs every element for minutes
        #expect(a.parameters.array != c.parameters.array)
        for view in a.layout.views where view.name.hasSuffix("weight") {
            let x = Array(UnsafeBufferPointer(start: a.parameters.pointer + view.offset, count: view.count))
            let y = Array(UnsafeBufferPointer(start: c.parameters.pointer + view.offset, count: view.count))
            #expect(x != y, "\(view.name) does not depend on the seed")
        }
    }

    @Test("initialisation statistics: Glorot bounds and spread, zero biases, head row norms 0.01 and 1.0")
    func initialisationStatistics() {
        let network = ActorCriticNetwork(actionCount: 6, seed: 1)
        let glorotFans: [String: (Int, Int)] = [
            "conv1.weight": (64, 16 * 64), "conv2.weight": (256, 32 * 16), "fc.weight": (2592, 256),
            "lstm.weight_ih": (512, 1024), "lstm.weight_hh": (512, 1024),
        ]
        for (name, (fanIn, fanOut)) in glorotFans {
            let view = network.layout[name]
            let values = UnsafeBufferPointer(start: network.parameters.pointer + view.offset, count: view.count)
            let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            #expect(values.allSatisfy { abs($0) <= limit }, "\(name) exceeds the Glorot limit \(limit)")
            let variance = values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(view.count)
            let expected = Double(limit * limit) / 3 // variance of U(-l, l)
            #expect(abs(variance - expected) < 0.1 * expected, "\(name): variance \(variance), expected \(expected)")
        }
        for name in ["conv1.bias", "conv2.bias", "fc.bias", "lstm.bias_hh"] {
            let view = network.layout[name]
            #expect(UnsafeBufferPointer(start: network.parameters.pointer + view.offset, count: view.count).allSatisfy { $0 == 0 })
        }
        // lstm.bias_ih: gates i, f, g, o; the forget gate starts at 1 (the seed's forget_bias), the rest at 0.
        let biasIH = network.layout["lstm.bias_ih"]
        for gate in 0..<4 {
            let values = UnsafeBufferPointer(start: network.parameters.pointer + biasIH.offset + gate * 256, count: 256)
            #expect(values.allSatisfy { $0 == (gate == 1 ? 1 : 0) }, "lstm.bias_ih gate \(gate)")
        }
        for (name, std) in [("policy.weight", 0.01), ("value.weight", 1.0)] {
            let view = network.layout[name]
            for row in 0..<view.shape[0] {
                let start = network.parameters.pointer + view.offset + row * view.shape[1]
                let norm = (0..<view.shape[1]).reduce(0.0) { $0 + Double(start[$1]) * Double(start[$1]) }.squareRoot()
                #expect(abs(norm - std) < 1e-5 * std, "\(name) row \(row) has norm \(norm), expected \(std)")
            }
        }
        // A near-uniform initial policy.
        var state = LSTMState()
        let frame = FloatBuffer(count: ActorCriticNetwork.frameSize)
        for i in 0..<frame.count { frame.pointer[i] = Float(i % 13) / 13 }
        let step = network.act(frame: frame.pointer, state: &state)
        #expect(step.probabilities.allSatisfy { abs($0 - 1.0 / 6) < 0.01 })
    }

    @Test("random numbers: xoshiro256** is reproducible, uniform and normal moments are right")
    func randomNumbers() {
        var a = Xoshiro256StarStar(seed: 99), b = Xoshiro256StarStar(seed: 99)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var rng = Xoshiro256StarStar(seed: 1)
        let normals = (0..<20000).map { _ in rng.nextNormal() }
        let mean = normals.reduce(0, +) / 20000
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 20000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let uniforms = (0..<20000).map { _ in rng.nextUnitDouble() }
        #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 } && abs(uniforms.reduce(0, +) / 20000 - 0.5) < 0.01)
    }
}
