// Single-thread timing of the two hot paths of an A3C worker, for `a3c bench nn`.
//
//   acting step     one frame -> pi, V, next LSTM state, recorded into a rollout slot (as in training)
//   rollout update  T = 30 steps: zeroGradients + backwardRecorded (the trainer's path: backward only, on
//                   the activations recorded while acting) + clip by global norm 40 + Adam step
//   recomputed      the same update with the forward pass recomputed (forwardBackwardRollout), for comparison
//                   with frameworks that recompute it (PyTorch: 44.6 ms on this project's machine)
//
// Times are medians over the measured iterations (robust to other processes on a shared machine).
// GFLOP/s counts 2 flops per multiply-add of the matrix products only (see ActorCriticNetwork's cost model).
import Foundation

/// The benchmark's numbers; `Codable` with snake_case JSON keys (`act_step_us`, `rollout_update_ms`, ...).
public struct NetworkBenchmarkResult: Codable, Sendable, Hashable {
    public var actionCount: Int
    public var rolloutLength: Int
    /// Median time of one acting step, microseconds.
    public var actStepMicroseconds: Double
    /// Effective GFLOP/s of the acting step.
    public var actStepGFlops: Double
    /// Median time of one rollout update (backward on recorded activations + clip + Adam), milliseconds.
    public var rolloutUpdateMilliseconds: Double
    /// Effective GFLOP/s of the rollout update.
    public var rolloutUpdateGFlops: Double
    /// Median time of a rollout update that recomputes the forward pass (batched) first, milliseconds.
    public var rolloutUpdateRecomputedMilliseconds: Double
    /// Effective GFLOP/s of the recomputed rollout update.
    public var rolloutUpdateRecomputedGFlops: Double
    /// Number of trainable parameters.
    public var parameterCount: Int

    enum CodingKeys: String, CodingKey {
        case actionCount = "action_count", rolloutLength = "rollout_length"
        case actStepMicroseconds = "act_step_us", actStepGFlops = "act_step_gflops"
        case rolloutUpdateMilliseconds = "rollout_update_ms", rolloutUpdateGFlops = "rollout_update_gflops"
        case rolloutUpdateRecomputedMilliseconds = "rollout_update_recomputed_ms"
        case rolloutUpdateRecomputedGFlops = "rollout_update_recomputed_gflops"
        case parameterCount = "parameter_count"
    }
}

/// Times the actor-critic network on the calling thread.
public enum NetworkBenchmark {
    /// Runs for about `seconds` (at least one measured iteration of each kind) and reports medians.
    /// - actionCount: A (default 3: the basic scenario's left, right, attack).
    /// - rolloutLength: T (default 30, the seed's).
    public static func run(seconds: Double = 3, actionCount: Int = 3, rolloutLength: Int = 30,
                           seed: UInt64 = 1) -> NetworkBenchmarkResult {
        let network = ActorCriticNetwork(actionCount: actionCount, maxRolloutLength: rolloutLength, seed: seed)
        let adam = Adam(parameterCount: network.layout.totalCount)
        var rng = Xoshiro256StarStar(seed: seed &+ 1)
        let frameSize = ActorCriticNetwork.frameSize
        let frames = FloatBuffer(count: rolloutLength * frameSize)
        for i in 0..<frames.count { frames.pointer[i] = Float(rng.nextUnitDouble()) }
        let actions = (0..<rolloutLength).map { _ in Int(rng.next() % UInt64(actionCount)) }
        let returns = (0..<rolloutLength).map { _ in Float(rng.nextUniform(-1, 1)) }
        let advantages = (0..<rolloutLength).map { _ in Float(rng.nextUniform(-1, 1)) }
        let clock = ContinuousClock()
        func microseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) * 1e-12
        }

        var actTimes: [Double] = [], updateTimes: [Double] = [], recomputedTimes: [Double] = []
        let start = clock.now
        var iteration = 0
        while iteration < 3 || microseconds(clock.now - start) < seconds * 1e6 {
            // A rollout of acting steps, recorded.
            var state = LSTMState()
            let initialState = state
            for t in 0..<rolloutLength {
                let before = clock.now
                _ = network.act(frame: frames.pointer + t * frameSize, state: &state, recordSlot: t)
                actTimes.append(microseconds(clock.now - before))
            }
            // The trainer's update: backward on the recording, clip, Adam.
            var before = clock.now
            network.zeroGradients()
            network.backwardRecorded(actions: actions, returns: returns, advantages: advantages)
            var norm = globalNorm(network.gradients)
            adam.step(parameters: network.parameters.pointer, gradients: network.gradients.pointer,
                      gradientScale: clipScale(norm: norm, maxNorm: 40))
            updateTimes.append(microseconds(clock.now - before))
            // The same with the forward recomputed.
            before = clock.now
            network.zeroGradients()
            network.forwardBackwardRollout(frames: frames.pointer, initialState: initialState, actions: actions,
                                           returns: returns, advantages: advantages)
            norm = globalNorm(network.gradients)
            adam.step(parameters: network.parameters.pointer, gradients: network.gradients.pointer,
                      gradientScale: clipScale(norm: norm, maxNorm: 40))
            recomputedTimes.append(microseconds(clock.now - before))
            iteration += 1
        }
        // The first iteration warms caches and allocators; drop it when there are more.
        if iteration > 1 {
            actTimes.removeFirst(rolloutLength); updateTimes.removeFirst(); recomputedTimes.removeFirst()
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let actUs = median(actTimes), updateUs = median(updateTimes), recomputedUs = median(recomputedTimes)
        let backwardFlops = network.backwardFlops(steps: rolloutLength)
        let forwardFlops = network.actingStepFlops * Double(rolloutLength)
        return NetworkBenchmarkResult(
            actionCount: actionCount, rolloutLength: rolloutLength,
            actStepMicroseconds: actUs, actStepGFlops: network.actingStepFlops / actUs * 1e-3,
            rolloutUpdateMilliseconds: updateUs / 1000, rolloutUpdateGFlops: backwardFlops / updateUs * 1e-3,
            rolloutUpdateRecomputedMilliseconds: recomputedUs / 1000,
            rolloutUpdateRecomputedGFlops: (forwardFlops + backwardFlops) / recomputedUs * 1e-3,
            parameterCount: network.layout.parameterCount)
    }
}
