import Foundation
import NeuralCore
import ThreadSafety

/// The global parameters of a `--distributed` job as the workers of a rank other than 0 see them.
///
/// Rank 0 holds the parameters and the optimizer. Here a worker's update is copied aside and handed
/// to this rank's communication thread (`_RankLink.runClient`), which sends the clipped gradients to
/// rank 0 and receives the parameters after their update into `latest`; the newest parameters any
/// reply brought are kept there, and a worker's sync copies them unless it holds them already.
///
/// A worker does not wait for its update's round trip (two 4.8 MB transfers and rank 0's optimizer
/// step, with rank 0's core shared by its own workers): it goes on with the parameters of the latest
/// reply, so its next rollout may be acted with parameters that lack its own last update. It waits
/// only before its next update, if the previous one is still in flight: one update per worker in
/// flight at most (Downpour SGD's asynchronous push and pull, Dean et al. 2012; A3C's workers already
/// act on parameters other workers are updating). Measured with 2 ranks x 1 worker on 2 cores,
/// waiting for each reply left a core idle a fifth of the time.
final class RemoteParameters: GlobalParameters, @unchecked Sendable {
    let layout: ParameterLayout
    /// The newest global parameters this rank has received, and their generation on rank 0.
    let latest: LockedValue<(generation: Int, parameters: FloatBuffer)>
    /// Updates waiting for the communication thread, oldest first.
    private let pending = LockedValue<[PendingUpdate]>([])
    /// Each worker's last update (by its gradient buffer): at most one in flight per worker.
    private let inFlight = LockedValue<[ObjectIdentifier: PendingUpdate]>([:])
    /// Set when rank 0 says stop: updates are no longer sent.
    let stopped = StopFlag()

    /// One worker's update on its way to rank 0.
    final class PendingUpdate: @unchecked Sendable {
        /// A copy of the clipped gradients (the worker's own buffer is free as soon as it is taken).
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

        /// Waits for `finish` (once per update).
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

    /// Clips `gradients`, copies them aside for the communication thread (after this worker's
    /// previous update has left), and returns at once with the newest parameters in `mirror`; not
    /// applied (generation nil) if the norm is not finite or the job is stopping.
    func apply(gradients: FloatBuffer, maxGradientNorm: Float?, mirror: FloatBuffer?, zeroingGradients: Bool)
        -> SharedParameters.Update {
        let norm = maxGradientNorm.map { clipByGlobalNorm(gradients, maxNorm: $0) } ?? globalNorm(gradients)
        guard norm.isFinite, !stopped.isSet else { return SharedParameters.Update(gradientNorm: norm, generation: nil) }
        let key = ObjectIdentifier(gradients)
        let buffer: FloatBuffer
        if let previous = inFlight.withLockedValue({ $0.removeValue(forKey: key) }) {
            _ = previous.wait()  // its reply has arrived: its buffer is free again
            buffer = previous.gradients
        } else {
            buffer = FloatBuffer(count: layout.totalCount)  // once per worker
        }
        guard !stopped.isSet else { return SharedParameters.Update(gradientNorm: norm, generation: nil) }
        buffer.copy(from: gradients)
        let update = PendingUpdate(gradients: buffer)
        inFlight.withLockedValue { $0[key] = update }
        pending.withLockedValue { $0.append(update) }
        if zeroingGradients { gradients.zero() }
        let generation = mirror.map { copyParameters(into: $0, unlessGeneration: nil) }
            ?? latest.withLockedValue { $0.generation }
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
    func episodeGIF(worker: Int, frames: [UInt8], frameCount: Int, height: Int, width: Int) {}
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
