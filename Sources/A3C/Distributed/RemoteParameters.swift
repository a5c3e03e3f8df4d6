import Foundation
import NeuralCore
import ThreadSafety

/// The global parameters of a `--distributed` job as the workers of a rank other than 0 see them.
///
/// Rank 0 holds the parameters and the optimizer. Here a worker's update is handed to this rank's
/// communication thread (`RankClient`), which sends the clipped gradients to rank 0 and receives the
/// parameters after their update; the worker waits meanwhile, as it would for the lock of
/// `SharedParameters`. The newest parameters any reply brought are kept here (`latest`), and a
/// worker's sync copies them unless it holds them already. So a worker is at most one reply behind
/// the job's global parameters, as in the distributed form of A3C (Mnih et al. 2016 ran one
/// process; universe-starter-agent's parameter server works the same way).
final class RemoteParameters: GlobalParameters, @unchecked Sendable {
    let layout: ParameterLayout
    /// The newest global parameters this rank has received, and their generation on rank 0.
    let latest: LockedValue<(generation: Int, parameters: FloatBuffer)>
    /// Updates waiting for the communication thread, oldest first.
    private let pending = LockedValue<[PendingUpdate]>([])
    /// Set when rank 0 says stop: updates are no longer sent.
    let stopped = StopFlag()

    /// One worker's update on its way to rank 0.
    final class PendingUpdate: @unchecked Sendable {
        /// The clipped gradients (the worker's buffer: it waits until `finish`).
        let gradients: FloatBuffer
        private let done = DispatchSemaphore(value: 0)
        /// The generation of the parameters the reply brought, nil if the update was not applied.
        private(set) var generation: Int?

        init(gradients: FloatBuffer) { self.gradients = gradients }

        /// Called by the communication thread when the reply has arrived (or never will).
        func finish(generation: Int?) {
            self.generation = generation
            done.signal()
        }

        func wait() -> Int? {
            done.wait()
            return generation
        }
    }

    /// - initial: the parameters of rank 0's welcome, at `generation`.
    init(layout: ParameterLayout, initial: FloatBuffer, generation: Int) {
        precondition(initial.count == layout.totalCount, "RemoteParameters: the welcome's parameters do not fit the layout")
        self.layout = layout
        let copy = FloatBuffer(count: layout.totalCount)
        copy.copy(from: initial)
        latest = LockedValue((generation, copy))
    }

    func copyParameters(into destination: FloatBuffer, unlessGeneration heldGeneration: Int?) -> Int {
        latest.withLockedValue { latest in
            if latest.generation != heldGeneration { destination.copy(from: latest.parameters) }
            return latest.generation
        }
    }

    /// Clips `gradients` in place (they are the worker's, zeroed afterwards anyway), hands them to the
    /// communication thread and waits for rank 0's reply; then copies the newest parameters into
    /// `mirror`. Not applied (generation nil) if the norm is not finite or the job is stopping.
    func apply(gradients: FloatBuffer, maxGradientNorm: Float?, mirror: FloatBuffer?, zeroingGradients: Bool)
        -> SharedParameters.Update {
        let norm = maxGradientNorm.map { clipByGlobalNorm(gradients, maxNorm: $0) } ?? globalNorm(gradients)
        guard norm.isFinite, !stopped.isSet else { return SharedParameters.Update(gradientNorm: norm, generation: nil) }
        let update = PendingUpdate(gradients: gradients)
        pending.withLockedValue { $0.append(update) }
        guard update.wait() != nil else { return SharedParameters.Update(gradientNorm: norm, generation: nil) }
        let generation = mirror.map { copyParameters(into: $0, unlessGeneration: nil) }
            ?? latest.withLockedValue { $0.generation }
        if zeroingGradients { gradients.zero() }
        return SharedParameters.Update(gradientNorm: norm, generation: generation)
    }

    /// The oldest waiting update, if any (for the communication thread).
    func takePending() -> PendingUpdate? {
        pending.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
    }

    /// Stops: every waiting update and every later one is answered "not applied".
    func stop() {
        stopped.set()
        while let update = takePending() { update.finish(generation: nil) }
    }
}

/// A rank's workers' episodes, held for the next report to rank 0; no GIFs (rank 0's worker 0 records them).
final class RemoteReporter: WorkerReporter, @unchecked Sendable {
    private let episodes = LockedValue<[EpisodeReport]>([])
    private let rank: Int

    init(rank: Int) { self.rank = rank }

    func episodeFinished(_ episode: EpisodeReport) { episodes.withLockedValue { $0.append(episode) } }
    func shouldRecordGIF(worker: Int, localEpisode: Int) -> Bool { false }
    func episodeGIF(worker: Int, localEpisode: Int, frames: [UInt8], frameCount: Int, height: Int, width: Int) {}
    func note(_ message: String) {
        print("rank \(rank): \(message)")
        fflush(stdout)
    }

    /// The episodes since the previous call.
    func takeEpisodes() -> [EpisodeReport] {
        episodes.withLockedValue { episodes in
            defer { episodes.removeAll() }
            return episodes
        }
    }
}
