import Foundation
import NeuralCore
import ThreadSafety
import ViZDoom

/// Plays episodes with a trained agent, without learning, on the run's scenario, actions, frame skip
/// and timeout: `a3c play` (watch it, write a GIF) and `a3c eval` (statistics to compare runs).
///
/// Episode i is the same however many threads play and in whatever order: before it starts, its
/// engine is seeded with `seed + i` and its action sampling with (`seed`, i). So an evaluation is
/// reproducible for a seed, and `--workers` only changes how long it takes.
public final class Player {
    public let configuration: TrainingConfiguration
    /// The checkpoint folder used.
    public let checkpoint: URL
    /// The checkpoint's parameters, loaded once and copied into each thread's network.
    private let parameters: FloatBuffer

    /// One episode's outcome.
    public struct Episode: Sendable, Equatable {
        /// Its number, 0-based.
        public var index: Int
        /// The scenario's own return (no scale, no shaping).
        public var rawReturn: Double
        /// Steps played.
        public var length: Int
        /// The run's score metrics, in `configuration.metrics` order.
        public var metrics: [Double?]
    }

    /// - source: a run directory (newest checkpoint, or `best/` with `preferBest`) or a checkpoint
    ///   folder inside a run's `checkpoints/`.
    public init(source: String, preferBest: Bool = false) throws {
        let url = URL(fileURLWithPath: source).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.notARunDirectory(url.path)
        }
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(CheckpointStore.modelFile).path) {
            // A checkpoint folder: the run is two levels up (run/checkpoints/ckpt-N).
            checkpoint = url
            (_, configuration) = try RunDirectory.open(url.deletingLastPathComponent().deletingLastPathComponent().path)
        } else {
            let (run, configuration) = try RunDirectory.open(url.path)
            self.configuration = configuration
            let store = CheckpointStore(runDirectory: run.url, keep: configuration.keepCheckpoints)
            if preferBest, FileManager.default.fileExists(atPath: store.best.path) {
                checkpoint = store.best
            } else if let newest = store.checkpoints().last {
                checkpoint = newest
            } else {
                throw TrainingError.noCheckpoint(store.directory.path)
            }
        }
        let network = ActorCriticNetwork(actionCount: configuration.actions.count, maxSteps: 1, seed: 0)
        do {
            try network.loadCheckpoint(from: checkpoint.appendingPathComponent(CheckpointStore.modelFile))
        } catch {
            throw TrainingError.incompatibleCheckpoint("\(checkpoint.path): \(error) (the run's actions are \(configuration.actions.count): \(configuration.actions))")
        }
        parameters = network.parameters
        // The game is checked once here, so that a scenario that cannot start fails before any thread does.
        _ = try configuration.gameConfiguration(engineSeed: nil)
    }

    /// Plays `episodes` episodes on `threads` threads (each with its own engine and network), most
    /// probable actions if `greedy`, else sampled from the policy; writes episode 0 as a GIF to
    /// `gif` if given. `onEpisode` is called as each episode ends (from the playing threads, one at
    /// a time). Returns the episodes in index order.
    public func play(episodes: Int, greedy: Bool, seed: UInt64, threads: Int = 1, gif: URL? = nil,
                     onEpisode: @escaping @Sendable (Episode) -> Void = { _ in }) throws -> [Episode] {
        precondition(episodes >= 1 && threads >= 1, "play: episodes and threads must be positive")
        let next = LockedValue(0)
        let results = LockedValue([Episode?](repeating: nil, count: episodes))
        let failure = LockedValue<Error?>(nil)
        let done = DispatchGroup()
        let reporting = LockedValue(())
        for thread in 0..<min(threads, episodes) {
            done.enter()
            // Long-lived threads of their own: an engine is tied to the life of the thread that starts it.
            let player = Thread { [self] in
                defer { done.leave() }
                do {
                    try playEpisodes(next: next, total: episodes, greedy: greedy, seed: seed, thread: thread, gif: gif) { episode in
                        results.withLockedValue { $0[episode.index] = episode }
                        reporting.withLockedValue { _ in onEpisode(episode) }
                    }
                } catch {
                    failure.withLockedValue { $0 = $0 ?? error }
                    next.withLockedValue { $0 = episodes }  // the other threads stop after their episode
                }
            }
            player.stackSize = 16 << 20
            player.start()
        }
        done.wait()
        if let error = failure.current { throw error }
        return results.current.compactMap { $0 }
    }

    /// One thread's share: takes episode numbers from `next` until `total`.
    private func playEpisodes(next: LockedValue<Int>, total: Int, greedy: Bool, seed: UInt64, thread: Int, gif: URL?,
                              finished: (Episode) -> Void) throws {
        let environment = try configuration.makeEnvironment(index: thread)
        defer { environment.close() }
        let network = ActorCriticNetwork(actionCount: configuration.actions.count, maxSteps: 1, seed: 0)
        network.parameters.copy(from: parameters)
        let frame = UnsafeMutableBufferPointer<Float>.allocate(capacity: ActorCriticNetwork.frameSize)
        defer { frame.deallocate() }
        let state = LSTMStates(count: 1)
        var gifFrames: [UInt8] = []
        var gifFrameCount = 0
        while true {
            let index = next.withLockedValue { value -> Int in defer { value += 1 }; return value }
            guard index < total else { return }
            try environment.game.setSeed(UInt32(truncatingIfNeeded: seed &+ UInt64(index)))
            try environment.reset()
            var random = Xoshiro256StarStar(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
            state.resetAll()
            let recording = index == 0 && gif != nil
            var total = 0.0, length = 0, done = false
            while !done {
                try environment.observe(into: frame)
                if recording {
                    try environment.withRawScreen { screen, _, _ in
                        if let screen { gifFrames.append(contentsOf: screen); gifFrameCount += 1 }
                    }
                }
                let step = network.act(frame: frame.baseAddress!, states: state)
                let action = greedy ? step.mostProbableAction(row: 0)
                    : step.sampleAction(row: 0, uniform: Float(random.nextUnitDouble()))
                let outcome = try environment.step(action: action)
                total += outcome.reward
                length += 1
                done = outcome.finished
            }
            let metrics = try environment.finishedEpisodeMetrics()
            if recording, let gif, gifFrameCount > 0 {
                try writeEpisodeGIF(frames: gifFrames, frameCount: gifFrameCount, height: environment.game.screenHeight,
                                    width: environment.game.screenWidth, frameSkip: configuration.frameSkip, to: gif)
            }
            finished(Episode(index: index, rawReturn: total, length: length, metrics: metrics))
        }
    }
}

