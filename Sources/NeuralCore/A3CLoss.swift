// The A3C loss (Mnih et al. 2016, "Asynchronous Methods for Deep Reinforcement Learning", Algorithm S3),
// written exactly as the seed notebook (awjuliani's A3C-Doom) computes it over one rollout:
//
//   valueLoss  = 0.5 * sum_t (R_t - V_t)^2                   a SUM over the rollout, not a mean
//   policyLoss = -sum_t log pi(a_t | s_t) * A_t              advantages A_t are constants (no gradient)
//   entropy    = -sum_t sum_a pi(a | s_t) log pi(a | s_t)
//   total      = valueLossCoefficient * valueLoss + policyLoss - entropyCoefficient * entropy
//
// With the seed's valueLossCoefficient = 0.5, the squared error enters the total with weight 0.5 * 0.5.
//
// Legend: T = rollout steps, A = actions; logits, logProbs, probs are (T, A); values, returns,
// advantages are (T); actions are (T) indices in 0..<A.

/// The terms of the A3C loss for one rollout (see the file header for the formulas).
public struct A3CLossTerms: Hashable, Sendable, Codable {
    /// 0.5 * sum_t (R_t - V_t)^2.
    public var valueLoss: Float
    /// -sum_t log pi(a_t|s_t) * A_t.
    public var policyLoss: Float
    /// -sum_t sum_a pi log pi (a sum over the rollout, like the losses).
    public var entropy: Float
    /// valueLossCoefficient * valueLoss + policyLoss - entropyCoefficient * entropy.
    public var total: Float

    public init(valueLoss: Float, policyLoss: Float, entropy: Float, total: Float) {
        self.valueLoss = valueLoss; self.policyLoss = policyLoss; self.entropy = entropy; self.total = total
    }
}

/// The two weights of the A3C total loss.
public struct A3CLossCoefficients: Hashable, Sendable, Codable {
    /// Weight of the value loss in the total. Default 0.5, the seed's (`0.5 * value_loss`).
    public var valueLoss: Float
    /// Weight of the entropy bonus, subtracted from the total. Default 0.01, the seed's and the
    /// A3C paper's (beta = 0.01, Mnih et al. 2016, Section 8).
    public var entropy: Float

    public init(valueLoss: Float = 0.5, entropy: Float = 0.01) {
        self.valueLoss = valueLoss; self.entropy = entropy
    }
}

/// The loss terms from the heads' outputs (accumulated in Double).
public func a3cLossForward(logProbs: UnsafePointer<Float>, probs: UnsafePointer<Float>, values: UnsafePointer<Float>,
                           actions: UnsafePointer<Int32>, returns: UnsafePointer<Float>,
                           advantages: UnsafePointer<Float>, steps: Int, actionCount: Int,
                           coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
    var valueLoss = 0.0, policyLoss = 0.0, entropy = 0.0
    for t in 0..<steps {
        let action = Int(actions[t])
        precondition(action >= 0 && action < actionCount, "a3cLoss: action \(action) at step \(t) not in 0..<\(actionCount)")
        let error = Double(returns[t]) - Double(values[t])
        valueLoss += 0.5 * error * error
        let lp = logProbs + t * actionCount, p = probs + t * actionCount
        policyLoss -= Double(lp[action]) * Double(advantages[t])
        for a in 0..<actionCount { entropy -= Double(p[a]) * Double(lp[a]) }
    }
    let total = Double(coefficients.valueLoss) * valueLoss + policyLoss - Double(coefficients.entropy) * entropy
    return A3CLossTerms(valueLoss: Float(valueLoss), policyLoss: Float(policyLoss), entropy: Float(entropy),
                        total: Float(total))
}

/// Gradient of the TOTAL loss with respect to the logits and the values; ACCUMULATES.
///
/// Forward was total = cv * 0.5 * sum (R - V)^2 - sum lp[a_t] A_t + ce * sum_t sum_a p_a lp_a, so
///   dValues[t]     += cv * (V_t - R_t)
///   dLogProbs[t,a]  = -A_t * [a == a_t] + ce * p_a * (lp_a + 1)      (d(p lp)/dlp = p lp + p, as p = exp(lp))
///   dLogits        += logSoftmaxBackward(dLogProbs)  =  dLogProbs - p * sum_a dLogProbs
public func a3cLossBackward(dLogits: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>,
                            logProbs: UnsafePointer<Float>, probs: UnsafePointer<Float>, values: UnsafePointer<Float>,
                            actions: UnsafePointer<Int32>, returns: UnsafePointer<Float>,
                            advantages: UnsafePointer<Float>, steps: Int, actionCount: Int,
                            coefficients: A3CLossCoefficients = A3CLossCoefficients()) {
    let ce = coefficients.entropy
    for t in 0..<steps {
        dValues[t] += coefficients.valueLoss * (values[t] - returns[t])
        let lp = logProbs + t * actionCount, p = probs + t * actionCount, dz = dLogits + t * actionCount
        let action = Int(actions[t])
        precondition(action >= 0 && action < actionCount, "a3cLoss: action \(action) at step \(t) not in 0..<\(actionCount)")
        @inline(__always) func dLogProb(_ a: Int) -> Float {
            ce * p[a] * (lp[a] + 1) - (a == action ? advantages[t] : 0)
        }
        var sum: Float = 0
        for a in 0..<actionCount { sum += dLogProb(a) }
        for a in 0..<actionCount { dz[a] += dLogProb(a) - p[a] * sum }
    }
}
