import Training
import ArgumentParser
import Foundation

/// The options `play` and `eval` share: which checkpoint, how to act, how to seed.
struct PlayerOptions: ParsableArguments {
    @Argument(help: "A run directory (its newest checkpoint, or best/ with --best) or a checkpoint folder inside one.")
    var source: String

    @Flag(help: "Use the run's best checkpoint (highest rolling mean) instead of its newest.")
    var best = false

    @Flag(help: "Always take the most probable action instead of sampling from the policy.")
    var greedy = false

    @Option(help: "Seed of the episodes: episode i's engine and action sampling, whatever the thread count.")
    var seed: UInt64 = 12345

    @Option(help: "Threads playing episodes at once, each with its own engine. (default: one per CPU core, \(ProcessInfo.processInfo.activeProcessorCount) here)")
    var workers: Int?

    /// `--workers`, or one thread per CPU core.
    var threads: Int { workers ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let workers, !(1...256).contains(workers) {
            throw ValidationError("--workers must be between 1 and 256, got \(workers)")
        }
    }
}

struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play episodes with a trained agent, one line each, and optionally write a GIF of the first.",
        discussion: "For statistics over many episodes (mean, confidence interval, metrics, JSON) use `a3c eval`."
    )

    @OptionGroup var options: PlayerOptions

    @Option(help: "Episodes to play.")
    var episodes = 10

    @Option(help: "Write the first episode as an animated GIF to this file.")
    var gif: String?

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        if let gif, !gif.lowercased().hasSuffix(".gif") { throw ValidationError("--gif must name a .gif file, got \(gif)") }
        if let gif { try requireOutputFolder(of: gif, option: "--gif", what: "the GIF") }
    }

    func run() throws {
        resetTerminationSignals()
        let player = try Player(source: options.source, preferBest: options.best)
        print("playing \(player.configuration.scenario) with \(player.checkpoint.path)")
        let metrics = player.configuration.metrics
        let played = try player.play(episodes: episodes, greedy: options.greedy, seed: options.seed, threads: options.threads,
                                     gif: gif.map { URL(fileURLWithPath: $0) }) { episode in
            var line = String(format: "episode %d: return %.1f, %d steps", episode.index + 1, episode.rawReturn, episode.length)
            for (metric, value) in zip(metrics, episode.metrics) {
                line += ", \(metric.columnName) " + (value.map { String(format: "%g", $0) } ?? "-")
            }
            print(line)
            fflush(stdout)
        }
        let evaluation = Evaluation(episodes: played, configuration: player.configuration, checkpoint: player.checkpoint,
                                    greedy: options.greedy, seed: options.seed)
        print(String(format: "%d episodes: mean %.2f, std %.2f, min %.1f, max %.1f", evaluation.episodes,
                     evaluation.meanReturn, evaluation.stdReturn, evaluation.minReturn, evaluation.maxReturn))
        if let gif { print("GIF of the first episode: \(gif)") }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained agent: N episodes without learning, the raw return's mean, spread and 95% interval, and every score metric.",
        discussion: "Reproducible: the same checkpoint and --seed play the same episodes, whatever --workers is."
    )

    @OptionGroup var options: PlayerOptions

    @Option(help: "Episodes to play.")
    var episodes = 100

    @Flag(help: "Print one JSON object (episodes, mean_return, std_return, min_return, max_return, ci95_low, ci95_high, metrics, ..., and episode_list: each episode's return, length and metrics).")
    var json = false

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
    }

    func run() throws {
        resetTerminationSignals()
        let player = try Player(source: options.source, preferBest: options.best)
        let played = try player.play(episodes: episodes, greedy: options.greedy, seed: options.seed, threads: options.threads)
        let evaluation = Evaluation(episodes: played, configuration: player.configuration, checkpoint: player.checkpoint,
                                    greedy: options.greedy, seed: options.seed)
        if json { try printJSON(evaluation); return }
        print("eval: \(evaluation.scenario), \(player.checkpoint.path), \(evaluation.episodes) episodes, \(options.greedy ? "greedy" : "sampled") actions, seed \(options.seed)")
        print(String(format: "  return: mean %.2f, std %.2f, min %.1f, max %.1f, 95%% interval [%.2f, %.2f]",
                     evaluation.meanReturn, evaluation.stdReturn, evaluation.minReturn, evaluation.maxReturn,
                     evaluation.confidenceLow, evaluation.confidenceHigh))
        print(String(format: "  length: mean %.1f steps", evaluation.meanLength))
        for metric in player.configuration.metrics {
            if let mean = evaluation.metrics[metric.columnName] {
                print("  \(metric.columnName): \(metric.formatted(mean: mean))" + (metric.isShare ? "" : " (mean)"))
            }
        }
    }
}
