import A3C
import ArgumentParser
import Foundation

struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play episodes with a trained agent and report its raw returns.",
        discussion: "SOURCE is a run directory (its newest checkpoint is used, or best/ with --best) or a checkpoint folder inside one."
    )

    @Argument(help: "A run directory or a checkpoint folder.")
    var source: String

    @Option(help: "Episodes to play.")
    var episodes = 10

    @Option(help: "Write the first episode as an animated GIF to this file.")
    var gif: String?

    @Flag(help: "Always take the most probable action instead of sampling from the policy.")
    var greedy = false

    @Flag(help: "Use the run's best checkpoint instead of its newest.")
    var best = false

    @Option(help: "Seed for the engine and the action sampling.")
    var seed: UInt64 = 12345

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        if let gif, !gif.lowercased().hasSuffix(".gif") { throw ValidationError("--gif must name a .gif file, got \(gif)") }
    }

    func run() throws {
        resetTerminationSignals()
        let player = try Player(source: source, preferBest: best)
            print("playing \(player.configuration.scenario) with \(player.checkpoint.path)")
            let result = try player.play(episodes: episodes, greedy: greedy, seed: seed,
                                         gif: gif.map { URL(fileURLWithPath: $0) }) { index, rawReturn, length in
                print(String(format: "episode %d: return %.1f, %d steps", index + 1, rawReturn, length))
            }
            print(String(format: "%d episodes: mean %.2f, std %.2f, min %.1f, max %.1f",
                         result.returns.count, result.mean, result.standardDeviation, result.minimum, result.maximum))
            if let gif { print("GIF of the first episode: \(gif)") }
    }
}