/// Statistics of played episodes: what `a3c eval` prints (and writes as JSON).
public struct Evaluation: Codable, Sendable, Equatable {
    public var scenario: String
    public var checkpoint: String
    public var greedy: Bool
    public var seed: UInt64
    public var episodes: Int
    public var meanReturn: Double
    /// Sample standard deviation (n - 1) of the raw returns.
    public var stdReturn: Double
    public var minReturn: Double
    public var maxReturn: Double
    /// The 95% confidence interval of the mean return, mean +- 1.96 std / sqrt(n) (normal approximation).
    public var confidenceLow: Double
    public var confidenceHigh: Double
    public var meanLength: Double
    /// Each score metric's mean over the episodes that have a value (for 0/1 metrics: the share).
    public var metrics: [String: Double]
    /// Every episode in the order played (`episode_list`), so that two runs or two algorithms can be
    /// compared episode by episode (a t-test, a bootstrap interval); nil in evaluations written
    /// before it was kept.
    public var episodeList: [EvaluatedEpisode]?

    /// One episode of an evaluation: its raw return, its length in steps, and each score metric by
    /// column name (null where it could not be computed).
    public struct EvaluatedEpisode: Codable, Sendable, Equatable {
        public var rawReturn: Double
        public var length: Int
        public var metrics: [String: Double?]

        enum CodingKeys: String, CodingKey {
            case rawReturn = "return", length, metrics
        }
    }

    enum CodingKeys: String, CodingKey {
        case scenario, checkpoint, greedy, seed, episodes, metrics
        case episodeList = "episode_list"
        case meanReturn = "mean_return", stdReturn = "std_return", minReturn = "min_return", maxReturn = "max_return"
        case confidenceLow = "ci95_low", confidenceHigh = "ci95_high", meanLength = "mean_length"
    }

    public init(episodes played: [Player.Episode], configuration: TrainingConfiguration, checkpoint: URL, greedy: Bool,
                seed: UInt64) {
        precondition(!played.isEmpty, "an evaluation needs at least one episode")
        let returns = played.map(\.rawReturn), n = Double(played.count)
        let mean = returns.reduce(0, +) / n
        let variance = played.count > 1 ? returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        let halfWidth = 1.96 * variance.squareRoot() / n.squareRoot()
        scenario = configuration.scenario
        self.checkpoint = checkpoint.path
        self.greedy = greedy
        self.seed = seed
        episodes = played.count
        meanReturn = mean
        stdReturn = variance.squareRoot()
        minReturn = returns.min()!
        maxReturn = returns.max()!
        confidenceLow = mean - halfWidth
        confidenceHigh = mean + halfWidth
        meanLength = Double(played.reduce(0) { $0 + $1.length }) / n
        var metrics: [String: Double] = [:]
        for (index, metric) in configuration.metrics.enumerated() {
            let values = played.compactMap { $0.metrics.indices.contains(index) ? $0.metrics[index] : nil }
            if !values.isEmpty { metrics[metric.columnName] = values.reduce(0, +) / Double(values.count) }
        }
        self.metrics = metrics
        episodeList = played.map { episode in
            var values: [String: Double?] = [:]
            for (index, metric) in configuration.metrics.enumerated() {
                values[metric.columnName] = episode.metrics.indices.contains(index) ? episode.metrics[index] : nil
            }
            return EvaluatedEpisode(rawReturn: episode.rawReturn, length: episode.length, metrics: values)
        }
    }
}
