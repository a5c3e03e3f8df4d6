// Dense (fully connected) layer, PyTorch's Linear.
//
// Legend: N = batch, I = input features, O = output features.
//   input (N, I), out (N, O), weight (O, I) row-major (PyTorch Linear.weight), bias (O) or nil.
// Rows of input/out may be further apart than I/O floats (leading dimensions), so a layer can read
// rows of a larger buffer. N = 1 is a matrix-vector product (sgemv, memory-bound on the weight);
// N > 1 is one sgemm.

/// Forward: out[n, o] = bias[o] + sum_i weight[o, i] * input[n, i], i.e. out = input * weight^T + bias.
public func denseForward(out: UnsafeMutablePointer<Float>, outStride: Int? = nil,
                         input: UnsafePointer<Float>, inputStride: Int? = nil,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                         batch: Int, inFeatures: Int, outFeatures: Int) {
    let ldo = outStride ?? outFeatures, ldi = inputStride ?? inFeatures
    if batch == 1 {
        if let bias { out.update(from: bias, count: outFeatures) }
        _sgemv(transpose: false, m: outFeatures, n: inFeatures, a: weight, lda: inFeatures,
               x: input, beta: bias == nil ? 0 : 1, y: out)
    } else {
        if let bias { for n in 0..<batch { (out + n * ldo).update(from: bias, count: outFeatures) } }
        _sgemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
               a: input, lda: ldi, b: weight, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: out, ldc: ldo)
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
