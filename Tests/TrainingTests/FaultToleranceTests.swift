import Foundation
import NeuralCore
import Testing
import ThreadSafety
import ViZDoom
@testable import Training

/// An environment whose rewards are NaN: every update it produces is non-finite.
private final class PoisonedEnvironment: Environment {
    private let inner = SideBarEnvironment(seed: 3)
    var actionCount: Int { inner.actionCount }
    var framesPerStep: Int { 1 }
    func reset() throws { try inner.reset() }
    func observe(into frame: UnsafeMutableBufferPointer<Float>) throws { try inner.observe(into: frame) }
    func step(action: Int) throws -> (reward: Double, finished: Bool) { (.nan, try inner.step(action: action).finished) }
    func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R { try inner.withRawScreen(body) }
    func close() {}
}

/// An environment whose engine "dies" (throws engineExited, as DoomGame does when its engine is
/// killed) after `lifetime` steps.
private final class MortalEnvironment: Environment {
    private let inner = SideBarEnvironment(seed: 5)
    private var steps = 0
    private let lifetime: Int
    init(lifetime: Int) { self.lifetime = lifetime }
    var actionCount: Int { inner.actionCount }
    var framesPerStep: Int { 1 }
    func reset() throws { try inner.reset() }
    func observe(into frame: UnsafeMutableBufferPointer<Float>) throws { try inner.observe(into: frame) }
    func step(action: Int) throws -> (reward: Double, finished: Bool) {
        steps += 1
        if steps > lifetime { throw ViZDoomError.engineExited(message: "engine killed (test)") }
        return try inner.step(action: action)
    }
    func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R { try inner.withRawScreen(body) }
    func close() {}
}

/// Counts calls across worker threads.
private final class _Counter: Sendable {
    private let value = LockedValue(0)
    func next() -> Int { value.withLockedValue { $0 += 1; return $0 } }
}

private func temporaryDirectory(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("a3c-\(label)-\(UUID().uuidString)")
}

/// A checkpoint store in `run` and global parameters to save into it: a 3-action network's
/// initial parameters with Adam.
private func checkpointFixture(run: URL) -> (store: CheckpointStore, shared: SharedParameters) {
    let network = ActorCriticNetwork(actionCount: 3, seed: 1)
    let shared = SharedParameters(layout: network.layout, initialParameters: network.parameters,
                                  optimizer: Adam(parameterCount: network.layout.totalCount))
    return (CheckpointStore(runDirectory: run, keep: 5), shared)
}

/// A small run for a test environment: no GIFs, a fresh log directory (the caller removes it).
private func testConfiguration(_ label: String, workers: Int, maxFrames: Int, rolloutLength: Int = 30) -> TrainingConfiguration {
    var configuration = TrainingConfiguration()
    configuration.workers = workers
    configuration.maxFrames = maxFrames
    configuration.rolloutLength = rolloutLength
    configuration.gifEveryEpisodes = 0
    configuration.logdir = temporaryDirectory(label).path
    return configuration
}

@Suite("Fault tolerance")
struct FaultToleranceTests {
    @Test("a NaN gradient never reaches the global parameters")
    func nanGradientIsSkipped() {
        let network = ActorCriticNetwork(actionCount: 3, seed: 1)
        let shared = SharedParameters(layout: network.layout, initialParameters: network.parameters,
                                      optimizer: Adam(parameterCount: network.layout.totalCount))
        let before = network.parameters.array
        let gradients = FloatBuffer(count: network.layout.totalCount)
        gradients.pointer[17] = .nan
        let update = shared.apply(gradients: gradients, maxGradientNorm: 40)
        #expect(!update.gradientNorm.isFinite && update.generation == nil)
        let after = FloatBuffer(count: network.layout.totalCount)
        shared.copyParameters(into: after)
        let unchanged = after.array == before  // a Bool: a failing array #expect would diff 1.2 M floats
        #expect(unchanged)
        #expect(shared.updateCount == 0)
    }

