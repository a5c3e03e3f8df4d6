/// The recurrent states (h, c) of the actor-critic's LSTM for `count` sequences (a worker's
/// environments): two (count, H) buffers, H = 256. Row r is sequence r's state; the zero state is the
/// state at the start of an episode.
public final class LSTMStates {
    /// Number of sequences (rows).
    public let count: Int
    /// h, (count, H).
    public let hidden: FloatBuffer
    /// c, (count, H).
    public let cell: FloatBuffer

    /// `count` zero states.
    public init(count: Int = 1, hiddenSize: Int = ActorCriticNetwork.hiddenSize) {
        precondition(count >= 1, "LSTMStates needs at least one row, got \(count)")
        self.count = count
        hidden = FloatBuffer(count: count * hiddenSize)
        cell = FloatBuffer(count: count * hiddenSize)
    }

    /// Floats per row, H.
    public var hiddenSize: Int { hidden.count / count }

    /// Resets row `row` to the zero state.
    public func reset(row: Int) {
        _check(row)
        let h = hiddenSize
        (hidden.pointer + row * h).update(repeating: 0, count: h)
        (cell.pointer + row * h).update(repeating: 0, count: h)
    }

    /// Resets every row.
    public func resetAll() {
        hidden.zero()
        cell.zero()
    }

    /// Copies `other`'s row `sourceRow` into row `row`.
    public func copy(row: Int, from other: LSTMStates, row sourceRow: Int) {
        _check(row)
        other._check(sourceRow)
        precondition(other.hiddenSize == hiddenSize, "LSTMStates.copy: hidden sizes differ")
        let h = hiddenSize
        (hidden.pointer + row * h).update(from: other.hidden.pointer + sourceRow * h, count: h)
        (cell.pointer + row * h).update(from: other.cell.pointer + sourceRow * h, count: h)
    }

    func _check(_ row: Int) {
        precondition(row >= 0 && row < count, "LSTMStates: row \(row) not in 0..<\(count)")
    }
}

/// What one acting step produces for its N rows: V(s) and pi(. | s) per row.
///
/// Points into the network: valid until the next acting step that writes the same slots (the scratch
/// slots for an unrecorded step), or until the recording is discarded.
public struct ActingBatch {
    /// N, the rows acted on.
    public let rowCount: Int
    /// A, the actions.
    public let actionCount: Int
    let values: UnsafePointer<Float>         // (N)
    let probabilities: UnsafePointer<Float>  // (N, A)
    /// The slot of row 0; row j is in slot firstSlot + j (the order `backwardRecorded` takes its arrays in).
    public let firstSlot: Int

    /// V(s) of row `row`, the critic's estimate of the return.
    public func value(row: Int) -> Float {
        precondition(row >= 0 && row < rowCount, "ActingBatch: row \(row) not in 0..<\(rowCount)")
        return values[row]
    }

    /// pi(. | s) of row `row`, A probabilities.
    public func probabilities(row: Int) -> UnsafeBufferPointer<Float> {
        precondition(row >= 0 && row < rowCount, "ActingBatch: row \(row) not in 0..<\(rowCount)")
        return UnsafeBufferPointer(start: probabilities + row * actionCount, count: actionCount)
    }

    /// Samples an action of row `row` by inverting the CDF with `uniform` in [0, 1). Returns the last
    /// action with non-zero probability if rounding leaves `uniform` above the total.
    public func sampleAction(row: Int, uniform: Float) -> Int {
        var cumulative: Float = 0
        var last = 0
        for (action, p) in probabilities(row: row).enumerated() {
            cumulative += p
            if p > 0 { last = action }
            if uniform < cumulative { return action }
        }
        return last
    }

    /// The most probable action of row `row` (the first of equals): greedy play.
    public func mostProbableAction(row: Int) -> Int {
        let p = probabilities(row: row)
        var best = 0
        for action in 1..<p.count where p[action] > p[best] { best = action }
        return best
    }
}
