// Element-wise and row-wise activations: ELU, softmax, log-softmax.
//
// Legend: count = number of elements; rows x cols = a row-major matrix, softmax taken along each row
// (rows = time steps, cols = A actions in the actor-critic).
import _NeuralKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ELU with alpha = 1 (Clevert et al. 2016, TF's `tf.nn.elu`, the seed's activation):
/// out = x if x > 0, else exp(x) - 1. `out` may be `input` (in place).
///
/// `nk_elu_forward`: exp is Cephes' expf without branches, within 2 ulp for x in [-87, 0] (libm's
/// expm1f was 16% of an acting step), 16 lanes at a time with AVX-512; exp(x) - 1 has an absolute
/// error below 1.2e-7. NaN stays NaN.
public func eluForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    nk_elu_forward(out, input, count)
}

/// Backward of `eluForward`, from the forward's OUTPUT (so the input need not be kept); ACCUMULATES.
///
/// Forward was out = x > 0 ? x : exp(x) - 1, so dout/dx = 1 for x > 0 and exp(x) = out + 1 otherwise
/// (out > 0 exactly when x > 0): dInput += dOut * (out > 0 ? 1 : out + 1).
public func eluBackward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                        out: UnsafePointer<Float>, count: Int) {
    nk_elu_backward(dInput, dOut, out, count)
}

/// Softmax along each row: probs[r, j] = exp(x[r, j] - max_r) / sum_k exp(x[r, k] - max_r).
/// Subtracting the row maximum makes it overflow-free.
public func softmaxForward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let x = logits + r * cols, p = probs + r * cols
        var maximum = -Float.infinity
        for j in 0..<cols { maximum = max(maximum, x[j]) }
        var sum: Float = 0
        for j in 0..<cols { p[j] = expf(x[j] - maximum); sum += p[j] }
        let inverse = 1 / sum
        for j in 0..<cols { p[j] *= inverse }
    }
}

/// Backward of `softmaxForward`; ACCUMULATES.
///
/// Forward was p = softmax(x), whose Jacobian is dp_j/dx_k = p_j (delta_jk - p_k), so
/// dLogits[j] += p_j * (dProbs[j] - sum_k p_k dProbs[k]).
public func softmaxBackward(dLogits: UnsafeMutablePointer<Float>, dProbs: UnsafePointer<Float>,
                            probs: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let p = probs + r * cols, dp = dProbs + r * cols, dx = dLogits + r * cols
        var dot: Float = 0
        for j in 0..<cols { dot += p[j] * dp[j] }
        for j in 0..<cols { dx[j] += p[j] * (dp[j] - dot) }
    }
}

/// Log-softmax along each row: logProbs[r, j] = x[r, j] - max_r - log(sum_k exp(x[r, k] - max_r)).
/// Computed directly rather than as log(softmax), so it is finite even when a probability underflows.
public func logSoftmaxForward(logProbs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let x = logits + r * cols, lp = logProbs + r * cols
        var maximum = -Float.infinity
        for j in 0..<cols { maximum = max(maximum, x[j]) }
        var sum: Float = 0
        for j in 0..<cols { sum += expf(x[j] - maximum) }
        let logSum = maximum + logf(sum)
        for j in 0..<cols { lp[j] = x[j] - logSum }
    }
}

/// Backward of `logSoftmaxForward`; ACCUMULATES. Takes the softmax probabilities p = exp(logProbs).
///
/// Forward was lp_j = x_j - log sum_k exp(x_k), so dlp_j/dx_k = delta_jk - p_k and
/// dLogits[k] += dLogProbs[k] - p_k * sum_j dLogProbs[j].
public func logSoftmaxBackward(dLogits: UnsafeMutablePointer<Float>, dLogProbs: UnsafePointer<Float>,
                               probs: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let p = probs + r * cols, dlp = dLogProbs + r * cols, dx = dLogits + r * cols
        var sum: Float = 0
        for j in 0..<cols { sum += dlp[j] }
        for j in 0..<cols { dx[j] += dlp[j] - p[j] * sum }
    }
}

/// Logistic sigmoid 1 / (1 + exp(-x)), element-wise, overflow-free: with e = exp(-|x|) in (0, 1],
/// sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. Absolute error below 2e-7.
/// `out` may be `input`. (The LSTM uses the same arithmetic fused into `nk_lstm_cell_forward`.)
public func sigmoidForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    nk_sigmoid_forward(out, input, count)
}

/// tanh(x) = sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1], element-wise. Absolute error
/// below 2e-7 (libm's tanhf, with its expm1f, was most of the LSTM cell's time). `out` may be `input`.
public func tanhForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    nk_tanh_forward(out, input, count)
}
