// The PPO loss (Schulman et al. 2017, "Proximal Policy Optimization Algorithms", eq. 7 and 9), with
// the clipped value loss of the implementations people compare against (OpenAI baselines, CleanRL's
// ppo_atari_lstm, Stable-Baselines3, Sample Factory), over the N samples of one minibatch:
//
//   ratio_t    = exp(log pi(a_t|s_t) - log mu(a_t|s_t))           mu: the policy that played the samples
//   policyLoss = -mean_t min(ratio_t * A_t, clip(ratio_t, 1 - eps, 1 + eps) * A_t)
//   Vclip_t    = Vold_t + clip(V_t - Vold_t, -epsV, epsV)         Vold: the values recorded while playing
//   valueLoss  = 0.5 * mean_t max((V_t - R_t)^2, (Vclip_t - R_t)^2)
//   entropy    = -mean_t sum_a pi(a|s_t) log pi(a|s_t)
//   total      = policyLoss + valueLossCoefficient * valueLoss - entropyCoefficient * entropy
//
// MEANS over the minibatch, as those implementations take them (A3C's loss is a sum over its
// rollout: A3CLoss.swift). Advantages A_t and returns R_t are constants (no gradient); normalising
// the advantages is the caller's. With eps = epsV = infinity and mu = pi this is A2C's loss per
// sample, divided by N.
//
// Legend: N samples, A actions; logProbs, probs are (N, A); values, returns, advantages,
// behaviourLogProbs, behaviourValues are (N); actions are (N) indices in 0..<A.
import Foundation
import NeuralCore

/// The weights and clip ranges of the PPO loss.
public struct PPOLossCoefficients: Hashable, Sendable, Codable {
    /// eps, the policy ratio's clip range. Default 0.1: Sample Factory's ViZDoom setting
    /// (`ppo_clip_ratio`) and CleanRL's ppo_atari_lstm (`clip_coef`).
    public var clip: Float
    /// epsV, how far the value may move from the one recorded while playing before its loss stops
    /// pulling. Default 0.2: Sample Factory's `ppo_clip_value` for ViZDoom (CleanRL clips by `clip_coef`).
    public var valueClip: Float
    /// Weight of the value loss. Default 0.5: CleanRL's `vf_coef`, Stable-Baselines3's `vf_coef`.
    public var valueLoss: Float
    /// Weight of the entropy bonus. Default 0.01: CleanRL's ppo_atari_lstm `ent_coef`, and A3C's.
    public var entropy: Float

    public init(clip: Float = 0.1, valueClip: Float = 0.2, valueLoss: Float = 0.5, entropy: Float = 0.01) {
        self.clip = clip; self.valueClip = valueClip; self.valueLoss = valueLoss; self.entropy = entropy
    }
}

/// The terms of the PPO loss over one minibatch (means, see the file header), and the usual diagnostics.
public struct PPOLossTerms: Hashable, Sendable, Codable {
    public var policyLoss: Float
    public var valueLoss: Float
    public var entropy: Float
    public var total: Float
    /// The fraction of samples whose ratio lies outside [1 - eps, 1 + eps] (CleanRL's `clipfrac`).
    public var clipFraction: Float
    /// mean (ratio - 1) - log ratio, an estimate of KL(mu || pi) that is never negative
    /// (Schulman's "Approximating KL Divergence", CleanRL's `approx_kl`).
    public var approximateKL: Float

    public init(policyLoss: Float, valueLoss: Float, entropy: Float, total: Float, clipFraction: Float, approximateKL: Float) {
        self.policyLoss = policyLoss; self.valueLoss = valueLoss; self.entropy = entropy; self.total = total
        self.clipFraction = clipFraction; self.approximateKL = approximateKL
    }
}

/// What PPO learns from per sample: what was played, and what the behaviour policy and the critic
/// said then. Pointers of N entries each.
public struct PPOSamples {
    public let actions: UnsafePointer<Int>
    /// log mu(a_t|s_t), recorded while playing.
    public let behaviourLogProbs: UnsafePointer<Float>
    /// Vold_t, recorded while playing.
    public let behaviourValues: UnsafePointer<Float>
    /// R_t, the value targets (GAE's advantages plus the recorded values, or V-trace's targets).
    public let returns: UnsafePointer<Float>
    /// A_t, normalised or not (the caller's choice).
    public let advantages: UnsafePointer<Float>

