// Dense (fully connected) layer, PyTorch's Linear.
//
// Legend: N = batch, I = input features, O = output features.
//   input (N, I), out (N, O), weight (O, I) row-major (PyTorch Linear.weight), bias (O) or nil.
// Rows of input/out may be further apart than I/O floats (leading dimensions), so a layer can read
// rows of a larger buffer. The forward of up to `denseFewRows` rows (an acting step: one row per
// environment) goes to `nk_dense_rows`, which streams each weight row once for all rows and computes
// every row exactly as it would alone. The trainer never forwards more rows than that
// (`ActorCriticNetwork` refuses a `maxRows` above `denseFewRows`); more rows are one sgemm, a fallback
// for other callers. The backward (over a whole rollout's rows) is always sgemm.

import _NeuralKernels

/// The most rows `denseForward` computes with `nk_dense_rows` rather than sgemm. For a few rows a
/// general matrix product spends more time packing the weight (2.65 MB for fc) than multiplying:
/// OpenBLAS's sgemm ran fc's 8 x 2592 x 256 at 41 GFLOP/s; oneDNN's takes as long as `nk_dense_rows`
/// at 1 and 2 rows and twice as long at 4 (docs/network-kernels.md), and would make a row's result
/// depend on the batch.
/// Also the most rows an `ActorCriticNetwork` acts on at once (`ActorCriticNetwork.maxRowsLimit`), so
/// every forward of the trainer runs in `nk_dense_rows`.
public let denseFewRows = 64

/// Forward: out[n, o] = bias[o] + sum_i weight[o, i] * input[n, i], i.e. out = input * weight^T + bias.
/// With `accumulate`, out += input * weight^T instead (bias must be nil).
public func denseForward(out: UnsafeMutablePointer<Float>, outStride: Int? = nil,
                         input: UnsafePointer<Float>, inputStride: Int? = nil,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool = false,
                         batch: Int, inFeatures: Int, outFeatures: Int) {
    precondition(!(accumulate && bias != nil), "denseForward: accumulate takes no bias")
    let ldo = outStride ?? outFeatures, ldi = inputStride ?? inFeatures
    if batch <= denseFewRows {
        nk_dense_rows(out, ldo, input, ldi, weight, inFeatures, bias, accumulate, batch, inFeatures, outFeatures)
    } else {
        // Fallback outside the trainer's bounds (ActorCriticNetwork's maxRows <= denseFewRows): no
        // acting step of the network reaches it. Its rounding differs from nk_dense_rows'.
        if let bias { for n in 0..<batch { (out + n * ldo).update(from: bias, count: outFeatures) } }
        _sgemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
               a: input, lda: ldi, b: weight, ldb: inFeatures, beta: bias == nil && !accumulate ? 0 : 1, c: out, ldc: ldo)
    }
}

/// Backward of `denseForward`; ACCUMULATES into dInput, dWeight and dBias.
///
/// Forward was out = input * weight^T + bias, so
///   dWeight[O, I] += dOut[N, O]^T * input[N, I]
///   dBias[o]      += sum_n dOut[n, o]
///   dInput[N, I]  += dOut[N, O] * weight[O, I]          (skipped when dInput is nil)
public func denseBackward(dInput: UnsafeMutablePointer<Float>?, dInputStride: Int? = nil,
                          dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                          dOut: UnsafePointer<Float>, dOutStride: Int? = nil,
                          input: UnsafePointer<Float>, inputStride: Int? = nil,
                          weight: UnsafePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int) {
    let ldo = dOutStride ?? outFeatures, ldi = inputStride ?? inFeatures, lddi = dInputStride ?? inFeatures
    _sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch,
           a: dOut, lda: ldo, b: input, ldb: ldi, beta: 1, c: dWeight, ldc: inFeatures)
    if let dBias {
        for n in 0..<batch {
            let row = dOut + n * ldo
            for o in 0..<outFeatures { dBias[o] += row[o] }
        }
    }
    if let dInput {
        _sgemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
               a: dOut, lda: ldo, b: weight, ldb: inFeatures, beta: 1, c: dInput, ldc: lddi)
    }
}
