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
        public var bestRollingMean: Double?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case frames, steps, episodes, updates
            case skippedUpdates = "skipped_updates"
            case engineRestarts = "engine_restarts"
            case elapsedSeconds = "elapsed_seconds"
            case recentReturns = "recent_returns"
            case bestRollingMean = "best_rolling_mean"
        }
    }

    /// Means over the episodes and updates since the previous summary (the seed's TensorBoard values).
    public struct Summary: Sendable {
        public var reward = 0.0, length = 0.0, value = 0.0
        public var valueLoss = 0.0, policyLoss = 0.0, entropy = 0.0, gradientNorm = 0.0
        public var episodes = 0, updates = 0
        public init() {}
    }

    public static let rollingWindow = 100

    /// What the lock guards.
    private struct State {
        var counters: Counters
        var pending = Summary()
        /// The workers' time, summed over workers, this session.
        var phases = WorkerPhases()
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

    public func addUpdate(valueLoss: Float, policyLoss: Float, entropy: Float, gradientNorm: Float) {
        state.withLockedValue { state in
            state.counters.updates += 1
            state.pending.valueLoss += Double(valueLoss)
            state.pending.policyLoss += Double(policyLoss)
            state.pending.entropy += Double(entropy)
            state.pending.gradientNorm += Double(gradientNorm)
            state.pending.updates += 1
        }
    }

    public func addSkippedUpdate() { state.withLockedValue { $0.counters.skippedUpdates += 1 } }
    public func addEngineRestart() { state.withLockedValue { $0.counters.engineRestarts += 1 } }

    /// Records a finished episode; returns its 1-based number in the run and the counters after it.
    public func addEpisode(rawReturn: Double, length: Int, meanValue: Double) -> (number: Int, counters: Counters) {
        state.withLockedValue { state in
            state.counters.episodes += 1
            // A non-finite return (a broken environment) is counted as an episode but kept out of the
            // means, so that it can neither poison the curves nor make the counters unserializable.
            if rawReturn.isFinite && meanValue.isFinite {
                state.counters.recentReturns.append(rawReturn)
                if state.counters.recentReturns.count > Self.rollingWindow { state.counters.recentReturns.removeFirst() }
                state.pending.reward += rawReturn
                state.pending.length += Double(length)
                state.pending.value += meanValue
                state.pending.episodes += 1
            }
            var copy = state.counters
            copy.elapsedSeconds = sessionStartElapsed + Date().timeIntervalSince(sessionStart)
            return (state.counters.episodes, copy)
        }
    }

    /// The means since the last call, and a reset.
    public func takeSummary() -> Summary {
        state.withLockedValue { state in
            var summary = state.pending
            if summary.episodes > 0 {
                let n = Double(summary.episodes)
                summary.reward /= n; summary.length /= n; summary.value /= n
            }
            if summary.updates > 0 {
                let n = Double(summary.updates)
                summary.valueLoss /= n; summary.policyLoss /= n; summary.entropy /= n; summary.gradientNorm /= n
            }
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
