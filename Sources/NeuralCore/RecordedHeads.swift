/// What a loss sees of a recorded rollout and where it writes its gradient
/// (`ActorCriticNetwork.backwardRecorded(loss:)`).
///
/// R = `slots` recorded slots in slot order, A = `actionCount` actions. The inputs are the heads'
/// outputs of the forward passes that recorded the rollout; the outputs are the gradients of the
/// loss with respect to the logits and the values, zeroed before the loss runs, which it ACCUMULATES
/// into. The pointers are valid only inside the closure they are given to.
public struct RecordedHeads {
    public let slots: Int
    public let actionCount: Int
    /// (R, A) policy logits z.
    public let logits: UnsafePointer<Float>
    /// (R, A) log pi = log-softmax(z).
    public let logProbs: UnsafePointer<Float>
    /// (R, A) pi = softmax(z).
    public let probs: UnsafePointer<Float>
    /// (R) V(s).
    public let values: UnsafePointer<Float>
    /// (R, A) dLoss/dz, accumulated by the loss.
    public let dLogits: UnsafeMutablePointer<Float>
    /// (R) dLoss/dV, accumulated by the loss.
    public let dValues: UnsafeMutablePointer<Float>

    public init(slots: Int, actionCount: Int, logits: UnsafePointer<Float>, logProbs: UnsafePointer<Float>,
                probs: UnsafePointer<Float>, values: UnsafePointer<Float>, dLogits: UnsafeMutablePointer<Float>,
                dValues: UnsafeMutablePointer<Float>) {
        self.slots = slots; self.actionCount = actionCount
        self.logits = logits; self.logProbs = logProbs; self.probs = probs; self.values = values
        self.dLogits = dLogits; self.dValues = dValues
    }
}
