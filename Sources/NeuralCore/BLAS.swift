// Matrix products on one thread: oneDNN's sgemm; OpenBLAS for the vector reductions of the optimizer.
//
// Parallelism in swift-a3c is one worker thread per core, so neither library may start threads of its
// own: `_ensureSingleThreadedBLAS()` calls openblas_set_num_threads(1) once per process (every type in
// NeuralCore that calls OpenBLAS calls it in its initialiser), and `nk_sgemm` sets the calling
// thread's OpenMP team (oneDNN's threading) to one thread.
//
// Why oneDNN: measured on the backward pass's own shapes, single-threaded, on an AVX-512 machine
// (docs/network-kernels.md), its JIT-compiled kernels were 1.3-3.3x faster than Debian's OpenBLAS on
// every product but one (conv1's weight gradient, now a kernel of ours, `nk_conv2d_weight_gradient`).
// (OpenBLAS ran its AVX2 kernels there, as OPENBLAS_CORETYPE=Haswell told it; oneDNN picks its
// kernels from the CPU alone.)
//
// Notation: C[M, N] = alpha * op(A) * op(B) + beta * C, all row-major with explicit leading
// dimensions (the distance in floats between two rows).
import _CBLAS
import _NeuralKernels

private let _singleThreadedBLAS: Void = { openblas_set_num_threads(1) }()

/// Sets OpenBLAS to one thread, once (thread-safe: Swift globals are initialised once).
@inline(__always) func _ensureSingleThreadedBLAS() { _ = _singleThreadedBLAS }

/// C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C[M, N], row-major, by oneDNN (`nk_sgemm`).
@inline(__always)
func _sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let status = nk_sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    precondition(status == 0, "oneDNN refused the product \(m)x\(n)x\(k) (status \(status)): a bug in the caller's sizes")
}
