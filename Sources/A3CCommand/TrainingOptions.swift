import Training
import ArgumentParser
import Foundation
import ViZDoom

extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfiguration.LearningRateSchedule: ExpressibleByArgument {}
extension RewardShaping: ExpressibleByArgument {}
extension ScreenView: ExpressibleByArgument {}
extension TrainingAlgorithm: ExpressibleByArgument {}

/// Every training hyperparameter as an option; shared by `a3c train` and `a3c bench train`.
/// Options left out keep the defaults of `TrainingConfiguration` (the seed's), or, with
/// `--resume`, the run's own settings.
struct TrainingOptions: ParsableArguments {
    /// The defaults every help text quotes, so each default is written once (in TrainingConfiguration).
    private static let defaults = TrainingConfiguration()

    @Option(help: "Scenario name (see `a3c scenarios`) or path of a .cfg file; a standard scenario's preset sets the actions, reward scale, frame skip, timeout and metrics, and for some the environments per worker, learning-rate schedule and entropy coefficient (see `a3c scenarios NAME`). (default: \(defaults.scenario))")
    var scenario: String?

    @Option(help: "a3c (asynchronous workers, the seed's), a2c (their gradients averaged into one update a round), ppo (PPO's clipped loss over epochs x minibatches of each round), or appo (a learner thread learns with PPO's loss and V-trace while the workers play). ppo and appo start from Sample Factory's ViZDoom settings: 8 environments per worker, rollout 32, GAE lambda 0.95, gradient norm 4; a2c from 4 environments per worker and rollout 20; options given override them. (default: a3c)")
    var algorithm: TrainingAlgorithm?

    @Option(help: "PPO: passes over each round's rollouts. (default: \(defaults.ppo.epochs))")
    var ppoEpochs: Int?

    @Option(help: "PPO: minibatches per pass, each of whole sequences; must divide --envs-per-worker. (default: \(defaults.ppo.minibatches))")
    var ppoMinibatches: Int?

    @Option(help: "PPO/APPO: the policy ratio's clip range. (default: \(defaults.ppo.clip))")
    var ppoClip: Float?

    @Option(help: "PPO/APPO: how far the value may move from the recorded one before its loss stops pulling. (default: \(defaults.ppo.valueClip))")
    var ppoValueClip: Float?

    @Option(help: "APPO: rollouts of a policy more than this many learner updates old are dropped. (default: \(defaults.ppo.maxPolicyLag))")
    var maxPolicyLag: Int?

    @Option(help: "The actions as button combinations: ';' between actions, '+' joins buttons, NOOP presses none, e.g. \"NOOP;TURN_LEFT;TURN_RIGHT;ATTACK;TURN_LEFT+ATTACK\". (default: the scenario's preset, see `a3c scenarios NAME`)")
    var actions: String?

    @Option(help: "Episode timeout in tics, replacing the scenario's (0 = none). (default: the scenario's preset or .cfg)")
    var episodeTimeout: Int?

    @Option(help: "Doom's skill level, 1 (easiest) to 5 (nightmare), replacing the scenario's doom_skill: the monsters' aggressiveness and speed, the damage the player takes. (default: the scenario's .cfg)")
    var skill: Int?

    @Option(help: "Worker threads. (default: one per CPU core, \(defaults.workers) here)")
    var workers: Int?

    @Option(help: "Environments (engines) each worker plays at once, acting in one batch and learning in one update. (default: the scenario's preset, else \(defaults.envsPerWorker))")
    var envsPerWorker: Int?

    @Option(help: "Stop after this many frames (engine tics) in total.")
    var maxFrames: Int?

    @Option(help: "Stop after this many minutes of training. With neither limit, training runs \(Int(TrainingConfiguration.defaultMinutes)) minutes.")
    var maxMinutes: Double?

    @Option(help: "Random seed: network initialisation, action sampling, engines. (default: \(defaults.seed))")
    var seed: UInt64?

    @Option(help: "Steps per rollout before each update (t_max). (default: \(defaults.rolloutLength))")
    var rolloutLength: Int?

