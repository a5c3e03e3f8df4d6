import Foundation
import Algorithms
import NeuralCore

/// One worker's rollout kept whole, so that it can be learned from again with other parameters:
/// E sequences (its environments) of T steps each, across episode ends, and everything PPO and
/// APPO need to replay it (CleanRL's ppo_atari_lstm keeps the same: observations, the LSTM state at
/// the rollout's start, actions, log-probabilities, values, rewards, where episodes end).
///
/// Layout: frames (T, E, 84 * 84), step-major as they are played; the per-step arrays (E, T),
/// environment-major, index `e * T + t`, as the returns are computed. Allocated once per worker (APPO:
/// twice, one in the learner's queue while the next is played).
final class RecordedRollout {
    /// E, T.
    let environmentCount: Int, stepCount: Int
    /// (T, E, 84, 84) the observation each step acted on.
    let frames: FloatBuffer
    /// The environments' LSTM states before the rollout's first step.
    let startStates: LSTMStates
    /// (E, T) a_t, log mu(a_t|s_t) of the policy that played, V(s_t), the learning reward r_t.
    var actions: [Int], behaviourLogProbs: [Float], values: [Float], rewards: [Float]
    /// Per environment, where its episodes ended in the rollout (`RolloutEnd`: step counts in 1...T).
    var ends: [[RolloutEnd]]
    /// (E) V(s_T) of each environment's last state (0 where its last step ended an episode).
    var bootstraps: [Float]
    /// (E, T) value targets and advantages from `computeGAE` (PPO; APPO's V-trace targets are computed
    /// per minibatch by `RolloutReplay`).
    var returns: [Float], advantages: [Float]
    /// APPO: how many learner updates the playing policy had seen (the policy lag is measured against it).
    var policyVersion = 0

    init(environmentCount: Int, stepCount: Int) {
        self.environmentCount = environmentCount
        self.stepCount = stepCount
        let n = environmentCount * stepCount
        frames = FloatBuffer(count: n * ActorCriticNetwork.frameSize)
        startStates = LSTMStates(count: environmentCount)
        actions = [Int](repeating: 0, count: n)
        behaviourLogProbs = [Float](repeating: 0, count: n)
        values = [Float](repeating: 0, count: n)
        rewards = [Float](repeating: 0, count: n)
        returns = [Float](repeating: 0, count: n)
        advantages = [Float](repeating: 0, count: n)
        ends = [[RolloutEnd]](repeating: [], count: environmentCount)
        for e in 0..<environmentCount { ends[e].reserveCapacity(stepCount) }
        bootstraps = [Float](repeating: 0, count: environmentCount)
    }

    /// Pointer to the frame environment `environment` acted on at step `step`.
    func frame(step: Int, environment: Int) -> UnsafeMutablePointer<Float> {
        frames.pointer + (step * environmentCount + environment) * ActorCriticNetwork.frameSize
    }

    /// Whether environment `environment`'s step `step` (> 0) is the first of a new episode.
    func episodeStarts(environment: Int, step: Int) -> Bool {
        step > 0 && ends[environment].contains { $0.step == step }
    }

    /// GAE (Schulman et al. 2016) of every sequence from the recorded values: `RolloutTargets`, each
    /// episode in it continued from its end's value (0, or a timeout's bootstrap) and the one the
    /// rollout cut from V(s_T).
    func computeGAE(gamma: Float, lambda: Float) {
        let t = stepCount
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                returns.withUnsafeMutableBufferPointer { out in
                    advantages.withUnsafeMutableBufferPointer { adv in
                        for e in 0..<environmentCount {
                            let range = e * t..<(e + 1) * t
                            RolloutTargets.compute(rewards: UnsafeBufferPointer(rebasing: r[range]),
                                                   values: UnsafeBufferPointer(rebasing: v[range]),
                                                   ends: ends[e], bootstrap: bootstraps[e], gamma: gamma, lambda: lambda,
                                                   returns: UnsafeMutableBufferPointer(rebasing: out[range]),
                                                   advantages: UnsafeMutableBufferPointer(rebasing: adv[range]))
                        }
                    }
                }
            }
        }
    }
}

