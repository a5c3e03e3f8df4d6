// `mpirun -np N a3c train --distributed`: asynchronous A3C across processes and hosts.
//
// Every rank runs worker threads, each with its own engines, as a single process does. Rank 0 runs
// the `Trainer` (the global parameters, the optimizer, the one run directory, the budget, the
// checkpoints); its communication thread is a parameter server (`serve`). Every other rank's
// workers send their clipped gradients through `RemoteParameters` to their communication thread
// (`runClient`), which forwards them to rank 0 and brings back the parameters after the update,
// with the rank's episodes and counters riding along. One thread per rank makes every MPI call
// (MPI_THREAD_FUNNELED); it sleeps between polls rather than spinning in MPI's blocking calls,
// which would take a core from the workers.
//
// The end: rank 0's trainer stops (budget, Ctrl-C, a failure anywhere); every rank's next message
// is answered "stop"; each rank stops its workers and sends .final; when every rank has, rank 0
// answers with the final parameters, each rank answers with their CRC-32 (.goodbye), and all
// finalize. A rank that dies ends the job: Open MPI has no fault tolerance here (see README).
import Foundation
import MessagePassing
import NeuralCore
import ThreadSafety

/// The outcome of one rank's part in a job, for its command to print.
public struct DistributedOutcome: Sendable {
    public var rank: Int
    public var ranks: Int
    /// Rank 0's final counters (the whole job's).
    public var counters: TrainingStatistics.Counters?
    /// Rank 0 only: one line per other rank, e.g. "rank 1: 812 updates sent, 812 applied; holds the final parameters".
    public var rankLines: [String]
    /// Rank 0 only: whether every rank's counts and final parameters matched.
    public var consistent: Bool
    /// Rank 0 only: the run directory.
    public var runDirectory: URL?
}

/// Runs one rank of a `--distributed` job.
public enum DistributedTraining {
    /// Seconds between two polls of a waiting communication thread: at most 2 ms of latency per
    /// message (a round trip waits twice), for under 2% of a core asleep-polling (measured with Open
    /// MPI 4.1 at 1 ms; see `MPIWorld.probe(pollInterval:)`).
    static let pollInterval = 0.002
    /// The longest sleep between two polls of a parameter or gradient transfer under way: the peer
    /// is at most a `pollInterval` away from taking part, and the transfer moves only while both
    /// call MPI. 0.2 ms costs about 5% of a core while waiting (see `MPIWorld.probe(pollInterval:)`).
    /// Measured with 2 ranks x 1 worker on 2 cores without single-copy transfers: 3,559 and 3,850
    /// frames/s with transfers polled every 2 ms, 5,097-5,531 at 0.2 ms (`bench train --distributed`).
    static let transferPollInterval = MPICheck.polledInterval
    /// How long rank 0 waits for the other ranks to end after its trainer has.
    static let endTimeout = 60.0

    /// Starts MPI on a communication thread of its own and plays this process's part.
    ///
    /// - makeTrainer: rank 0 only: the trainer (a new run or a resumed one), made once MPI is up.
    /// - stopRequested: Ctrl-C or SIGTERM on this rank.
    /// - log: rank 0's text output; other ranks print only their failures and their workers' notes
    ///   (an engine restarted, an update skipped), prefixed with their rank.
    public static func run(makeTrainer: @escaping () throws -> Trainer, stopRequested: @escaping @Sendable () -> Bool,
                           log: @escaping @Sendable (String) -> Void,
                           progress: (@Sendable (String) -> Void)?) throws -> DistributedOutcome {
        // Before any thread or engine exists: they inherit it.
        let widened = MPIWorld.widenCPUAffinity()
        let link = _RankLink()
        let thread = Thread { link.communicate() }
        thread.name = "a3c-mpi"
        thread.stackSize = 16 << 20
        thread.start()
        let (rank, size) = try link.waitForWorld()
        defer { link.waitForEnd() }
        if rank == 0, let widened {
            log("distributed: mpirun bound each rank to \(widened.before) of the host's \(widened.after) CPUs; a3c lets each rank's workers and engines use them all (mpirun --bind-to none does the same)")
        }
        if rank == 0 {
            return try runRankZero(link: link, size: size, makeTrainer: makeTrainer, stopRequested: stopRequested,
                                   log: log, progress: progress)
        } else {
            return try runOtherRank(link: link, rank: rank, size: size, stopRequested: stopRequested)
        }
    }

    private static func runRankZero(link: _RankLink, size: Int, makeTrainer: () throws -> Trainer,
                                    stopRequested: @escaping @Sendable () -> Bool, log: @escaping @Sendable (String) -> Void,
                                    progress: (@Sendable (String) -> Void)?) throws -> DistributedOutcome {
        let trainer: Trainer
        do { trainer = try makeTrainer() } catch {
            link.fail(error)  // the other ranks end with the job (MPI_Abort)
            throw error
        }
        trainer.progress = progress
        log("distributed: \(size) ranks, \(trainer.configuration.workers) workers each")
        let server = _ServerState(trainer: trainer, ranks: size)
        link.startServing(server)
        let counters: TrainingStatistics.Counters
        do {
            counters = try trainer.train(stopRequested: { stopRequested() || server.failure != nil || link.failure != nil })
        } catch {
            server.trainerFinished.set()
            link.waitForEnd()
            throw server.failure.map { TrainingError.rankFailed($0) } ?? error
        }
        server.trainerFinished.set()
        link.waitForEnd()
        if let failure = link.failure { throw failure }
        if let failure = server.failure { throw TrainingError.rankFailed(failure) }
        return DistributedOutcome(rank: 0, ranks: size, counters: counters, rankLines: server.summaryLines(),
                                  consistent: server.consistent, runDirectory: trainer.run.url)
    }

