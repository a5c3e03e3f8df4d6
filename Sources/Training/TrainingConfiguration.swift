import Foundation
import ViZDoom

/// Every setting of a training run, declared once. Written to `config.json` in the run directory
/// (and to TensorBoard as text), read back by `--resume` and `a3c play`.
///
/// Defaults are the seed notebook's (awjuliani's A3C-Doom after Mnih et al. 2016) unless noted;
/// `forScenario(_:)` starts from a scenario's preset instead (its actions, reward scale, frame skip,
/// timeout and metrics, and where it sets them its environments per worker, learning-rate schedule
/// and entropy coefficient: see `ScenarioPreset`), which is what `a3c train --scenario NAME` does.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
        /// Adam with bias correction on the global parameters (the seed's).
        case adam
        /// The A3C paper's shared RMSProp (decay 0.99, epsilon 0.1).
        case rmsprop
    }

    public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
        /// The seed's: `learningRate` throughout.
        case constant
        /// The A3C paper's (Mnih et al. 2016, section 8: "annealed to 0 over the course of
        /// training"): `learningRate * (1 - p)`, p the share of the budget spent: of `--max-frames`
        /// in frames over the whole run, or of this session's `--max-minutes` in time, whichever is
        /// further along. Late updates are small, so a policy that has learned is not undone by
        /// them (take_cover's rolling survival peaked at 868 tics and fell to 457 at a constant rate).
        case linear
    }

    /// Scenario name (see `a3c scenarios`) or `.cfg` path.
    public var scenario = "basic"
    /// How rollouts become updates (`--algorithm`; `TrainingAlgorithm`). A config.json without it is
    /// an A3C run's.
    public var algorithm: TrainingAlgorithm = .a3c
    /// PPO's and APPO's own settings (unused by A3C and A2C).
    public var ppo = PPOSettings()
    /// The agent's actions: button combinations, one policy output each (`--actions`). Default:
    /// basic's preset, the seed's MOVE_LEFT, MOVE_RIGHT, ATTACK.
    public var actions: ActionSet = ScenarioPreset.basic.actions
    /// An episode timeout in tics that replaces the `.cfg`'s; nil keeps the `.cfg`'s.
    public var episodeTimeout: Int? = nil
    /// Doom's skill level, 1 (easiest) to 5 (nightmare), replacing the `.cfg`'s `doom_skill`
    /// (`--skill`); nil keeps the `.cfg`'s. It sets the monsters' aggressiveness and speed, the damage
    /// the player takes and the ammunition found (ViZDoom's words): deadly_corridor's `.cfg` plays at
    /// 5, which tutorials lower to learn it.
    public var doomSkill: Int? = nil
    /// Score metrics computed for every episode beyond the raw return; the first is the main one.
    public var metrics: [ScoreMetric] = ScenarioPreset.basic.metrics
    /// Worker threads. Default: one per CPU core (workers are the unit of parallelism; each engine
    /// runs while its worker waits for it, so one worker per core keeps every core busy).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// E, the environments (engines) each worker plays at once: one batched forward pass acts for
    /// all of them, and their E rollouts make one update. 1 is the seed's worker.
    ///
    /// Default 2, measured on basic (2 cores, 2026-12-02): rolling-100 >= 70 after 96, 86 and 106 s
    /// for seeds 1-3, against 113, 126 and 130 s with 1 (104, 137 and 117 s with 4); about 1.2 times
    /// the frames/s of 1. More environments amortise more of the optimizer's pass and of the
    /// weights' traffic, but each update then learns from more frames, and every engine added to a
    /// core evicts the others' caches (an engine step cost 15-30% more with 8 per worker).
    public var envsPerWorker = 2
    /// Stop after this many engine frames (tics) in total; nil = no frame limit.
    public var maxFrames: Int? = nil
    /// Stop after this many minutes of training; nil = no time limit.
    /// With neither limit set, training runs for 5 minutes (enough to learn basic on a laptop).
    public var maxMinutes: Double? = nil
    /// Seeds the network's initialisation, each worker's action sampling and each engine.
    public var seed: UInt64 = 1
    /// Steps per rollout before an update (t_max).
    public var rolloutLength = 30
    /// Whether rollouts run t_max steps across episode ends (`--cross-episodes`), as A2C and Sample
    /// Factory do: an environment whose episode ends starts the next one within the rollout (its
    /// LSTM state zeroed, BPTT and the returns cut at the end). Off by default, the A3C paper's and
    /// the seed's rollout, which stops at an episode's end ("until terminal s_t or t - t_start ==
    /// t_max"). With short episodes (basic once learned: about 7 steps) that means an update, and
    /// an optimizer pass over all 1.2 M parameters, every few steps, and acting steps with fewer
    /// environments; crossing keeps every update at E * t_max steps. An episode is reported
    /// (episodes.csv, TensorBoard, the progress line) when it ends, before the update that learns
    /// from its last steps: if a stop or an engine failure drops that rollout, the episode stays
    /// counted and its last steps do not.
    public var rolloutsCrossEpisodes = false
    /// Whether an episode its timeout ended is learned as cut, not as ended (`--time-limit-bootstrap`,
    /// on by default): its returns continue from the critic's value of its last state instead of 0
    /// (Pardo et al. 2018, "Time Limits in Reinforcement Learning"; see `RolloutEnd`). Nothing in a
    /// frame tells the time, so learning a timeout as a death teaches the critic that states are worth
    /// less for no reason it can see. Off (`--no-time-limit-bootstrap`) learns it as a death, as the
    /// seed and this trainer did before; a config.json written without the setting reads as off, so
    /// that earlier runs resume and reproduce as they were trained.
    public var timeLimitBootstrap = true
    /// Discount factor gamma.
    public var gamma: Float = 0.99
    /// GAE lambda; 1 gives the seed's discounted TD residuals (n-step advantages).
    public var gaeLambda: Float = 1.0
    public var learningRate: Float = 1e-4
    /// How the learning rate changes over the run (`--lr-schedule`).
    public var learningRateSchedule: LearningRateSchedule = .constant
    public var optimizer: OptimizerKind = .adam
    /// Gradients are clipped to this global norm before each update.
    public var maxGradientNorm: Float = 40
    /// Weight of the value loss (a sum over the rollout) in the total loss.
    public var valueLossCoefficient: Float = 0.5
    /// Weight of the entropy bonus.
    public var entropyCoefficient: Float = 0.01
    /// An opt-in reward shaping scheme for learning (`RewardShaping`); nil: the scenario's rewards only.
    public var rewardShaping: RewardShaping? = nil
    /// Rewards are multiplied by this for learning (the seed divides by 100); reports show raw rewards.
    public var rewardScale: Float = 0.01
    /// Tics each action is held. 4 is the field's practice; 1 reproduces the seed.
    public var frameSkip = 4
    /// The part of the screen the network sees (`--view`): the seed's centre crop for every preset
    /// (see `ScreenView` for what the whole frame did on take_cover).
    public var view: ScreenView = .center
    /// TensorBoard summaries every this many episodes (all workers together), and at most
    /// `summariesPerSecond` a second.
    public var logEveryEpisodes = 5
    /// A GIF of worker 0's episode every this many of worker 0's episodes (0 = never).
    public var gifEveryEpisodes = 25
    /// ...and at most one GIF per this many seconds. The seed's per-episode cadence alone writes
    /// hundreds of GIFs a minute once episodes of basic take a second (150 MB in 3 minutes);
    /// 30 s keeps a run's GIFs a readable history of its progress.
    public var gifMinimumSeconds = 30.0
    /// A checkpoint every this many episodes (all workers together), and one at the end.
    public var checkpointEveryEpisodes = 250
    /// ...and at most one per this many seconds. Once an agent is good, episodes are short (basic:
    /// 6 steps), and the seed's cadence alone writes a 15 MB checkpoint every second or two.
    public var checkpointMinimumSeconds = 60.0
    /// How many periodic checkpoints to keep (the best one is kept apart).
    public var keepCheckpoints = 5
    /// Where run directories are created.
    public var logdir = "runs"
    /// Trained with `--distributed` under mpirun: episodes.csv has a rank column first. A run keeps
    /// the way it started (its episodes.csv's columns depend on it).
    public var distributed = false

    public init() {}

    /// The time budget when the user set no limit at all.
    public static let defaultMinutes = 5.0

    /// The most TensorBoard summaries a second: a curve needs no more, and a learned `basic` ends
    /// about 170 episodes a second, which would be 34 summaries at the seed's every-5-episodes cadence.
    public static let summariesPerSecond = 4.0

    /// Checks every setting; the message names the option and the accepted values.
    public func validate() throws {
        func fail(_ message: String) throws -> Never { throw TrainingError.invalidOption(message) }
        if workers < 1 || workers > 256 { try fail("--workers must be between 1 and 256, got \(workers)") }
        if envsPerWorker < 1 || envsPerWorker > 64 { try fail("--envs-per-worker must be between 1 and 64, got \(envsPerWorker)") }
        if let maxFrames, maxFrames < 1 { try fail("--max-frames must be a positive number of frames, got \(maxFrames)") }
        if let maxMinutes, !(maxMinutes > 0 && maxMinutes.isFinite) { try fail("--max-minutes must be a positive number, got \(maxMinutes)") }
        if rolloutLength < 1 || rolloutLength > 1000 { try fail("--rollout-length must be between 1 and 1000, got \(rolloutLength)") }
        if !(gamma >= 0 && gamma <= 1) { try fail("--gamma must be in [0, 1], got \(gamma)") }
        if !(gaeLambda >= 0 && gaeLambda <= 1) { try fail("--gae-lambda must be in [0, 1], got \(gaeLambda)") }
        if !(learningRate > 0 && learningRate.isFinite && learningRate < 1) { try fail("--learning-rate must be a positive number below 1, got \(learningRate)") }
        if !(maxGradientNorm > 0 && maxGradientNorm.isFinite) { try fail("--max-grad-norm must be a positive number, got \(maxGradientNorm)") }
        if !(valueLossCoefficient >= 0 && valueLossCoefficient.isFinite) { try fail("--value-loss-coefficient must be >= 0, got \(valueLossCoefficient)") }
        if !(entropyCoefficient >= 0 && entropyCoefficient.isFinite) { try fail("--entropy-coefficient must be >= 0, got \(entropyCoefficient)") }
        if !(rewardScale > 0 && rewardScale.isFinite) { try fail("--reward-scale must be a positive number, got \(rewardScale)") }
        if frameSkip < 1 || frameSkip > 100 { try fail("--frame-skip must be between 1 and 100, got \(frameSkip)") }
        if logEveryEpisodes < 1 { try fail("--log-every must be at least 1 episode, got \(logEveryEpisodes)") }
        if gifEveryEpisodes < 0 { try fail("--gif-every must be >= 0 episodes (0 = no GIFs), got \(gifEveryEpisodes)") }
        if !(gifMinimumSeconds >= 0 && gifMinimumSeconds.isFinite) { try fail("--gif-min-seconds must be >= 0, got \(gifMinimumSeconds)") }
        if checkpointEveryEpisodes < 1 { try fail("--checkpoint-every must be at least 1 episode, got \(checkpointEveryEpisodes)") }
        if !(checkpointMinimumSeconds >= 0 && checkpointMinimumSeconds.isFinite) { try fail("--checkpoint-min-seconds must be >= 0, got \(checkpointMinimumSeconds)") }
        if keepCheckpoints < 1 { try fail("--keep-checkpoints must be at least 1, got \(keepCheckpoints)") }
        if logdir.isEmpty { try fail("--logdir must not be empty") }
        if let episodeTimeout, episodeTimeout < 0 { try fail("--episode-timeout must be >= 0 tics (0 = none), got \(episodeTimeout)") }
        if let doomSkill, !GameConfiguration.doomSkills.contains(doomSkill) { try fail("--skill must be 1 (easiest) to 5 (nightmare), got \(doomSkill)") }
        if actions.count < 1 { try fail("--actions must name at least one action") }
        if algorithm.rolloutsCrossEpisodes && !rolloutsCrossEpisodes {
            try fail("--algorithm \(algorithm.rawValue) learns from rollouts across episode ends; drop --no-cross-episodes")
        }
        try ppo.validate(for: self)
    }

    /// Reads a `config.json`; a setting it lacks (a run made by an older version) takes its default,
    /// except the scenario, which every run's configuration names.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = TrainingConfiguration()
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
            value = try c.decodeIfPresent(T.self, forKey: key)
        }
        // The scenario is what a run is about: a file without it is not a run's configuration.
        d.scenario = try c.decode(String.self, forKey: .scenario)
        try read(.algorithm, &d.algorithm); try read(.ppo, &d.ppo)
        if let actions = try c.decodeIfPresent(ActionSet.self, forKey: .actions) {
            d.actions = actions
        } else {
            // A run from before presets played one action per button of its scenario.
            d.actions = (try? ScenarioCatalog().scenario(named: d.scenario).buttons).map(ActionSet.oneButtonEach)
                ?? ScenarioPreset.basic.actions
            if d.scenario == "basic" { d.actions = ScenarioPreset.basic.actions }
        }
        try read(.episodeTimeout, &d.episodeTimeout); try read(.doomSkill, &d.doomSkill)
        d.metrics = try c.decodeIfPresent([ScoreMetric].self, forKey: .metrics) ?? []
        try read(.workers, &d.workers); try read(.envsPerWorker, &d.envsPerWorker)
        try read(.maxFrames, &d.maxFrames); try read(.maxMinutes, &d.maxMinutes); try read(.seed, &d.seed)
        try read(.rolloutLength, &d.rolloutLength); try read(.rolloutsCrossEpisodes, &d.rolloutsCrossEpisodes)
        d.timeLimitBootstrap = try c.decodeIfPresent(Bool.self, forKey: .timeLimitBootstrap) ?? false
        try read(.gamma, &d.gamma); try read(.gaeLambda, &d.gaeLambda)
        try read(.learningRate, &d.learningRate); try read(.learningRateSchedule, &d.learningRateSchedule)
        try read(.optimizer, &d.optimizer)
        try read(.maxGradientNorm, &d.maxGradientNorm); try read(.valueLossCoefficient, &d.valueLossCoefficient)
        try read(.entropyCoefficient, &d.entropyCoefficient); try read(.rewardScale, &d.rewardScale)
        try read(.frameSkip, &d.frameSkip); try read(.view, &d.view); try read(.logEveryEpisodes, &d.logEveryEpisodes)
        try read(.gifEveryEpisodes, &d.gifEveryEpisodes); try read(.gifMinimumSeconds, &d.gifMinimumSeconds)
        try read(.checkpointEveryEpisodes, &d.checkpointEveryEpisodes)
        try read(.checkpointMinimumSeconds, &d.checkpointMinimumSeconds)
        try read(.keepCheckpoints, &d.keepCheckpoints); try read(.logdir, &d.logdir)
        try read(.distributed, &d.distributed)
        try read(.rewardShaping, &d.rewardShaping)
        self = d
    }

    /// The defaults for `scenario`: the seed's settings with its preset's actions, reward scale,
    /// frame skip, timeout and metrics, and the environments per worker, learning-rate schedule and
    /// entropy coefficient of a preset that sets them (`ScenarioPreset`), or, for a scenario without a preset (a
    /// custom `.cfg`), one action per button of its `.cfg` and reward scale 1.
    /// Throws for an unknown scenario, a missing `.cfg` or one with no buttons.
    public static func forScenario(_ scenario: String) throws -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        // A .cfg path is kept absolute, so that config.json's run plays from any folder.
        configuration.scenario = ScenarioCatalog.isPath(scenario) ? URL(fileURLWithPath: scenario).standardizedFileURL.path : scenario
        let preset = try ScenarioPreset.named(scenario)
            ?? ScenarioPreset.withoutPreset(scenario: scenario, buttons: ScenarioCatalog().scenario(named: scenario).buttons)
        configuration.actions = preset.actions
        configuration.rewardScale = preset.rewardScale
        configuration.frameSkip = preset.frameSkip
        configuration.episodeTimeout = preset.episodeTimeout
        configuration.metrics = preset.metrics
        configuration.learningRateSchedule = preset.learningRateSchedule
        if let envsPerWorker = preset.envsPerWorker { configuration.envsPerWorker = envsPerWorker }
        if let entropyCoefficient = preset.entropyCoefficient { configuration.entropyCoefficient = entropyCoefficient }
        return configuration
    }

    /// The learning rate once `progress` (0 at the start, 1 at the end of the budget) is spent.
    public func learningRate(atProgress progress: Double) -> Float {
        switch learningRateSchedule {
        case .constant: return learningRate
        case .linear: return learningRate * Float(min(1, max(0, 1 - progress)))
        }
    }

    /// The time budget in seconds, or nil if only frames limit the run.
    public var timeBudgetSeconds: Double? {
        if let maxMinutes { return maxMinutes * 60 }
        return maxFrames == nil ? Self.defaultMinutes * 60 : nil
    }
}

