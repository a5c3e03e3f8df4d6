import A3C
import ArgumentParser
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an A3C agent on a ViZDoom scenario.",
        discussion: """
        Writes a run directory <logdir>/<scenario>__a3c__<seed>__<timestamp>/ with config.json, \
        TensorBoard event files, episodes.csv, GIFs and checkpoints. Ctrl-C (or SIGTERM) stops \
        the workers, saves a final checkpoint and closes every engine; a second Ctrl-C exits at once.
        """
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "Continue the run in RUN_DIR from its last checkpoint (parameters, optimizer, counters, settings). --max-frames is the run's total; --max-minutes counts this session.")
    var resume: String?

    @Flag(help: "No progress display and no per-worker notes; only the run's landmarks and the final summary.")
    var quiet = false

    func validate() throws {
        if resume != nil, !options.fixedByRun.isEmpty {
            throw ValidationError("\(options.fixedByRun.joined(separator: ", ")) cannot change when resuming: the run keeps its settings (see its config.json)")
        }
    }

    func run() throws {
        resetTerminationSignals()
        let signals = TerminationSignals()
        let console = Console(quiet: quiet)
        do {
            let trainer: Trainer
            if let resume {
                let (run, saved) = try RunDirectory.open(resume)
                var configuration = try options.applied(to: saved)
                // A resumed session gets the budget the user gives now, or the original session's.
                if options.maxMinutes == nil && options.maxFrames == nil { configuration.maxMinutes = saved.maxMinutes }
                try configuration.validate()
                trainer = try Trainer(configuration: configuration, resumeFrom: run, log: console.line)
                if let maxFrames = configuration.maxFrames, trainer.statistics.snapshot().frames >= maxFrames {
                    throw ValidationError("the run already has \(trainer.statistics.snapshot().frames) frames (--max-frames \(maxFrames)); pass a larger --max-frames or a --max-minutes to train more")
                }
                try run.writeConfiguration(configuration)
            } else {
                let configuration = try options.applied()
                trainer = try Trainer(configuration: configuration, log: console.line)
                console.line("run directory: \(trainer.run.url.path)")
                console.line("watch it:      tensorboard --logdir \(configuration.logdir)")
            }
            console.line("training \(trainer.configuration.scenario) with \(trainer.configuration.workers) workers, \(trainer.actionCount) actions, frame skip \(trainer.configuration.frameSkip)")
            if !quiet { trainer.progress = console.progress }
            let counters = try trainer.train(stopRequested: { signals.requested })
            console.finishProgress()
            let mean = TrainingStatistics.rollingMean(counters.recentReturns).map { String(format: "%.1f", $0) } ?? "-"
            print("done: \(counters.frames) frames, \(counters.episodes) episodes, \(counters.updates) updates in \(String(format: "%.0f", counters.elapsedSeconds)) s; mean return of the last \(counters.recentReturns.count) episodes: \(mean)")
            if counters.engineRestarts > 0 || counters.skippedUpdates > 0 {
                print("engine restarts: \(counters.engineRestarts), skipped updates: \(counters.skippedUpdates)")
            }
            print("run directory: \(trainer.run.url.path)")
            // The command as the user invoked it (e.g. .build/release/a3c), so the hints can be pasted.
            let a3c = CommandLine.arguments.first ?? "a3c"
            print("watch the agent play:  \(a3c) play \(trainer.run.url.path) --episodes 5 --gif play.gif")
            print("continue training:     \(a3c) train --resume \(trainer.run.url.path) --max-minutes 5")
            if signals.requested { throw ExitCode(signals.exitStatus) }
        } catch {
            console.finishProgress()
            throw error
        }
    }
}
