import Foundation
import NeuralCore
import Telemetry
import ViZDoom

/// Where workers send what they observe (episodes, GIF frames); implemented by the trainer's run
/// outputs, or by nothing in benchmarks and tests.
public protocol WorkerReporter: AnyObject {
    /// A finished episode (raw return, length in steps) by `worker`.
    func episodeFinished(worker: Int, rawReturn: Double, length: Int, meanValue: Double)
    /// Whether worker `worker` should record its episode number `localEpisode` (0-based) as a GIF.
    func shouldRecordGIF(worker: Int, localEpisode: Int) -> Bool
    /// A GIF of one episode: raw GRAY8 frames of `height x width`.
    func episodeGIF(worker: Int, localEpisode: Int, frames: [UInt8], frameCount: Int, height: Int, width: Int)
    /// Something a user should know, e.g. an engine restart.
    func note(_ message: String)
}

/// One A3C worker (Mnih et al. 2016, Algorithm S3), run on its own long-lived thread:
///
///     repeat
///         sync the local network from the global parameters
///         play up to t_max steps with the local policy, carrying the LSTM state
///         R = 0 if the episode ended, else V(s_T) (bootstrap)
///         compute returns and advantages; accumulate gradients of the A3C loss
///         apply them to the global parameters (clipped, Adam or shared RMSProp)
///     until stopped
///
/// Everything a step touches is allocated up front: the frame, the rollout's rewards, values,
/// returns and advantages, and the network's activations.
public final class Worker {
    public let index: Int
    private let configuration: TrainingConfiguration
    private let shared: SharedParameters
    private let statistics: TrainingStatistics
    private weak var reporter: WorkerReporter?
    private let makeEnvironment: () throws -> Environment
    private var environment: Environment?
    public let network: ActorCriticNetwork
    private var random: Xoshiro256StarStar

    private let frame: UnsafeMutableBufferPointer<Float>
    private var lstm = LSTMState()
    private var bootstrapState = LSTMState()
    private var actions: [Int] = []
    private var rewards: [Float] = []
    private var values: [Float] = []
    private var returns: [Float] = []
    private var advantages: [Float] = []
    private let coefficients: A3CLossCoefficients

    // The episode in progress.
    private var episodeReturn = 0.0
    private var episodeLength = 0
    private var episodeValueSum = 0.0
    private var localEpisode = 0
    private var gifFrames: [UInt8] = []
    private var gifFrameCount = 0
    private var gifSize = (height: 0, width: 0)
    private var recordingGIF = false

    /// Non-finite updates in a row after which the worker stops training (a persistent blow-up).
    public static let maxConsecutiveSkippedUpdates = 20
    private var consecutiveSkippedUpdates = 0
    /// Set when an engine died or failed to start; the next engine that starts counts as a restart.
    private var replacingFailedEngine = false

    /// Maximum consecutive failed engine starts before the worker gives up.
    public static let maxStartAttempts = 5

