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
    /// Frames (engine tics) played by one step.
    var framesPerStep: Int { get }
    /// The current raw screen for GIFs: (height, width) GRAY8, or nil if unavailable.
    func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R
    /// Ends the environment (its engine, if any).
    func close()
}

/// A ViZDoom game seen as an `Environment`: one-button actions held for `frameSkip` tics, frames
/// preprocessed as in the seed.
public final class DoomEnvironment: Environment {
    public let game: DoomGame
    public let frameSkip: Int
    private let preprocessor: FramePreprocessor

    public init(configuration: GameConfiguration, frameSkip: Int) throws {
        game = try DoomGame(configuration)
        guard game.screenChannels == 1 else {
            game.close()
            throw TrainingError.invalidOption("the agent needs GRAY8 frames; the game renders \(game.screenChannels) channels")
        }
        self.frameSkip = frameSkip
        preprocessor = FramePreprocessor(inputWidth: game.screenWidth, inputHeight: game.screenHeight)
    }

    public var actionCount: Int { game.buttons.count }

    /// The number of actions a game of `scenario` (with the seed's settings) will have, read from
    /// its `.cfg` without starting an engine. Throws for an unknown scenario or a missing file.
    public static func actionCount(scenario: String) throws -> Int {
        if let buttons = GameConfiguration(scenario: scenario).buttons { return buttons.count }
        let count = try ScenarioCatalog().scenario(named: scenario).buttons.count
        guard count > 0 else { throw ViZDoomError.invalidArgument(message: "scenario \(scenario) has no available buttons") }
        return count
    }
    public var framesPerStep: Int { frameSkip }

    public func reset() throws { try game.newEpisode() }

    public func observe(into frame: UnsafeMutableBufferPointer<Float>) throws {
        try game.withScreen { screen in
            guard let screen else { throw ViZDoomError.invalidArgument(message: "no frame: the episode is finished") }
            preprocessor.process(screen, into: frame)
        }
    }

    public func step(action: Int) throws -> (reward: Double, finished: Bool) {
        let reward = try game.makeAction(buttonIndex: action, tics: frameSkip)
        return (reward, try game.isEpisodeFinished)
    }

    public func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R {
        try game.withScreen { try body($0, game.screenHeight, game.screenWidth) }
    }

    public func close() { game.close() }
}
