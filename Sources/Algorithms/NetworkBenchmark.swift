// Single-thread timing of the hot paths of an A3C worker acting on E environments at once, for
// `a3c bench nn --batch E`:
//
//   acting step   E frames -> pi, V, next LSTM states, recorded into the rollout's slots (as in training)
//   backward      the rollout's backward pass over T * E recorded slots (the trainer's path: backward
//                 only, on the activations recorded while acting)
//   optimizer     the global norm of the gradients, clipping at 40 and one Adam step over all parameters
//
// Per environment step: the acting step divided by E, and the update (backward + optimizer) divided by
// T * E. Times are medians over the measured iterations (robust to other processes on a shared
// machine). GFLOP/s counts 2 flops per multiply-add of the matrix products only (see
// ActorCriticNetwork's cost model), and is set beside the core's peak measured in the same run
// (`nk_fma_peak_gflops`: vector FMAs in registers at the instruction set in use).
import Foundation
import NeuralCore

/// The benchmark's numbers; `Codable` with snake_case JSON keys (`act_step_us`, `update_per_step_us`, ...).
public struct NetworkBenchmarkResult: Codable, Sendable, Hashable {
    public var actionCount: Int
    public var rolloutLength: Int
    /// E, environments acted on together.
    public var batch: Int
    /// Median time of one acting step of E rows, microseconds.
    public var actStepMicroseconds: Double
    /// The acting step's cost per environment, actStepMicroseconds / E.
    public var actPerEnvironmentMicroseconds: Double
    /// Effective GFLOP/s of the acting step.
    public var actStepGFlops: Double
    /// Median time of the backward pass over T * E recorded slots, milliseconds.
    public var backwardMilliseconds: Double
    /// Effective GFLOP/s of the backward pass.
    public var backwardGFlops: Double
    /// Median time of the gradient norm, clipping and Adam step, milliseconds.
    public var optimizerMilliseconds: Double
    /// (backward + optimizer) / (T * E): the update's cost per environment step, microseconds.
    public var updatePerStepMicroseconds: Double
    /// Number of trainable parameters.
    public var parameterCount: Int
    /// Floating-point operations of the acting step, per environment (2 per multiply-add).
    public var actingFlopsPerStep: Double
    /// Floating-point operations of the backward pass, per environment step (per recorded slot).
    public var learningFlopsPerStep: Double
    /// The instruction set the network's kernels ran with: "avx512", "avx2" or "scalar".
    public var instructionSet: String
    /// The core's fused multiply-add peak at that instruction set, measured in the same run, GFLOP/s.
    public var peakGFlops: Double
    /// The acting step's and the backward pass's GFLOP/s as fractions of `peakGFlops`.
    public var actingFractionOfPeak: Double
    public var learningFractionOfPeak: Double

    enum CodingKeys: String, CodingKey {
        case actionCount = "action_count", rolloutLength = "rollout_length", batch
        case actStepMicroseconds = "act_step_us", actPerEnvironmentMicroseconds = "act_per_env_us"
        case actStepGFlops = "act_step_gflops"
        case backwardMilliseconds = "backward_ms", backwardGFlops = "backward_gflops"
        case optimizerMilliseconds = "optimizer_ms"
        case updatePerStepMicroseconds = "update_per_step_us"
        case parameterCount = "parameter_count"
        case actingFlopsPerStep = "acting_flops_per_step", learningFlopsPerStep = "learning_flops_per_step"
        case instructionSet = "instruction_set", peakGFlops = "peak_gflops"
        case actingFractionOfPeak = "acting_fraction_of_peak", learningFractionOfPeak = "learning_fraction_of_peak"
    }
}

