import Foundation
import Algorithms
import NeuralCore
import Telemetry
import ViZDoom

/// A finished episode, as a worker reports it.
public struct EpisodeReport: Codable, Sendable, Equatable {
    /// The process that played it (its rank in a `--distributed` job, else 0).
    public var rank: Int
    /// The worker that played it, within its process.
    public var worker: Int
    /// The scenario's own return: the sum of its raw rewards (no scale, no shaping).
    public var rawReturn: Double
    /// Steps (actions) played.
    public var length: Int
    /// The critic's mean value estimate over the episode (the seed's Perf/Value).
    public var meanValue: Double
    /// The configuration's score metrics, in order (nil where one could not be computed).
    public var metrics: [Double?]
    /// The return the agent learned from: the scaled rewards plus any shaping.
    public var learningReturn: Double

    public init(rank: Int = 0, worker: Int, rawReturn: Double, length: Int, meanValue: Double, metrics: [Double?] = [],
                learningReturn: Double = 0) {
        self.learningReturn = learningReturn
        self.rank = rank; self.worker = worker; self.rawReturn = rawReturn; self.length = length; self.meanValue = meanValue
        self.metrics = metrics
    }
}

/// Where workers send what they observe (episodes, GIF frames); implemented by the trainer's run
/// outputs, or by nothing in benchmarks and tests.
public protocol WorkerReporter: AnyObject {
    /// A finished episode.
    func episodeFinished(_ episode: EpisodeReport)
    /// Whether worker `worker` should record its episode number `localEpisode` (0-based) as a GIF.
    func shouldRecordGIF(worker: Int, localEpisode: Int) -> Bool
    /// A GIF of one episode, the worker's last reported one: raw GRAY8 frames of `height x width`.
    func episodeGIF(worker: Int, frames: [UInt8], frameCount: Int, height: Int, width: Int)
    /// Something a user should know, e.g. an engine restart.
    func note(_ message: String)
}

/// One A3C worker (Mnih et al. 2016, Algorithm S3) on its own long-lived thread, playing E
/// environments at once (`envsPerWorker`):
///
///     repeat
///         sync the local network from the global parameters
///         play each environment up to t_max steps or to the end of its episode, carrying its LSTM
///             state; one batched forward pass acts for all environments still playing
///             (with `rolloutsCrossEpisodes`: t_max steps each, an ended episode followed at once by
///             the next, its LSTM state zeroed and its steps a new sequence of the rollout)
///         R = 0 for an environment whose episode ended (V(s_{T-1}) if its timeout ended it), else V(s_T)
///         compute returns and advantages per environment; accumulate gradients of the summed A3C loss
///         apply them to the global parameters (clipped, Adam or shared RMSProp)
///     until stopped
///
/// Each environment's rollout is exactly the one a worker with a single environment would play; E of
/// them share one parameter sync, one batched forward per step, one backward pass and one update.
/// With E = 1 this is the seed's worker. Workers stay asynchronous with each other, as in A3C.
///
/// The other algorithms (`TrainingAlgorithm`) play the same way, their rollouts always across episode
/// ends, and change only the step after the rollout: A2C sends the gradient to the round
/// (`SynchronousGradients`) instead of applying it alone; PPO keeps the rollout whole
/// (`RecordedRollout`) and learns it in epochs x minibatches replayed with the current parameters
/// (`RolloutReplay`), one round per minibatch; APPO hands it to the learner thread (`APPOLearner`)
/// and plays the next one at once.
///
/// Everything a step touches is allocated up front: the frames, the rollout's rewards, values,
/// returns and advantages, and the network's activations.
public final class Worker {
    public let index: Int
    /// The process's rank (0 outside a `--distributed` job).
    public let rank: Int
    private let configuration: TrainingConfiguration
    private let replica: ParameterReplica
    private var network: ActorCriticNetwork { replica.network }
    private let statistics: TrainingStatistics
    private weak var reporter: WorkerReporter?
    private let makeEnvironment: (Int) throws -> Environment
    private var random: Xoshiro256StarStar
    private let coefficients: A3CLossCoefficients