    @Test("persistent non-finite updates stop training with a clear message; the parameters stay good")
    func persistentBlowUpStops() throws {
        let configuration = testConfiguration("nan", workers: 1, maxFrames: 100_000, rolloutLength: 5)
        defer { try? FileManager.default.removeItem(atPath: configuration.logdir) }
        let trainer = try Trainer(configuration: configuration, makeEnvironment: { _ in PoisonedEnvironment() })
        let initial = FloatBuffer(count: trainer.shared.layout.totalCount)
        trainer.shared.copyParameters(into: initial)
        do {
            try trainer.train()
            Issue.record("training should have stopped")
        } catch {
            #expect("\(error)".contains("non-finite"), "\(error)")
        }
        let final = FloatBuffer(count: trainer.shared.layout.totalCount)
        trainer.shared.copyParameters(into: final)
        let changed = zip(final.array, initial.array).filter { $0 != $1 }.count
        #expect(changed == 0, "\(changed) parameters changed")
        let store = CheckpointStore(runDirectory: trainer.run.url, keep: 5)
        let counters = try CheckpointStore.counters(in: try #require(store.checkpoints().last))
        #expect(counters.skippedUpdates >= Worker.maxConsecutiveSkippedUpdates && counters.updates == 0)
    }

    @Test("an engine that dies mid-episode is replaced by its worker; training goes on and counts the restarts",
          arguments: [(1, false), (3, false), (3, true)])
    func deadEnginesAreReplaced(envsPerWorker: Int, crossEpisodes: Bool) throws {
        // Crossing rollouts of 30 steps cross the 20-step episodes; 10 divides them.
        let rolloutLength = crossEpisodes ? 30 : 10
        var configuration = testConfiguration("mortal", workers: 2, maxFrames: 6_000, rolloutLength: rolloutLength)
        configuration.envsPerWorker = envsPerWorker
        configuration.rolloutsCrossEpisodes = crossEpisodes
        defer { try? FileManager.default.removeItem(atPath: configuration.logdir) }
        let created = _Counter()
        // The first four engines die after 250 steps each (mid-episode: episodes are 20 steps, so
        // at step 251 one is under way); the ones after them live on.
        let trainer = try Trainer(configuration: configuration, makeEnvironment: { index in
            if index < 0 { return SideBarEnvironment(seed: 1) }  // the trainer's probe for the action count
            return MortalEnvironment(lifetime: created.next() <= 4 ? 250 : .max)
        })
        let counters = try trainer.train()
        #expect(counters.engineRestarts == 4)
        #expect(counters.frames >= 6_000 && counters.skippedUpdates == 0)
        // Each failure drops its episode, and with several environments the rollout it was part of
        // (the others' episodes go on, their steps in that rollout unlearned and uncounted).
        #expect(counters.episodes >= 6_000 / 20 - 8 * envsPerWorker, "broken episodes are dropped, the rest are all counted: \(counters.episodes)")
        // ... and none twice: every reported episode's 20 steps were played, counted or in a dropped
        // rollout (4 failures and the 2 rollouts in progress at the stop).
        #expect(counters.episodes * 20 <= counters.frames + (4 + 2) * envsPerWorker * rolloutLength,
                "\(counters.episodes) episodes for \(counters.frames) frames")
    }

