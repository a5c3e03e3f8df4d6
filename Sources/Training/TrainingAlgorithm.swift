import Foundation
import Algorithms

/// The learning algorithm of a run (`a3c train --algorithm`). All four play the same network on the
/// same engines through the same workers (`Worker`: E engines each, one batched forward for them);
/// they differ in how rollouts become updates:
///
///     a3c   each worker updates the global parameters on its own, asynchronously (Mnih et al. 2016)
///     a2c   the workers' gradients of A3C's loss are averaged into one update per round of rollouts
///           (synchronous A3C: Wu et al. 2017's and Stable-Baselines3's A2C)
///     ppo   the round's rollouts are learned `epochs` times in `minibatches` minibatches of whole
///           sequences with PPO's clipped loss, the workers' gradients averaged (Schulman et al. 2017)
///     appo  the workers keep playing while one learner thread learns from their rollouts with
///           PPO's clipped loss and V-trace targets (Espeholt et al. 2018; Petrenko et al. 2020)
public enum TrainingAlgorithm: String, Codable, Sendable, CaseIterable {
    case a3c, a2c, ppo, appo

    /// Whether the workers meet after each rollout to make one update together.
    public var isSynchronous: Bool { self == .a2c || self == .ppo }

    /// Whether rollouts always run `rolloutLength` steps across episode ends (every algorithm but
    /// A3C: their updates learn from fixed-size batches of whole sequences).
    public var rolloutsCrossEpisodes: Bool { self != .a3c }

    /// The settings `a3c train --algorithm NAME` starts from, before the scenario's preset and the
    /// user's options are applied: A3C keeps the seed's; the others take those of the
    /// implementations people compare with, adapted to this trainer's 2-core budget (each source is
    /// named at its line; the measurements behind the choices are in docs/algorithms.md).
    public func applyDefaults(to c: inout TrainingConfiguration) {
        c.algorithm = self
        c.rolloutsCrossEpisodes = rolloutsCrossEpisodes || c.rolloutsCrossEpisodes
        switch self {
        case .a3c: return
        case .a2c:
            // A3C's loss and step size, on rounds of 2 x 4 environments x 20 steps: 160 steps an
            // update (Stable-Baselines3's A2C plays 16 x 5 = 80 with no LSTM; BPTT here wants longer
            // sequences).
            c.envsPerWorker = 4
            c.rolloutLength = 20
        case .ppo, .appo:
            // Sample Factory's ViZDoom settings (rollout 32, lr 1e-4, GAE lambda 0.95, clip 0.1, value
            // clip 0.2, gradient norm 4) and CleanRL's ppo_atari_lstm (entropy 0.01, value loss 0.5).
            c.envsPerWorker = 8
            c.rolloutLength = 32
            c.gaeLambda = 0.95
            c.maxGradientNorm = 4
            c.learningRate = 1e-4
            // APPO learns each rollout once, as Sample Factory does (its workers never wait for it).
            if self == .appo { c.ppo.epochs = 1 }
        }
    }
}

/// PPO's and APPO's own settings (`--ppo-epochs`, `--ppo-minibatches`, `--ppo-clip`,
/// `--ppo-value-clip`, `--max-policy-lag`), kept in one value so that each is declared here once,
/// with its default and its check; config.json holds them under `ppo`.
public struct PPOSettings: Codable, Equatable, Sendable {
    /// Passes over each round's rollouts. Default 2: between Sample Factory's 1 (500 M frames to
    /// spend) and CleanRL's 4 (10 M); this trainer plays about 15 M frames in 20 minutes.
    public var epochs = 2
    /// Minibatches per pass, each a set of whole sequences (every worker contributes an equal share
    /// of its environments' sequences). Default 2: with 2 workers x 8 environments x 32 steps, 256
    /// samples a minibatch (CleanRL's ppo_atari_lstm: 4 of 8 x 128).
    public var minibatches = 2
    /// The policy ratio's clip range eps (`PPOLossCoefficients.clip`).
    public var clip: Float = PPOLossCoefficients().clip
    /// The value's clip range (`PPOLossCoefficients.valueClip`).
    public var valueClip: Float = PPOLossCoefficients().valueClip
    /// APPO: rollouts played by a policy more than this many learner updates old are dropped, not
    /// learned. Each worker has two rollouts in flight, so the lag stays below about 2 x workers
    /// anyway; this bounds it where the learner falls behind. Sample Factory's default `max_policy_lag`
    /// is 1000 (of its much smaller updates).
    public var maxPolicyLag = 16

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = PPOSettings()
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.epochs, &d.epochs); try read(.minibatches, &d.minibatches)
        try read(.clip, &d.clip); try read(.valueClip, &d.valueClip); try read(.maxPolicyLag, &d.maxPolicyLag)
        self = d
    }

    /// Checks every setting against `configuration` (the minibatches split each worker's environments).
    func validate(for configuration: TrainingConfiguration) throws {
        func fail(_ message: String) throws -> Never { throw TrainingError.invalidOption(message) }
        if epochs < 1 || epochs > 100 { try fail("--ppo-epochs must be between 1 and 100, got \(epochs)") }
        if minibatches < 1 { try fail("--ppo-minibatches must be at least 1, got \(minibatches)") }
        if (configuration.algorithm == .ppo || configuration.algorithm == .appo) && configuration.envsPerWorker % minibatches != 0 {
            try fail("--ppo-minibatches \(minibatches) must divide --envs-per-worker \(configuration.envsPerWorker) (each minibatch takes whole sequences, an equal share of every worker's environments)")
        }
        if !(clip > 0 && clip.isFinite) { try fail("--ppo-clip must be a positive number, got \(clip)") }
        if !(valueClip > 0 && valueClip.isFinite) { try fail("--ppo-value-clip must be a positive number, got \(valueClip)") }
        if maxPolicyLag < 1 { try fail("--max-policy-lag must be at least 1 update, got \(maxPolicyLag)") }
    }

    /// The loss's coefficients with the run's value-loss and entropy weights.
    func lossCoefficients(_ configuration: TrainingConfiguration) -> PPOLossCoefficients {
        PPOLossCoefficients(clip: clip, valueClip: valueClip, valueLoss: configuration.valueLossCoefficient,
                            entropy: configuration.entropyCoefficient)
    }
}