    @Flag(inversion: .prefixedNo,
          help: "Rollouts run --rollout-length steps across episode ends, as A2C does: an environment whose episode ends starts the next within the rollout. Faster where episodes are short (an update every t_max steps, not at every episode's end). (default: off, the A3C paper's rollouts, which stop at an episode's end)")
    var crossEpisodes: Bool?

    @Flag(inversion: .prefixedNo,
          help: "An episode its timeout ended is learned as cut, its returns continued from the critic's value of its last state (Pardo et al. 2018); --no-time-limit-bootstrap learns a timeout as a death, as runs before this setting did. (default: on)")
    var timeLimitBootstrap: Bool?

    @Option(help: "Discount factor. (default: \(defaults.gamma))")
    var gamma: Float?

    @Option(help: "GAE lambda; 1 gives the seed's n-step advantages. (default: \(defaults.gaeLambda))")
    var gaeLambda: Float?

    @Option(help: "Learning rate. (default: \(defaults.learningRate))")
    var learningRate: Float?

    @Option(name: .customLong("lr-schedule"),
            help: "constant, or linear: annealed to 0 over the budget (--max-frames over the run, or this session's --max-minutes), as in the A3C paper. (default: the scenario's preset, else \(defaults.learningRateSchedule.rawValue))")
    var learningRateSchedule: TrainingConfiguration.LearningRateSchedule?

    @Option(help: "Optimizer on the global parameters: adam (the seed's) or rmsprop (the paper's shared RMSProp). (default: \(defaults.optimizer.rawValue))")
    var optimizer: TrainingConfiguration.OptimizerKind?

    @Option(name: .customLong("max-grad-norm"), help: "Clip gradients to this global norm. (default: \(defaults.maxGradientNorm))")
    var maxGradientNorm: Float?

    @Option(help: "Weight of the value loss (a sum over the rollout). (default: \(defaults.valueLossCoefficient))")
    var valueLossCoefficient: Float?

    @Option(help: "Weight of the entropy bonus. (default: the scenario's preset, else \(defaults.entropyCoefficient))")
    var entropyCoefficient: Float?

    @Option(help: "Opt-in reward shaping for learning (reports keep the scenario's own return; the learned return is logged as shaped_return): \(RewardShaping.allCases.map { "\($0.rawValue): \($0.definition)" }.joined(separator: "; ")). (default: none)")
    var rewardShaping: RewardShaping?

    @Option(help: "Rewards are multiplied by this for learning; reports show raw rewards. (default: the scenario's preset; basic's is the seed's \(defaults.rewardScale))")
    var rewardScale: Float?

    @Option(help: "Tics each action is held; 1 reproduces the seed. (default: the scenario's preset, \(defaults.frameSkip))")
    var frameSkip: Int?

    @Option(help: "The part of the screen the network sees, resized to 84x84: center (the seed's 100x100 middle of the 160x120 frame) or full (the whole frame). (default: \(defaults.view.rawValue))")
    var view: ScreenView?

    @Option(name: .customLong("log-every"), help: "TensorBoard summaries every N episodes, at most \(Int(TrainingConfiguration.summariesPerSecond)) a second. (default: \(defaults.logEveryEpisodes))")
    var logEveryEpisodes: Int?

    @Option(name: .customLong("gif-every"), help: "A GIF of worker 0's episode every N of its episodes; 0 = none. (default: \(defaults.gifEveryEpisodes))")
    var gifEveryEpisodes: Int?

    @Option(name: .customLong("gif-min-seconds"), help: "At most one GIF per this many seconds. (default: \(Int(defaults.gifMinimumSeconds)))")
    var gifMinimumSeconds: Double?

    @Option(name: .customLong("checkpoint-every"), help: "A checkpoint every N episodes, and one at the end. (default: \(defaults.checkpointEveryEpisodes))")
    var checkpointEveryEpisodes: Int?

    @Option(name: .customLong("checkpoint-min-seconds"), help: "At most one periodic checkpoint per this many seconds. (default: \(Int(defaults.checkpointMinimumSeconds)))")
    var checkpointMinimumSeconds: Double?

    @Option(help: "How many periodic checkpoints to keep, besides the best. (default: \(defaults.keepCheckpoints))")
    var keepCheckpoints: Int?