    /// E, the environments this worker plays.
    public let environmentCount: Int
    private var players: [_EnvironmentPlayer]
    /// (E, 84, 84): environment e's current observation in row e.
    private let frames: FloatBuffer
    /// (E, 84, 84): the observations of the environments acting in a step, in row order, when they are
    /// not all of them (rows 0..<E map to environments 0..<E otherwise).
    private let gathered: FloatBuffer
    private let states: LSTMStates, bootstrapStates: LSTMStates
    /// Environments acting in the current step, in increasing order.
    private var active: [Int] = [], stillActive: [Int] = []
    /// The rollout's arrays in slot order (see `ActorCriticNetwork.backwardRecorded`).
    private var actions: [Int] = [], returns: [Float] = [], advantages: [Float] = []
    private var phases = WorkerPhases()
    /// A2C and PPO: where the workers meet to make one update of each round.
    private let synchronous: SynchronousGradients?
    /// APPO: the learner thread the rollouts go to.
    private let learner: APPOLearner?
    /// PPO and APPO: the rollout being played, kept whole for learning again (APPO: one of the two
    /// this worker has in flight; nil while the learner holds both, or for A3C and A2C).
    private var recording: RecordedRollout?
    /// PPO: replays minibatches of the worker's own rollout.
    private let replay: RolloutReplay?
    /// PPO: the order of the environments' sequences in an epoch (shuffled into minibatches).
    private var sequenceOrder: [Int], minibatchRows: [Int] = []

    /// Non-finite updates in a row after which the worker stops training (a persistent blow-up).
    public static let maxConsecutiveSkippedUpdates = 20
    private var consecutiveSkippedUpdates = 0

    /// Maximum consecutive failed engine starts before the worker gives up.
    public static let maxStartAttempts = 5

    /// - makeEnvironment: environment number in 0..<E -> a new environment (called again to replace one
    ///   whose engine failed).
    /// - rank: the process's rank in a `--distributed` job (0 otherwise): it seeds the action sampling
    ///   apart from the same worker of the other ranks.
    /// - synchronous: A2C and PPO, the round all the process's workers meet at (`SynchronousGradients`).
    /// - learner: APPO, the learner thread that takes the rollouts.
    init(index: Int, rank: Int = 0, configuration: TrainingConfiguration, shared: GlobalParameters,
         statistics: TrainingStatistics, reporter: WorkerReporter?, actionCount: Int,
         synchronous: SynchronousGradients? = nil, learner: APPOLearner? = nil,
         makeEnvironment: @escaping (Int) throws -> Environment) {
        self.index = index
        self.configuration = configuration
        self.statistics = statistics
        self.reporter = reporter
        self.makeEnvironment = makeEnvironment
        let e = configuration.envsPerWorker, t = configuration.rolloutLength
        environmentCount = e
        replica = ParameterReplica(network: ActorCriticNetwork(actionCount: actionCount, maxSteps: t, maxRows: e,
                                                               seed: configuration.seed),
                                   global: shared)
        random = Xoshiro256StarStar(seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(rank &* 10_000 &+ index &+ 1))
        self.rank = rank
        coefficients = A3CLossCoefficients(valueLoss: configuration.valueLossCoefficient,
                                           entropy: configuration.entropyCoefficient)
        players = (0..<e).map { _ in _EnvironmentPlayer(rolloutLength: t) }
        frames = FloatBuffer(count: e * ActorCriticNetwork.frameSize)
        gathered = FloatBuffer(count: e * ActorCriticNetwork.frameSize)
        states = LSTMStates(count: e)
        bootstrapStates = LSTMStates(count: e)
        precondition(configuration.algorithm.isSynchronous == (synchronous != nil) && (configuration.algorithm == .appo) == (learner != nil),
                     "Worker: \(configuration.algorithm) needs \(configuration.algorithm.isSynchronous ? "a synchronous round" : configuration.algorithm == .appo ? "a learner" : "neither a round nor a learner")")
        self.synchronous = synchronous
        self.learner = learner
        switch configuration.algorithm {
        case .ppo:
            recording = RecordedRollout(environmentCount: e, stepCount: t)
            replay = RolloutReplay(network: self.replica.network, environmentCount: e, stepCount: t)
        case .appo:
            recording = learner!.makeRollouts(worker: index, environmentCount: e, stepCount: t)
            replay = nil
        case .a3c, .a2c:
            recording = nil
            replay = nil
        }
        sequenceOrder = Array(0..<e)
        minibatchRows.reserveCapacity(e)
        for buffer in [\Worker.active, \.stillActive, \.actions] { self[keyPath: buffer].reserveCapacity(t * e) }
        returns.reserveCapacity(t * e)
        advantages.reserveCapacity(t * e)
    }

