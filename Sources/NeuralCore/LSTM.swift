// LSTM cell (Hochreiter & Schmidhuber 1997) over a batch of sequences stepped together, with
// backpropagation through time. PyTorch's LSTMCell conventions: gate order i, f, g, o in weight rows
// and gate vectors.
//
// Legend: N = sequences in one step (rows), I = input size, H = hidden size, G = 4H (gates i, f, g, o
// stacked); R = rows of a whole recorded batch (all steps), Q = sequences of the batch.
//   weightIH (G, I), weightHH (G, H), biasIH (G), biasHH (G)   -- PyTorch LSTMCell parameters
//   per row: input x (I), state before the step (hPrev, cPrev) (H each), after it (h, c) (H each),
//   gates (G): pre-activations z while computing, then the activations [i, f, g, o]
//
// One step of one sequence:
//   z = W_ih x + b_ih + W_hh hPrev + b_hh
//   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//   c = f * cPrev + i * g
//   h = o * tanh(c)
// For N sequences at once both products run over the N rows: forward with the dense layer's few-rows kernel
// (`denseForward`, which streams each weight row once for all N), backward as matrix products.
import _NeuralKernels

/// Sizes of an LSTM cell.
public struct LSTMShape: Hashable, Sendable {
    public let inputSize: Int, hiddenSize: Int
    public init(inputSize: Int, hiddenSize: Int) {
        precondition(inputSize > 0 && hiddenSize > 0, "LSTMShape: sizes must be positive")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize
    }
    /// G = 4H.
    public var gateCount: Int { 4 * hiddenSize }
}

/// Where each step of a batch of sequences lies in the rows of a recording (the actor-critic's slots).
///
/// Step k occupies rows `stepFirstRow[k] ..< stepFirstRow[k] + stepRowCount[k]`, and row r belongs to
/// sequence `rowSequence[r]` (in 0..<sequenceCount). A sequence runs over consecutive steps: present
/// at step k, it was present at step k - 1 (its state before step k being the one step k - 1 produced
/// for it) or it starts at step k, from whatever state its row was given. The gradient flows back
/// through a sequence's steps and out of its first one into nothing, so BPTT stops where each sequence
/// starts. (An A3C worker's environments all start a rollout together, and an environment whose
/// episode ends leaves the rollout; with rollouts that cross episode ends, the next episode is a new
/// sequence starting inside the rollout.)
public struct LSTMSchedule {
    public var steps: Int
    public var sequenceCount: Int
    public var stepFirstRow: UnsafePointer<Int>
    public var stepRowCount: UnsafePointer<Int>
    public var rowSequence: UnsafePointer<Int>

    public init(steps: Int, sequenceCount: Int, stepFirstRow: UnsafePointer<Int>, stepRowCount: UnsafePointer<Int>,
                rowSequence: UnsafePointer<Int>) {
        self.steps = steps; self.sequenceCount = sequenceCount
        self.stepFirstRow = stepFirstRow; self.stepRowCount = stepRowCount; self.rowSequence = rowSequence
    }

    /// R, the rows of all steps.
    public var rowCount: Int { steps == 0 ? 0 : stepFirstRow[steps - 1] + stepRowCount[steps - 1] }
}

/// One step of N sequences at once; every buffer holds N consecutive rows.
///
///   gates = x W_ih^T + b_ih + b_hh + hPrev W_hh^T      (N x G; two matrix products)
///   then, row by row, the gate nonlinearities IN PLACE (gates become [i, f, g, o]) and
///   c = f * cPrev + i * g,  tanhC = tanh(c),  h = o * tanhC
/// - h, c, tanhC, hPrev, cPrev: (N, H); gates: (N, G); input: (N, I). h, c must not alias hPrev, cPrev.
public func lstmStepForward(h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                            tanhC: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>,
                            input: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                            weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                            biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>, rows: Int, shape: LSTMShape) {
    let hs = shape.hiddenSize, g = shape.gateCount
    // gates = x W_ih^T + b_ih, then + b_hh
    denseForward(out: gates, input: input, weight: weightIH, bias: biasIH, batch: rows, inFeatures: shape.inputSize,
                 outFeatures: g)
    for r in 0..<rows {
        let row = gates + r * g
        for j in 0..<g { row[j] += biasHH[j] }
    }
    // gates += hPrev W_hh^T
    denseForward(out: gates, input: hPrev, weight: weightHH, bias: nil, accumulate: true, batch: rows,
                 inFeatures: hs, outFeatures: g)
    // The element-wise rest (sigmoid and tanh as in `sigmoidForward`, `tanhForward`), a vector at a time.
    for r in 0..<rows {
        nk_lstm_cell_forward(h + r * hs, c + r * hs, tanhC + r * hs, gates + r * g, cPrev + r * hs, hs)
    }
}