    @Option(help: "Folder for run directories. (default: \(defaults.logdir))")
    var logdir: String?

    /// `base` (a resumed run's settings), or the defaults of the scenario given (its preset: see
    /// `TrainingConfiguration.forScenario`), with every option the user gave applied. Throws for an
    /// unknown scenario or bad `--actions`, with a message naming the problem and the fix.
    func applied(to base: TrainingConfiguration? = nil) throws -> TrainingConfiguration {
        var c: TrainingConfiguration
        if let base { c = base } else {
            c = try TrainingConfiguration.forScenario(scenario ?? Self.defaults.scenario)
            (algorithm ?? .a3c).applyDefaults(to: &c)
        }
        if let ppoEpochs { c.ppo.epochs = ppoEpochs }
        if let ppoMinibatches { c.ppo.minibatches = ppoMinibatches }
        if let ppoClip { c.ppo.clip = ppoClip }
        if let ppoValueClip { c.ppo.valueClip = ppoValueClip }
        if let maxPolicyLag { c.ppo.maxPolicyLag = maxPolicyLag }
        if let actions {
            c.actions = try ActionSet(parsing: actions, available: TrainingConfiguration.availableButtons(scenario: c.scenario),
                                      scenario: c.scenario)
        }
        if let episodeTimeout { c.episodeTimeout = episodeTimeout }
        if let skill { c.doomSkill = skill }
        if let workers { c.workers = workers }
        if let envsPerWorker { c.envsPerWorker = envsPerWorker }
        if let maxFrames { c.maxFrames = maxFrames }
        if let maxMinutes { c.maxMinutes = maxMinutes }
        if let seed { c.seed = seed }
        if let rolloutLength { c.rolloutLength = rolloutLength }
        if let crossEpisodes { c.rolloutsCrossEpisodes = crossEpisodes }
        if let timeLimitBootstrap { c.timeLimitBootstrap = timeLimitBootstrap }
        if let gamma { c.gamma = gamma }
        if let gaeLambda { c.gaeLambda = gaeLambda }
        if let learningRate { c.learningRate = learningRate }
        if let learningRateSchedule { c.learningRateSchedule = learningRateSchedule }
        if let optimizer { c.optimizer = optimizer }
        if let maxGradientNorm { c.maxGradientNorm = maxGradientNorm }
        if let valueLossCoefficient { c.valueLossCoefficient = valueLossCoefficient }
        if let entropyCoefficient { c.entropyCoefficient = entropyCoefficient }
        if let rewardScale { c.rewardScale = rewardScale }
        if let rewardShaping { c.rewardShaping = rewardShaping }
        if let frameSkip { c.frameSkip = frameSkip }
        if let view { c.view = view }
        if let logEveryEpisodes { c.logEveryEpisodes = logEveryEpisodes }
        if let gifEveryEpisodes { c.gifEveryEpisodes = gifEveryEpisodes }
        if let gifMinimumSeconds { c.gifMinimumSeconds = gifMinimumSeconds }
        if let checkpointEveryEpisodes { c.checkpointEveryEpisodes = checkpointEveryEpisodes }
        if let checkpointMinimumSeconds { c.checkpointMinimumSeconds = checkpointMinimumSeconds }
        if let keepCheckpoints { c.keepCheckpoints = keepCheckpoints }
        if let logdir { c.logdir = logdir }
        return c
    }

    /// Options that define the learning problem and cannot change when a run is resumed.
    var fixedByRun: [String] {
        var given: [String] = []
        if scenario != nil { given.append("--scenario") }
        if algorithm != nil { given.append("--algorithm") }
        if actions != nil { given.append("--actions") }
        if skill != nil { given.append("--skill") }
        if rewardShaping != nil { given.append("--reward-shaping") }
        if rolloutLength != nil { given.append("--rollout-length") }
        if optimizer != nil { given.append("--optimizer") }
        if frameSkip != nil { given.append("--frame-skip") }
        if view != nil { given.append("--view") }
        if logdir != nil { given.append("--logdir") }
        return given
    }

    func validate() throws {
        do { try applied().validate() } catch let error as ValidationError { throw error } catch {
            throw ValidationError("\(error)")
        }
    }
}