/// Learns from minibatches of a `RecordedRollout`'s sequences with PPO's loss: replays the
/// sequences' forward passes with the network's current parameters (from their stored LSTM states,
/// each episode end inside them starting a new sequence, BPTT truncated at the rollout's start as
/// when it was played), then one backward pass of `ppoLoss` over the minibatch. PPO (the worker's
/// own rollout, GAE targets) and APPO (the learner's, V-trace targets from the replayed values) share it.
///
/// Scratch for a minibatch of at most E sequences of T steps is allocated once.
final class RolloutReplay {
    let network: ActorCriticNetwork
    private let states: LSTMStates
    /// (m, 84, 84) one step's frames of the minibatch's sequences.
    private let stepFrames: FloatBuffer
    /// The minibatch's samples in slot order (slot t * m + j: step t of sequence j).
    private var actions: [Int] = [], logProbs: [Float] = [], values: [Float] = [], returns: [Float] = [],
                advantages: [Float] = []
    /// V-trace scratch, (T) each.
    private var sequenceLogRatios: [Float], sequenceRewards: [Float], sequenceValues: [Float],
                sequenceTargets: [Float], sequenceAdvantages: [Float]

    /// `network` must have been built for at least T steps and E rows.
    init(network: ActorCriticNetwork, environmentCount: Int, stepCount: Int) {
        precondition(network.maxRows >= environmentCount && network.maxSteps >= stepCount,
                     "RolloutReplay: the network holds \(network.maxRows) rows x \(network.maxSteps) steps, the rollout \(environmentCount) x \(stepCount)")
        self.network = network
        states = LSTMStates(count: environmentCount)
        stepFrames = FloatBuffer(count: environmentCount * ActorCriticNetwork.frameSize)
        sequenceLogRatios = [Float](repeating: 0, count: stepCount)
        sequenceRewards = sequenceLogRatios; sequenceValues = sequenceLogRatios
        sequenceTargets = sequenceLogRatios; sequenceAdvantages = sequenceLogRatios
        let n = environmentCount * stepCount
        for buffer in [\RolloutReplay.logProbs, \.values, \.returns, \.advantages] {
            self[keyPath: buffer].reserveCapacity(n)
        }
        actions.reserveCapacity(n)
    }

    /// How a minibatch's value targets and advantages are found.
    enum Targets {
        /// The rollout's own `returns` and `advantages` (PPO: GAE of the values recorded while playing).
        case recorded
        /// V-trace from the replayed values and the ratios pi / mu (APPO: Espeholt et al. 2018 eq. 1,
        /// rho and c truncated at 1), each sequence from the recorded bootstrap V(s_T).
        case vTrace(gamma: Float)
    }

    /// The PPO loss of sequences `rows` (increasing environment numbers) of `rollout`, its gradient
    /// ACCUMULATED into the network's gradients (zero them first). Advantages are normalised over the
    /// minibatch (mean 0, standard deviation 1, as CleanRL and Sample Factory do).
    func learn(_ rollout: RecordedRollout, rows: [Int], targets: Targets, coefficients: PPOLossCoefficients) -> PPOLossTerms {
        let t = rollout.stepCount
        network.discardRecording()
        for row in rows { states.copy(row: row, from: rollout.startStates, row: row) }
        let size = ActorCriticNetwork.frameSize
        for step in 0..<t {
            for (j, row) in rows.enumerated() {
                if rollout.episodeStarts(environment: row, step: step) {
                    states.reset(row: row)
                    network.beginSequence(row: row)
                }
                (stepFrames.pointer + j * size).update(from: rollout.frame(step: step, environment: row), count: size)
            }
            network.act(frames: UnsafePointer(stepFrames.pointer), states: states, rows: rows, record: true)
        }
        actions.removeAll(keepingCapacity: true)
        for buffer in [\RolloutReplay.logProbs, \.values, \.returns, \.advantages] {
            self[keyPath: buffer].removeAll(keepingCapacity: true)
        }
        for step in 0..<t {
            for row in rows {
                let i = row * t + step
                actions.append(rollout.actions[i]); logProbs.append(rollout.behaviourLogProbs[i])
                values.append(rollout.values[i]); returns.append(rollout.returns[i]); advantages.append(rollout.advantages[i])
            }
        }
        return network.backwardRecorded { heads -> PPOLossTerms in
            if case .vTrace(let gamma) = targets {
                vTraceTargets(heads, rollout: rollout, rows: rows, gamma: gamma)
            }
            Self.normalize(&advantages)
            return actions.withUnsafeBufferPointer { a in
                logProbs.withUnsafeBufferPointer { lp in
                    values.withUnsafeBufferPointer { v in
                        returns.withUnsafeBufferPointer { r in
                            advantages.withUnsafeBufferPointer { adv in
                                ppoLoss(heads, samples: PPOSamples(actions: a.baseAddress!, behaviourLogProbs: lp.baseAddress!,
                                                                   behaviourValues: v.baseAddress!, returns: r.baseAddress!,
                                                                   advantages: adv.baseAddress!),
                                        coefficients: coefficients, gradient: true)
                            }
                        }
                    }
                }
            }
        }
    }

