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
import NeuralCore

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
                           actions: UnsafePointer<Int>, returns: UnsafePointer<Float>,
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
                            actions: UnsafePointer<Int>, returns: UnsafePointer<Float>,
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

extension ActorCriticNetwork {
    /// The A3C loss of the recorded rollout and its gradient through every layer, ACCUMULATED into
    /// `gradients` (zero them first); consumes the recording (see `backwardRecorded(loss:)`).
    ///
    /// Every array is in slot order (R = `recordedSlots` entries): actions a, each in 0..<A; returns
    /// R_t; advantages A_t, treated as constants. With E sequences the loss is the sum of their
    /// rollouts' losses, so one update learns from all of them.
    @discardableResult
    public func backwardRecorded(actions: [Int], returns: [Float], advantages: [Float],
                                 coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
        checkRolloutArrays(actions: actions, returns: returns, advantages: advantages)
        return backwardRecorded { heads in
            a3cLoss(heads, actions: actions, returns: returns, advantages: advantages, coefficients: coefficients,
                    gradient: true)
        }
    }

    /// The A3C loss of the recorded rollout, without any gradient (keeps the recording; for gradient checks).
    public func recordedLoss(actions: [Int], returns: [Float], advantages: [Float],
                             coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
        checkRolloutArrays(actions: actions, returns: returns, advantages: advantages)
        return withRecordedHeads { heads in
            a3cLoss(heads, actions: actions, returns: returns, advantages: advantages, coefficients: coefficients,
                    gradient: false)
        }
    }

    /// The loss's arrays have one entry per recorded slot, and every action is one of the network's.
    func checkRolloutArrays(actions: [Int], returns: [Float], advantages: [Float]) {
        let count = recordedSlots
        precondition(count >= 1, "no recorded acting steps: record a rollout with act(..., record: true) first")
        precondition(actions.count == count && returns.count == count && advantages.count == count,
                     "rollout arrays must have one entry per recorded slot (\(count)): actions \(actions.count), returns \(returns.count), advantages \(advantages.count)")
        for (slot, action) in actions.enumerated() {
            precondition(action >= 0 && action < actionCount, "action \(action) of slot \(slot) not in 0..<\(actionCount)")
        }
    }
}

/// The A3C terms over `heads`, and with `gradient` their gradient accumulated into its dLogits and dValues.
private func a3cLoss(_ heads: RecordedHeads, actions: [Int], returns: [Float], advantages: [Float],
                     coefficients: A3CLossCoefficients, gradient: Bool) -> A3CLossTerms {
    actions.withUnsafeBufferPointer { a in
        returns.withUnsafeBufferPointer { r in
            advantages.withUnsafeBufferPointer { adv in
                let terms = a3cLossForward(logProbs: heads.logProbs, probs: heads.probs, values: heads.values,
                                           actions: a.baseAddress!, returns: r.baseAddress!, advantages: adv.baseAddress!,
                                           steps: heads.slots, actionCount: heads.actionCount, coefficients: coefficients)
                if gradient {
                    a3cLossBackward(dLogits: heads.dLogits, dValues: heads.dValues, logProbs: heads.logProbs,
                                    probs: heads.probs, values: heads.values, actions: a.baseAddress!,
                                    returns: r.baseAddress!, advantages: adv.baseAddress!, steps: heads.slots,
                                    actionCount: heads.actionCount, coefficients: coefficients)
                }
                return terms
            }
        }
    }
}
