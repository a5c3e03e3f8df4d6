// The network's products on its own shapes, single-threaded: Debian's OpenBLAS, oneDNN's sgemm,
// (optionally) libxsmm, and swift-a3c's own kernels (nk_dense_rows, nk_conv2d_forward,
// nk_conv2d_weight_gradient). Built and run by scripts/compare-kernels; docs/network-kernels.md has
// its results. Best of 7 tries of a few hundred calls each, every side measured in the same run.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include "_NeuralKernels.h"
#ifdef HAVE_XSMM
#include <libxsmm.h>
#endif

void openblas_set_num_threads(int);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define BEST_US(expr, reps) ({ double best = 1e9; for (int t = 0; t < 7; t++) { double t0 = now(); \
    for (int r = 0; r < (reps); r++) { expr; } double d = (now() - t0) / (reps); if (d < best) best = d; } best * 1e6; })

typedef struct { const char *name; int ta, tb, m, n, k, lda, ldb, ldc; float beta; int reps; } product;
static float *A, *B, *C, *D;

static void openblas(product p) {
    cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k, 1,
                A, p.lda, B, p.ldb, p.beta, C, p.ldc);
}
static void onednn(product p) { nk_sgemm(p.ta, p.tb, p.m, p.n, p.k, 1, A, p.lda, B, p.ldb, p.beta, C, p.ldc); }
#ifdef HAVE_XSMM
static void xsmm(product p) {  // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
    char ta = p.tb ? 'T' : 'N', tb = p.ta ? 'T' : 'N';
    libxsmm_blasint m = p.n, n = p.m, k = p.k, lda = p.ldb, ldb = p.lda, ldc = p.ldc;
    float alpha = 1, beta = p.beta;
    libxsmm_sgemm(&ta, &tb, &m, &n, &k, &alpha, B, &lda, A, &ldb, &beta, C, &ldc);
}
#endif

