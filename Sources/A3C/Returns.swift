/// Returns and advantages of one rollout, as the seed computes them.
///
/// For a rollout of T steps with (scaled) rewards r_t, values V_t = V(s_t), and a bootstrap value
/// V_T = V(s_T) if the rollout was cut before the episode ended (0 if it ended):
///
///     R_t = r_t + gamma * R_{t+1},              R_T = V_T            (discounted returns: value targets)
///     delta_t = r_t + gamma * V_{t+1} - V_t                          (TD residuals)
///     A_t = delta_t + gamma * lambda * A_{t+1}, A_T = 0              (GAE; lambda = 1 is the seed's)
///
/// With lambda = 1 the advantage telescopes to A_t = R_t - V_t, the n-step advantage of
/// Mnih et al. 2016 (Algorithm S3); lambda < 1 is generalized advantage estimation
/// (Schulman et al. 2016). Both write into caller-owned buffers and allocate nothing.
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

    /// The same over a rollout that crosses episode ends (`rolloutsCrossEpisodes`): its steps
    /// 0..<T belong to consecutive episodes, one ending after each step count in `episodeEnds`
    /// (increasing, in 1...T). Each ended episode's steps are computed as a rollout of their own
    /// with V = 0 after its end; the steps after the last end (if any) bootstrap from `bootstrap`.
    /// No reward and no value of one episode reaches another's targets. With no ends, this is
    /// `compute(rewards:values:bootstrap:...)`.
    public static func compute(rewards: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>,
                               episodeEnds: [Int], bootstrap: Float, gamma: Float, lambda: Float,
                               returns: UnsafeMutableBufferPointer<Float>,
                               advantages: UnsafeMutableBufferPointer<Float>) {
        let steps = rewards.count
        func segment(_ range: Range<Int>, bootstrap: Float) {
            compute(rewards: UnsafeBufferPointer(rebasing: rewards[range]), values: UnsafeBufferPointer(rebasing: values[range]),
                    bootstrap: bootstrap, gamma: gamma, lambda: lambda,
                    returns: UnsafeMutableBufferPointer(rebasing: returns[range]),
                    advantages: UnsafeMutableBufferPointer(rebasing: advantages[range]))
        }
        var start = 0
        for end in episodeEnds {
            precondition(end > start && end <= steps, "episode ends must increase within 1...\(steps), got \(episodeEnds)")
            segment(start..<end, bootstrap: 0)
            start = end
        }
        if start < steps { segment(start..<steps, bootstrap: bootstrap) }
    }

    /// Array convenience for tests and tools.
    public static func compute(rewards: [Float], values: [Float], episodeEnds: [Int] = [], bootstrap: Float,
                               gamma: Float, lambda: Float) -> (returns: [Float], advantages: [Float]) {
        var returns = [Float](repeating: 0, count: rewards.count)
        var advantages = [Float](repeating: 0, count: rewards.count)
        rewards.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                returns.withUnsafeMutableBufferPointer { out in
                    advantages.withUnsafeMutableBufferPointer { adv in
                        compute(rewards: r, values: v, episodeEnds: episodeEnds, bootstrap: bootstrap, gamma: gamma,
                                lambda: lambda, returns: out, advantages: adv)
                    }
                }
            }
        }
        return (returns, advantages)
    }
}
