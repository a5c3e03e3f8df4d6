// Thin row-major wrappers over OpenBLAS, single-threaded.
//
// Parallelism in swift-a3c is one worker thread per core, so OpenBLAS must not start its own
// threads: `_ensureSingleThreadedBLAS()` calls openblas_set_num_threads(1) once per process.
// Every type in NeuralCore that calls BLAS calls it in its initialiser.
//
// Notation: C[M, N] = alpha * op(A) * op(B) + beta * C, all row-major with explicit leading
// dimensions (the distance in floats between two rows).
import _CBLAS

private let _singleThreadedBLAS: Void = { openblas_set_num_threads(1) }()

/// Sets OpenBLAS to one thread, once (thread-safe: Swift globals are initialised once).
@inline(__always) func _ensureSingleThreadedBLAS() { _ = _singleThreadedBLAS }

/// C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C[M, N], row-major.
@inline(__always)
func _sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// y[M or N] = alpha * op(A) * x + beta * y, A row-major [M, N] with leading dimension lda;
/// op(A) = A gives y[M], op(A) = A^T gives y[N].
@inline(__always)
func _sgemv(transpose: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
            x: UnsafePointer<Float>, incX: Int = 1, beta: Float, y: UnsafeMutablePointer<Float>, incY: Int = 1) {
    cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                x, Int32(incX), beta, y, Int32(incY))
}
