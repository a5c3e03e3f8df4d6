import Foundation
import Algorithms
import NeuralCore
import ThreadSafety

/// APPO's learner (Petrenko et al. 2020, "Sample Factory", after IMPALA, Espeholt et al. 2018): one
/// thread that learns from the workers' rollouts while they play the next ones.
///
///     repeat
///         take the oldest rollout in the queue (played by a policy `lag` learner updates old)
///         drop it if lag > maxPolicyLag
///         for each of `ppo.epochs` passes, each of `ppo.minibatches` minibatches of its sequences:
///             replay the forward pass with the current parameters (pi, V)
///             V-trace targets v_t and advantages from pi / mu, rho and c truncated at 1
///             PPO's clipped loss against the behaviour policy mu, value clipped around the recorded V
///             one update of the global parameters
///     until stopped
///
/// Each worker owns two `RecordedRollout`s: it plays into one while the other waits here or is
/// learned; when both are here it waits (`exchange`). That bounds the lag: at most 2 x workers
/// rollouts are ever ahead of the learner. The lag is reported as `Perf/Policy Lag` (in updates).
final class APPOLearner {
    private let configuration: TrainingConfiguration
    private let replica: ParameterReplica
    private let replay: RolloutReplay
    private let statistics: TrainingStatistics
    private let coefficients: PPOLossCoefficients
    private var random: Xoshiro256StarStar
    /// Rollouts played and waiting, oldest first; and each worker's free ones.
    private var queue: [RecordedRollout] = []
    private var free: [[RecordedRollout]]
    private var owners: [ObjectIdentifier: Int] = [:]
    private let condition = NSCondition()
    private let updates = LockedValue(0)
    private var rows: [Int] = [], order: [Int]

    init(configuration: TrainingConfiguration, global: GlobalParameters, statistics: TrainingStatistics, actionCount: Int) {
        self.configuration = configuration
        self.statistics = statistics
        let e = configuration.envsPerWorker, t = configuration.rolloutLength
        replica = ParameterReplica(network: ActorCriticNetwork(actionCount: actionCount, maxSteps: t, maxRows: e,
                                                               seed: configuration.seed),
                                   global: global)
        replay = RolloutReplay(network: replica.network, environmentCount: e, stepCount: t)
        coefficients = configuration.ppo.lossCoefficients(configuration)
        random = Xoshiro256StarStar(seed: configuration.seed &+ 0xA5A5)
        free = Array(repeating: [], count: configuration.workers)
        order = Array(0..<e)
        rows.reserveCapacity(e)
    }

    /// Learner updates so far (the version of the policy a worker plays after it synchronises).
    var version: Int { updates.withLockedValue { $0 } }

    /// Worker `worker`'s two rollouts: the one it plays into first (returned) and a spare.
    func makeRollouts(worker: Int, environmentCount: Int, stepCount: Int) -> RecordedRollout {
        let rollouts = (0..<2).map { _ in RecordedRollout(environmentCount: environmentCount, stepCount: stepCount) }
        condition.lock()
        defer { condition.unlock() }
        for rollout in rollouts { owners[ObjectIdentifier(rollout)] = worker }
        free[worker].append(rollouts[1])
        return rollouts[0]
    }

    /// Queues a played rollout and returns the worker's free one (waiting while the learner holds
    /// both). nil if `shouldStop` turned true while waiting.
    func exchange(_ played: RecordedRollout, shouldStop: () -> Bool) -> RecordedRollout? {
        condition.lock()
        defer { condition.unlock() }
        let worker = owners[ObjectIdentifier(played)]!
        queue.append(played)
        condition.broadcast()
        while free[worker].isEmpty {
            if shouldStop() { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return free[worker].removeLast()
    }

    /// Learns until `shouldStop` returns true.
    func run(shouldStop: () -> Bool) throws {
        var consecutiveSkipped = 0
        while let rollout = next(shouldStop: shouldStop) {
            defer { release(rollout) }
            let lag = version - rollout.policyVersion
            guard lag <= configuration.ppo.maxPolicyLag else { continue }
            statistics.addPolicyLag(lag)
            let goOn = try RolloutReplay.forEachMinibatch(sequenceCount: rollout.environmentCount, epochs: configuration.ppo.epochs,
                                                          minibatches: configuration.ppo.minibatches, random: &random,
                                                          order: &order, rows: &rows) { rows in
                    if shouldStop() { return false }
                    replica.synchronize()
                    replica.zeroGradients()
                    let terms = replay.learn(rollout, rows: rows, targets: .vTrace(gamma: configuration.gamma),
                                             coefficients: coefficients)
                    let finite = terms.total.isFinite && terms.valueLoss.isFinite && terms.policyLoss.isFinite
                    let update = finite ? replica.applyGradients(maxGradientNorm: configuration.maxGradientNorm)
                        : SharedParameters.Update(gradientNorm: .nan, generation: nil)
                    if update.gradientNorm.isFinite && update.generation == nil { return false }  // the global parameters are gone
                    if update.gradientNorm.isFinite {
                        updates.withLockedValue { $0 += 1 }
                        statistics.addUpdate(valueLoss: terms.valueLoss, policyLoss: terms.policyLoss, entropy: terms.entropy,
                                             gradientNorm: update.gradientNorm)
                        statistics.addPPODiagnostics(clipFraction: terms.clipFraction, approximateKL: terms.approximateKL)
                        consecutiveSkipped = 0
                    } else {
                        statistics.addSkippedUpdate()
                        consecutiveSkipped += 1
                        if consecutiveSkipped >= Worker.maxConsecutiveSkippedUpdates {
                            throw TrainingError.diverged("the APPO learner produced \(consecutiveSkipped) non-finite updates in a row; none reached the global parameters, so the last checkpoint is good. Try a lower --learning-rate or --max-grad-norm")
                        }
                    }
                    return true
            }
            if !goOn { return }
        }
    }

    /// The oldest queued rollout; nil once `shouldStop` is true.
    private func next(shouldStop: () -> Bool) -> RecordedRollout? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if shouldStop() { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return queue.removeFirst()
    }

    /// Gives a learned (or dropped) rollout back to its worker.
    private func release(_ rollout: RecordedRollout) {
        condition.lock()
        defer { condition.unlock() }
        free[owners[ObjectIdentifier(rollout)]!].append(rollout)
        condition.broadcast()
    }
}
