import Foundation
import NeuralCore
import Telemetry
import ThreadSafety
import ViZDoom

/// Runs A3C: creates the global parameters and optimizer, starts one worker thread per
/// `configuration.workers`, and, on the calling thread, watches the budget, writes checkpoints and
/// shows progress until the budget is spent or `stopRequested` says stop.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let run: RunDirectory
    public let statistics: TrainingStatistics
    public let shared: SharedParameters
    public let actionCount: Int
    private let outputs: RunOutputs
    private let checkpoints: CheckpointStore
    private let makeEnvironment: (Int) throws -> Environment
    /// Scratch for `globalParameterNorm()`.
    private lazy var parameterSnapshot = FloatBuffer(count: shared.layout.totalCount)
    /// Frames at which this session started (for frames/s).
    private let startFrames: Int
    /// The checkpoint this session resumed from, if any.
    private let resumedFrom: URL?
    /// Held from before the run's first write until the trainer is released.
    private let runLock: RunLock
    /// Where the text output goes (progress, notes); nil for silence.
    public var log: ((String) -> Void)?
    /// Called about once a second with the progress line; nil for no progress display.
    public var progress: ((String) -> Void)?
    /// Set when training stops (before the final checkpoint): no update may reach the global
    /// parameters after it (a `--distributed` job's rank 0 answers "stop" from then on).
    public let stopping = StopFlag()

    /// A new run, or a resumed one (`resumeFrom` = the run directory).
    ///
    /// - makeEnvironment: environment index (worker * envsPerWorker + its environment number; -1 for a
    ///   probe) -> a new environment; nil means ViZDoom with the configuration's scenario and frame
    ///   skip (the product). Tests pass a small environment of their own.
    public init(configuration: TrainingConfiguration, resumeFrom: RunDirectory? = nil,
                log: ((String) -> Void)? = nil,
                makeEnvironment: ((Int) throws -> Environment)? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.log = log
        if let makeEnvironment {
            self.makeEnvironment = makeEnvironment
            let probe = try makeEnvironment(-1)
            actionCount = probe.actionCount
            probe.close()
        } else {
            // ViZDoom: one output per action; the actions' buttons are checked against the scenario's.
            actionCount = configuration.actions.count
            _ = try configuration.gameConfiguration(engineSeed: nil)
            self.makeEnvironment = { index in try configuration.makeEnvironment(index: index) }
            // One engine started and closed before anything is written: a scenario whose map, WAD
            // or settings the engine refuses fails here, once, with the engine's own message,
            // instead of in every worker after its restart backoff, and leaves no run directory.
            do { try configuration.makeEnvironment(index: 0).close() } catch {
                throw TrainingError.invalidOption("the engine cannot start scenario \(configuration.scenario): \(error)")
            }
        }

        let network = ActorCriticNetwork(actionCount: actionCount, maxSteps: 1, seed: configuration.seed)
        let optimizer: FlatOptimizer
        switch configuration.optimizer {
        case .adam: optimizer = Adam(parameterCount: network.layout.totalCount, learningRate: configuration.learningRate)
        case .rmsprop: optimizer = RMSProp(parameterCount: network.layout.totalCount, learningRate: configuration.learningRate)
        }
        shared = SharedParameters(layout: network.layout, initialParameters: network.parameters, optimizer: optimizer)

        if let resumeFrom {
            run = resumeFrom
            runLock = try RunLock(run: run)
            checkpoints = CheckpointStore(runDirectory: run.url, keep: configuration.keepCheckpoints)
            checkpoints.removeLeftovers()
            let (used, counters) = try checkpoints.restoreNewest(into: shared) { log?("warning: \($0)") }
            // Refused before anything is written (episodes.csv set aside, a TensorBoard event file).
            if let maxFrames = configuration.maxFrames, counters.frames >= maxFrames {
                throw TrainingError.invalidOption("the run already has \(counters.frames) frames and --max-frames \(maxFrames) is the run's total; pass a larger --max-frames, or a --max-minutes alone, to train more")
            }
            statistics = TrainingStatistics(restoring: counters)
            log?("resuming \(run.url.path) from \(used.lastPathComponent): \(counters.frames) frames, \(counters.episodes) episodes")
            resumedFrom = used
            do {
                let moved = try run.setAsideEpisodes(after: counters.episodes)
                if moved > 0 {
                    log?("episodes.csv: \(moved) rows logged after \(used.lastPathComponent) (their training was lost with the previous session) moved to \(RunDirectory.discardedEpisodesFile)")
                }
            } catch let error as TrainingError {
                throw error  // a malformed episodes.csv names itself and the fix
            } catch {
                throw TrainingError.unwritable(path: run.episodesURL.path, reason: "\(error)")
            }
        } else {
            run = try RunDirectory.create(for: configuration)
            runLock = try RunLock(run: run)
            checkpoints = CheckpointStore(runDirectory: run.url, keep: configuration.keepCheckpoints)
            statistics = TrainingStatistics()
            try run.writeConfiguration(configuration)
            resumedFrom = nil
        }
        startFrames = statistics.snapshot().frames
        outputs = try RunOutputs(run: run, configuration: configuration, statistics: statistics)
        outputs.log = log
        if let resumedFrom { outputs.sessionResumed(from: resumedFrom, frames: startFrames) }
    }

    /// Trains until the budget is spent or `stopRequested()` is true; always ends with a checkpoint
    /// and every engine closed. Returns the final counters.
    ///
    /// The calling thread keeps the run's cadence (the workers only play and learn): a TensorBoard
    /// summary every `logEveryEpisodes` episodes but at most `summariesPerSecond` a second, a checkpoint
    /// every `checkpointEveryEpisodes` episodes but at most one per `checkpointMinimumSeconds`, and the
    /// progress line once a second.
    @discardableResult
    public func train(stopRequested: @escaping () -> Bool = { false }) throws -> TrainingStatistics.Counters {
        let pool = WorkerPool(configuration: configuration, global: shared, statistics: statistics, reporter: outputs,
                              actionCount: actionCount, makeEnvironment: makeEnvironment)
        var nextProgress = Date()
        var stopReason = "budget reached"
        var lastCheckpoint = (episodes: statistics.snapshot().episodes, time: Date())
        var lastSummary = (episodes: lastCheckpoint.episodes, time: Date.distantPast)
        var writeFailure: String?
        while true {
            if pool.wait(seconds: 0.05) { stopReason = "all workers stopped"; break }
            if stopRequested() { stopReason = "interrupted"; break }
            if pool.stop.isSet { stopReason = "a worker failed"; break }
            if let failure = outputs.writeFailure { writeFailure = failure; stopReason = "the run directory cannot be written"; break }
            let counters = statistics.snapshot()
            if budgetReached(counters) { break }
            if configuration.learningRateSchedule != .constant {
                shared.setLearningRate(configuration.learningRate(atProgress: budgetProgress(counters)))
            }
            if counters.episodes / configuration.logEveryEpisodes > lastSummary.episodes / configuration.logEveryEpisodes,
               Date().timeIntervalSince(lastSummary.time) >= 1 / TrainingConfiguration.summariesPerSecond {
                lastSummary = (counters.episodes, Date())
                outputs.writeSummary(counters, parameterNorm: globalParameterNorm(), learningRate: shared.learningRate)
            }
            if counters.episodes / configuration.checkpointEveryEpisodes > lastCheckpoint.episodes / configuration.checkpointEveryEpisodes,
               Date().timeIntervalSince(lastCheckpoint.time) >= configuration.checkpointMinimumSeconds {
                lastCheckpoint = (counters.episodes, Date())
                do { try saveCheckpoint() } catch {
                    writeFailure = "checkpoint \(Self.reason(error))"; stopReason = "a checkpoint could not be written"; break
                }
            }
            if Date() >= nextProgress {
                progress?(progressLine(counters))
                nextProgress = Date(timeIntervalSinceNow: 1)
            }
        }
        stopping.set()
        pool.stopAndWait()
        let counters = statistics.snapshot()
        progress?(progressLine(counters))
        log?("stopping: \(stopReason)")
        // The final checkpoint. After a write failure it is still tried (a failure of one file
        // need not mean the next fails too); a checkpoint that cannot be written leaves the
        // previous ones as they were, since each is assembled aside and renamed into place.
        do { try saveCheckpoint() } catch {
            if writeFailure == nil { writeFailure = "checkpoint \(Self.reason(error))" }
        }
        outputs.close()
        // The learning curves as a picture (rolling-100 return and main metric against frames and time).
        if writeFailure == nil && outputs.writeFailure == nil && counters.episodes > 0 {
            do { try LearningCurves.writeRunCurve(runDirectory: run.url) } catch {
                log?("warning: could not draw \(LearningCurves.fileName): \(error)")
            }
        }
        if let failure = writeFailure ?? outputs.writeFailure {
            throw TrainingError.runDirectoryFailed(run: run.url.path, reason: failure,
                                                   lastCheckpoint: checkpoints.checkpoints().last?.path)
        }
        if let failure = pool.firstFailure { throw failure }
        return counters
    }

    /// Another rank's statistics and episodes (rank 0 of a `--distributed` job): they count towards
    /// the budget, the progress line, episodes.csv and TensorBoard as the local workers' do.
    func mergeRemote(_ delta: TrainingStatistics.Delta, episodes: [EpisodeReport]) {
        statistics.merge(delta)
        for episode in episodes { outputs.episodeFinished(episode) }
    }

    /// The global L2 norm of the global parameters (the seed's "Var Norm"), from a copy taken under
    /// the lock (one memcpy, as a worker's sync) and summed outside it.
    private func globalParameterNorm() -> Float {
        shared.copyParameters(into: parameterSnapshot)
        return globalNorm(parameterSnapshot)
    }

    /// The reason inside a checkpoint error (its path and the OS's words).
    private static func reason(_ error: Error) -> String {
        if case TrainingError.unwritable(_, let reason) = error { return reason }
        return "\(error)"
    }

    /// The share of the budget spent, 0 to 1: of `--max-frames` in frames, or of this session's time
    /// budget, whichever is further along.
    func budgetProgress(_ counters: TrainingStatistics.Counters) -> Double {
        var progress = 0.0
        if let maxFrames = configuration.maxFrames { progress = Double(counters.frames) / Double(maxFrames) }
        if let seconds = configuration.timeBudgetSeconds { progress = max(progress, statistics.sessionSeconds / seconds) }
        return min(1, progress)
    }

    private func budgetReached(_ counters: TrainingStatistics.Counters) -> Bool {
        if let maxFrames = configuration.maxFrames, counters.frames >= maxFrames { return true }
        if let seconds = configuration.timeBudgetSeconds, statistics.sessionSeconds >= seconds { return true }
        return false
    }

    private func saveCheckpoint() throws {
        let isBest = statistics.updateBest()
        let counters = statistics.snapshot()
        let saved = try checkpoints.save(shared: shared, counters: counters, isBest: isBest,
                                         metadata: ["a3c.scenario": configuration.scenario])
        outputs.checkpointSaved(saved, counters: counters)
    }

    /// "frames 123,456 (5,210/s) | episodes 1,234 | return(100) 45.2 | 01:23 elapsed, 03:37 left"
    func progressLine(_ counters: TrainingStatistics.Counters) -> String {
        let session = statistics.sessionSeconds
        let rate = session > 0 ? Double(counters.frames - startFrames) / session : 0
        let mean = TrainingStatistics.rollingMean(counters.recentReturns).map { String(format: "%.1f", $0) } ?? "-"
        var remaining: Double?
        if let seconds = configuration.timeBudgetSeconds { remaining = max(0, seconds - session) }
        if let maxFrames = configuration.maxFrames, rate > 0 {
            let byFrames = Double(max(0, maxFrames - counters.frames)) / rate
            remaining = min(remaining ?? byFrames, byFrames)
        }
        var line = "frames \(formatCount(counters.frames)) (\(formatCount(Int(rate)))/s) | episodes \(formatCount(counters.episodes)) | return(100) \(mean)"
        for (index, metric) in configuration.metrics.enumerated() {
            let values = (counters.recentMetrics ?? []).indices.contains(index) ? counters.recentMetrics![index] : []
            line += " | \(metric.columnName)(100) " + (values.isEmpty ? "-" : metric.formatted(mean: values.reduce(0, +) / Double(values.count)))
        }
        line += " | \(formatDuration(session)) elapsed"
        if let remaining { line += ", \(formatDuration(remaining)) left" }
        if counters.engineRestarts > 0 { line += " | engine restarts \(counters.engineRestarts)" }
        if counters.skippedUpdates > 0 { line += " | skipped updates \(counters.skippedUpdates)" }
        return line
    }
}

func formatCount(_ value: Int) -> String {
    let digits = String(abs(value))
    var out = ""
    for (i, character) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return value < 0 ? "-" + out : out
}

func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
        : String(format: "%02d:%02d", total / 60, total % 60)
}

