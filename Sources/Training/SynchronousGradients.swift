import Foundation
import NeuralCore

/// Where the workers of a synchronous algorithm (A2C, PPO) meet: each round every worker adds its
/// gradient, and the last to arrive applies their mean to the global parameters as ONE update
/// (clipped to the run's norm, then the optimizer), which all of them then copy. The workers' data
/// together are one batch, as one learner with all the environments would see them; each worker
/// computes its share's gradient on its own core (data parallelism, as DD-PPO does across GPUs).
///
/// The mean, not the sum: each worker's loss is already a mean (PPO) or its own rollout's sum
/// (A2C, A3C's loss), so the step size means what it means with one worker. A round that never
/// completes (a stop) applies nothing. A worker whose rollout an engine failure dropped plays another
/// before it comes: the others wait for it, and the rounds stay in step (every worker makes the same
/// number of contributions per rollout).
final class SynchronousGradients {
    let participants: Int
    private let sum: FloatBuffer
    private let condition = NSCondition()
    private var arrived = 0, round = 0
    private var lastUpdate = SharedParameters.Update(gradientNorm: .nan, generation: nil)

    init(participants: Int, parameterCount: Int) {
        precondition(participants >= 1, "SynchronousGradients needs at least one participant")
        self.participants = participants
        sum = FloatBuffer(count: parameterCount)
    }

    /// The outcome of a round for one worker: the update, and whether this worker applied it (the
    /// one that counts it).
    struct Round {
        let update: SharedParameters.Update
        let appliedHere: Bool
    }

    /// Adds `gradients` to this round and waits for the others; the last applies the mean to
    /// `global`. Returns nil if `shouldStop` turned true before the round completed (nothing applied).
    func contribute(_ gradients: FloatBuffer, to global: GlobalParameters, maxGradientNorm: Float,
                    shouldStop: () -> Bool) -> Round? {
        condition.lock()
        defer { condition.unlock() }
        let myRound = round
        let weight = 1 / Float(participants)
        let n = sum.count
        let s = sum.pointer, g = gradients.pointer
        if arrived == 0 { for i in 0..<n { s[i] = weight * g[i] } } else { for i in 0..<n { s[i] += weight * g[i] } }
        arrived += 1
        if arrived == participants {
            lastUpdate = global.apply(gradients: sum, maxGradientNorm: maxGradientNorm, mirror: nil, zeroingGradients: false)
            arrived = 0
            round += 1
            condition.broadcast()
            return Round(update: lastUpdate, appliedHere: true)
        }
        while round == myRound {
            if shouldStop() { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return Round(update: lastUpdate, appliedHere: false)
    }
}
