import Foundation
import MessagePassing
import NeuralCore
import ThreadSafety

/// A rank's communication thread: the one thread that calls MPI (MPI_THREAD_FUNNELED), and what
/// the rest of the process hands to it and learns from it. `communicate()` runs on that thread from
/// MPI_Init to MPI_Finalize; every other method is for the other threads.
final class _RankLink: @unchecked Sendable {
    private let world = LockedValue<(rank: Int, size: Int)?>(nil)
    private let worldReady = DispatchSemaphore(value: 0)
    private let welcomeReady = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)
    private let role = LockedValue<Role?>(nil)
    private let errors = LockedValue<[Error]>([])
    private let workersDone = LockedValue<(done: Bool, failure: String?)>((false, nil))
    private(set) var welcome: RankWelcome?
    private(set) var welcomeParameters: FloatBuffer?

    private enum Role {
        case server(_ServerState)
        case client(_ClientState)
        case failed(String)
    }

    /// The first MPI or protocol error, if any.
    var failure: Error? { errors.withLockedValue { $0.first } }

    // MARK: - For the other threads

    func waitForWorld() throws -> (rank: Int, size: Int) {
        worldReady.wait()
        if let failure { throw failure }
        return world.withLockedValue { $0! }
    }

    func waitForWelcome() throws -> RankWelcome {
        welcomeReady.wait()
        if let failure { throw failure }
        return welcome!
    }

    func startServing(_ server: _ServerState) { role.withLockedValue { $0 = .server(server) } }
    func startClient(_ client: _ClientState) { role.withLockedValue { $0 = .client(client) } }
    /// This rank could not take its role (rank 0: its trainer did not start; another rank: rank 0's
    /// welcome does not fit this build): the job ends (MPI_Abort), the error explains why.
    func fail(_ error: Error) { role.withLockedValue { $0 = .failed("\(error)") } }
    func workersEnded(failure: Error?) { workersDone.withLockedValue { $0 = (true, failure.map { "\($0)" }) } }

    /// Waits until the communication thread has finalized MPI (or failed). Idempotent.
    func waitForEnd() {
        ended.wait()
        ended.signal()
    }

    private func record(_ error: Error) { errors.withLockedValue { $0.append(error) } }

    /// Every wait of the communication thread sleeps between polls (`DistributedTraining.pollInterval`):
    /// Open MPI's blocking calls would spin on a core the workers and engines need.
    private let poll = DistributedTraining.pollInterval
    /// A 4.8 MB transfer moves only while both of its ranks call MPI (over shared memory without
    /// single-copy, in 32 KB fragments): its waits poll more often (`DistributedTraining.transferPollInterval`).
    private let transferPoll = DistributedTraining.transferPollInterval

    // MARK: - On the communication thread

    func communicate() {
        defer { ended.signal() }
        let mpi: MPIWorld
        do { mpi = try MPIWorld() } catch {
            record(error)
            worldReady.signal(); welcomeReady.signal()
            return
        }
        world.withLockedValue { $0 = (mpi.rank, mpi.size) }
        worldReady.signal()
        do {
            if mpi.rank == 0 {
                try runServer(mpi)
            } else {
                try receiveWelcome(mpi)
                welcomeReady.signal()
                try runClient(mpi)
            }
            try mpi.finalize()
        } catch {
            record(error)
            welcomeReady.signal()
            // A broken exchange cannot end cleanly: end the whole job now (mpirun ends every rank).
            FileHandle.standardError.write(Data("rank \(mpi.rank): \(error); ending the job\n".utf8))
            mpi.abort(code: 1)
        }
    }

    /// Waits for the main thread to hand over a role.
    private func awaitRole() -> Role {
        while true {
            if let role = role.withLockedValue({ $0 }) { return role }
            usleep(1000)
        }
    }

    // MARK: Rank 0

    /// Ends the whole job (MPI_Abort: mpirun ends every rank) if this rank's main thread could not
    /// take its role; its error says why.
    private func abortIfFailed(_ role: Role, _ mpi: MPIWorld) {
        if case .failed(let message) = role {
            FileHandle.standardError.write(Data("rank \(mpi.rank): \(message); ending the job\n".utf8))
            mpi.abort(code: 1)
        }
    }

    private func runServer(_ mpi: MPIWorld) throws {
        let role = awaitRole()
        abortIfFailed(role, mpi)
        guard case .server(let server) = role else { return }
        let trainer = server.trainer
        let shared = trainer.shared
        let count = shared.layout.totalCount
        let parameters = FloatBuffer(count: count), gradients = FloatBuffer(count: count)
        var generation = shared.copyParameters(into: parameters, unlessGeneration: nil)
        let welcome = RankWelcome(configuration: trainer.configuration, generation: generation, parameterCount: count)
        let header = try DistributedCoding.encode(welcome)
        for rank in 1..<mpi.size {
            try mpi.send(bytes: header, to: rank, tag: DistributedTag.welcome, pollInterval: poll)
            try mpi.send(floats: UnsafeBufferPointer(parameters.buffer), to: rank, tag: DistributedTag.welcome, pollInterval: transferPoll)
        }
        var finals = Set<Int>(), goodbyes = Set<Int>()
        var endedAt: Date?
        var finalChecksum: UInt32?
        while goodbyes.count < mpi.size - 1 {
            guard let envelope = try mpi.tryProbe(tag: DistributedTag.request) else {
                if server.trainerFinished.isSet {
                    endedAt = endedAt ?? Date()
                    if finalChecksum == nil && finals.count == mpi.size - 1 {
                        // Every rank has stopped and the trainer has too: the parameters are final.
                        generation = shared.copyParameters(into: parameters, unlessGeneration: nil)
                        finalChecksum = CRC32.checksum(UnsafeRawBufferPointer(parameters.buffer))
                        for rank in finals {
                            try reply(mpi, ServerReply(stop: true, generation: generation), parameters: parameters, to: rank)
                        }
                    }
                    if Date().timeIntervalSince(endedAt!) > DistributedTraining.endTimeout {
                        throw TrainingError.distributedProtocol("ranks \((1..<mpi.size).filter { !goodbyes.contains($0) }.map(String.init).joined(separator: ", ")) did not end within \(Int(DistributedTraining.endTimeout)) s of rank 0")
                    }
                }
                usleep(useconds_t(poll * 1e6))
                continue
            }
            let source = envelope.source
            let report = try DistributedCoding.decode(RankReport.self, from: mpi.receiveBytes(from: source, tag: DistributedTag.request, pollInterval: poll).bytes)
            // What a rank did after the job was told to stop is not counted, like a local worker's
            // partial rollout: the final checkpoint's counters are taken then.
            if !trainer.stopping.isSet { trainer.mergeRemote(report.delta, episodes: report.episodes) }
            switch report.kind {
            case .update:
                let started = Date()
                var applying = 0.0
                defer { server.recordServiceTime(Date().timeIntervalSince(started), applying: applying) }
                _ = try mpi.receive(floats: gradients.buffer, from: source, tag: DistributedTag.request, pollInterval: transferPoll)
                if trainer.stopping.isSet || server.trainerFinished.isSet {
                    try reply(mpi, ServerReply(stop: true, generation: nil), to: source)
                } else {
                    // Clipped on the rank already: applied as they are, the new parameters mirrored for the reply.
                    let applyStarted = Date()
                    let update = shared.apply(gradients: gradients, maxGradientNorm: nil, mirror: parameters)
                    applying = Date().timeIntervalSince(applyStarted)
                    if let applied = update.generation {
                        server.recordApplied(rank: source)
                        trainer.statistics.addAppliedUpdate()
                        try reply(mpi, ServerReply(stop: false, generation: applied), parameters: parameters, to: source)
                    } else {
                        try reply(mpi, ServerReply(stop: false, generation: nil), to: source)
                    }
                }
            case .statistics:
                try reply(mpi, ServerReply(stop: trainer.stopping.isSet || server.trainerFinished.isSet, generation: nil), to: source)
            case .final:
                if let failure = report.failure { server.recordFailure(rank: source, failure) }
                server.recordSent(rank: source, report.acknowledgedUpdates ?? 0)
                finals.insert(source)  // answered once every rank has sent its .final (above)
            case .goodbye:
                // Only after the final reply, so finalChecksum is set.
                server.recordFinal(rank: source, holds: report.parameterChecksum == finalChecksum)
                goodbyes.insert(source)
            }
        }
    }

    private func reply(_ mpi: MPIWorld, _ reply: ServerReply, parameters: FloatBuffer? = nil, to rank: Int) throws {
        try mpi.send(bytes: DistributedCoding.encode(reply), to: rank, tag: DistributedTag.reply, pollInterval: poll)
        if reply.generation != nil, let parameters {
            try mpi.send(floats: UnsafeBufferPointer(parameters.buffer), to: rank, tag: DistributedTag.reply, pollInterval: transferPoll)
        }
    }

    // MARK: Other ranks

    private func receiveWelcome(_ mpi: MPIWorld) throws {
        // Rank 0 may take a while (a resume reads its checkpoint; a benchmark measures its ceiling
        // first): wait without spinning, which would take a core from it on a shared host.
        let header = try mpi.receiveBytes(from: 0, tag: DistributedTag.welcome, pollInterval: poll).bytes
        let welcome = try DistributedCoding.decode(RankWelcome.self, from: header)
        let parameters = FloatBuffer(count: welcome.parameterCount)
        let message = try mpi.receive(floats: parameters.buffer, from: 0, tag: DistributedTag.welcome, pollInterval: transferPoll)
        guard message.byteCount == 4 * welcome.parameterCount else {
            throw TrainingError.distributedProtocol("rank 0 announced \(welcome.parameterCount) parameters and sent \(message.byteCount / 4): run the same a3c build on every host")
        }
        self.welcome = welcome
        welcomeParameters = parameters
    }

    private func runClient(_ mpi: MPIWorld) throws {
        let role = awaitRole()
        abortIfFailed(role, mpi)
        guard case .client(let client) = role else { return }
        let remote = client.remote
        /// The parameters of a reply are received here, outside the lock the workers' syncs take,
        /// and then swapped into `remote.latest`.
        var incoming = FloatBuffer(count: remote.layout.totalCount)
        var acknowledged = 0
        var lastReport = Date()

        /// Sends a report (and the gradients of an update), waits for the reply without spinning,
        /// and receives the parameters it brings into `remote.latest`.
        func exchange(_ kind: RankReport.Kind, gradients: FloatBuffer? = nil, failure: String? = nil,
                      checksum: UInt32? = nil) throws -> ServerReply {
            let report = RankReport(kind: kind, rank: client.rank, delta: client.statistics.takeDelta(),
                                    episodes: client.reporter.takeEpisodes(), failure: failure,
                                    acknowledgedUpdates: kind == .final ? acknowledged : nil, parameterChecksum: checksum)
            try mpi.send(bytes: DistributedCoding.encode(report), to: 0, tag: DistributedTag.request, pollInterval: poll)
            if let gradients { try mpi.send(floats: UnsafeBufferPointer(gradients.buffer), to: 0, tag: DistributedTag.request, pollInterval: transferPoll) }
            lastReport = Date()
            guard kind != .goodbye else { return ServerReply(stop: true, generation: nil) }
            let reply = try DistributedCoding.decode(ServerReply.self, from: mpi.receiveBytes(from: 0, tag: DistributedTag.reply, pollInterval: poll).bytes)
            if let generation = reply.generation {
                _ = try mpi.receive(floats: incoming.buffer, from: 0, tag: DistributedTag.reply, pollInterval: transferPoll)
                remote.latest.withLockedValue { latest in
                    swap(&latest.parameters, &incoming)
                    latest.generation = generation
                }
            }
            return reply
        }

        while true {
            if let update = remote.takePending() {
                guard !remote.stopped.isSet else { update.finish(generation: nil); continue }
                let reply = try exchange(.update, gradients: update.gradients)
                if reply.generation != nil { acknowledged += 1 }
                update.finish(generation: reply.generation)
                if reply.stop { remote.stop() }
            } else if let (done, failure) = workersDone.withLockedValue({ $0.done ? $0 : nil }), done {
                remote.stop()
                let reply = try exchange(.final, failure: failure)
                guard reply.generation != nil else {
                    throw TrainingError.distributedProtocol("rank 0 answered the final report without the final parameters: run the same a3c build on every host")
                }
                let checksum = remote.latest.withLockedValue { CRC32.checksum(UnsafeRawBufferPointer($0.parameters.buffer)) }
                _ = try exchange(.goodbye, checksum: checksum)
                return
            } else if Date().timeIntervalSince(lastReport) >= 1 {
                if try exchange(.statistics).stop { remote.stop() }
            } else {
                usleep(useconds_t(poll * 1e6))
            }
        }
    }
}