    deinit { closeEnvironments() }

    private func closeEnvironments() {
        for player in players { player.environment?.close(); player.environment = nil }
    }

    /// Plays and learns until `shouldStop` returns true. An engine failure (a crash, a kill) discards
    /// the rollout in progress (no update; its frames are not counted) and that environment's episode,
    /// and restarts its engine; the other environments' episodes go on, and those that ended in the
    /// discarded rollout are still reported. Only an engine that cannot be started
    /// `maxStartAttempts` times in a row ends the worker with an error.
    public func run(shouldStop: () -> Bool) throws {
        defer { closeEnvironments() }
        while !shouldStop() {
            for number in 0..<environmentCount where players[number].environment == nil {
                try startEnvironment(number, shouldStop: shouldStop)
                if shouldStop() { return }
            }
            do {
                try rollout(shouldStop: shouldStop)
            } catch let failure as _EngineFailure {
                reporter?.note("worker \(index): engine failed (\(failure.error)); discarding the episode and restarting it")
                network.discardRecording()
                reportFinishedEpisodes(except: failure.environment)
                let player = players[failure.environment]
                player.replacingFailedEngine = true
                player.environment?.close()
                player.environment = nil
            }
        }
    }

    static func isEngineFailure(_ error: Error) -> Bool {
        guard let error = error as? ViZDoomError else { return false }
        switch error {
        case .engineExited, .closed, .communication, .engine: return true
        default: return false
        }
    }