int main(void) {
    openblas_set_num_threads(1);
    size_t floats = (size_t)1 << 22;
    A = malloc(floats * 4); B = malloc(floats * 4); C = malloc(floats * 4); D = malloc(floats * 4);
    for (size_t i = 0; i < floats; i++) { A[i] = (float)(i % 7) * 0.1f; B[i] = (float)(i % 5) * 0.01f; C[i] = 0; D[i] = 0; }
    printf("kernel level %d (0 scalar, 1 AVX2, 2 AVX-512); FMA peak %.0f GFLOP/s\n\n", nk_current_level(),
           nk_fma_peak_gflops(nk_current_level(), 0.3));

    // The backward pass of one update at 2 environments per worker: R = 60 recorded slots; the
    // convolutions in chunks of 32 frames.
    product products[] = {
        {"fc dW      256 x 2592 x 60, A^T", 1, 0, 256, 2592, 60, 256, 2592, 2592, 1, 20},
        {"fc dInput  60 x 2592 x 256", 0, 0, 60, 2592, 256, 256, 2592, 2592, 1, 20},
        {"lstm dW    1024 x 256 x 60, A^T", 1, 0, 1024, 256, 60, 1024, 256, 256, 1, 40},
        {"lstm dX    60 x 256 x 1024", 0, 0, 60, 256, 1024, 1024, 256, 256, 1, 40},
        {"lstm step  2 x 256 x 1024 (x30)", 0, 0, 2, 256, 1024, 1024, 256, 256, 0, 400},
        {"conv2 dW   32 x 256 x 2592, B^T", 0, 1, 32, 256, 2592, 2592 * 2, 2592, 256, 1, 20},
        {"conv2 dCol 256 x 2592 x 32, A^T", 1, 0, 256, 2592, 32, 256, 2592 * 2, 2592, 0, 20},
        {"conv1 dW   16 x 64 x 12800, B^T", 0, 1, 16, 64, 12800, 12800 * 2, 12800, 64, 1, 20},
        {"act fc     2 x 256 x 2592, B^T", 0, 1, 2, 256, 2592, 2592, 2592, 256, 0, 200},
        {"act lstm   2 x 1024 x 256, B^T", 0, 1, 2, 1024, 256, 256, 256, 1024, 0, 400},
    };
    printf("%-34s %16s %16s", "product (row-major M x N x K)", "OpenBLAS us", "oneDNN us");
#ifdef HAVE_XSMM
    printf(" %16s", "libxsmm us");
#endif
    printf("\n");
    for (size_t i = 0; i < sizeof products / sizeof *products; i++) {
        product p = products[i];
        double flops = 2.0 * p.m * p.n * p.k, a = BEST_US(openblas(p), p.reps), b = BEST_US(onednn(p), p.reps);
        printf("%-34s %8.1f (%3.0f GF) %8.1f (%3.0f GF)", p.name, a, flops / a * 1e-3, b, flops / b * 1e-3);
#ifdef HAVE_XSMM
        double c = BEST_US(xsmm(p), p.reps);
        printf(" %8.1f (%3.0f GF)", c, flops / c * 1e-3);
#endif
        printf("\n");
    }

    printf("\nacting step, E rows: nk_dense_rows against oneDNN's sgemm (us)\n");
    for (int e = 1; e <= 4; e *= 2) {
        double fc_ours = BEST_US(nk_dense_rows(C, 256, A, 2592, B, 2592, D, false, e, 2592, 256), 200);
        double fc_dnnl = BEST_US(nk_sgemm(false, true, e, 256, 2592, 1, A, 2592, B, 2592, 0, C, 256), 200);
        double lstm_ours = BEST_US(nk_dense_rows(C, 1024, A, 256, B, 256, D, false, e, 256, 1024), 400);
        double lstm_dnnl = BEST_US(nk_sgemm(false, true, e, 1024, 256, 1, A, 256, B, 256, 0, C, 1024), 400);
        double conv1 = BEST_US(nk_conv2d_forward(C, e * 400, A, 0, B, D, e, 1, 84, 84, 16, 8, 8, 4), 400);
        double conv2 = BEST_US(nk_conv2d_forward(C, e * 81, A, e * 400, B, D, e, 16, 20, 20, 32, 4, 4, 2), 400);
        printf("E=%d  fc %.1f / %.1f   lstm (one of two products) %.1f / %.1f   conv1 %.1f  conv2 %.1f\n", e, fc_ours,
               fc_dnnl, lstm_ours, lstm_dnnl, conv1, conv2);
    }

    printf("\nconvolution weight gradient of 32 frames: im2col + sgemm against nk_conv2d_weight_gradient (us)\n");
    {   // conv1: frames (32, 84, 84) -> dW (16, 64); conv2: (16, 32, 20, 20) -> dW (32, 256)
        size_t q = 32;
        double im2col1 = BEST_US(nk_im2col(D, q * 400, A, 0, q, 1, 84, 84, 8, 8, 4), 20);
        double blas1 = BEST_US(cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 16, 64, q * 400, 1, B, q * 400, D,
                                           q * 400, 1, C, 64), 20);
        double dnnl1 = BEST_US(nk_sgemm(false, true, 16, 64, q * 400, 1, B, q * 400, D, q * 400, 1, C, 64), 20);
        double direct1 = BEST_US(nk_conv2d_weight_gradient(C, B, q * 400, A, 0, D, q, 1, 84, 84, 16, 8, 8, 4), 20);
        printf("conv1  im2col %.1f + OpenBLAS %.1f / oneDNN %.1f   direct %.1f\n", im2col1, blas1, dnnl1, direct1);
        double im2col2 = BEST_US(nk_im2col(D, q * 81, A, q * 400, q, 16, 20, 20, 4, 4, 2), 20);
        double blas2 = BEST_US(cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 32, 256, q * 81, 1, B, q * 81, D,
                                           q * 81, 1, C, 256), 20);
        double dnnl2 = BEST_US(nk_sgemm(false, true, 32, 256, q * 81, 1, B, q * 81, D, q * 81, 1, C, 256), 20);
        double direct2 = BEST_US(nk_conv2d_weight_gradient(C, B, q * 81, A, q * 400, D, q, 16, 20, 20, 32, 4, 4, 2), 20);
        printf("conv2  im2col %.1f + OpenBLAS %.1f / oneDNN %.1f   direct %.1f\n", im2col2, blas2, dnnl2, direct2);
    }
    return 0;
}
