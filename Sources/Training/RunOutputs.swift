import Foundation
import Telemetry
import ThreadSafety

/// Writes what the workers report into the run directory: `episodes.csv` on every episode and
/// worker 0's GIFs (called from worker threads), and the TensorBoard summaries the trainer asks for
/// (the seed's tags, plus throughput). The writers are thread-safe.
final class RunOutputs: WorkerReporter {
    private let run: RunDirectory
    private let configuration: TrainingConfiguration
    private let statistics: TrainingStatistics
    private let tensorBoard: TensorBoardWriter
    /// episodes.csv (nil once closed); its lock also orders the episodes (see `episodeFinished`).
    private let episodes: LockedValue<CSVWriter?>
    /// Frames and time of the previous summary (for frames/s).
    private let throughput: LockedValue<(frames: Int, time: Date)>
    /// When the last GIF was claimed.
    private let lastGIF = LockedValue<Date?>(nil)
    /// The run-wide number (episodes.csv's episode column) of the last episode of rank 0's worker
    /// 0, the one that records GIFs: a GIF is named by it, so a resumed session (whose workers
    /// count their episodes from 0 again) adds GIFs instead of replacing the earlier ones.
    private let lastGIFWorkerEpisode = LockedValue(0)
    private let failures = LockedValue<[String]>([])
    var log: ((String) -> Void)?

    /// The first write into the run directory that failed (episodes.csv, TensorBoard, a GIF), as
    /// "<file>: <reason>". The trainer polls it and stops: a full disk or a read-only directory
    /// would also stop the next checkpoint, so training on would only burn time that cannot be kept.
    var writeFailure: String? { failures.withLockedValue { $0.first } }

    private func recordFailure(_ file: URL, _ error: Error) {
        failures.withLockedValue { $0.append("\(file.lastPathComponent): \(error)") }
    }

