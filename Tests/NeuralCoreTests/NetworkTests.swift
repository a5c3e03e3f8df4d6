// The actor-critic network: whole-network gradient checks over batched rollouts, batched vs one by
// one, seeded initialisation, acting.
import Foundation
import Testing
@testable import NeuralCore
import Algorithms
import GradientCheckSupport

/// A random rollout of E sequences of unequal lengths (the sequences end, in the order a worker's
/// environments could): frames, initial LSTM states and the loss inputs of every slot.
struct RolloutFixture {
    /// Steps of each sequence, e.g. [3, 2, 3].
    let lengths: [Int]
    var sequences: Int { lengths.count }
    var steps: Int { lengths.max()! }
    /// (steps, E, 84, 84): frame of sequence q at step t in row t * E + q (unused where q has ended).
    let frames: FloatBuffer
    let initialStates: LSTMStates
    /// Slot order: the rows of step 0 (the sequences still running, in order), then of step 1, ...
    let slotSequence: [Int]
    let actions: [Int]
    let returns: [Float]
    let advantages: [Float]

    init(lengths: [Int], actionCount: Int, seed: UInt64) {
        var rng = Xoshiro256StarStar(seed: seed)
        self.lengths = lengths
        let steps = lengths.max()!, sequences = lengths.count
        frames = randomBuffer(steps * sequences * ActorCriticNetwork.frameSize, 0, 1, rng: &rng)
        initialStates = LSTMStates(count: sequences)
        for j in 0..<initialStates.hidden.count {
            initialStates.hidden.pointer[j] = Float(rng.nextUniform(-0.5, 0.5))
            initialStates.cell.pointer[j] = Float(rng.nextUniform(-1, 1))
        }
        slotSequence = (0..<steps).flatMap { t in (0..<sequences).filter { lengths[$0] > t } }
        let slots = slotSequence.count
        actions = (0..<slots).map { _ in Int(rng.next() % UInt64(actionCount)) }
        returns = (0..<slots).map { _ in Float(rng.nextUniform(-2, 2)) }
        advantages = (0..<slots).map { _ in Float(rng.nextUniform(-1, 1)) }
    }

    /// Rows of step t: the sequences still running.
    func rows(at t: Int) -> [Int] { (0..<sequences).filter { lengths[$0] > t } }

    /// Acts through the rollout, recording every step as a worker does (the running sequences' frames
    /// gathered into consecutive rows); returns the values and the final states.
    @discardableResult
    func record(into network: ActorCriticNetwork) -> (values: [Float], states: LSTMStates) {
        let states = LSTMStates(count: sequences)
        for q in 0..<sequences { states.copy(row: q, from: initialStates, row: q) }
        let size = ActorCriticNetwork.frameSize
        var values: [Float] = []
        for t in 0..<steps {
            let rows = rows(at: t)
            let gathered = FloatBuffer(count: rows.count * size)
            for (j, q) in rows.enumerated() {
                (gathered.pointer + j * size).update(from: frames.pointer + (t * sequences + q) * size, count: size)
            }
            let batch = network.act(frames: gathered.pointer, states: states, rows: rows, record: true)
            for j in 0..<rows.count {
                values.append(batch.value(row: j))
                #expect(abs(batch.probabilities(row: j).reduce(0, +) - 1) < 1e-5)
            }
        }
        return (values, states)
    }

    /// The same rollout for sequence q alone: its frames, slots and loss inputs.
    func single(_ q: Int) -> RolloutFixture {
        RolloutFixture(self, only: q)
    }

    private init(_ whole: RolloutFixture, only q: Int) {
        lengths = [whole.lengths[q]]
        let size = ActorCriticNetwork.frameSize
        frames = FloatBuffer(count: lengths[0] * size)
        for t in 0..<lengths[0] {
            (frames.pointer + t * size).update(from: whole.frames.pointer + (t * whole.sequences + q) * size, count: size)
        }
        initialStates = LSTMStates(count: 1)
        initialStates.copy(row: 0, from: whole.initialStates, row: q)
        let mine = whole.slotSequence.indices.filter { whole.slotSequence[$0] == q }
        slotSequence = mine.map { _ in 0 }
        actions = mine.map { whole.actions[$0] }
        returns = mine.map { whole.returns[$0] }
        advantages = mine.map { whole.advantages[$0] }
    }
}

