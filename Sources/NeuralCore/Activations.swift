// Element-wise and row-wise activations: ELU, softmax, log-softmax.
//
// Legend: count = number of elements; rows x cols = a row-major matrix, softmax taken along each row
// (rows = time steps, cols = A actions in the actor-critic).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ELU with alpha = 1 (Clevert et al. 2016, TF's `tf.nn.elu`, the seed's activation):
/// out = x if x > 0, else exp(x) - 1. `out` may be `input` (in place).
///
/// exp is `_expNonPositive`, branch-free so the loop vectorises (libm's expm1f was 16% of an acting
/// step); exp(x) - 1 has an absolute error below 1.2e-7.
public func eluForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let x = input[i]
        let negativePart = _expNonPositive(min(x, 0)) - 1
        out[i] = x > 0 ? x : negativePart
    }
}

/// exp(x) for x <= 0 (x below -87 gives exp(-87) ~ 1.6e-38), within 2 ulp, branch-free.
/// Cephes' expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact reduction),
/// exp(r) by a degree-6 polynomial, times 2^n built in the exponent bits.
@inline(__always) func _expNonPositive(_ x: Float) -> Float {
    let xc = max(x, -87)
    // n = round(x log2 e) by adding 1.5 * 2^23 (|x log2 e| < 2^22): the sum's low mantissa bits are then
    // n itself, so 2^n is built with wrapping integer ops. No libm call (rounded() calls rintf on baseline
    // x86-64) and no trapping Float -> Int conversion, so the ELU loop vectorises.
    let shifted = xc * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = (xc - n * 0.693_359_375) + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return p * scale
}

/// Backward of `eluForward`, from the forward's OUTPUT (so the input need not be kept); ACCUMULATES.
///
/// Forward was out = x > 0 ? x : exp(x) - 1, so dout/dx = 1 for x > 0 and exp(x) = out + 1 otherwise
/// (out > 0 exactly when x > 0): dInput += dOut * (out > 0 ? 1 : out + 1).
public func eluBackward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                        out: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let y = out[i]
        dInput[i] += dOut[i] * (y > 0 ? 1 : y + 1)
    }
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

/// Logistic sigmoid 1 / (1 + exp(-x)), branch-free and overflow-free: with e = exp(-|x|) in (0, 1],
/// sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. Absolute error below 2e-7.
@inline(__always) func _sigmoid(_ x: Float) -> Float {
    let e = _expNonPositive(-abs(x))
    let inverse = 1 / (1 + e)
    return x >= 0 ? inverse : e * inverse
}

/// tanh(x) = sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1], branch-free. Absolute error below 2e-7
/// (libm's tanhf, with its expm1f, was most of the LSTM cell's time).
@inline(__always) func _tanh(_ x: Float) -> Float {
    let e = _expNonPositive(-2 * abs(x))
    let magnitude = (1 - e) / (1 + e)
    return x >= 0 ? magnitude : -magnitude
}