/// Errors of the trainer, each naming the problem and the fix.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    /// `path` has no config.json. `runsInside`: the run directories directly inside it, newest
    /// first (a --logdir passed for a run), which the message offers instead.
    case notARunDirectory(String, runsInside: [String] = [])
    case noCheckpoint(String)
    case unwritable(path: String, reason: String)
    case incompatibleCheckpoint(String)
    case diverged(String)
    case workerFailed(String)
    /// A rank of a `--distributed` job that failed elsewhere ("rank 2: ..."), as rank 0 learned it.
    case rankFailed(String)
    /// A `--distributed` exchange that broke the protocol (a rank that does not end, a message of
    /// the wrong size): in practice different builds of a3c on different hosts.
    case distributedProtocol(String)
    /// The run directory stopped accepting writes while training (a full disk, a read-only
    /// file system): training stops, and the message names the last good checkpoint.
    case runDirectoryFailed(run: String, reason: String, lastCheckpoint: String?)

    public var description: String {
        switch self {
        case .invalidOption(let message): return message
        case .notARunDirectory(let path, let runsInside) where !runsInside.isEmpty:
            return "\(path) is not a run directory (it has no config.json) but \(RunDirectory.describe(runsInside: runsInside))"
        case .notARunDirectory(let path, _):
            return "\(path) is not a run directory (it has no config.json); pass a directory created by `a3c train`, e.g. runs/basic__a3c__1__20261125-120000"
        case .noCheckpoint(let path): return "no usable checkpoint in \(path); train longer (checkpoints are written every --checkpoint-every episodes and at the end)"
        case .unwritable(let path, let reason): return "cannot write to \(path): \(reason); choose another --logdir or fix its permissions"
        case .incompatibleCheckpoint(let message): return "incompatible checkpoint: \(message)"
        case .diverged(let message): return "training stopped: \(message)"
        case .workerFailed(let message): return "a worker failed: \(message)"
        case .rankFailed(let message): return "the distributed job failed on \(message)"
        case .distributedProtocol(let message): return "distributed training broke off: \(message)"
        case .runDirectoryFailed(let run, let reason, let lastCheckpoint):
            let kept = lastCheckpoint.map { "the last good checkpoint is \($0), intact" }
                ?? "no checkpoint was written yet"
            return "training stopped: the run directory \(run) cannot be written (\(reason)); \(kept), and the rows and events already written are whole. Free some space or make the directory writable, then continue with `a3c train --resume \(run)`"
        }
    }
}
