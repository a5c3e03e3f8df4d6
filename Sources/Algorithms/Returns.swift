import Foundation

// Returns and advantages of one rollout: the n-step return and GAE (A3C, A2C, PPO) and V-trace
// (APPO, IMPALA), each beside its paper's equation. Every computation writes into caller-owned
// buffers and allocates nothing.
//
// Legend: a rollout of T steps with (scaled) rewards r_t, values V_t = V(s_t) of the policy that
// learns, and where episodes end inside it, `RolloutEnd`s. What follows the rollout's last step
// is the bootstrap value V_T = V(s_T) when the rollout cut an episode.

/// Where an episode ended inside a rollout: after `step` steps (in 1...T), and the value its
/// returns continue from: 0 where the episode really ended (a death, the goal), the value of its
/// last state where only its time limit ended it (`RolloutEnd.timeLimit`).
///
/// Time limits: Pardo et al. 2018, "Time Limits in Reinforcement Learning", Section 3: a timeout
/// is not part of the task the agent sees (nothing in its frame tells the time), so learning it as
/// a terminal state teaches that the same state is worth less near the limit; bootstrapping
/// from V(s_T) keeps the targets those of the infinite-horizon task. ViZDoom gives no frame after
/// the episode's last step, so s_T is unobserved; its value is taken as V(s_{T-1}), the critic's
/// value of the last state it saw (as Sample Factory's `--value_bootstrap` does).
public struct RolloutEnd: Hashable, Sendable {
    public var step: Int
    public var bootstrap: Float

    /// An episode that ended for good after `step` steps (nothing follows: V = 0).
    public static func terminal(after step: Int) -> RolloutEnd { RolloutEnd(step: step, bootstrap: 0) }
    /// An episode its time limit cut after `step` steps, continued from `value`.
    public static func timeLimit(after step: Int, value: Float) -> RolloutEnd { RolloutEnd(step: step, bootstrap: value) }

    public init(step: Int, bootstrap: Float) { self.step = step; self.bootstrap = bootstrap }
}

/// n-step returns and generalized advantages of one rollout, as the seed computes them.
///
///     R_t = r_t + gamma * R_{t+1},              R_T = V_T            (discounted returns: value targets)
///     delta_t = r_t + gamma * V_{t+1} - V_t                          (TD residuals)
///     A_t = delta_t + gamma * lambda * A_{t+1}, A_T = 0              (GAE; lambda = 1 is the seed's)
///
/// With lambda = 1 the advantage telescopes to A_t = R_t - V_t, the n-step advantage of
/// Mnih et al. 2016 (Algorithm S3); lambda < 1 is generalized advantage estimation
/// (Schulman et al. 2016, "High-Dimensional Continuous Control Using GAE", eq. 16).
public enum RolloutTargets {
    /// - rewards: r_0..r_{T-1}.  values: V_0..V_{T-1}.  bootstrap: V_T (0 at an episode's end).
    /// - returns, advantages: (T) outputs.
    public static func compute(rewards: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>,
                               bootstrap: Float, gamma: Float, lambda: Float,
                               returns: UnsafeMutableBufferPointer<Float>,
                               advantages: UnsafeMutableBufferPointer<Float>) {
        let steps = rewards.count
        precondition(values.count == steps && returns.count == steps && advantages.count == steps,
                     "rewards, values, returns and advantages must all have the rollout's length")
        var runningReturn = bootstrap
        var runningAdvantage: Float = 0
        var nextValue = bootstrap
        var t = steps - 1
        while t >= 0 {
            runningReturn = rewards[t] + gamma * runningReturn
            returns[t] = runningReturn
            let delta = rewards[t] + gamma * nextValue - values[t]
            runningAdvantage = delta + gamma * lambda * runningAdvantage
            advantages[t] = runningAdvantage
            nextValue = values[t]
            t -= 1
        }
    }

    /// The same over a rollout inside which episodes end (`ends`, increasing steps in 1...T): each
    /// episode's steps are computed as a rollout of their own, continued from its end's bootstrap
    /// (0 for a terminal end); the steps after the last end (if any) from `bootstrap`. No reward and
    /// no value of one episode reaches another's targets. With no ends, this is
    /// `compute(rewards:values:bootstrap:...)`.
    public static func compute(rewards: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>,
                               ends: [RolloutEnd], bootstrap: Float, gamma: Float, lambda: Float,
                               returns: UnsafeMutableBufferPointer<Float>,
                               advantages: UnsafeMutableBufferPointer<Float>) {
        forEachEpisode(steps: rewards.count, ends: ends, bootstrap: bootstrap) { range, bootstrap in
            compute(rewards: UnsafeBufferPointer(rebasing: rewards[range]), values: UnsafeBufferPointer(rebasing: values[range]),
                    bootstrap: bootstrap, gamma: gamma, lambda: lambda,
                    returns: UnsafeMutableBufferPointer(rebasing: returns[range]),
                    advantages: UnsafeMutableBufferPointer(rebasing: advantages[range]))
        }
    }

    /// Array convenience for tests and tools; `episodeEnds` are terminal ends after those step counts.
    public static func compute(rewards: [Float], values: [Float], episodeEnds: [Int] = [], ends: [RolloutEnd] = [],
                               bootstrap: Float, gamma: Float, lambda: Float) -> (returns: [Float], advantages: [Float]) {
        var returns = [Float](repeating: 0, count: rewards.count)
        var advantages = [Float](repeating: 0, count: rewards.count)
        let allEnds = (episodeEnds.map(RolloutEnd.terminal(after:)) + ends).sorted { $0.step < $1.step }
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                returns.withUnsafeMutableBufferPointer { out in
                    advantages.withUnsafeMutableBufferPointer { adv in
                        compute(rewards: r, values: v, ends: allEnds, bootstrap: bootstrap, gamma: gamma,
                                lambda: lambda, returns: out, advantages: adv)
                    }
                }
            }
        }
        return (returns, advantages)
    }
}

