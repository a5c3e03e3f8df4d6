import Foundation

/// Counters and running means shared by the workers and the trainer, behind one lock.
///
/// Workers report once per rollout (frames, update losses) and once per episode; the trainer reads
/// snapshots for the progress line, the logs and the checkpoints. Counters are cumulative over the
/// whole run, across resumes.
public final class TrainingStatistics: @unchecked Sendable {
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

    private let lock = NSLock()
    private var counters: Counters
    private var pending = Summary()
    private var sessionStart = Date()
    private let sessionStartElapsed: Double

    public init(restoring counters: Counters = Counters()) {
        self.counters = counters
        sessionStartElapsed = counters.elapsedSeconds
    }

    /// Seconds of training in this session.
    public var sessionSeconds: Double { Date().timeIntervalSince(sessionStart) }

    /// A consistent copy of the counters, with the elapsed time brought up to now.
    public func snapshot() -> Counters {
        lock.withLock {
            var copy = counters
            copy.elapsedSeconds = sessionStartElapsed + Date().timeIntervalSince(sessionStart)
            return copy
        }
    }

    /// The mean raw return of the last 100 episodes (nil before the first episode).
    public static func rollingMean(_ returns: [Double]) -> Double? {
        returns.isEmpty ? nil : returns.reduce(0, +) / Double(returns.count)
    }

    public func addRollout(frames: Int, steps: Int) {
        lock.withLock {
            counters.frames += frames
            counters.steps += steps
        }
    }

    public func addUpdate(valueLoss: Float, policyLoss: Float, entropy: Float, gradientNorm: Float) {
        lock.withLock {
            counters.updates += 1
            pending.valueLoss += Double(valueLoss)
            pending.policyLoss += Double(policyLoss)
            pending.entropy += Double(entropy)
            pending.gradientNorm += Double(gradientNorm)
            pending.updates += 1
        }
    }

    public func addSkippedUpdate() { lock.withLock { counters.skippedUpdates += 1 } }
    public func addEngineRestart() { lock.withLock { counters.engineRestarts += 1 } }

    /// Records a finished episode; returns its 1-based number in the run and the counters after it.
    public func addEpisode(rawReturn: Double, length: Int, meanValue: Double) -> (number: Int, counters: Counters) {
        lock.withLock {
            counters.episodes += 1
            // A non-finite return (a broken environment) is counted as an episode but kept out of the
            // means, so that it can neither poison the curves nor make the counters unserializable.
            if rawReturn.isFinite && meanValue.isFinite {
                counters.recentReturns.append(rawReturn)
                if counters.recentReturns.count > Self.rollingWindow { counters.recentReturns.removeFirst() }
                pending.reward += rawReturn
                pending.length += Double(length)
                pending.value += meanValue
                pending.episodes += 1
            }
            var copy = counters
            copy.elapsedSeconds = sessionStartElapsed + Date().timeIntervalSince(sessionStart)
            return (counters.episodes, copy)
        }
    }

    /// The means since the last call, and a reset.
    public func takeSummary() -> Summary {
        lock.withLock {
            var summary = pending
            if summary.episodes > 0 {
                let n = Double(summary.episodes)
                summary.reward /= n; summary.length /= n; summary.value /= n
            }
            if summary.updates > 0 {
                let n = Double(summary.updates)
                summary.valueLoss /= n; summary.policyLoss /= n; summary.entropy /= n; summary.gradientNorm /= n
            }
            pending = Summary()
            return summary
        }
    }

    /// Updates the best rolling mean if the current one beats it; returns true if it did.
    public func updateBest() -> Bool {
        lock.withLock {
            guard counters.recentReturns.count >= min(Self.rollingWindow, 10),
                  let mean = Self.rollingMean(counters.recentReturns) else { return false }
            if let best = counters.bestRollingMean, best >= mean { return false }
            counters.bestRollingMean = mean
            return true
        }
    }
}