    public init(index: Int, configuration: TrainingConfiguration, shared: SharedParameters,
                statistics: TrainingStatistics, reporter: WorkerReporter?, actionCount: Int,
                makeEnvironment: @escaping () throws -> Environment) {
        self.index = index
        self.configuration = configuration
        self.shared = shared
        self.statistics = statistics
        self.reporter = reporter
        self.makeEnvironment = makeEnvironment
        network = ActorCriticNetwork(actionCount: actionCount, maxRolloutLength: configuration.rolloutLength,
                                     seed: configuration.seed)
        random = Xoshiro256StarStar(seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index + 1))
        frame = .allocate(capacity: ActorCriticNetwork.frameSize)
        frame.initialize(repeating: 0)
        coefficients = A3CLossCoefficients(valueLoss: configuration.valueLossCoefficient,
                                           entropy: configuration.entropyCoefficient)
        for buffer in [\Worker.rewards, \.values, \.returns, \.advantages] {
            self[keyPath: buffer].reserveCapacity(configuration.rolloutLength)
        }
        actions.reserveCapacity(configuration.rolloutLength)
    }

    deinit {
        frame.deallocate()
        environment?.close()
    }

    /// Plays and learns until `shouldStop` returns true. Engine failures (a crash, a kill) discard
    /// the episode and restart the engine; only an engine that cannot be started
    /// `maxStartAttempts` times in a row ends the worker with an error.
    public func run(shouldStop: () -> Bool) throws {
        defer { environment?.close(); environment = nil }
        while !shouldStop() {
            do {
                if environment == nil { try startEnvironment(shouldStop: shouldStop) }
                guard !shouldStop() else { return }
                try rollout(shouldStop: shouldStop)
            } catch let error as ViZDoomError where environment != nil && Self.isEngineFailure(error) {
                reporter?.note("worker \(index): engine failed (\(error)); discarding the episode and restarting it")
                replacingFailedEngine = true
                environment?.close()
                environment = nil
            }
        }
    }

    static func isEngineFailure(_ error: ViZDoomError) -> Bool {
        switch error {
        case .engineExited, .closed, .communication, .engine: return true
        default: return false
        }
    }

    /// Starts a fresh environment and episode, retrying with exponential backoff (0.5, 1, 2, 4 s).
    private func startEnvironment(shouldStop: () -> Bool) throws {
        var delay = 0.5
        for attempt in 1...Self.maxStartAttempts {
            do {
                let environment = try makeEnvironment()
                self.environment = environment
                try beginEpisode(environment)
                // A restart is a new engine in place of one that died (mid-run or while starting).
                if replacingFailedEngine { statistics.addEngineRestart() }
                replacingFailedEngine = false
                return
            } catch {
                environment?.close()
                environment = nil
                if attempt == Self.maxStartAttempts || shouldStop() {
                    throw TrainingError.workerFailed("worker \(index) could not start its engine after \(attempt) attempts: \(error)")
                }
                replacingFailedEngine = true
                reporter?.note("worker \(index): engine start failed (\(error)); retrying in \(delay) s")
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
    }

    private func beginEpisode(_ environment: Environment) throws {
        try environment.reset()
        try environment.observe(into: frame)
        lstm.reset()
        episodeReturn = 0
        episodeLength = 0
        episodeValueSum = 0
        recordingGIF = reporter?.shouldRecordGIF(worker: index, localEpisode: localEpisode) ?? false
        gifFrames.removeAll(keepingCapacity: true)
        gifFrameCount = 0
        if recordingGIF { try captureGIFFrame(environment) }
    }

    private func captureGIFFrame(_ environment: Environment) throws {
        try environment.withRawScreen { screen, height, width in
            guard let screen else { return }
            gifFrames.append(contentsOf: screen)
            gifFrameCount += 1
            gifSize = (height, width)
        }
    }

    /// One rollout of up to t_max steps and one update of the global parameters.
    private func rollout(shouldStop: () -> Bool) throws {
        guard let environment else { return }
        shared.copyParameters(into: network)
        actions.removeAll(keepingCapacity: true)
        rewards.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        var finished = false
        for t in 0..<configuration.rolloutLength {
            if shouldStop() { return }  // a partial rollout is dropped, never applied
            let step = network.act(frame: frame.baseAddress!, state: &lstm, recordSlot: t)
            let action = step.sampleAction(uniform: Float(random.nextUnitDouble()))
            let value = step.value
            let outcome = try environment.step(action: action)
            actions.append(action)
            values.append(value)
            rewards.append(Float(outcome.reward) * configuration.rewardScale)
            episodeReturn += outcome.reward
            episodeLength += 1
            episodeValueSum += Double(value)
            if outcome.finished { finished = true; break }
            try environment.observe(into: frame)
            if recordingGIF { try captureGIFFrame(environment) }
        }
        statistics.addRollout(frames: actions.count * environment.framesPerStep, steps: actions.count)

        // Bootstrap from V(s_T) at a cut; the episode's LSTM state goes on, so act on a copy.
        var bootstrap: Float = 0
        if !finished {
            copy(lstm, into: &bootstrapState)
            bootstrap = network.act(frame: frame.baseAddress!, state: &bootstrapState).value
        }
        returns.removeAll(keepingCapacity: true)
        advantages.removeAll(keepingCapacity: true)
        returns.append(contentsOf: repeatElement(0, count: actions.count))
        advantages.append(contentsOf: repeatElement(0, count: actions.count))
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                returns.withUnsafeMutableBufferPointer { out in
                    advantages.withUnsafeMutableBufferPointer { adv in
                        RolloutTargets.compute(rewards: r, values: v, bootstrap: bootstrap, gamma: configuration.gamma,
                                               lambda: configuration.gaeLambda, returns: out, advantages: adv)
                    }
                }
            }
        }
        network.zeroGradients()
        let loss = network.backwardRecorded(actions: actions, returns: returns, advantages: advantages,
                                            coefficients: coefficients)
        // A NaN or Inf never reaches the global parameters: `apply` skips a non-finite gradient.
        let lossIsFinite = loss.total.isFinite && loss.valueLoss.isFinite && loss.policyLoss.isFinite
        // Fused: the update also refreshes the local parameters and zeroes the gradients (see SharedParameters).
        let gradientNorm = lossIsFinite ? shared.apply(gradientsOf: network, maxGradientNorm: configuration.maxGradientNorm) : .nan
        if gradientNorm.isFinite {
            statistics.addUpdate(valueLoss: loss.valueLoss, policyLoss: loss.policyLoss, entropy: loss.entropy,
                                 gradientNorm: gradientNorm)
            consecutiveSkippedUpdates = 0
        } else {
            statistics.addSkippedUpdate()
            consecutiveSkippedUpdates += 1
            reporter?.note("worker \(index): skipped an update with a non-finite loss or gradient (\(consecutiveSkippedUpdates) in a row)")
            if consecutiveSkippedUpdates >= Self.maxConsecutiveSkippedUpdates {
                throw TrainingError.diverged("worker \(index) produced \(consecutiveSkippedUpdates) non-finite updates in a row; none reached the global parameters, so the last checkpoint is good. Try a lower --learning-rate or --max-grad-norm")
            }
        }

        if finished {
            reporter?.episodeFinished(worker: index, rawReturn: episodeReturn, length: episodeLength,
                                      meanValue: episodeValueSum / Double(max(episodeLength, 1)))
            if recordingGIF && gifFrameCount > 0 {
                reporter?.episodeGIF(worker: index, localEpisode: localEpisode, frames: gifFrames,
                                     frameCount: gifFrameCount, height: gifSize.height, width: gifSize.width)
            }
            localEpisode += 1
            try beginEpisode(environment)
        }
    }

    private func copy(_ source: LSTMState, into destination: inout LSTMState) {
        for i in source.hidden.indices { destination.hidden[i] = source.hidden[i] }
        for i in source.cell.indices { destination.cell[i] = source.cell[i] }
    }
}
