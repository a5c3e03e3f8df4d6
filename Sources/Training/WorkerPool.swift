import Foundation
import NeuralCore
import ThreadSafety

/// The workers' threads (and APPO's learner thread): one long-lived `Thread` per worker (the engines a worker spawns are tied to
/// the life of its thread), a stop flag they all watch, and the errors that ended any of them.
/// The trainer owns one; so does every rank of a `--distributed` job.
final class WorkerPool {
    /// Set to stop every worker (at its next step; a partial rollout is dropped, never applied);
    /// also set by the first worker that fails.
    let stop = StopFlag()
    private let failures = LockedValue<[Error]>([])
    private let done = DispatchGroup()

    /// Starts `configuration.workers` workers on `global`. Worker w plays environments
    /// `environmentOffset + w * envsPerWorker + e` of `makeEnvironment`, and `rank` seeds its
    /// action sampling apart from the same worker of other ranks.
    init(configuration: TrainingConfiguration, rank: Int = 0, global: GlobalParameters, statistics: TrainingStatistics,
         reporter: WorkerReporter?, actionCount: Int, environmentOffset: Int = 0,
         makeEnvironment: @escaping (Int) throws -> Environment) {
        let environmentsPerWorker = configuration.envsPerWorker
        let synchronous = configuration.algorithm.isSynchronous
            ? SynchronousGradients(participants: configuration.workers, parameterCount: global.layout.totalCount) : nil
        let learner = configuration.algorithm == .appo
            ? APPOLearner(configuration: configuration, global: global, statistics: statistics, actionCount: actionCount) : nil
        for index in 0..<configuration.workers {
            let worker = Worker(index: index, rank: rank, configuration: configuration, shared: global,
                                statistics: statistics, reporter: reporter, actionCount: actionCount,
                                synchronous: synchronous, learner: learner) { number in
                try makeEnvironment(environmentOffset + index * environmentsPerWorker + number)
            }
            start(name: "a3c-worker-\(index)") { try worker.run(shouldStop: $0) }
        }
        if let learner { start(name: "a3c-learner") { try learner.run(shouldStop: $0) } }
    }

    /// Starts a long-lived thread running `body` until the pool's stop flag is set; an error it
    /// throws is kept and stops every other thread of the pool.
    private func start(name: String, _ body: @escaping (() -> Bool) throws -> Void) {
        done.enter()
        let thread = Thread { [stop, failures, done] in
            defer { done.leave() }
            do { try body({ stop.isSet }) } catch {
                failures.withLockedValue { $0.append(error) }
                stop.set()
            }
        }
        thread.name = name
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Waits up to `seconds` for every worker to end; true if they all have.
    func wait(seconds: Double) -> Bool { done.wait(timeout: .now() + seconds) == .success }

    /// Stops every worker and waits for them (each closes its engines).
    func stopAndWait() {
        stop.set()
        done.wait()
    }

    /// The error that ended the first failed worker, if any.
    var firstFailure: Error? { failures.withLockedValue { $0.first } }
}