/// V-trace targets and advantages of one rollout played by a behaviour policy mu and learned by
/// pi (Espeholt et al. 2018, "IMPALA", Section 4.1, eq. 1 and the remark after Remark 1):
///
///     rho_t = min(rhoBar, pi(a_t|s_t) / mu(a_t|s_t)),   c_t = lambda * min(cBar, pi(a_t|s_t) / mu(a_t|s_t))
///     delta_t = rho_t * (r_t + gamma * V_{t+1} - V_t)
///     v_t - V_t = delta_t + gamma * c_t * (v_{t+1} - V_{t+1}),     v_T - V_T = 0   (value targets v_t)
///     A_t = rho_t * (r_t + gamma * v_{t+1} - V_t),                 v_T = V_T       (policy-gradient advantage)
///
/// On-policy (pi = mu) with rhoBar, cBar >= 1 and lambda = 1, v_t is the n-step return R_t and A_t
/// = R_t - V_t, A3C's targets. The ratios come in as log pi - log mu of the actions taken.
public enum VTrace {
    /// - logRatios: log pi(a_t|s_t) - log mu(a_t|s_t), (T).  rewards, values: (T).  bootstrap: V_T.
    /// - targets (v_t), advantages: (T) outputs.
    public static func compute(logRatios: UnsafeBufferPointer<Float>, rewards: UnsafeBufferPointer<Float>,
                               values: UnsafeBufferPointer<Float>, bootstrap: Float, gamma: Float, lambda: Float = 1,
                               rhoBar: Float = 1, cBar: Float = 1, targets: UnsafeMutableBufferPointer<Float>,
                               advantages: UnsafeMutableBufferPointer<Float>) {
        let steps = rewards.count
        precondition(logRatios.count == steps && values.count == steps && targets.count == steps && advantages.count == steps,
                     "log-ratios, rewards, values, targets and advantages must all have the rollout's length")
        var nextValue = bootstrap          // V_{t+1}
        var nextTarget = bootstrap         // v_{t+1}
        var t = steps - 1
        while t >= 0 {
            let ratio = exp(min(logRatios[t], 30))  // a ratio of e^30 is clipped to rhoBar or cBar anyway
            let rho = min(rhoBar, ratio), c = lambda * min(cBar, ratio)
            let delta = rho * (rewards[t] + gamma * nextValue - values[t])
            let target = values[t] + delta + gamma * c * (nextTarget - nextValue)
            advantages[t] = rho * (rewards[t] + gamma * nextTarget - values[t])
            targets[t] = target
            nextValue = values[t]
            nextTarget = target
            t -= 1
        }
    }

    /// The same over a rollout inside which episodes end (see `RolloutTargets.compute(...ends:...)`).
    public static func compute(logRatios: UnsafeBufferPointer<Float>, rewards: UnsafeBufferPointer<Float>,
                               values: UnsafeBufferPointer<Float>, ends: [RolloutEnd], bootstrap: Float, gamma: Float,
                               lambda: Float = 1, rhoBar: Float = 1, cBar: Float = 1,
                               targets: UnsafeMutableBufferPointer<Float>, advantages: UnsafeMutableBufferPointer<Float>) {
        forEachEpisode(steps: rewards.count, ends: ends, bootstrap: bootstrap) { range, bootstrap in
            compute(logRatios: UnsafeBufferPointer(rebasing: logRatios[range]), rewards: UnsafeBufferPointer(rebasing: rewards[range]),
                    values: UnsafeBufferPointer(rebasing: values[range]), bootstrap: bootstrap, gamma: gamma,
                    lambda: lambda, rhoBar: rhoBar, cBar: cBar,
                    targets: UnsafeMutableBufferPointer(rebasing: targets[range]),
                    advantages: UnsafeMutableBufferPointer(rebasing: advantages[range]))
        }
    }

    /// Array convenience for tests and tools.
    public static func compute(logRatios: [Float], rewards: [Float], values: [Float], ends: [RolloutEnd] = [],
                               bootstrap: Float, gamma: Float, lambda: Float = 1, rhoBar: Float = 1,
                               cBar: Float = 1) -> (targets: [Float], advantages: [Float]) {
        var targets = [Float](repeating: 0, count: rewards.count)
        var advantages = [Float](repeating: 0, count: rewards.count)
        logRatios.withUnsafeBufferPointer { lr in
            rewards.withUnsafeBufferPointer { r in
                values.withUnsafeBufferPointer { v in
                    targets.withUnsafeMutableBufferPointer { out in
                        advantages.withUnsafeMutableBufferPointer { adv in
                            compute(logRatios: lr, rewards: r, values: v, ends: ends, bootstrap: bootstrap, gamma: gamma,
                                    lambda: lambda, rhoBar: rhoBar, cBar: cBar, targets: out, advantages: adv)
                        }
                    }
                }
            }
        }
        return (targets, advantages)
    }
}

/// Calls `body` with each episode's steps of a rollout of `steps` steps and the value they
/// continue from: the steps up to each of `ends` with its bootstrap, then those after the last
/// end (if any) with `bootstrap`.
private func forEachEpisode(steps: Int, ends: [RolloutEnd], bootstrap: Float, _ body: (Range<Int>, Float) -> Void) {
    var start = 0
    for end in ends {
        precondition(end.step > start && end.step <= steps,
                     "episode ends must increase within 1...\(steps), got \(ends.map(\.step))")
        body(start..<end.step, end.bootstrap)
        start = end.step
    }
    if start < steps { body(start..<steps, bootstrap) }
}