    /// V-trace targets and advantages of each sequence from the replayed heads, into `returns` and
    /// `advantages` (slot order).
    private func vTraceTargets(_ heads: RecordedHeads, rollout: RecordedRollout, rows: [Int], gamma: Float) {
        let m = rows.count, t = rollout.stepCount, a = heads.actionCount
        for (j, row) in rows.enumerated() {
            for step in 0..<t {
                let slot = step * m + j
                sequenceLogRatios[step] = heads.logProbs[slot * a + actions[slot]] - logProbs[slot]
                sequenceRewards[step] = rollout.rewards[row * t + step]
                sequenceValues[step] = heads.values[slot]
            }
            sequenceLogRatios.withUnsafeBufferPointer { lr in
                sequenceRewards.withUnsafeBufferPointer { r in
                    sequenceValues.withUnsafeBufferPointer { v in
                        sequenceTargets.withUnsafeMutableBufferPointer { out in
                            sequenceAdvantages.withUnsafeMutableBufferPointer { adv in
                                VTrace.compute(logRatios: lr, rewards: r, values: v, ends: rollout.ends[row],
                                               bootstrap: rollout.bootstraps[row], gamma: gamma, targets: out, advantages: adv)
                            }
                        }
                    }
                }
            }
            for step in 0..<t {
                returns[step * m + j] = sequenceTargets[step]
                advantages[step * m + j] = sequenceAdvantages[step]
            }
        }
    }

    /// `epochs` passes over the sequences 0..<`sequenceCount`, each shuffled (with `random`) into
    /// `minibatches` equal minibatches of increasing sequence numbers, `body` called with each (PPO's
    /// and APPO's loop); stops early when `body` returns false. `order` and `rows` are the caller's
    /// scratch (no allocation per minibatch).
    static func forEachMinibatch(sequenceCount: Int, epochs: Int, minibatches: Int, random: inout Xoshiro256StarStar,
                                 order: inout [Int], rows: inout [Int], _ body: ([Int]) throws -> Bool) rethrows -> Bool {
        let perMinibatch = sequenceCount / minibatches
        if order.count != sequenceCount { order = Array(0..<sequenceCount) }
        for _ in 0..<epochs {
            for i in stride(from: sequenceCount - 1, to: 0, by: -1) {  // Fisher-Yates
                order.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            for k in 0..<minibatches {
                rows.removeAll(keepingCapacity: true)
                rows.append(contentsOf: order[k * perMinibatch..<(k + 1) * perMinibatch])
                rows.sort()
                guard try body(rows) else { return false }
            }
        }
        return true
    }

    /// x = (x - mean) / (std + 1e-8), the normalisation of CleanRL's `norm_adv`.
    static func normalize(_ x: inout [Float]) {
        guard x.count > 1 else { return }
        var mean = 0.0, squares = 0.0
        for value in x { mean += Double(value) }
        mean /= Double(x.count)
        for value in x { squares += (Double(value) - mean) * (Double(value) - mean) }
        let std = (squares / Double(x.count - 1)).squareRoot()
        let scale = 1 / (std + 1e-8)
        for i in x.indices { x[i] = Float((Double(x[i]) - mean) * scale) }
    }
}