    @Test("an engine that never starts gets a bounded retry with backoff, then a clear error for its worker")
    func engineThatNeverStarts() throws {
        let configuration = testConfiguration("nostart", workers: 1, maxFrames: 1_000)
        defer { try? FileManager.default.removeItem(atPath: configuration.logdir) }
        let attempts = _Counter()
        let trainer = try Trainer(configuration: configuration, makeEnvironment: { index in
            if index < 0 { return SideBarEnvironment(seed: 1) }
            _ = attempts.next()
            throw ViZDoomError.engineExited(message: "engine crashed while starting (test)")
        })
        let started = Date()
        do {
            try trainer.train()
            Issue.record("training should have failed")
        } catch {
            #expect("\(error)".contains("could not start its engine after \(Worker.maxStartAttempts) attempts"), "\(error)")
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(attempts.next() == Worker.maxStartAttempts + 1)
        #expect(seconds >= 7 && seconds < 20, "backoff 0.5 + 1 + 2 + 4 s expected, took \(seconds) s")
    }

    @Test("a damaged newest checkpoint is reported and the previous one is used; a half-written one is ignored")
    func damagedNewestCheckpoint() throws {
        let run = temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: run) }
        let (store, shared) = checkpointFixture(run: run)
        var counters = TrainingStatistics.Counters()
        counters.frames = 1000
        try store.save(shared: shared, counters: counters, isBest: false, metadata: [:])
        counters.frames = 2000
        let newest = try store.save(shared: shared, counters: counters, isBest: false, metadata: [:])
        // A crash while writing the next one leaves only its staging folder.
        let staging = store.directory.appendingPathComponent("ckpt-000000003000.tmp")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: staging.appendingPathComponent(CheckpointStore.modelFile))
        #expect(store.checkpoints().map(\.lastPathComponent) == ["ckpt-000000001000", "ckpt-000000002000"])
        // Damage the newest: flip one byte of its tensor data.
        let model = newest.appendingPathComponent(CheckpointStore.modelFile)
        var bytes = try Data(contentsOf: model)
        bytes[bytes.count - 100] ^= 0xFF
        try bytes.write(to: model)
        var warnings: [String] = []
        let (used, restored) = try store.restoreNewest(into: shared) { warnings.append($0) }
        #expect(used.lastPathComponent == "ckpt-000000001000")
        #expect(restored.frames == 1000)
        #expect(warnings.count == 1 && warnings[0].contains("ckpt-000000002000"), "\(warnings)")
    }

    @Test("a crash between the two renames of replacing best/ loses nothing: best.old becomes best/ again")
    func interruptedBestSwap() throws {
        let run = temporaryDirectory("best-swap")
        defer { try? FileManager.default.removeItem(at: run) }
        let (store, shared) = checkpointFixture(run: run)
        var counters = TrainingStatistics.Counters()
        counters.frames = 1000
        try store.save(shared: shared, counters: counters, isBest: true, metadata: [:])
        // The swap moved best/ aside and crashed before its staging folder took the name.
        let files = FileManager.default
        let old = store.directory.appendingPathComponent("best.old"), staging = store.directory.appendingPathComponent("best.tmp")
        try files.moveItem(at: store.best, to: old)
        try files.createDirectory(at: staging, withIntermediateDirectories: true)
        // A periodic checkpoint's .old beside its complete replacement is only a leftover.
        let periodicOld = store.directory.appendingPathComponent("ckpt-000000001000.old")
        try files.createDirectory(at: periodicOld, withIntermediateDirectories: true)
        store.removeLeftovers()
        #expect(try CheckpointStore.counters(in: store.best).frames == 1000)
        #expect(!files.fileExists(atPath: old.path) && !files.fileExists(atPath: staging.path))
        #expect(!files.fileExists(atPath: periodicOld.path))
        #expect(store.checkpoints().map(\.lastPathComponent) == ["ckpt-000000001000"])
    }

    @Test("two runs created in the same second get two folders")
    func runsOfOneSecond() throws {
        var configuration = TrainingConfiguration()
        configuration.logdir = temporaryDirectory("same-second").path
        defer { try? FileManager.default.removeItem(atPath: configuration.logdir) }
        let now = Date()
        let first = try RunDirectory.create(for: configuration, now: now)
        let second = try RunDirectory.create(for: configuration, now: now)
        #expect(second.url.lastPathComponent == first.url.lastPathComponent + "-2")
    }

    @Test("file errors read as 'path: the OS's reason', not as an NSError dump")
    func fileErrorsReadPlainly() {
        let missing = temporaryDirectory("missing").appendingPathComponent("a/b")
        do {
            try FileManager.default.createDirectory(at: missing, withIntermediateDirectories: false)
            Issue.record("creating a folder under a missing parent should fail")
        } catch {
            #expect(fileErrorDescription(error) == "\(missing.path): No such file or directory", "\(fileErrorDescription(error))")
        }
        #expect(fileErrorDescription(TrainingError.noCheckpoint("x")) == "\(TrainingError.noCheckpoint("x"))")
    }

    @Test("counters survive a checkpoint round trip exactly")
    func countersRoundTrip() throws {
        let run = temporaryDirectory("counters")
        defer { try? FileManager.default.removeItem(at: run) }
        let network = ActorCriticNetwork(actionCount: 2, seed: 5)
        let shared = SharedParameters(layout: network.layout, initialParameters: network.parameters,
                                      optimizer: RMSProp(parameterCount: network.layout.totalCount))
        var counters = TrainingStatistics.Counters()
        counters.frames = 123_456; counters.episodes = 789; counters.updates = 4_000; counters.engineRestarts = 2
        counters.recentReturns = [1.5, -3, 95]; counters.bestRollingMean = 31.2; counters.elapsedSeconds = 61.5
        let saved = try CheckpointStore(runDirectory: run, keep: 1).save(shared: shared, counters: counters, isBest: true, metadata: [:])
        #expect(try CheckpointStore.counters(in: saved) == counters)
        #expect(try CheckpointStore.counters(in: CheckpointStore(runDirectory: run, keep: 1).best) == counters)
    }
}
