import ArgumentParser
import Foundation
import ViZDoom

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput: the environment alone, the network, or training.",
        subcommands: [BenchEnvCommand.self]
    )
}

/// Prints a benchmark result as one JSON object (snake_case keys) on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct BenchEnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Step K engines on K threads with random actions, preprocessing every frame; print steps/s and frames/s."
    )

    @Option(help: "Scenario name (see `a3c scenarios`) or path of a .cfg file.")
    var scenario = "basic"

    @Option(help: "Number of engines, each on its own thread.")
    var envs = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seconds to measure (engine start-up is not counted).")
    var seconds = 10.0

    @Option(help: "Tics each action is held for.")
    var frameSkip = 4

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard envs >= 1 else { throw ValidationError("--envs must be at least 1, got \(envs)") }
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a positive number, got \(seconds)") }
        guard frameSkip >= 1 else { throw ValidationError("--frame-skip must be at least 1, got \(frameSkip)") }
    }

    func run() throws {
        let result = try EnvironmentBenchmark.run(configuration: GameConfiguration(scenario: scenario),
                                                  envs: envs, seconds: seconds, frameSkip: frameSkip)
        if json { try printJSON(result); return }
        print(String(format: "bench env: %@, %d envs, frame skip %d, %.1f s: %.0f steps/s, %.0f frames/s (%d steps, %d episodes)",
                     scenario, result.envs, result.frameSkip, result.seconds, result.stepsPerSecond,
                     result.framesPerSecond, result.steps, result.episodes))
    }
}
