import Training
import ArgumentParser
import Foundation
import MessagePassing

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an A3C agent on a ViZDoom scenario.",
        discussion: """
        Writes a run directory <logdir>/<scenario>__<algorithm>__<seed>__<timestamp>/ with config.json, \
        TensorBoard event files, episodes.csv, GIFs and checkpoints. Ctrl-C (or SIGTERM, or SIGHUP \
        unless under nohup) stops the workers, saves a final checkpoint and closes every engine; a \
        second Ctrl-C exits at once.
        """
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "Continue the run in RUN_DIR from its last checkpoint (parameters, optimizer, counters, settings). --max-frames is the run's total; --max-minutes counts this session; either one given replaces both saved limits (given neither, the run's own apply).")
    var resume: String?

    @Flag(help: "No progress display and no per-worker notes; only the run's landmarks and the final summary.")
    var quiet = false

    @Flag(help: "Train across the processes of `mpirun -np N` (and their hosts): every rank runs --workers workers; rank 0 holds the global parameters and the run directory. --algorithm appo runs a learner on every rank, each applying to rank 0's parameters (its gain over A3C across ranks is not measured yet). See the README, \"Across processes and hosts (MPI)\".")
    var distributed = false

    func validate() throws {
        if resume != nil, !options.fixedByRun.isEmpty {
            throw ValidationError("\(options.fixedByRun.joined(separator: ", ")) cannot change when resuming: the run keeps its settings (see its config.json)")
        }
        if distributed && !MPILaunch.isLaunched {
            throw ValidationError("--distributed needs the processes of mpirun: mpirun -np N \(CommandLine.arguments.first ?? "a3c") train --distributed ... (see the README, \"Across processes and hosts (MPI)\")")
        }
        if !distributed && MPILaunch.isLaunched && MPILaunch.size > 1 {
            throw ValidationError("started by mpirun with \(MPILaunch.size) processes but without --distributed: each would train on its own; add --distributed to train together")
        }
    }

    /// The trainer of a new run, or of the resumed one (rank 0 only in a distributed job).
    private func makeTrainer(console: Console) throws -> Trainer {
        if let resume {
            let (run, saved) = try RunDirectory.open(resume)
            var configuration = try options.applied(to: saved)
            // A resumed session gets the budget the user gives now, or the original session's: a
            // limit given now replaces both saved ones, so `--max-minutes 5` also extends a run
            // that `--max-frames` ended, and `--max-frames N` is not cut short by a saved time limit.
            if options.maxMinutes != nil || options.maxFrames != nil {
                configuration.maxMinutes = options.maxMinutes
                configuration.maxFrames = options.maxFrames
            }
            if saved.distributed != distributed {
                throw ValidationError("\(run.url.path) was trained \(saved.distributed ? "with" : "without") --distributed: resume it the same way (its episodes.csv \(saved.distributed ? "has" : "has no") rank column)")
            }
            try configuration.validate()
            let trainer = try Trainer(configuration: configuration, resumeFrom: run, log: console.line)
            try run.writeConfiguration(configuration)
            return trainer
        }
        var configuration = try options.applied()
        configuration.distributed = distributed
        let trainer = try Trainer(configuration: configuration, log: console.line)
        console.line("run directory: \(trainer.run.url.path)")
        console.line("watch it:      tensorboard --logdir \(configuration.logdir)")
        return trainer
    }

    func run() throws {
        resetTerminationSignals()
        let signals = TerminationSignals()
        let console = Console(quiet: quiet)
        do {
            let counters: TrainingStatistics.Counters
            let runURL: URL
            if distributed {
                var progress: (@Sendable (String) -> Void)?
                if !quiet { progress = { text in console.progress(text) } }
                let outcome = try DistributedTraining.run(makeTrainer: { try makeTrainer(console: console) },
                                                          stopRequested: { signals.requested },
                                                          log: { console.line($0) }, progress: progress)
                console.finishProgress()
                guard outcome.rank == 0, let final = outcome.counters else {
                    if signals.requested { throw ExitCode(signals.exitStatus) }
                    return  // the other ranks print nothing: rank 0 reports for the job
                }
                counters = final
                for line in outcome.rankLines { print(line) }
                print(outcome.consistent ? "every rank's updates were applied once, and every rank holds the final parameters"
                      : "WARNING: the ranks' update counts or final parameters do not match rank 0's (see the lines above)")
                runURL = outcome.runDirectory!
            } else {
                let trainer = try makeTrainer(console: console)
                console.line("training \(trainer.configuration.scenario) (\(trainer.configuration.algorithm.rawValue)) with \(trainer.configuration.workers) workers x \(trainer.configuration.envsPerWorker) environments, \(trainer.actionCount) actions, frame skip \(trainer.configuration.frameSkip)\(trainer.configuration.rolloutsCrossEpisodes ? ", rollouts across episode ends" : "")")
                if !quiet { trainer.progress = console.progress }
                counters = try trainer.train(stopRequested: { signals.requested })
                console.finishProgress()
                runURL = trainer.run.url
            }
            summarize(counters, run: runURL)
            if signals.requested { throw ExitCode(signals.exitStatus) }
        } catch {
            console.finishProgress()
            throw error
        }
    }

    private func summarize(_ counters: TrainingStatistics.Counters, run: URL) {
        let mean = TrainingStatistics.rollingMean(counters.recentReturns).map { String(format: "%.1f", $0) } ?? "-"
        print("done: \(counters.frames) frames, \(counters.episodes) episodes, \(counters.updates) updates in \(String(format: "%.0f", counters.elapsedSeconds)) s; mean return of the last \(counters.recentReturns.count) episodes: \(mean)")
        if counters.engineRestarts > 0 || counters.skippedUpdates > 0 {
            print("engine restarts: \(counters.engineRestarts), skipped updates: \(counters.skippedUpdates)")
        }
        print("run directory: \(run.path)")
        // The command as the user invoked it (e.g. .build/release/a3c), so the hints can be pasted.
        let a3c = CommandLine.arguments.first ?? "a3c"
        print("watch the agent play:  \(a3c) play \(run.path) --episodes 5 --gif play.gif")
        print("continue training:     \(a3c) train --resume \(run.path) --max-minutes 5")
    }
}

/// What the launcher told this process, before MPI starts (`MPIWorld.launchEnvironment`).
enum MPILaunch {
    /// Whether mpirun (or another MPI launcher) started this process.
    static var isLaunched: Bool { MPIWorld.isLaunchedByMPIRun }
    /// The number of processes the launcher started (1 without one).
    static var size: Int { MPIWorld.launchEnvironment?.size ?? 1 }
}
