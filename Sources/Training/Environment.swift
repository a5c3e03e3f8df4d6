import Foundation
import NeuralCore
import ViZDoom

/// What a worker plays: discrete actions in, 84x84 frames and rewards out.
///
/// The product plays ViZDoom through `DoomEnvironment`; tests may use a small environment of their
/// own to check the algorithm quickly. One environment per worker thread.
public protocol Environment: AnyObject {
    /// Number of discrete actions (the policy's outputs).
    var actionCount: Int { get }
    /// Starts a new episode.
    func reset() throws
    /// Writes the current observation, (84, 84) floats in [0, 1], into `frame`.
    /// Only valid while the episode is not finished.
    func observe(into frame: UnsafeMutableBufferPointer<Float>) throws
    /// Plays an action; returns the raw reward and whether the episode is finished.
    func step(action: Int) throws -> (reward: Double, finished: Bool)
    /// The reward shaping bonus of the last step (0 without shaping), in learning units: added to
    /// the scaled reward (see `RewardShaping`).
    var lastShapingBonus: Double { get }
    /// Frames (engine tics) played by one step.
    var framesPerStep: Int { get }
    /// The current raw screen for GIFs: (height, width) GRAY8, or nil if unavailable.
    func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R
    /// Ends the environment (its engine, if any).
    func close()
    /// The score metrics (`ScoreMetric`) of the episode that has just finished, in the order the
    /// environment was given them; nil where one cannot be computed. Call it after the `step` that
    /// finished the episode, before `reset`.
    func finishedEpisodeMetrics() throws -> [Double?]
    /// Whether the episode that has just finished was ended by its timeout, the player alive (see
    /// `EpisodeOutcome.reachedTimeout`). Call it after the `step` that finished the episode.
    func finishedEpisodeReachedTimeout() throws -> Bool
}

extension Environment {
    /// No metrics beyond the return (test environments).
    public func finishedEpisodeMetrics() throws -> [Double?] { [] }
    /// No timeout (test environments).
    public func finishedEpisodeReachedTimeout() throws -> Bool { false }
    /// No shaping (test environments).
    public var lastShapingBonus: Double { 0 }
}

/// A ViZDoom game seen as an `Environment`: an action set's button combinations held for
/// `frameSkip` tics, frames preprocessed to 84x84 from the part of the screen `view` keeps, score
/// metrics read when an episode ends.
public final class DoomEnvironment: Environment {
    public let game: DoomGame
    public let frameSkip: Int
    public let actions: ActionSet
    public let metrics: [ScoreMetric]
    private let preprocessor: FramePreprocessor
    /// (A, buttons): row a is action a's button vector, in the game's button order.
    private let actionTable: [Double]
    private let buttonCount: Int
    /// The raw return of the episode in progress.
    private var episodeReturn = 0.0
    /// The reward shaping, if any (its scheme and what it remembers of the episode), and the last
    /// step's bonus.
    private var shaper: RewardShaper?
    public var shaping: RewardShaping? { shaper?.scheme }
    public private(set) var lastShapingBonus = 0.0

    /// Starts an engine for `configuration` (whose buttons must include every button `actions`
    /// presses) with `actions` as the discrete actions.
    public init(configuration: GameConfiguration, actions: ActionSet, frameSkip: Int, view: ScreenView = .center,
                metrics: [ScoreMetric] = [], shaping: RewardShaping? = nil) throws {
        game = try DoomGame(configuration)
        do {
            guard game.screenChannels == 1 else {
                throw TrainingError.invalidOption("the agent needs GRAY8 frames; the game renders \(game.screenChannels) channels")
            }
            actionTable = try actions.buttonVectors(gameButtons: game.buttons).flatMap { $0 }
        } catch {
            game.close()
            throw error
        }
        self.actions = actions
        self.metrics = metrics
        shaper = shaping.map(RewardShaper.init(scheme:))
        self.frameSkip = frameSkip
        buttonCount = game.buttons.count
        preprocessor = FramePreprocessor(view: view, inputWidth: game.screenWidth, inputHeight: game.screenHeight)
    }

    public var actionCount: Int { actions.count }
    public var framesPerStep: Int { frameSkip }

    public func reset() throws {
        try game.newEpisode()
        episodeReturn = 0
        lastShapingBonus = 0
        try shaper?.startEpisode(game.gameVariable)
    }

    public func observe(into frame: UnsafeMutableBufferPointer<Float>) throws {
        try game.withScreen { screen in
            guard let screen else { throw ViZDoomError.invalidArgument(message: "no frame: the episode is finished") }
            preprocessor.process(screen, into: frame)
        }
    }

    public func step(action: Int) throws -> (reward: Double, finished: Bool) {
        precondition(action >= 0 && action < actions.count, "action \(action) not in 0..<\(actions.count)")
        let reward = try actionTable.withUnsafeBufferPointer { table in
            try game.makeAction(UnsafeBufferPointer(rebasing: table[(action * buttonCount)..<((action + 1) * buttonCount)]),
                                tics: frameSkip)
        }
        episodeReturn += reward
        if let bonus = try shaper?.bonus(game.gameVariable) { lastShapingBonus = bonus }
        return (reward, try game.isEpisodeFinished)
    }

    public func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R {
        try game.withScreen { try body($0, game.screenHeight, game.screenWidth) }
    }

    public func close() { game.close() }

    /// How the episode that just finished ended (see `EpisodeOutcome`): the engine's episode time,
    /// the player's death, the return, and the metrics' game variables at its last tic.
    public func finishedEpisodeOutcome() throws -> EpisodeOutcome {
        var variables: [GameVariable: Double] = [:]
        for variable in metrics.gameVariables { variables[variable] = try game.gameVariable(variable) }
        return EpisodeOutcome(tics: try game.episodeTime(), startTime: game.episodeStartTime, timeout: game.episodeTimeout,
                              playerDead: try game.isPlayerDead, rawReturn: episodeReturn, lastGameVariables: variables)
    }

    public func finishedEpisodeReachedTimeout() throws -> Bool {
        guard game.episodeTimeout > 0 else { return false }
        return EpisodeOutcome(tics: try game.episodeTime(), startTime: game.episodeStartTime, timeout: game.episodeTimeout,
                              playerDead: try game.isPlayerDead, rawReturn: episodeReturn).reachedTimeout
    }

    public func finishedEpisodeMetrics() throws -> [Double?] {
        guard !metrics.isEmpty else { return [] }
        return metrics.values(of: try finishedEpisodeOutcome())
    }
}