    init(run: RunDirectory, configuration: TrainingConfiguration, statistics: TrainingStatistics) throws {
        self.run = run
        self.configuration = configuration
        self.statistics = statistics
        do {
            tensorBoard = try TensorBoardWriter(logDirectory: run.url)
            episodes = LockedValue<CSVWriter?>(try CSVWriter(url: run.episodesURL,
                                                 header: RunDirectory.episodesHeader(metrics: configuration.metrics,
                                                                                     distributed: configuration.distributed,
                                                                                     shaped: configuration.rewardShaping != nil)))
        } catch {
            throw TrainingError.unwritable(path: run.url.path, reason: "\(error)")
        }
        let counters = statistics.snapshot()
        throughput = LockedValue((counters.frames, Date()))
        if counters.frames == 0 {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let json = (try? encoder.encode(configuration)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            try? tensorBoard.addText(tag: "config", text: "```\n\(json)\n```", step: 0)
        }
    }

    func episodeFinished(_ episode: EpisodeReport) {
        // Counting the episode and appending its row happen under one lock, so that rows reach
        // episodes.csv in episode order and the frame column never goes back.
        episodes.withLockedValue { episodes in
            // After `close()` (a distributed job's other ranks may still report while rank 0 ends):
            // the run's counters are saved already, so the episode is not counted either.
            guard let episodes else { return }
            let (number, counters) = statistics.addEpisode(episode)
            if episode.rank == 0 && episode.worker == 0 { lastGIFWorkerEpisode.withLockedValue { $0 = number } }
            var row = configuration.distributed ? [String(episode.rank)] : []
            row += [String(episode.worker), String(number), String(counters.frames),
                       String(format: "%.3f", counters.elapsedSeconds),
                       String(format: "%g", episode.rawReturn), String(episode.length)]
            for index in configuration.metrics.indices {
                row.append(episode.metrics.indices.contains(index) ? episode.metrics[index].map { String(format: "%g", $0) } ?? "" : "")
            }
            if configuration.rewardShaping != nil { row.append(String(format: "%g", episode.learningReturn)) }
            do { try episodes.append(row: row) } catch { recordFailure(run.episodesURL, error) }
        }
    }

    /// The seed's eight tags at step = frames, plus throughput, the learning rate and robustness counters: the means
    /// since the previous summary. `parameterNorm` is the global parameters' norm ("Var Norm").
    func writeSummary(_ counters: TrainingStatistics.Counters, parameterNorm: Float, learningRate: Float) {
        let summary = statistics.takeSummary()
        let framesPerSecond = throughput.withLockedValue { last -> Double in
            let now = Date()
            let seconds = now.timeIntervalSince(last.time)
            defer { last = (counters.frames, now) }
            return seconds > 0 ? Double(counters.frames - last.frames) / seconds : 0
        }
        var scalars: [(tag: String, value: Double)] = [
            ("Perf/Reward", summary.reward),
            ("Perf/Length", summary.length),
            ("Perf/Value", summary.value),
            ("Perf/Rolling Reward (100)", TrainingStatistics.rollingMean(counters.recentReturns) ?? 0),
            ("charts/frames_per_second", framesPerSecond),
            ("charts/episodes", Double(counters.episodes)),
            ("charts/engine_restarts", Double(counters.engineRestarts)),
            ("charts/skipped_updates", Double(counters.skippedUpdates)),
            ("Losses/Var Norm", Double(parameterNorm)),
            ("charts/learning_rate", Double(learningRate)),
        ]
        if configuration.rewardShaping != nil { scalars.append(("Perf/Shaped Return", summary.learningReturn)) }
        for (index, metric) in configuration.metrics.enumerated() where index < summary.metrics.count {
            if let mean = summary.metrics[index] { scalars.append((metric.tensorBoardTag, mean)) }
        }
        if summary.updates > 0 {
            scalars += [("Losses/Value Loss", summary.valueLoss), ("Losses/Policy Loss", summary.policyLoss),
                        ("Losses/Entropy", summary.entropy), ("Losses/Grad Norm", summary.gradientNorm)]
        }
        if summary.ppoMinibatches > 0 {
            scalars += [("Losses/Clip Fraction", summary.clipFraction), ("Losses/Approx KL", summary.approximateKL)]
        }
        if summary.lagSamples > 0 { scalars.append(("Perf/Policy Lag", summary.policyLag)) }
        do { try tensorBoard.addScalars(scalars, step: counters.frames) } catch {
            recordFailure(tensorBoard.url, error)
        }
    }

    func shouldRecordGIF(worker: Int, localEpisode: Int) -> Bool {
        // (Only rank 0's workers report here directly; other ranks' report no GIFs.)
        guard worker == 0, configuration.gifEveryEpisodes > 0, localEpisode % configuration.gifEveryEpisodes == 0 else { return false }
        // At most one GIF per gifMinimumSeconds (the first claim always succeeds).
        return lastGIF.withLockedValue { last in
            let now = Date()
            if let previous = last, now.timeIntervalSince(previous) < configuration.gifMinimumSeconds { return false }
            last = now
            return true
        }
    }

    func episodeGIF(worker: Int, frames: [UInt8], frameCount: Int, height: Int, width: Int) {
        let number = lastGIFWorkerEpisode.current  // this episode's: it was reported just before
        let url = run.gifsURL.appendingPathComponent(String(format: "episode_%06d_worker%d.gif", number, worker))
        do {
            try FileManager.default.createDirectory(at: run.gifsURL, withIntermediateDirectories: true)
            try writeEpisodeGIF(frames: frames, frameCount: frameCount, height: height, width: width,
                                frameSkip: configuration.frameSkip, to: url)
        } catch {
            recordFailure(url, error)  // GIFWriter removed its temporary file; no partial GIF exists
        }
    }

    func note(_ message: String) { log?(message) }

    func checkpointSaved(_ url: URL, counters: TrainingStatistics.Counters) {
        do { try tensorBoard.flush() } catch { recordFailure(tensorBoard.url, error) }
        do { try episodes.withLockedValue { try $0?.flush() } } catch { recordFailure(run.episodesURL, error) }
    }

    /// Marks a resumed session in TensorBoard at the checkpoint's step, so points that a crashed
    /// session logged after that checkpoint are hidden (see `TensorBoardWriter.addSessionStart`).
    func sessionResumed(from checkpoint: URL, frames: Int) {
        do { try tensorBoard.addSessionStart(step: frames, checkpointPath: checkpoint.path) } catch {
            recordFailure(tensorBoard.url, error)
        }
    }

    func close() {
        try? tensorBoard.close()
        episodes.withLockedValue { episodes in
            try? episodes?.close()
            episodes = nil
        }
    }
}

/// Writes GRAY8 frames as a looping GIF at the game's real-time speed (35 tics/s / frame skip),
/// scaled 2x so that 160x120 frames are comfortable to watch.
func writeEpisodeGIF(frames: [UInt8], frameCount: Int, height: Int, width: Int, frameSkip: Int, to url: URL) throws {
    let framesPerSecond = 35.0 / Double(frameSkip)
    let writer = try GIFWriter(url: url, width: width, height: height, pixelFormat: .gray8,
                               framesPerSecond: framesPerSecond, scale: 2)
    let size = width * height
    try frames.withUnsafeBufferPointer { all in
        for index in 0..<frameCount {
            try writer.append(frame: UnsafeBufferPointer(rebasing: all[index * size..<(index + 1) * size]))
        }
    }
    try writer.finish()
}