    /// Starts a fresh environment and episode for environment `number`, retrying with exponential
    /// backoff (0.5, 1, 2, 4 s).
    private func startEnvironment(_ number: Int, shouldStop: () -> Bool) throws {
        let player = players[number]
        var delay = 0.5
        for attempt in 1...Self.maxStartAttempts {
            do {
                player.environment = try makeEnvironment(number)
                try beginEpisode(number)
                // A restart is a new engine in place of one that died (mid-run or while starting).
                if player.replacingFailedEngine { statistics.addEngineRestart() }
                player.replacingFailedEngine = false
                return
            } catch {
                player.environment?.close()
                player.environment = nil
                // A stop asked for meanwhile (the budget, Ctrl-C) is a normal end, not a failure:
                // the caller sees shouldStop() and returns with the environment left unstarted.
                if shouldStop() { return }
                if attempt == Self.maxStartAttempts {
                    throw TrainingError.workerFailed("worker \(index) could not start its engine after \(attempt) attempts: \(error)")
                }
                player.replacingFailedEngine = true
                reporter?.note("worker \(index): engine start failed (\(error)); retrying in \(delay) s")
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
    }

    /// Starts environment `number`'s next episode: a new game episode, the zero LSTM state, the first frame.
    private func beginEpisode(_ number: Int) throws {
        let player = players[number]
        guard let environment = player.environment else { return }
        try environment.reset()
        try observe(number)
        states.reset(row: number)
        player.beginEpisode()
        player.recordingGIF = number == 0 && (reporter?.shouldRecordGIF(worker: index, localEpisode: player.localEpisode) ?? false)
        if player.recordingGIF { try player.captureGIFFrame() }
    }

    private func observe(_ number: Int) throws {
        let frame = UnsafeMutableBufferPointer(start: frames.pointer + number * ActorCriticNetwork.frameSize,
                                               count: ActorCriticNetwork.frameSize)
        try players[number].environment!.observe(into: frame)
    }

    /// The frames of the environments in `rows`, as consecutive rows.
    private func framesOf(_ rows: [Int]) -> UnsafePointer<Float> {
        let size = ActorCriticNetwork.frameSize
        if rows.count == environmentCount { return UnsafePointer(frames.pointer) }  // rows are 0..<E
        for (j, number) in rows.enumerated() {
            (gathered.pointer + j * size).update(from: frames.pointer + number * size, count: size)
        }
        return UnsafePointer(gathered.pointer)
    }

    /// Runs `body` with the failures of environment `number`'s engine marked as its own.
    private func engineCall<R>(_ number: Int, _ body: () throws -> R) throws -> R {
        do { return try body() } catch where Self.isEngineFailure(error) {
            throw _EngineFailure(environment: number, error: error)
        }
    }

    /// One rollout of up to t_max steps of every environment and one update of the global parameters.
    private func rollout(shouldStop: () -> Bool) throws {
        var clock = PhaseClock()
        // Environments whose episode ended in the previous rollout start their next one.
        for number in 0..<environmentCount where players[number].episodeFinished {
            try engineCall(number) { try beginEpisode(number) }
        }
        phases.engine += clock.lap()
        replica.synchronize()
        phases.sync += clock.lap()
        active.removeAll(keepingCapacity: true)
        for number in 0..<environmentCount {
            players[number].beginRollout()
            active.append(number)
        }
        if let recording {
            for number in 0..<environmentCount { recording.startStates.copy(row: number, from: states, row: number) }
            recording.policyVersion = learner?.version ?? 0
        }
        var steps = 0
        for step in 0..<configuration.rolloutLength where !active.isEmpty {
            if shouldStop() { network.discardRecording(); return }  // a partial rollout is dropped, never applied
            let observations = framesOf(active)
            // (Rollouts that are kept cross episode ends: every environment acts at every step.)
            assert(recording == nil || active.count == environmentCount)
            recording?.frame(step: step, environment: 0).update(from: observations, count: active.count * ActorCriticNetwork.frameSize)
            let batch = network.act(frames: observations, states: states, rows: active, record: true)
            phases.acting += clock.lap()
            stillActive.removeAll(keepingCapacity: true)
            for (row, number) in active.enumerated() {
                let player = players[number]
                let action = batch.sampleAction(row: row, uniform: Float(random.nextUnitDouble()))
                let value = batch.value(row: row)
                if let recording {
                    let i = number * recording.stepCount + step
                    recording.actions[i] = action
                    recording.values[i] = value
                    recording.behaviourLogProbs[i] = log(max(batch.probabilities(row: row)[action], .leastNormalMagnitude))
                }
                phases.acting += clock.lap()
                let outcome = try engineCall(number) { try player.environment!.step(action: action) }
                // What the agent learns from: the scaled reward, plus any opt-in shaping (see RewardShaping).
                let learningReward = Float(outcome.reward) * configuration.rewardScale
                    + Float(player.environment!.lastShapingBonus)
                player.record(slot: batch.firstSlot + row, action: action, value: value,
                              reward: learningReward, rawReward: outcome.reward)
                if let recording { recording.rewards[number * recording.stepCount + step] = learningReward }
                if outcome.finished {
                    player.episodeFinished = true
                    let timedOut = try configuration.timeLimitBootstrap
                        && engineCall(number) { try player.environment!.finishedEpisodeReachedTimeout() }
                    // The returns stop here; a timeout's continue from V(s_{T-1}), the last state seen (RolloutEnd).
                    player.endSegment(bootstrap: timedOut ? value : 0)
                    player.metrics = try engineCall(number) { try player.environment!.finishedEpisodeMetrics() }
                    if configuration.rolloutsCrossEpisodes {
                        // The rollout goes on with the next episode, a new sequence: BPTT stops here too.
                        phases.engine += clock.lap()
                        reportEpisode(of: player)
                        phases.other += clock.lap()
                        try engineCall(number) { try beginEpisode(number) }
                        network.beginSequence(row: number)
                        stillActive.append(number)
                    }
                } else {
                    try engineCall(number) {
                        try observe(number)
                        if player.recordingGIF { try player.captureGIFFrame() }
                    }
                    stillActive.append(number)
                }
                steps += 1
                phases.engine += clock.lap()
            }
            swap(&active, &stillActive)
        }

        // Bootstrap from V(s_T) where a rollout was cut; the episodes' LSTM states go on, so act on copies.
        // (A crossing rollout whose last step ended an episode needs none: the next one has no step yet.)
        active.removeAll { players[$0].lastStepEndedEpisode }
        if !active.isEmpty {
            for number in active { bootstrapStates.copy(row: number, from: states, row: number) }
            let batch = network.act(frames: framesOf(active), states: bootstrapStates, rows: active, record: false)
            for (row, number) in active.enumerated() { players[number].bootstrap = batch.value(row: row) }
            phases.acting += clock.lap()
        }
        if let recording {
            for (number, player) in players.enumerated() {
                recording.ends[number].removeAll(keepingCapacity: true)  // (no copy-on-write of the player's array)
                recording.ends[number].append(contentsOf: player.ends)
                recording.bootstraps[number] = player.lastStepEndedEpisode ? 0 : player.bootstrap
            }
        }
        // Stopping: the rollout is dropped, as a partial one would be (an update now could reach the
        // global parameters after the final checkpoint).
        if shouldStop() { network.discardRecording(); return }
        switch configuration.algorithm {
        case .a3c, .a2c: guard try learnA3CLoss(clock: &clock, shouldStop: shouldStop) else { return }
        case .ppo: guard try learnPPO(clock: &clock, shouldStop: shouldStop) else { return }
        case .appo:
            // The learner takes the rollout; the worker plays the next in the other buffer (waiting
            // for it while the learner holds both: the bound on the policy lag).
            network.discardRecording()
            guard let next = learner!.exchange(recording!, shouldStop: shouldStop) else { return }
            recording = next
            phases.optimizer += clock.lap()
        }
        reportFinishedEpisodes(except: nil)
        phases.other += clock.lap()
        let framesPerStep = players.lazy.compactMap(\.environment).first?.framesPerStep ?? configuration.frameSkip
        statistics.addRollout(frames: steps * framesPerStep, steps: steps, phases: phases)
        phases = WorkerPhases()
    }

    /// A3C and A2C: returns and advantages of the recorded rollout, one backward pass of A3C's loss,
    /// and the update (A3C: this worker's own; A2C: the round's). False: stop (nothing applied).
    private func learnA3CLoss(clock: inout PhaseClock, shouldStop: () -> Bool) throws -> Bool {
        let slots = network.recordedSlots
        actions.removeAll(keepingCapacity: true)
        returns.removeAll(keepingCapacity: true)
        advantages.removeAll(keepingCapacity: true)
        actions.append(contentsOf: repeatElement(0, count: slots))
        returns.append(contentsOf: repeatElement(0, count: slots))
        advantages.append(contentsOf: repeatElement(0, count: slots))
        for player in players {
            player.computeTargets(gamma: configuration.gamma, lambda: configuration.gaeLambda,
                                  actions: &actions, returns: &returns, advantages: &advantages)
        }
        replica.zeroGradients()
        let loss = network.backwardRecorded(actions: actions, returns: returns, advantages: advantages,
                                            coefficients: coefficients)
        phases.learning += clock.lap()
        return try applyUpdate(valueLoss: loss.valueLoss, policyLoss: loss.policyLoss, entropy: loss.entropy,
                               total: loss.total, clock: &clock, shouldStop: shouldStop)
    }

    /// PPO: `ppo.epochs` passes over the rollout, each in `ppo.minibatches` minibatches of whole
    /// sequences (the environments shuffled into equal shares), each minibatch replayed with the
    /// current parameters and one round's update. False: stop.
    private func learnPPO(clock: inout PhaseClock, shouldStop: () -> Bool) throws -> Bool {
        let recording = recording!, replay = replay!
        recording.computeGAE(gamma: configuration.gamma, lambda: configuration.gaeLambda)
        let lossCoefficients = configuration.ppo.lossCoefficients(configuration)
        return try RolloutReplay.forEachMinibatch(sequenceCount: environmentCount, epochs: configuration.ppo.epochs,
                                                  minibatches: configuration.ppo.minibatches, random: &random,
                                                  order: &sequenceOrder, rows: &minibatchRows) { rows in
            replica.synchronize()
            phases.sync += clock.lap()
            replica.zeroGradients()
            let terms = replay.learn(recording, rows: rows, targets: .recorded, coefficients: lossCoefficients)
            phases.learning += clock.lap()
            guard try applyUpdate(valueLoss: terms.valueLoss, policyLoss: terms.policyLoss, entropy: terms.entropy,
                                  total: terms.total, clock: &clock, shouldStop: shouldStop) else { return false }
            statistics.addPPODiagnostics(clipFraction: terms.clipFraction, approximateKL: terms.approximateKL)
            return true
        }
    }

    /// Applies the network's gradients (A3C: to the global parameters; A2C, PPO: with the round's),
    /// and counts the update or the skip. False: nothing was applied and the worker must stop
    /// (a stop during the round, or global parameters that are gone: a --distributed job stopping).
    private func applyUpdate(valueLoss: Float, policyLoss: Float, entropy: Float, total: Float,
                             clock: inout PhaseClock, shouldStop: () -> Bool) throws -> Bool {
        // A NaN or Inf never reaches the global parameters: the update skips a non-finite gradient.
        let lossIsFinite = total.isFinite && valueLoss.isFinite && policyLoss.isFinite
        let update: SharedParameters.Update
        var counted = true
        if let synchronous {
            // Every worker comes to every round (a non-finite share makes the mean non-finite: skipped).
            if !lossIsFinite { network.gradients.pointer[0] = .nan }
            guard let round = synchronous.contribute(network.gradients, to: replica.global,
                                                     maxGradientNorm: configuration.maxGradientNorm,
                                                     shouldStop: shouldStop) else {
                network.discardRecording()
                return false
            }
            update = round.update
            counted = round.appliedHere
        } else {
            // Fused: the update also refreshes the local parameters and zeroes the gradients (see ParameterReplica).
            update = lossIsFinite ? replica.applyGradients(maxGradientNorm: configuration.maxGradientNorm)
                : SharedParameters.Update(gradientNorm: .nan, generation: nil)
        }
        let gradientNorm = update.gradientNorm
        phases.optimizer += clock.lap()
        if gradientNorm.isFinite && update.generation == nil {
            // Finite but not applied: the global parameters are gone (a --distributed job stopping).
            network.discardRecording()
            return false
        }
        if gradientNorm.isFinite {
            statistics.addUpdate(valueLoss: valueLoss, policyLoss: policyLoss, entropy: entropy,
                                 gradientNorm: gradientNorm, counted: counted)
            consecutiveSkippedUpdates = 0
        } else {
            if counted { statistics.addSkippedUpdate() }
            consecutiveSkippedUpdates += 1
            reporter?.note("worker \(index): skipped an update with a non-finite loss or gradient (\(consecutiveSkippedUpdates) in a row)")
            if consecutiveSkippedUpdates >= Self.maxConsecutiveSkippedUpdates {
                throw TrainingError.diverged("worker \(index) produced \(consecutiveSkippedUpdates) non-finite updates in a row; none reached the global parameters, so the last checkpoint is good. Try a lower --learning-rate or --max-grad-norm")
            }
        }
        return true
    }

    /// Reports the episodes that ended in this rollout (and their GIFs), but that of `excluded`.
    private func reportFinishedEpisodes(except excluded: Int?) {
        for (number, player) in players.enumerated()
        where player.episodeFinished && !player.episodeReported && number != excluded {
            reportEpisode(of: player)
        }
    }

    /// Reports `player`'s finished episode (and its GIF), once.
    private func reportEpisode(of player: _EnvironmentPlayer) {
        player.episodeReported = true  // an engine failure before its next episode must not report it twice
        reporter?.episodeFinished(EpisodeReport(rank: rank, worker: index, rawReturn: player.episodeReturn, length: player.episodeLength,
                                                meanValue: player.episodeValueSum / Double(max(player.episodeLength, 1)),
                                                metrics: player.metrics, learningReturn: player.episodeLearningReturn))
        if player.recordingGIF && player.gifFrameCount > 0 {
            reporter?.episodeGIF(worker: index, frames: player.gifFrames,
                                 frameCount: player.gifFrameCount, height: player.gifSize.height,
                                 width: player.gifSize.width)
        }
        player.localEpisode += 1  // the number of its next episode
    }
}

/// An engine call of environment `environment` failed.
private struct _EngineFailure: Error {
    let environment: Int
    let error: Error
}

/// One environment of a worker: its engine, its episode in progress, and its part of the rollout.
private final class _EnvironmentPlayer {
    var environment: Environment?
    /// Set when an engine died or failed to start; the next engine that starts counts as a restart.
    var replacingFailedEngine = false

    // The episode in progress.
    var episodeReturn = 0.0
    /// The sum of the rewards the agent learned from (scaled, shaped).
    var episodeLearningReturn = 0.0
    var episodeLength = 0
    var episodeValueSum = 0.0
    /// Set once the finished episode has been reported (until the next begins).
    var episodeReported = false
    var localEpisode = 0
    var episodeFinished = false
    /// The score metrics of the episode that just finished.
    var metrics: [Double?] = []
    var recordingGIF = false
    var gifFrames: [UInt8] = []
    var gifFrameCount = 0
    var gifSize = (height: 0, width: 0)

    // This rollout: per step, its slot, the action, the value and the scaled reward.
    var slots: [Int] = [], actions: [Int] = []
    var values: [Float] = [], rewards: [Float] = []
    /// Where episodes ended in this rollout: the step counts at their ends, in increasing order (at
    /// most one, the last step, unless rollouts cross episode ends), and the values their returns
    /// continue from (0, or a timeout's bootstrap). The steps after an end are the next episode's.
    private var segmentEnds: [RolloutEnd] = []
    private var returns: [Float] = [], advantages: [Float] = []
    /// V(s_T) where the rollout cut an episode (unused where its last step ended one).
    var bootstrap: Float = 0

    init(rolloutLength: Int) {
        for buffer in [\_EnvironmentPlayer.values, \.rewards, \.returns, \.advantages] {
            self[keyPath: buffer].reserveCapacity(rolloutLength)
        }
        slots.reserveCapacity(rolloutLength)
        actions.reserveCapacity(rolloutLength)
        segmentEnds.reserveCapacity(rolloutLength)
    }

    func beginEpisode() {
        episodeReturn = 0
        episodeLearningReturn = 0
        episodeReported = false
        episodeLength = 0
        episodeValueSum = 0
        episodeFinished = false
        gifFrames.removeAll(keepingCapacity: true)
        gifFrameCount = 0
    }

    func beginRollout() {
        slots.removeAll(keepingCapacity: true)
        actions.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        rewards.removeAll(keepingCapacity: true)
        segmentEnds.removeAll(keepingCapacity: true)
        bootstrap = 0
    }

    /// An episode ended after the steps recorded so far; its returns continue from `bootstrap`.
    func endSegment(bootstrap: Float) { segmentEnds.append(RolloutEnd(step: slots.count, bootstrap: bootstrap)) }

    /// Where episodes ended in this rollout so far.
    var ends: [RolloutEnd] { segmentEnds }

    /// Whether the rollout's last step so far ended an episode.
    var lastStepEndedEpisode: Bool { !slots.isEmpty && segmentEnds.last?.step == slots.count }

    func record(slot: Int, action: Int, value: Float, reward: Float, rawReward: Double) {
        slots.append(slot)
        actions.append(action)
        values.append(value)
        rewards.append(reward)
        episodeReturn += rawReward
        episodeLearningReturn += Double(reward)
        episodeLength += 1
        episodeValueSum += Double(value)
    }

    /// Returns and advantages of this environment's rollout (`RolloutTargets`), written at its slots:
    /// one computation per episode in it, the returns of each that ended bootstrapped from its end's
    /// value (0, or V(s_{T-1}) for a timeout), those of one the rollout cut from V(s_T).
    func computeTargets(gamma: Float, lambda: Float, actions allActions: inout [Int], returns allReturns: inout [Float],
                        advantages allAdvantages: inout [Float]) {
        let steps = slots.count
        guard steps > 0 else { return }
        returns.removeAll(keepingCapacity: true)
        advantages.removeAll(keepingCapacity: true)
        returns.append(contentsOf: repeatElement(0, count: steps))
        advantages.append(contentsOf: repeatElement(0, count: steps))
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                returns.withUnsafeMutableBufferPointer { out in
                    advantages.withUnsafeMutableBufferPointer { adv in
                        RolloutTargets.compute(rewards: r, values: v, ends: segmentEnds, bootstrap: bootstrap,
                                               gamma: gamma, lambda: lambda, returns: out, advantages: adv)
                    }
                }
            }
        }
        for t in 0..<steps {
            allActions[slots[t]] = actions[t]
            allReturns[slots[t]] = returns[t]
            allAdvantages[slots[t]] = advantages[t]
        }
    }

    func captureGIFFrame() throws {
        try environment?.withRawScreen { screen, height, width in
            guard let screen else { return }
            gifFrames.append(contentsOf: screen)
            gifFrameCount += 1
            gifSize = (height, width)
        }
    }
}