@Suite("Actor-critic network")
struct NetworkTests {
    @Test("whole-network loss gradient, every tensor: a rollout of one sequence (3 steps) and a batched one of 3 sequences of unequal length (3, 2, 3 steps)",
          arguments: [[3], [3, 2, 3]])
    func wholeNetworkGradientCheck(lengths: [Int]) {
        let network = ActorCriticNetwork(actionCount: 3, maxSteps: 4, maxRows: lengths.count, seed: 7)
        // Larger heads than the seed's 0.01 so the policy-gradient path is not negligible in the check.
        let policy = network.parameterPointer("policy.weight")
        for i in 0..<(3 * 256) { policy[i] *= 30 }
        let rollout = RolloutFixture(lengths: lengths, actionCount: 3, seed: 8)
        let coefficients = A3CLossCoefficients(valueLoss: 0.5, entropy: 0.1)
        rollout.record(into: network)
        network.gradients.zero()
        let terms = network.backwardRecorded(actions: rollout.actions, returns: rollout.returns,
                                             advantages: rollout.advantages, coefficients: coefficients)
        print("loss terms \(terms)")
        func loss() -> Double {
            rollout.record(into: network)
            defer { network.discardRecording() }
            return Double(network.recordedLoss(actions: rollout.actions, returns: rollout.returns,
                                               advantages: rollout.advantages, coefficients: coefficients).total)
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

    @Test("a batched rollout equals its sequences played one by one: values and states bit for bit, loss and gradients to rounding")
    func batchedEqualsSingle() {
        let lengths = [5, 2, 4, 5]
        let rollout = RolloutFixture(lengths: lengths, actionCount: 4, seed: 4)
        let batched = ActorCriticNetwork(actionCount: 4, maxSteps: 6, maxRows: 4, seed: 3)
        let (batchedValues, batchedStates) = rollout.record(into: batched)
        batched.gradients.zero()
        let batchedLoss = batched.backwardRecorded(actions: rollout.actions, returns: rollout.returns,
                                                   advantages: rollout.advantages)
        // The same network, one sequence at a time (acting steps of one row; the backward over one sequence's slots).
        let single = ActorCriticNetwork(actionCount: 4, maxSteps: 6, maxRows: 1, seed: 3)
        single.gradients.zero()
        var worstValue: Float = 0, worstState: Float = 0, total: Float = 0
        for q in 0..<lengths.count {
            let alone = rollout.single(q)
            let (values, states) = alone.record(into: single)
            let mine = rollout.slotSequence.indices.filter { rollout.slotSequence[$0] == q }
            for (t, slot) in mine.enumerated() { worstValue = max(worstValue, abs(values[t] - batchedValues[slot])) }
            for j in 0..<256 {
                worstState = max(worstState, abs(states.hidden[j] - batchedStates.hidden[q * 256 + j]),
                                 abs(states.cell[j] - batchedStates.cell[q * 256 + j]))
            }
            total += single.backwardRecorded(actions: alone.actions, returns: alone.returns, advantages: alone.advantages).total
        }
        // The forward computes every row alone (direct convolutions, `nk_dense_rows`), so acting is bit for
        // bit the same batched or not; the backward's matrix products over more rows sum in another
        // order: gradients equal to Float rounding.
        var worstGradient: Float = 0
        for (a, b) in zip(batched.gradients.array, single.gradients.array) {
            worstGradient = max(worstGradient, abs(a - b) / max(1e-2, abs(a), abs(b)))
        }
        print("batched vs one by one: values \(worstValue), states \(worstState), gradients (relative) \(worstGradient), loss \(batchedLoss.total) vs \(total)")
        #expect(worstValue == 0 && worstState == 0)
        #expect(worstGradient < 1e-3)
        #expect(abs(batchedLoss.total - total) <= 1e-5 * max(1, abs(total)))
        #expect(batched.gradients.array.contains { $0 != 0 })
        // Recording the same rollout again gives bit-identical gradients (deterministic).
        let first = batched.gradients.array
        rollout.record(into: batched)
        batched.gradients.zero()
        batched.backwardRecorded(actions: rollout.actions, returns: rollout.returns, advantages: rollout.advantages)
        do { let same = batched.gradients.array == first; #expect(same) }  // a Bool: a failing array #expect diffs every element for minutes
    }

    @Test("a sequence that starts inside a rollout (beginSequence: a new episode, its state zeroed) learns as the two episodes apart; without it BPTT would cross the reset",
          arguments: [true, false])
    func sequenceStartingInsideRollout(beginsSequence: Bool) {
        // Row 0 plays episode A for 2 steps, then episode B from the zero state for 3; row 1 plays C for 5.
        let whole = RolloutFixture(lengths: [5, 5], actionCount: 3, seed: 11)
        let size = ActorCriticNetwork.frameSize
        let crossed = ActorCriticNetwork(actionCount: 3, maxSteps: 5, maxRows: 2, seed: 5)
        let states = LSTMStates(count: 2)
        for q in 0..<2 { states.copy(row: q, from: whole.initialStates, row: q) }
        let gathered = FloatBuffer(count: 2 * size)
        for t in 0..<5 {
            if t == 2 {
                states.reset(row: 0)
                if beginsSequence { crossed.beginSequence(row: 0) }
            }
            gathered.pointer.update(from: whole.frames.pointer + t * 2 * size, count: 2 * size)  // rows (t, 0), (t, 1)
            crossed.act(frames: gathered.pointer, states: states, rows: [0, 1], record: true)
        }
        crossed.gradients.zero()
        let crossedLoss = crossed.backwardRecorded(actions: whole.actions, returns: whole.returns, advantages: whole.advantages)
        // Apart: A, B and C each recorded and learned alone (slot t * 2 + q of the whole rollout).
        let apart = ActorCriticNetwork(actionCount: 3, maxSteps: 5, maxRows: 1, seed: 5)
        apart.gradients.zero()
        var apartLoss: Float = 0
        for (q, steps, fromInitialState) in [(0, 0..<2, true), (0, 2..<5, false), (1, 0..<5, true)] {
            let state = LSTMStates(count: 1)
            if fromInitialState { state.copy(row: 0, from: whole.initialStates, row: q) }
            for t in steps { apart.act(frame: whole.frames.pointer + (t * 2 + q) * size, states: state, record: true) }
            let slots = steps.map { $0 * 2 + q }
            apartLoss += apart.backwardRecorded(actions: slots.map { whole.actions[$0] }, returns: slots.map { whole.returns[$0] },
                                                advantages: slots.map { whole.advantages[$0] }).total
        }
        var worstGradient: Float = 0
        for (a, b) in zip(crossed.gradients.array, apart.gradients.array) {
            worstGradient = max(worstGradient, abs(a - b) / max(1e-2, abs(a), abs(b)))
        }
        print("episode reset inside a rollout, beginSequence \(beginsSequence): gradients vs apart (relative) \(worstGradient), loss \(crossedLoss.total) vs \(apartLoss)")
        // The forward is the same either way (the state was zeroed): only BPTT across the reset differs.
        #expect(abs(crossedLoss.total - apartLoss) <= 1e-5 * max(1, abs(apartLoss)))
        if beginsSequence {
            #expect(worstGradient < 1e-3)
        } else {
            #expect(worstGradient > 1e-2, "BPTT through a reset should change the recurrent gradients")
        }
    }

    @Test("beginSequence: a row may start at a later step of the rollout, and twice in a row allocates one sequence")
    func sequenceStartsLater() {
        let whole = RolloutFixture(lengths: [3, 3], actionCount: 2, seed: 12)
        let size = ActorCriticNetwork.frameSize
        let network = ActorCriticNetwork(actionCount: 2, maxSteps: 3, maxRows: 2, seed: 6)
        let states = LSTMStates(count: 2)
        network.act(frames: whole.frames.pointer, states: states, rows: [0], record: true)   // row 1 not yet
        network.beginSequence(row: 1)   // not yet recorded: keeps its sequence
        network.beginSequence(row: 0)
        network.beginSequence(row: 0)   // no step since the last call: the same new sequence
        #expect(network.sequenceCount == 3)
        network.act(frames: whole.frames.pointer + 2 * size, states: states, rows: [0, 1], record: true)
        network.act(frames: whole.frames.pointer + 4 * size, states: states, rows: [0, 1], record: true)
        #expect(network.recordedSlots == 5)
        network.gradients.zero()
        let loss = network.backwardRecorded(actions: [0, 1, 0, 1, 0], returns: [1, 0, 1, 0, 1], advantages: [1, -1, 1, -1, 1])
        #expect(loss.total.isFinite)
        #expect(network.gradients.array.contains { $0 != 0 })
    }

    @Test("acting: the state moves on, unrecorded steps record nothing, the value loss uses the acting values")
    func acting() {
        let network = ActorCriticNetwork(actionCount: 3, maxSteps: 3, seed: 5)
        let rollout = RolloutFixture(lengths: [3], actionCount: 3, seed: 6)
        let states = LSTMStates(count: 1)
        states.copy(row: 0, from: rollout.initialStates, row: 0)
        var values: [Float] = []
        for t in 0..<3 {
            values.append(network.act(frame: rollout.frames.pointer + t * ActorCriticNetwork.frameSize, states: states).value(row: 0))
        }
        #expect(network.recordedSlots == 0 && network.recordedSteps == 0)
        #expect(states.hidden.array != rollout.initialStates.hidden.array)
        #expect(states.hidden.array.allSatisfy { abs($0) < 1 })
        let (recordedValues, _) = rollout.record(into: network)
        #expect(recordedValues == values)
        let terms = network.recordedLoss(actions: rollout.actions, returns: rollout.returns, advantages: [0, 0, 0],
                                         coefficients: A3CLossCoefficients(valueLoss: 1, entropy: 0))
        // With zero advantages and no entropy, total = 0.5 sum (R - V)^2 with the acting values.
        let expected = zip(rollout.returns, values).reduce(Float(0)) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }
        #expect(abs(terms.total - expected) < 1e-4 * max(1, expected))
        // An unrecorded step in between (a bootstrap value) leaves the recording intact.
        network.act(frame: rollout.frames.pointer, states: LSTMStates(count: 1))
        #expect(network.recordedSlots == 3)
        network.discardRecording()
        #expect(network.recordedSlots == 0)
        // Sampling inverts the CDF; greedy takes the most probable action.
        let probabilities: [Float] = [0.2, 0.5, 0.3]
        probabilities.withUnsafeBufferPointer { buffer in
            let values: [Float] = [0]
            values.withUnsafeBufferPointer { value in
                let step = ActingBatch(rowCount: 1, actionCount: 3, values: value.baseAddress!,
                                       probabilities: buffer.baseAddress!, firstSlot: 0)
                #expect(step.sampleAction(row: 0, uniform: 0.1) == 0)
                #expect(step.sampleAction(row: 0, uniform: 0.69) == 1)
                #expect(step.sampleAction(row: 0, uniform: 0.71) == 2)
                #expect(step.sampleAction(row: 0, uniform: 0.99999999) == 2)
                #expect(step.mostProbableAction(row: 0) == 1)
            }
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
        let frame = FloatBuffer(count: ActorCriticNetwork.frameSize)
        for i in 0..<frame.count { frame.pointer[i] = Float(i % 13) / 13 }
        let step = network.act(frame: frame.pointer, states: LSTMStates())
        #expect(step.probabilities(row: 0).allSatisfy { abs($0 - 1.0 / 6) < 0.01 })
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
