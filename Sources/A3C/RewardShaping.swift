import ViZDoom

/// A documented reward shaping scheme, opt-in (`--reward-shaping NAME`), for scenarios the agent
/// cannot learn within the learning suite's budget from their own rewards alone.
///
/// Shaping changes only what the agent learns from: the score everywhere (progress line,
/// `Perf/Reward`, `raw_return`, `a3c eval`) stays the scenario's own return, and the return the
/// agent learned from (scaled rewards plus shaping) is logged beside it (`shaped_return`,
/// `Perf/Shaped Return`).
public enum RewardShaping: String, Codable, Sendable, CaseIterable {
    /// +1 (after the reward scale) for every step in which the player's HEALTH rose: a medikit picked
    /// up. Sample Factory's health_gathering shaping (`sf_examples/vizdoom/doom/wrappers/
    /// gathering_reward_shaping.py`). Why: health_gathering pays +1 a tic alive and -100 at death, so
    /// a medikit's worth shows only hundreds of tics later, beyond gamma 0.99's horizon of about 100
    /// steps; trained on its own rewards for 7 minutes (2.8 M frames), the agent survived no longer
    /// than a random one (about 430 tics).
    case health

    /// The game variable a scheme reads after every step.
    public var gameVariable: GameVariable {
        switch self {
        case .health: return RewardShaping.healthVariable
        }
    }

    /// What the scheme adds, in a few words (for `a3c scenarios` and help texts).
    public var definition: String {
        switch self {
        case .health: return "+1 (scaled units) for each step in which HEALTH rose (a medikit), Sample Factory's"
        }
    }

    /// The bonus of one step, from the scheme's variable before and after it.
    func bonus(before: Double, after: Double) -> Double {
        switch self {
        case .health: return after > before ? 1 : 0
        }
    }

    static let healthVariable = GameVariable(name: "HEALTH")!
}