/// Backpropagation through time over the recorded steps of `schedule`; ACCUMULATES into every d-buffer.
///
/// dH (R, H) is the loss gradient reaching each h from above (not through the recurrence). Going back
/// from the last step, with carries per sequence dhNext = dL/dh and dcNext = dL/dc through its later
/// steps (zero after its last step):
///   forward h = o * tanh(c):           dh = dH[r] + dhNext;  do = dh * tanh(c);  dc = dcNext + dh * o * (1 - tanh(c)^2)
///   forward c = f * cPrev + i * g:     di = dc * g;  df = dc * cPrev;  dg = dc * i;  dcPrev = dc * f
///   forward i,f,o = sigmoid(z), g = tanh(z):  dz = di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)
///   forward z = W_ih x + b_ih + W_hh hPrev + b_hh:  dhPrev = dz W_hh (one product for the step's rows),
///     and after the loop, over all R rows at once,
///     dW_ih += dZ^T x,  dW_hh += dZ^T hPrev,  db_ih += sum_r dz,  db_hh += sum_r dz,  dInput += dZ W_ih.
/// The carries end as the gradients with respect to each sequence's state before its first step;
/// dInitialHidden, dInitialCell (Q, H), if given, receive them.
/// - input: (R, I); hPrev, cPrev, tanhC: (R, H); gates: (R, G), the activations.
/// - dGates: scratch (R, G); carry: scratch (2, Q, H); dhPrevRows: scratch (max rows of a step, H).
public func lstmBackward(dInput: UnsafeMutablePointer<Float>?, dWeightIH: UnsafeMutablePointer<Float>,
                         dWeightHH: UnsafeMutablePointer<Float>, dBiasIH: UnsafeMutablePointer<Float>,
                         dBiasHH: UnsafeMutablePointer<Float>, dInitialHidden: UnsafeMutablePointer<Float>?,
                         dInitialCell: UnsafeMutablePointer<Float>?, dH: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                         gates: UnsafePointer<Float>, tanhC: UnsafePointer<Float>,
                         weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                         dGates: UnsafeMutablePointer<Float>, carry: UnsafeMutablePointer<Float>,
                         dhPrevRows: UnsafeMutablePointer<Float>, schedule: LSTMSchedule, shape: LSTMShape) {
    let hs = shape.hiddenSize, gc = shape.gateCount, sequences = schedule.sequenceCount
    let dhNext = carry, dcNext = carry + sequences * hs  // (Q, H) each
    carry.update(repeating: 0, count: 2 * sequences * hs)
    for step in stride(from: schedule.steps - 1, through: 0, by: -1) {
        let first = schedule.stepFirstRow[step], rows = schedule.stepRowCount[step]
        for r in first..<(first + rows) {
            let q = schedule.rowSequence[r]
            // dh, dc, the four dz and the new dcNext (= dcPrev) as in the comment above (`nk_lstm_cell_backward`).
            nk_lstm_cell_backward(dGates + r * gc, dcNext + q * hs, dhNext + q * hs, dH + r * hs, gates + r * gc,
                                  tanhC + r * hs, cPrev + r * hs, hs)
        }
        // dhPrev = dz W_hh for the step's rows (W_hh is (G, H)), then each row to its sequence's carry.
        let dz = UnsafePointer(dGates + first * gc)
        if rows == 1 {
            _sgemm(transposeA: false, transposeB: false, m: 1, n: hs, k: gc, a: dz, lda: gc, b: weightHH, ldb: hs,
                   beta: 0, c: dhNext + schedule.rowSequence[first] * hs, ldc: hs)
        } else {
            _sgemm(transposeA: false, transposeB: false, m: rows, n: hs, k: gc, a: dz, lda: gc, b: weightHH, ldb: hs,
                   beta: 0, c: dhPrevRows, ldc: hs)
            for j in 0..<rows {
                (dhNext + schedule.rowSequence[first + j] * hs).update(from: dhPrevRows + j * hs, count: hs)
            }
        }
    }
    if let dInitialHidden { for j in 0..<(sequences * hs) { dInitialHidden[j] += dhNext[j] } }
    if let dInitialCell { for j in 0..<(sequences * hs) { dInitialCell[j] += dcNext[j] } }
    // The sums over all rows, one matrix product each.
    let rows = schedule.rowCount
    denseBackward(dInput: dInput, dWeight: dWeightIH, dBias: dBiasIH, dOut: dGates, input: input, weight: weightIH,
                  batch: rows, inFeatures: shape.inputSize, outFeatures: gc)
    _sgemm(transposeA: true, transposeB: false, m: gc, n: hs, k: rows,
           a: dGates, lda: gc, b: hPrev, ldb: hs, beta: 1, c: dWeightHH, ldc: hs)
    for r in 0..<rows {
        let dz = dGates + r * gc
        for j in 0..<gc { dBiasHH[j] += dz[j] }
    }
}
