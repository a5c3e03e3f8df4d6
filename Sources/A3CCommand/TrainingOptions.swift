import A3C
import ArgumentParser
import Foundation

extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}

/// Every training hyperparameter as an option; shared by `a3c train` and `a3c bench train`.
/// Options left out keep the defaults of `TrainingConfiguration` (the seed's), or, with
/// `--resume`, the run's own settings.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Scenario name (see `a3c scenarios`) or path of a .cfg file. (default: basic)")
    var scenario: String?

    @Option(help: "Worker threads, each with its own engine. (default: one per CPU core)")
    var workers: Int?

    @Option(help: "Stop after this many frames (engine tics) in total.")
    var maxFrames: Int?

    @Option(help: "Stop after this many minutes of training. With neither limit, training runs \(Int(TrainingConfiguration.defaultMinutes)) minutes.")
    var maxMinutes: Double?

    @Option(help: "Random seed: network initialisation, action sampling, engines. (default: 1)")
    var seed: UInt64?

    @Option(help: "Steps per rollout before each update (t_max). (default: 30)")
    var rolloutLength: Int?

    @Option(help: "Discount factor. (default: 0.99)")
    var gamma: Float?

    @Option(help: "GAE lambda; 1 gives the seed's n-step advantages. (default: 1)")
    var gaeLambda: Float?

    @Option(help: "Learning rate. (default: 1e-4)")
    var learningRate: Float?

    @Option(help: "Optimizer on the global parameters: adam (the seed's) or rmsprop (the paper's shared RMSProp). (default: adam)")
    var optimizer: TrainingConfiguration.OptimizerKind?

    @Option(name: .customLong("max-grad-norm"), help: "Clip gradients to this global norm. (default: 40)")
    var maxGradientNorm: Float?

    @Option(help: "Weight of the value loss (a sum over the rollout). (default: 0.5)")
    var valueLossCoefficient: Float?

    @Option(help: "Weight of the entropy bonus. (default: 0.01)")
    var entropyCoefficient: Float?

    @Option(help: "Rewards are multiplied by this for learning; reports show raw rewards. (default: 0.01)")
    var rewardScale: Float?

    @Option(help: "Tics each action is held; 1 reproduces the seed. (default: 4)")
    var frameSkip: Int?

    @Option(name: .customLong("log-every"), help: "TensorBoard summaries every N episodes. (default: 5)")
    var logEveryEpisodes: Int?

    @Option(name: .customLong("gif-every"), help: "A GIF of worker 0's episode every N of its episodes; 0 = none. (default: 25)")
    var gifEveryEpisodes: Int?

    @Option(name: .customLong("gif-min-seconds"), help: "At most one GIF per this many seconds. (default: 30)")
    var gifMinimumSeconds: Double?

    @Option(name: .customLong("checkpoint-every"), help: "A checkpoint every N episodes, and one at the end. (default: 250)")
    var checkpointEveryEpisodes: Int?

    @Option(help: "How many periodic checkpoints to keep, besides the best. (default: 5)")
    var keepCheckpoints: Int?

    @Option(help: "Folder for run directories. (default: runs)")
    var logdir: String?

    /// The defaults (or `base`) with every option the user gave applied.
    func applied(to base: TrainingConfiguration = TrainingConfiguration()) -> TrainingConfiguration {
        var c = base
        if let scenario { c.scenario = scenario }
        if let workers { c.workers = workers }
        if let maxFrames { c.maxFrames = maxFrames }
        if let maxMinutes { c.maxMinutes = maxMinutes }
        if let seed { c.seed = seed }
        if let rolloutLength { c.rolloutLength = rolloutLength }
        if let gamma { c.gamma = gamma }
        if let gaeLambda { c.gaeLambda = gaeLambda }
        if let learningRate { c.learningRate = learningRate }
        if let optimizer { c.optimizer = optimizer }
        if let maxGradientNorm { c.maxGradientNorm = maxGradientNorm }
        if let valueLossCoefficient { c.valueLossCoefficient = valueLossCoefficient }
        if let entropyCoefficient { c.entropyCoefficient = entropyCoefficient }
        if let rewardScale { c.rewardScale = rewardScale }
        if let frameSkip { c.frameSkip = frameSkip }
        if let logEveryEpisodes { c.logEveryEpisodes = logEveryEpisodes }
        if let gifEveryEpisodes { c.gifEveryEpisodes = gifEveryEpisodes }
        if let gifMinimumSeconds { c.gifMinimumSeconds = gifMinimumSeconds }
        if let checkpointEveryEpisodes { c.checkpointEveryEpisodes = checkpointEveryEpisodes }
        if let keepCheckpoints { c.keepCheckpoints = keepCheckpoints }
        if let logdir { c.logdir = logdir }
        return c
    }

    /// Options that define the learning problem and cannot change when a run is resumed.
    var fixedByRun: [String] {
        var given: [String] = []
        if scenario != nil { given.append("--scenario") }
        if rolloutLength != nil { given.append("--rollout-length") }
        if optimizer != nil { given.append("--optimizer") }
        if frameSkip != nil { given.append("--frame-skip") }
        if logdir != nil { given.append("--logdir") }
        return given
    }

    func validate() throws {
        do { try applied().validate() } catch let error as TrainingError { throw ValidationError(error.description) }
    }
}
