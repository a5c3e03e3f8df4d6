import Foundation
import NeuralCore
import ViZDoom

/// Plays episodes with a trained agent from a checkpoint, on the run's scenario and frame skip.
public final class Player {
    public let configuration: TrainingConfiguration
    /// The checkpoint folder used.
    public let checkpoint: URL
    private let network: ActorCriticNetwork

    public struct Result {
        public let returns: [Double]
        public var mean: Double { returns.reduce(0, +) / Double(returns.count) }
        public var standardDeviation: Double {
            let mean = self.mean
            return (returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)).squareRoot()
        }
        public var minimum: Double { returns.min() ?? 0 }
        public var maximum: Double { returns.max() ?? 0 }
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
        let actionCount = try DoomEnvironment.actionCount(scenario: configuration.scenario)
        network = ActorCriticNetwork(actionCount: actionCount, maxSteps: 1, seed: 0)
        do {
            try network.loadCheckpoint(from: checkpoint.appendingPathComponent(CheckpointStore.modelFile))
        } catch {
            throw TrainingError.incompatibleCheckpoint("\(checkpoint.path): \(error) (the scenario \(configuration.scenario) has \(actionCount) actions)")
        }
    }

    /// Plays `episodes` episodes; `onEpisode(index, rawReturn, length)` after each one.
    public func play(episodes: Int, greedy: Bool, seed: UInt64, gif: URL?,
                     onEpisode: (Int, Double, Int) -> Void = { _, _, _ in }) throws -> Result {
        var game = GameConfiguration(scenario: configuration.scenario)
        game.seed = UInt32(truncatingIfNeeded: seed)
        let environment = try DoomEnvironment(configuration: game, frameSkip: configuration.frameSkip)
        defer { environment.close() }
        var random = Xoshiro256StarStar(seed: seed)
        let frame = UnsafeMutableBufferPointer<Float>.allocate(capacity: ActorCriticNetwork.frameSize)
        defer { frame.deallocate() }
        let state = LSTMStates(count: 1)
        var returns: [Double] = []
        var gifFrames: [UInt8] = []
        var gifFrameCount = 0
        for episode in 0..<episodes {
            try environment.reset()
            state.resetAll()
            var total = 0.0
            var length = 0
            var finished = false
            while !finished {
                try environment.observe(into: frame)
                if episode == 0 && gif != nil {
                    try environment.withRawScreen { screen, _, _ in
                        if let screen { gifFrames.append(contentsOf: screen); gifFrameCount += 1 }
                    }
                }
                let step = network.act(frame: frame.baseAddress!, states: state)
                let action = greedy ? step.mostProbableAction(row: 0) : step.sampleAction(row: 0, uniform: Float(random.nextUnitDouble()))
                let outcome = try environment.step(action: action)
                total += outcome.reward
                length += 1
                finished = outcome.finished
            }
            returns.append(total)
            onEpisode(episode, total, length)
            if episode == 0, let gif, gifFrameCount > 0 {
                try writeEpisodeGIF(frames: gifFrames, frameCount: gifFrameCount, height: environment.game.screenHeight,
                                    width: environment.game.screenWidth, frameSkip: configuration.frameSkip, to: gif)
            }
        }
        return Result(returns: returns)
    }
}
