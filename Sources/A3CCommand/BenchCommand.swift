import ArgumentParser
import Foundation
import Training
import Algorithms
import NeuralCore
import ThreadSafety
import ViZDoom

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput: the environment alone, the network, or training.",
        subcommands: [BenchEnvCommand.self, BenchNNCommand.self, BenchTrainCommand.self]
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
        try validateBenchSeconds(seconds)
        guard (1...100).contains(frameSkip) else { throw ValidationError("--frame-skip must be between 1 and 100 (as for train), got \(frameSkip)") }
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

struct BenchNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Time the network on one thread: the batched acting step and the rollout update (backward, clip, Adam).",
        discussion: "Reports the acting cost per environment and the update cost per environment step, for --batch environments acted on together."
    )

    @Option(help: "Seconds to spend measuring.")
    var seconds = 3.0

    @Option(help: "Number of actions of the policy head.")
    var actions = 3

    @Option(help: "Steps per rollout update.")
    var rolloutLength = TrainingConfiguration().rolloutLength

    @Option(help: "Environments acted on together (a worker's --envs-per-worker).")
    var batch = 1

    @Option(help: "Instruction set of the network's kernels and oneDNN's products: avx512, avx2 or scalar (lowered to what the CPU has), to compare the paths on one machine. (default: the best the CPU has)")
    var isa: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try validateBenchSeconds(seconds)
        if let isa, InstructionSet(rawValue: isa.lowercased()) == nil {
            throw ValidationError("--isa must be avx512, avx2 or scalar, got '\(isa)'")
        }
        guard actions >= 1 else { throw ValidationError("--actions must be at least 1, got \(actions)") }
        guard rolloutLength >= 1 && rolloutLength <= 1000 else { throw ValidationError("--rollout-length must be between 1 and 1000, got \(rolloutLength)") }
        guard batch >= 1 && batch <= 64 else { throw ValidationError("--batch must be between 1 and 64, got \(batch)") }
    }

    func run() throws {
        if let isa, let set = InstructionSet(rawValue: isa.lowercased()), !InstructionSet.limit(to: set).matrixProductsLimited {
            // Only if a product ran before this point (none does): the comparison would not be what it says.
            throw ValidationError("--isa \(isa): oneDNN had already chosen its kernels; run bench nn in a process of its own")
        }
        let result = NetworkBenchmark.run(seconds: seconds, actionCount: actions, rolloutLength: rolloutLength,
                                          batch: batch, seed: 1)
        if json { try printJSON(result); return }
        print(String(format: "bench nn (one thread, %d actions, batch %d, %d-step rollouts, %@ kernels):", actions, batch,
                     rolloutLength, result.instructionSet))
        print(String(format: "  acting step:  %.1f us for %d envs = %.1f us per env (%.1f GFLOP/s)",
                     result.actStepMicroseconds, batch, result.actPerEnvironmentMicroseconds, result.actStepGFlops))
        print(String(format: "  update:       backward %.2f ms (%.1f GFLOP/s) + clip and Adam %.2f ms = %.1f us per env step",
                     result.backwardMilliseconds, result.backwardGFlops, result.optimizerMilliseconds,
                     result.updatePerStepMicroseconds))
        print(String(format: "  network cost: %.1f us per env step", result.actPerEnvironmentMicroseconds + result.updatePerStepMicroseconds))
        print(String(format: "  work:         %.2f MFLOP acting + %.2f MFLOP backward per env step; the core's FMA peak (measured): %.0f GFLOP/s; acting at %.0f%%, backward at %.0f%% of it",
                     result.actingFlopsPerStep * 1e-6, result.learningFlopsPerStep * 1e-6, result.peakGFlops,
                     100 * result.actingFractionOfPeak, 100 * result.learningFractionOfPeak))
    }
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput (frames/s) next to the env-only ceiling measured in the same run.",
        discussion: "First runs `bench env` with one engine per worker for --seconds, then trains for --seconds (in a temporary run directory, deleted afterwards) and prints both and their ratio. With --from RUN the training starts from that run's newest checkpoint and settings, to measure a policy that has learned (basic's episodes shrink from 75 steps to about 7)."
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "A run directory to start from: its newest checkpoint and its settings (options may change the others as with `train --resume`). The benchmark trains a copy; the run is not touched.")
    var from: String?

    @Option(help: "Seconds for each of the two measurements (engine start-up is not counted).")
    var seconds = 20.0

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    struct Result: Codable {
        let algorithm: String
        let workers: Int
        let envsPerWorker: Int
        let seconds: Double
        let frameSkip: Int
        let framesPerSecond: Double
        let ceilingFramesPerSecond: Double
        let ratio: Double
        let updatesPerSecond: Double
        /// Microseconds of worker time per environment step, by phase (see `WorkerPhases`).
        let costPerStep: [String: Double]

        enum CodingKeys: String, CodingKey {
            case algorithm, workers, seconds, ratio
            case envsPerWorker = "envs_per_worker"
            case frameSkip = "frame_skip"
            case framesPerSecond = "frames_per_second"
            case ceilingFramesPerSecond = "ceiling_frames_per_second"
            case updatesPerSecond = "updates_per_second"
            case costPerStep = "cost_per_step_us"
        }
    }

    @Flag(help: "Measure a --distributed job under mpirun (rank 0 prints; its ceiling runs as many engines as the job's workers on rank 0's host).")
    var distributed = false

    func validate() throws {
        try validateBenchSeconds(seconds)
        if from != nil, !options.fixedByRun.isEmpty {
            throw ValidationError("--from uses the run's own \(options.fixedByRun.joined(separator: ", ")): leave them out")
        }
        if from != nil && distributed { throw ValidationError("--from measures one process: leave out --distributed") }
        if options.maxMinutes != nil || options.maxFrames != nil {
            throw ValidationError("bench train trains for --seconds after the engines start: leave out --max-minutes and --max-frames")
        }
        if distributed && !MPILaunch.isLaunched {
            throw ValidationError("--distributed needs the processes of mpirun: mpirun -np N \(CommandLine.arguments.first ?? "a3c") bench train --distributed ...")
        }
    }

    /// The options' configuration for a benchmark (on `base`, a run's, if given): a time budget that
    /// outlasts the measurement (the benchmark stops the trainer; with no budget the trainer's
    /// default of 5 minutes would end a longer one first), a scratch logdir.
    private func benchConfiguration(logdir: URL, base: TrainingConfiguration? = nil) throws -> TrainingConfiguration {
        var configuration = try options.applied(to: base)
        configuration.maxMinutes = seconds / 60 + 10  // 10 minutes for the engines to start
        configuration.maxFrames = nil
        configuration.distributed = distributed
        configuration.logdir = logdir.path
        return configuration
    }

    /// Copies what resuming `path` reads (config.json and its checkpoints, so a damaged newest one
    /// falls back to the one before as in `train --resume`) into `folder`.
    private func copyForBenchmark(run path: String, into folder: URL) throws -> (copy: RunDirectory, configuration: TrainingConfiguration) {
        let (run, saved) = try RunDirectory.open(path)
        let periodic = CheckpointStore(runDirectory: run.url, keep: saved.keepCheckpoints).checkpoints()
        guard let newest = periodic.last else { throw TrainingError.noCheckpoint(run.url.path) }
        let copy = RunDirectory(url: folder.appendingPathComponent(run.url.lastPathComponent))
        let checkpoints = copy.url.appendingPathComponent(newest.deletingLastPathComponent().lastPathComponent)
        let files = FileManager.default
        try files.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        try files.copyItem(at: run.configURL, to: copy.configURL)
        for checkpoint in periodic {
            try files.copyItem(at: checkpoint, to: checkpoints.appendingPathComponent(checkpoint.lastPathComponent))
        }
        return (copy, saved)
    }

    func run() throws {
        resetTerminationSignals()
        // Ctrl-C stops the measurement and the trainer, so that the scratch folder is removed.
        let signals = TerminationSignals(stopping: "ending the benchmark and removing its scratch folder")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var startingRun: (copy: RunDirectory, configuration: TrainingConfiguration)?
        if let from { startingRun = try copyForBenchmark(run: from, into: scratch) }
        let configuration = try benchConfiguration(logdir: scratch, base: startingRun?.configuration)

        /// The env-only ceiling with as many engines as the job's workers (all ranks' in a distributed job).
        func ceiling(ranks: Int) throws -> EnvironmentBenchmark.Result {
            var game = GameConfiguration(scenario: configuration.scenario)
            game.seed = UInt32(truncatingIfNeeded: configuration.seed)
            return try EnvironmentBenchmark.run(configuration: game, envs: configuration.workers * ranks, seconds: seconds,
                                                frameSkip: configuration.frameSkip, stopRequested: { signals.requested })
        }
        let stop = StopFlag()
        let measured = LockedValue<(result: Result, ranks: Int)?>(nil)
        /// Measures a running trainer from its first frame for `seconds`, then stops it.
        let measure: @Sendable (Trainer, EnvironmentBenchmark.Result, Int) -> Void = { trainer, ceiling, ranks in
            Thread {
                // From the first frame this session plays (a run started --from has frames already).
                let initialFrames = trainer.statistics.snapshot().frames
                while trainer.statistics.snapshot().frames == initialFrames && !stop.isSet { usleep(20_000) }
                let start = trainer.statistics.snapshot(), startPhases = trainer.statistics.phaseTotals()
                let startTime = Date()
                Thread.sleep(forTimeInterval: seconds)
                let end = trainer.statistics.snapshot(), phases = trainer.statistics.phaseTotals() - startPhases
                let elapsed = Date().timeIntervalSince(startTime)
                stop.set()
                let framesPerSecond = Double(end.frames - start.frames) / elapsed
                let steps = Double(max(end.steps - start.steps, 1))
                let costPerStep = ["engine": phases.engine, "acting": phases.acting, "learning": phases.learning,
                                   "optimizer": phases.optimizer, "sync": phases.sync, "other": phases.other,
                                   "total": phases.total].mapValues { $0 / steps * 1e6 }
                let result = Result(algorithm: configuration.algorithm.rawValue, workers: configuration.workers * ranks, envsPerWorker: configuration.envsPerWorker,
                                    seconds: elapsed, frameSkip: configuration.frameSkip, framesPerSecond: framesPerSecond,
                                    ceilingFramesPerSecond: ceiling.framesPerSecond,
                                    ratio: framesPerSecond / ceiling.framesPerSecond,
                                    updatesPerSecond: Double(end.updates - start.updates) / elapsed, costPerStep: costPerStep)
                measured.withLockedValue { $0 = (result, ranks) }
            }.start()
        }
        if distributed {
            let outcome = try DistributedTraining.run(makeTrainer: {
                let ranks = MPILaunch.size
                let bound = try ceiling(ranks: ranks)
                let trainer = try Trainer(configuration: configuration)
                measure(trainer, bound, ranks)
                return trainer
            }, stopRequested: { stop.isSet || signals.requested }, log: { _ in }, progress: nil)
            guard outcome.rank == 0 else { return }
        } else {
            let bound = try ceiling(ranks: 1)
            if signals.requested { throw ExitCode(signals.exitStatus) }
            let trainer = try Trainer(configuration: configuration, resumeFrom: startingRun?.copy,
                                      log: { message in
                                          // The copy's damaged checkpoints, as `train --resume` would say.
                                          if message.hasPrefix("warning") { FileHandle.standardError.write(Data((message + "\n").utf8)) }
                                      })
            measure(trainer, bound, 1)
            try trainer.train(stopRequested: { stop.isSet || signals.requested })
        }
        if signals.requested { throw ExitCode(signals.exitStatus) }
        guard let (result, ranks) = measured.current else {
            throw ValidationError("training ended before any frame was measured")
        }
        if json { try printJSON(result); return }
        if let from { print("bench train: from \(from)") }
        let job = ranks > 1 ? "\(ranks) ranks x \(configuration.workers) workers" : "\(configuration.workers) workers"
        print(String(format: "bench train: %@, %@, %@ x %d envs, frame skip %d, %.1f s each", configuration.scenario,
                     configuration.algorithm.rawValue, job,
                     configuration.envsPerWorker, configuration.frameSkip, seconds))
        print(String(format: "  env-only ceiling: %.0f frames/s (%.0f steps/s, %d engines)", result.ceilingFramesPerSecond,
                     result.ceilingFramesPerSecond / Double(configuration.frameSkip), result.workers))
        print(String(format: "  training:         %.0f frames/s (%.0f steps/s, %.1f updates/s)", result.framesPerSecond,
                     result.framesPerSecond / Double(configuration.frameSkip), result.updatesPerSecond))
        print(String(format: "  ratio:            %.0f%% of the ceiling", 100 * result.ratio))
        let c = result.costPerStep
        print(String(format: "  worker time per env step (us%@): engine %.0f, acting %.0f, learning %.0f, optimizer %.0f, sync %.0f, other %.0f; total %.0f",
                     ranks > 1 ? ", all ranks" : "", c["engine"]!, c["acting"]!, c["learning"]!, c["optimizer"]!, c["sync"]!,
                     c["other"]!, c["total"]!))
    }
}

/// `--seconds` of every benchmark: positive and at most a day (a longer one is a typo, and the
/// timers count nanoseconds in 64 bits).
private func validateBenchSeconds(_ seconds: Double) throws {
    guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be a positive number of seconds up to 86400 (a day), got \(seconds)") }
}