/// Times the actor-critic network on the calling thread.
public enum NetworkBenchmark {
    /// Runs for about `seconds` (at least three measured rollouts) and reports medians.
    /// - actionCount: A (default 3: the basic scenario's left, right, attack).
    /// - rolloutLength: T (default 30, the seed's).
    /// - batch: E, environments acted on together (default 1).
    public static func run(seconds: Double = 3, actionCount: Int = 3, rolloutLength: Int = 30, batch: Int = 1,
                           seed: UInt64 = 1) -> NetworkBenchmarkResult {
        let network = ActorCriticNetwork(actionCount: actionCount, maxSteps: rolloutLength, maxRows: batch, seed: seed)
        let adam = Adam(parameterCount: network.layout.totalCount)
        var rng = Xoshiro256StarStar(seed: seed &+ 1)
        let frameSize = ActorCriticNetwork.frameSize
        let frames = FloatBuffer(count: rolloutLength * batch * frameSize)
        for i in 0..<frames.count { frames.pointer[i] = Float(rng.nextUnitDouble()) }
        let slots = rolloutLength * batch
        let actions = (0..<slots).map { _ in Int(rng.next() % UInt64(actionCount)) }
        let returns = (0..<slots).map { _ in Float(rng.nextUniform(-1, 1)) }
        let advantages = (0..<slots).map { _ in Float(rng.nextUniform(-1, 1)) }
        let states = LSTMStates(count: batch)
        let rows = Array(0..<batch)
        let clock = ContinuousClock()
        func microseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) * 1e-12
        }

        var actTimes: [Double] = [], backwardTimes: [Double] = [], optimizerTimes: [Double] = []
        let start = clock.now
        var iteration = 0
        while iteration < 4 || microseconds(clock.now - start) < seconds * 1e6 {
            // A rollout of acting steps, recorded.
            states.resetAll()
            for t in 0..<rolloutLength {
                let before = clock.now
                network.act(frames: frames.pointer + t * batch * frameSize, states: states, rows: rows, record: true)
                actTimes.append(microseconds(clock.now - before))
            }
            // The trainer's update: backward on the recording, then clip and Adam.
            var before = clock.now
            network.gradients.zero()
            network.backwardRecorded(actions: actions, returns: returns, advantages: advantages)
            backwardTimes.append(microseconds(clock.now - before))
            before = clock.now
            let norm = globalNorm(network.gradients)
            adam.step(parameters: network.parameters.pointer, gradients: network.gradients.pointer,
                      gradientScale: clipScale(norm: norm, maxNorm: 40))
            optimizerTimes.append(microseconds(clock.now - before))
            iteration += 1
        }
        // The first rollout warms caches and allocators; drop it.
        actTimes.removeFirst(rolloutLength); backwardTimes.removeFirst(); optimizerTimes.removeFirst()
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let actUs = median(actTimes), backwardUs = median(backwardTimes), optimizerUs = median(optimizerTimes)
        let instructionSet = InstructionSet.current
        let peak = instructionSet.measuredPeakGFlops()
        let actGFlops = network.actingStepFlops * Double(batch) / actUs * 1e-3
        let backwardGFlops = network.backwardFlops(slots: slots) / backwardUs * 1e-3
        return NetworkBenchmarkResult(
            actionCount: actionCount, rolloutLength: rolloutLength, batch: batch,
            actStepMicroseconds: actUs, actPerEnvironmentMicroseconds: actUs / Double(batch),
            actStepGFlops: actGFlops,
            backwardMilliseconds: backwardUs / 1000, backwardGFlops: backwardGFlops,
            optimizerMilliseconds: optimizerUs / 1000,
            updatePerStepMicroseconds: (backwardUs + optimizerUs) / Double(slots),
            parameterCount: network.layout.parameterCount,
            actingFlopsPerStep: network.actingStepFlops, learningFlopsPerStep: network.backwardFlops(slots: 1),
            instructionSet: instructionSet.rawValue, peakGFlops: peak,
            actingFractionOfPeak: actGFlops / peak, learningFractionOfPeak: backwardGFlops / peak)
    }
}