    private static func runOtherRank(link: _RankLink, rank: Int, size: Int,
                                     stopRequested: @escaping @Sendable () -> Bool) throws -> DistributedOutcome {
        let welcome = try link.waitForWelcome()
        let configuration = welcome.configuration
        let actionCount = configuration.actions.count
        let layout = ActorCriticNetwork.parameterLayout(actionCount: actionCount)
        guard layout.totalCount == welcome.parameterCount else {
            let error = TrainingError.distributedProtocol("rank 0 sent \(welcome.parameterCount) parameters, the network of \(actionCount) actions has \(layout.totalCount): run the same a3c build on every host")
            link.fail(error)  // the job ends (MPI_Abort) with this message
            throw error
        }
        let remote = RemoteParameters(layout: layout, initial: link.welcomeParameters!, generation: welcome.generation)
        let statistics = TrainingStatistics()
        let reporter = RemoteReporter(rank: rank)
        // Environments of rank r are numbered after those of the ranks before it: their engine seeds differ.
        let offset = rank * configuration.workers * configuration.envsPerWorker
        let pool = WorkerPool(configuration: configuration, rank: rank, global: remote, statistics: statistics,
                              reporter: reporter, actionCount: actionCount, environmentOffset: offset) { index in
            try configuration.makeEnvironment(index: index)
        }
        link.startClient(_ClientState(rank: rank, remote: remote, statistics: statistics, reporter: reporter, pool: pool))
        while !pool.wait(seconds: 0.05) {
            if stopRequested() || remote.stopped.isSet || link.failure != nil { pool.stop.set() }
        }
        link.workersEnded(failure: pool.firstFailure)
        link.waitForEnd()
        if let failure = link.failure { throw failure }
        return DistributedOutcome(rank: rank, ranks: size, counters: nil, rankLines: [], consistent: true, runDirectory: nil)
    }
}

// MARK: - Rank 0's server state

/// What rank 0's communication thread needs from the trainer, and what it learns about the ranks.
final class _ServerState: @unchecked Sendable {
    let trainer: Trainer
    let ranks: Int
    /// Set when the trainer has returned (after its final checkpoint): no update is applied after it.
    let trainerFinished = StopFlag()
    private let state = LockedValue(State())

    struct State {
        var failure: String?
        var sent: [Int: Int] = [:]       // rank -> updates sent (the rank's own count)
        var applied: [Int: Int] = [:]    // rank -> updates applied here
        var holdsFinal: [Int: Bool] = [:]
        /// Seconds rank 0's communication thread spent on remote updates (receive, apply, reply), the
        /// part of them spent applying (the lock and the optimizer step), and their count.
        var serviceSeconds = 0.0, applySeconds = 0.0, serviced = 0
    }

    init(trainer: Trainer, ranks: Int) {
        self.trainer = trainer
        self.ranks = ranks
    }

    /// The first failure a rank reported ("rank 2: ...").
    var failure: String? { state.withLockedValue { $0.failure } }

    func recordFailure(rank: Int, _ message: String) {
        state.withLockedValue { $0.failure = $0.failure ?? "rank \(rank): \(message)" }
    }

    func recordApplied(rank: Int) { state.withLockedValue { $0.applied[rank, default: 0] += 1 } }
    func recordSent(rank: Int, _ count: Int) { state.withLockedValue { $0.sent[rank] = count } }
    func recordFinal(rank: Int, holds: Bool) { state.withLockedValue { $0.holdsFinal[rank] = holds } }
    func recordServiceTime(_ seconds: Double, applying: Double) {
        state.withLockedValue { $0.serviceSeconds += seconds; $0.applySeconds += applying; $0.serviced += 1 }
    }

    var consistent: Bool {
        state.withLockedValue { state in
            (1..<ranks).allSatisfy { state.sent[$0] == state.applied[$0, default: 0] && state.holdsFinal[$0] == true }
        }
    }

    func summaryLines() -> [String] {
        state.withLockedValue { state in
            (1..<ranks).map { rank in
                let sent = state.sent[rank].map(String.init) ?? "?"
                let holds = state.holdsFinal[rank] == true ? "holds the final parameters" : "does NOT hold the final parameters"
                return "rank \(rank): \(sent) updates sent, \(state.applied[rank, default: 0]) applied; \(holds)"
            } + (state.serviced > 0 ? [String(format: "rank 0 served %d remote updates, %.2f ms each from the gradients' header to the parameters sent back, %.2f ms of it applying them (the lock and the optimizer step); the rest is the two 4.8 MB transfers and waiting for the other rank's side of them (README: how many ranks one rank 0 feeds)",
                                              state.serviced, 1000 * state.serviceSeconds / Double(state.serviced),
                                              1000 * state.applySeconds / Double(state.serviced))] : [])
        }
    }
}

/// What a rank other than 0 shares with its communication thread.
final class _ClientState: @unchecked Sendable {
    let rank: Int
    let remote: RemoteParameters
    let statistics: TrainingStatistics
    let reporter: RemoteReporter
    let pool: WorkerPool

    init(rank: Int, remote: RemoteParameters, statistics: TrainingStatistics, reporter: RemoteReporter, pool: WorkerPool) {
        self.rank = rank; self.remote = remote; self.statistics = statistics; self.reporter = reporter; self.pool = pool
    }
}
