import Foundation
import ThreadSafety

/// Counters and running means shared by the workers and the trainer, behind one lock.
///
/// Workers report once per rollout (frames, update losses) and once per episode; the trainer reads
/// snapshots for the progress line, the logs and the checkpoints. Counters are cumulative over the
/// whole run, across resumes.
public final class TrainingStatistics: Sendable {
    /// What a checkpoint stores to continue the counters exactly.
    public struct Counters: Codable, Equatable, Sendable {
        public var frames = 0
        public var steps = 0
        public var episodes = 0
        public var updates = 0
        public var skippedUpdates = 0
        public var engineRestarts = 0
        /// Training wall time over all sessions of the run, in seconds.
        public var elapsedSeconds = 0.0
        /// The last (up to) 100 raw episode returns, oldest first.
        public var recentReturns: [Double] = []
        /// Per score metric of the run, its last (up to) 100 values, oldest first (nil in a
        /// checkpoint from before metrics).
        public var recentMetrics: [[Double]]? = nil
        public var bestRollingMean: Double?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case frames, steps, episodes, updates
            case skippedUpdates = "skipped_updates"
            case engineRestarts = "engine_restarts"
            case elapsedSeconds = "elapsed_seconds"
            case recentReturns = "recent_returns"
            case recentMetrics = "recent_metrics"
            case bestRollingMean = "best_rolling_mean"
        }
    }

    /// Means over the episodes and updates since the previous summary (the seed's TensorBoard values).
    public struct Summary: Sendable {
        public var reward = 0.0, length = 0.0, value = 0.0
        /// The mean return the agent learned from (scaled rewards plus any shaping).
        public var learningReturn = 0.0
        public var valueLoss = 0.0, policyLoss = 0.0, entropy = 0.0, gradientNorm = 0.0
        public var episodes = 0, updates = 0
        /// PPO and APPO: the mean clip fraction and approximate KL of their minibatches (`PPOLossTerms`),
        /// over `ppoMinibatches` of them.
        public var clipFraction = 0.0, approximateKL = 0.0, ppoMinibatches = 0
        /// APPO: the mean policy lag of the rollouts learned, in learner updates, over `lagSamples`.
        public var policyLag = 0.0, lagSamples = 0
        /// Per score metric, the mean over the episodes that have a value (nil if none has).
        public var metrics: [Double?] = []
        /// Per score metric, the sum and count behind `metrics`.
        var metricSums: [(sum: Double, count: Int)] = []
        public init() {}
    }

    public static let rollingWindow = 100

    /// What one process of a `--distributed` job adds to the job's statistics between two messages
    /// to rank 0: counter increments, the sums of the update statistics, and the workers' time.
    public struct Delta: Codable, Sendable, Equatable {
        public var frames = 0, steps = 0, updates = 0, skippedUpdates = 0, engineRestarts = 0
        /// Sums over the `updates` (rank 0 divides when it writes a summary).
        public var valueLoss = 0.0, policyLoss = 0.0, entropy = 0.0, gradientNorm = 0.0
        public var phases = WorkerPhases()
        public init() {}
    }

    /// What the lock guards.
    private struct State {
        var counters: Counters
        var pending = Summary()
        /// The workers' time, summed over workers, this session.
        var phases = WorkerPhases()
        /// The counters and phases when `takeDelta()` was last called.
        var reported: (counters: Counters, phases: WorkerPhases)?
    }
    private let state: LockedValue<State>
    private let sessionStart = Date()
    private let sessionStartElapsed: Double

    public init(restoring counters: Counters = Counters()) {
        state = LockedValue(State(counters: counters))
        sessionStartElapsed = counters.elapsedSeconds
    }

    /// Seconds of training in this session.
    public var sessionSeconds: Double { Date().timeIntervalSince(sessionStart) }

    /// A consistent copy of the counters, with the elapsed time brought up to now.
    public func snapshot() -> Counters {
        state.withLockedValue { state in
            var copy = state.counters
            copy.elapsedSeconds = sessionStartElapsed + Date().timeIntervalSince(sessionStart)
            return copy
        }
    }

    /// The workers' time by phase, summed over workers, since the session started.
    public func phaseTotals() -> WorkerPhases { state.withLockedValue { $0.phases } }

    /// The mean raw return of the last 100 episodes (nil before the first episode).
    public static func rollingMean(_ returns: [Double]) -> Double? {
        returns.isEmpty ? nil : returns.reduce(0, +) / Double(returns.count)
    }

    /// A rollout of `steps` environment steps (`frames` engine tics) and the time its phases took.
    public func addRollout(frames: Int, steps: Int, phases: WorkerPhases = WorkerPhases()) {
        state.withLockedValue { state in
            state.counters.frames += frames
            state.counters.steps += steps
            state.phases = state.phases + phases
        }
    }

    /// - counted: whether this call is also an update of the global parameters (false for the workers
    ///   of a synchronous round but the one that applied it: their losses count, their update once).
    public func addUpdate(valueLoss: Float, policyLoss: Float, entropy: Float, gradientNorm: Float, counted: Bool = true) {
        state.withLockedValue { state in
            if counted { state.counters.updates += 1 }
            state.pending.valueLoss += Double(valueLoss)
            state.pending.policyLoss += Double(policyLoss)
            state.pending.entropy += Double(entropy)
            state.pending.gradientNorm += Double(gradientNorm)
            state.pending.updates += 1
        }
    }

    /// A PPO minibatch's diagnostics.
    public func addPPODiagnostics(clipFraction: Float, approximateKL: Float) {
        state.withLockedValue { state in
            state.pending.clipFraction += Double(clipFraction)
            state.pending.approximateKL += Double(approximateKL)
            state.pending.ppoMinibatches += 1
        }
    }

    /// The policy lag of a rollout APPO's learner learned from (`Perf/Policy Lag`).
    public func addPolicyLag(_ lag: Int) {
        state.withLockedValue { state in
            state.pending.policyLag += Double(lag)
            state.pending.lagSamples += 1
        }
    }

    /// An update of another rank, applied here (rank 0 of a `--distributed` job): so the run's update
    /// count is the global parameters' even when the rank's last report never arrives.
    public func addAppliedUpdate() { state.withLockedValue { $0.counters.updates += 1 } }

    public func addSkippedUpdate() { state.withLockedValue { $0.counters.skippedUpdates += 1 } }
    public func addEngineRestart() { state.withLockedValue { $0.counters.engineRestarts += 1 } }

    /// Records a finished episode; returns its 1-based number in the run and the counters after it.
    public func addEpisode(_ episode: EpisodeReport) -> (number: Int, counters: Counters) {
        state.withLockedValue { state in
            state.counters.episodes += 1
            // A non-finite return (a broken environment) is counted as an episode but kept out of the
            // means, so that it can neither poison the curves nor make the counters unserializable.
            if episode.rawReturn.isFinite && episode.meanValue.isFinite {
                Self.push(episode.rawReturn, to: &state.counters.recentReturns)
                state.pending.reward += episode.rawReturn
                state.pending.length += Double(episode.length)
                state.pending.value += episode.meanValue
                state.pending.learningReturn += episode.learningReturn
                state.pending.episodes += 1
            }
            var recent = state.counters.recentMetrics ?? []
            while recent.count < episode.metrics.count { recent.append([]) }
            while state.pending.metricSums.count < episode.metrics.count { state.pending.metricSums.append((0, 0)) }
            for (index, value) in episode.metrics.enumerated() {
                guard let value, value.isFinite else { continue }
                Self.push(value, to: &recent[index])
                state.pending.metricSums[index].sum += value
                state.pending.metricSums[index].count += 1
            }
            if !recent.isEmpty { state.counters.recentMetrics = recent }
            var copy = state.counters
            copy.elapsedSeconds = sessionStartElapsed + Date().timeIntervalSince(sessionStart)
            return (state.counters.episodes, copy)
        }
    }

    /// Appends to a rolling window of the last `rollingWindow` values.
    private static func push(_ value: Double, to window: inout [Double]) {
        window.append(value)
        if window.count > rollingWindow { window.removeFirst() }
    }

    /// What was added since the previous call (everything, the first time), and a reset of the
    /// update sums: what a rank of a `--distributed` job sends to rank 0.
    public func takeDelta() -> Delta {
        state.withLockedValue { state in
            let before = state.reported ?? (Counters(), WorkerPhases())
            var delta = Delta()
            delta.frames = state.counters.frames - before.counters.frames
            delta.steps = state.counters.steps - before.counters.steps
            delta.updates = state.pending.updates
            delta.skippedUpdates = state.counters.skippedUpdates - before.counters.skippedUpdates
            delta.engineRestarts = state.counters.engineRestarts - before.counters.engineRestarts
            delta.valueLoss = state.pending.valueLoss; delta.policyLoss = state.pending.policyLoss
            delta.entropy = state.pending.entropy; delta.gradientNorm = state.pending.gradientNorm
            delta.phases = state.phases - before.phases
            state.pending.valueLoss = 0; state.pending.policyLoss = 0; state.pending.entropy = 0
            state.pending.gradientNorm = 0; state.pending.updates = 0
            state.reported = (state.counters, state.phases)
            return delta
        }
    }

    /// Adds another process's `Delta` (rank 0 of a `--distributed` job): its frames count towards
    /// the budget and the progress line, its update statistics towards the next summary. (Its
    /// updates are counted as rank 0 applies them: `addAppliedUpdate()`.)
    public func merge(_ delta: Delta) {
        state.withLockedValue { state in
            state.counters.frames += delta.frames
            state.counters.steps += delta.steps
            state.counters.skippedUpdates += delta.skippedUpdates
            state.counters.engineRestarts += delta.engineRestarts
            state.pending.updates += delta.updates
            state.pending.valueLoss += delta.valueLoss; state.pending.policyLoss += delta.policyLoss
            state.pending.entropy += delta.entropy; state.pending.gradientNorm += delta.gradientNorm
            state.phases = state.phases + delta.phases
        }
    }

    /// The means since the last call, and a reset.
    public func takeSummary() -> Summary {
        state.withLockedValue { state in
            var summary = state.pending
            if summary.episodes > 0 {
                let n = Double(summary.episodes)
                summary.reward /= n; summary.length /= n; summary.value /= n; summary.learningReturn /= n
            }
            summary.metrics = summary.metricSums.map { $0.count > 0 ? $0.sum / Double($0.count) : nil }
            if summary.updates > 0 {
                let n = Double(summary.updates)
                summary.valueLoss /= n; summary.policyLoss /= n; summary.entropy /= n; summary.gradientNorm /= n
            }
            if summary.ppoMinibatches > 0 {
                summary.clipFraction /= Double(summary.ppoMinibatches); summary.approximateKL /= Double(summary.ppoMinibatches)
            }
            if summary.lagSamples > 0 { summary.policyLag /= Double(summary.lagSamples) }
            state.pending = Summary()
            return summary
        }
    }

    /// Updates the best rolling mean if the current one beats it; returns true if it did.
    public func updateBest() -> Bool {
        state.withLockedValue { state in
            guard state.counters.recentReturns.count >= min(Self.rollingWindow, 10),
                  let mean = Self.rollingMean(state.counters.recentReturns) else { return false }
            if let best = state.counters.bestRollingMean, best >= mean { return false }
            state.counters.bestRollingMean = mean
            return true
        }
    }
}