    public init(actions: UnsafePointer<Int>, behaviourLogProbs: UnsafePointer<Float>, behaviourValues: UnsafePointer<Float>,
                returns: UnsafePointer<Float>, advantages: UnsafePointer<Float>) {
        self.actions = actions; self.behaviourLogProbs = behaviourLogProbs; self.behaviourValues = behaviourValues
        self.returns = returns; self.advantages = advantages
    }
}

/// The PPO loss over the N = `heads.slots` samples, and with `gradient` its gradient ACCUMULATED into
/// the heads' dLogits and dValues:
///
///   dValues[t]     += cv / N * (V_t - R_t)                     where the unclipped error is the larger
///                     cv / N * (Vclip_t - R_t)                 where the clipped one is, and |V_t - Vold_t| < epsV
///                     0                                        otherwise
///   dLogProbs[t,a]  = -A_t ratio_t / N * [a == a_t]            where the unclipped surrogate is the smaller
///                     + ce / N * p_a * (lp_a + 1)              (the entropy's, as in A3CLoss.swift)
///   dLogits        += dLogProbs - p * sum_a dLogProbs          (log-softmax backward)
public func ppoLoss(_ heads: RecordedHeads, samples: PPOSamples, coefficients: PPOLossCoefficients = PPOLossCoefficients(),
                    gradient: Bool) -> PPOLossTerms {
    let n = heads.slots, actionCount = heads.actionCount
    let eps = coefficients.clip, epsV = coefficients.valueClip
    let ce = coefficients.entropy, cv = coefficients.valueLoss, scale = 1 / Float(n)
    var policyLoss = 0.0, valueLoss = 0.0, entropy = 0.0, clipped = 0, kl = 0.0
    for t in 0..<n {
        let action = samples.actions[t]
        precondition(action >= 0 && action < actionCount, "ppoLoss: action \(action) at sample \(t) not in 0..<\(actionCount)")
        let lp = heads.logProbs + t * actionCount, p = heads.probs + t * actionCount
        let logRatio = lp[action] - samples.behaviourLogProbs[t]
        let ratio = exp(logRatio), advantage = samples.advantages[t]
        let unclipped = ratio * advantage, clippedSurrogate = min(max(ratio, 1 - eps), 1 + eps) * advantage
        policyLoss -= Double(min(unclipped, clippedSurrogate))
        if abs(ratio - 1) > eps { clipped += 1 }
        kl += Double(ratio - 1 - logRatio)
        let value = heads.values[t], target = samples.returns[t], old = samples.behaviourValues[t]
        let valueClipped = old + min(max(value - old, -epsV), epsV)
        let error = value - target, clippedError = valueClipped - target
        valueLoss += 0.5 * Double(max(error * error, clippedError * clippedError))
        var stepEntropy = 0.0
        for a in 0..<actionCount { stepEntropy -= Double(p[a]) * Double(lp[a]) }
        entropy += stepEntropy
        guard gradient else { continue }
        if error * error >= clippedError * clippedError {
            heads.dValues[t] += cv * scale * error
        } else if abs(value - old) < epsV {
            heads.dValues[t] += cv * scale * clippedError
        }
        let policyWeight: Float = unclipped <= clippedSurrogate ? -advantage * ratio * scale : 0
        @inline(__always) func dLogProb(_ a: Int) -> Float {
            ce * scale * p[a] * (lp[a] + 1) + (a == action ? policyWeight : 0)
        }
        var sum: Float = 0
        for a in 0..<actionCount { sum += dLogProb(a) }
        let dz = heads.dLogits + t * actionCount
        for a in 0..<actionCount { dz[a] += dLogProb(a) - p[a] * sum }
    }
    let count = Double(n)
    let terms = (policy: policyLoss / count, value: valueLoss / count, entropy: entropy / count)
    let total = terms.policy + Double(cv) * terms.value - Double(ce) * terms.entropy
    return PPOLossTerms(policyLoss: Float(terms.policy), valueLoss: Float(terms.value), entropy: Float(terms.entropy),
                        total: Float(total), clipFraction: Float(Double(clipped) / count), approximateKL: Float(kl / count))
}
