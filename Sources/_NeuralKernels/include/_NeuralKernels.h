// _NeuralKernels: NeuralCore's hot loops in C, with vector variants chosen at run time (the level is
// detected once, `__builtin_cpu_supports`) and a portable scalar version that defines the results:
// - element-wise kernels (optimizers, activations, the LSTM cell) and nk_sum: AVX-512, AVX2 and scalar;
// - the acting step's products, nk_dense_rows and nk_conv2d_forward: AVX-512 (with AVX512DQ), AVX2
//   with FMA (used at level AVX2 or above when the CPU has FMA; nk_conv2d_forward's vector variants
//   also need a multiple of 16 output channels and a weight of at most 8192 floats) and scalar;
// - the convolutions' weight gradients, nk_conv2d_weight_gradient: AVX-512, AVX2 with FMA and scalar;
// - the matrix products, nk_sgemm: oneDNN's, which picks its own instructions (nk_sgemm_limit_level);
// - nk_im2col and nk_col2im_accumulate: one plain C version (copies and adds, no variants).
//
// Why C: Swift compiles for baseline x86-64 (SSE2), so its loops run 4 floats at a time; these loops
// (the optimizer over 1.2M parameters, the exp-based activations, the acting step's few-row products)
// are the network's largest costs besides the matrix products. A function with `__attribute__((target(...)))`
// may use wider instructions while the binary still runs on any x86-64 (and on other architectures,
// where only the scalar code is built).
//
// Numerics: at every level a kernel gives bit-identical results.
// - Element-wise kernels and nk_sum: every variant performs the SAME float operations in the same
//   order as the scalar code, with no fused multiply-add (FP_CONTRACT OFF: a * b + c stays two
//   roundings); the vector code differs only in doing 16 (AVX-512) or 8 (AVX2) elements at once.
// - nk_dense_rows and nk_conv2d_forward: every multiply-add IS fused, explicitly (_mm256_fmadd_ps in
//   the AVX2 code, fmaf in the scalar code), in the order their comments below fix, so the two paths
//   agree bit for bit; their results differ in rounding from an unfused or BLAS product.
// KernelTests checks the levels against each other, the element-wise kernels against Double
// references, and the two products against the matrix products (to rounding).
//
// Legend: n = number of elements; every pointer addresses n floats unless said otherwise. No pointer
// may alias another except where a comment allows it (in place).
#ifndef NEURAL_KERNELS_H
#define NEURAL_KERNELS_H

#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Dispatch

/// Instruction set levels, in increasing order.
typedef enum {
    NK_LEVEL_SCALAR = 0,
    NK_LEVEL_AVX2 = 1,
    NK_LEVEL_AVX512 = 2,
} nk_level;

/// The level in use: the best one the CPU (and OS) supports, unless `nk_set_level` lowered it.
nk_level nk_current_level(void);

/// Uses `level`, or the best supported level if `level` is higher; returns the level now in use.
/// For tests and benchmarks that compare variants. The level is one int stored and loaded with relaxed
/// atomics, and every kernel call reads it once on entry and runs wholly at that level, so calling this
/// while kernels run on other threads is no data race: a call already running finishes at the old
/// level, and other threads switch at some later call (relaxed: no ordering with other memory). As the
/// levels give bit-identical results, a change alters speed only. One exception: the level in use is
/// set lazily by the first kernel call (or `nk_current_level`), and a concurrent `nk_set_level` may be
/// overwritten by that initialisation: call it before any other thread's first kernel call, or once
/// one has returned.
nk_level nk_set_level(nk_level level);

/// The best level this CPU supports.
nk_level nk_supported_level(void);

// MARK: - Optimizers

/// Constants of one Adam step (TF1's tf.train.AdamOptimizer, epsilon after the bias correction):
///   g = gradient_scale * gradients[i]
///   m = beta1 * m + one_minus_beta1 * g
///   v = beta2 * v + (one_minus_beta2 * g) * g
///   theta -= (rate * m) / (sqrt(v) + epsilon),   rate = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
typedef struct {
    float rate, beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon, gradient_scale;
} nk_adam_constants;

/// One Adam step over n parameters. Fused extras, each saving a pass over n floats:
/// - mirror (may be NULL): also receives the new theta (a worker's local copy of the parameters);
/// - zero_gradients: sets gradients[i] = 0 after reading it (the next backward pass accumulates from 0).
void nk_adam_step(float *theta, float *m, float *v, float *gradients, size_t n,
                  nk_adam_constants constants, float *mirror, bool zero_gradients);

/// Constants of one RMSProp step (Mnih et al. 2016, epsilon inside the square root):
///   g = gradient_scale * gradients[i]
///   ms = decay * ms + (one_minus_decay * g) * g
///   theta -= (rate * g) / sqrt(ms + epsilon)
typedef struct {
    float rate, decay, one_minus_decay, epsilon, gradient_scale;
} nk_rmsprop_constants;

/// One RMSProp step over n parameters; mirror and zero_gradients as in `nk_adam_step`.
void nk_rmsprop_step(float *theta, float *mean_square, float *gradients, size_t n,
                     nk_rmsprop_constants constants, float *mirror, bool zero_gradients);

// MARK: - Activations
//
// exp(x) for x <= 0 is Cephes' expf without branches: x clamped to [-87, 0] (so exp(-inf) gives
// exp(-87) ~ 1.6e-38, not 0), x = k ln2 + r with |r| <= ln2/2 and ln2 split in two for an exact
// reduction, exp(r) by a degree-6 polynomial, times 2^k built in the exponent bits. Within 2 ulp.
// NaN inputs give NaN outputs in every function below.

/// ELU with alpha = 1: out = x > 0 ? x : exp(x) - 1. out may be x (in place).
void nk_elu_forward(float *out, const float *x, size_t n);

/// Backward of ELU from its OUTPUT y; ACCUMULATES: d_x[i] += d_out[i] * (y > 0 ? 1 : y + 1).
void nk_elu_backward(float *d_x, const float *d_out, const float *y, size_t n);

/// Logistic sigmoid: out = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, with e = exp(-|x|).
/// out may be x (in place).
void nk_sigmoid_forward(float *out, const float *x, size_t n);

/// tanh: out = sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|). out may be x (in place).
void nk_tanh_forward(float *out, const float *x, size_t n);

// MARK: - LSTM cell (gate order i, f, g, o; H = hidden size)

/// The element-wise part of one LSTM step. gates (4H) holds the pre-activations z and is
/// overwritten with the activations [sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)]; then
///   c = f * c_prev + i * g,  tanh_c = tanh(c),  h = o * tanh_c          (c, tanh_c, h, c_prev: H)
void nk_lstm_cell_forward(float *h, float *c, float *tanh_c, float *gates, const float *c_prev, size_t hidden);

/// The element-wise part of one step of backpropagation through time (see LSTM.swift), for j < H:
///   dh = d_h[j] + dh_next[j];  dc = dc_next[j] + (dh * o) * (1 - tanh_c^2)
///   dz_i = ((dc * g) * i) * (1 - i);  dz_f = ((dc * c_prev) * f) * (1 - f)
///   dz_g = (dc * i) * (1 - g^2);  dz_o = ((dh * tanh_c) * o) * (1 - o);  dc_next[j] = dc * f
/// gates: the activations (4H); d_gates: output (4H); dc_next: in and out (H).
void nk_lstm_cell_backward(float *d_gates, float *dc_next, const float *dh_next, const float *d_h,
                           const float *gates, const float *tanh_c, const float *c_prev, size_t hidden);

// MARK: - Dense layer over a few rows

/// out[r, o] = init + sum_k x[r, k] * w[o, k] for r < rows, o < outputs (row-major, leading dimensions
/// ldo, ldx, ldw), with init = out[r, o] if accumulate, else bias[o] (0 if bias is NULL).
///
/// For the acting step's few rows (one per environment), where a general matrix product spends more
/// time packing the weights than multiplying: each weight row is streamed once and multiplied with
/// every input row while it is in registers. Every (r, o) is computed the same way whatever the row
/// count: 8 partial sums, lane l taking k = l mod 8 of the first k - k mod 8 terms and the last k mod 8
/// terms in order, each term a fused multiply-add; then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)),
/// then init + sum. So a row's result does not depend on the other rows, and the AVX-512 (two 8-lane
/// accumulators a register: two rows, or one row's two outputs), AVX2 (+FMA) and scalar
/// (fmaf) variants are bit-identical.
void nk_dense_rows(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                   const float *bias, bool accumulate, size_t rows, size_t inputs, size_t outputs);

// MARK: - Convolution (VALID, equal strides; Conv2D.swift's "channel-major batch" layout)

/// Direct convolution of a few images (an acting step), with no unrolled copy of the input:
///   out[o * out_channel_stride + n * oh * ow + oy * ow + ox]
///     = bias[o] + sum over c, ky, kx of weight[((o * C + c) * kh + ky) * kw + kx]
///                                     * input[c * channel_stride + n * height * width + (oy * s + ky) * width + ox * s + kx]
/// Each output is one chain of fused multiply-adds from bias[o], over the taps in (c, ky, kx) order,
/// so an image's result does not depend on the others and the AVX-512 (16 or 32 output channels by up
/// to 10 pixels in registers), AVX2 (+FMA; 16 output channels by up
/// to 4 pixels in registers) and scalar (fmaf) variants are bit-identical.
void nk_conv2d_forward(float *out, size_t out_channel_stride, const float *input, size_t channel_stride,
                       const float *weight, const float *bias, size_t batch, size_t channels,
                       size_t height, size_t width, size_t out_channels,
                       size_t kernel_height, size_t kernel_width, size_t stride);

/// A convolution's weight gradient, computed directly (ConvolutionGradient.c), with no unrolled copy
/// of the input; ACCUMULATES:
///   d_weight[((o * C + c) * kh + ky) * kw + kx]
///     += sum over n, oy, ox of d_out[o * out_channel_stride + n * oh * ow + oy * ow + ox]
///                              * input[c * channel_stride + n * height * width + (oy * s + ky) * width + ox * s + kx]
/// Each term sum is one chain of fused multiply-adds from 0 over (n, oy, ox) in that order, then added
/// to d_weight, so the AVX-512 (16 output channels a register), AVX2 (8) and scalar (fmaf) variants are
/// bit-identical. The vector variants take kernel widths 4 and 8 (this network's) with a multiple of 16
/// (8) output channels; other shapes run the scalar one. scratch: batch * oh * ow * out_channels floats,
/// which receive d_out transposed to (N, P, O).
void nk_conv2d_weight_gradient(float *d_weight, const float *d_out, size_t out_channel_stride, const float *input,
                               size_t channel_stride, float *scratch, size_t batch, size_t channels, size_t height,
                               size_t width, size_t out_channels, size_t kernel_height, size_t kernel_width,
                               size_t stride);

/// col2im, im2col's adjoint: every entry of `columns` (the layout of `nk_im2col`) is ADDED to the
/// input position it was copied from.
void nk_col2im_accumulate(float *d_input, size_t channel_stride, const float *columns, size_t columns_stride,
                          size_t batch, size_t channels, size_t height, size_t width,
                          size_t kernel_height, size_t kernel_width, size_t stride);

// MARK: - Convolution lowering

/// im2col for a VALID convolution (Conv2D.swift's layout): for each input channel c, image n, output
/// pixel (oy, ox) and kernel tap (ky, kx),
///   columns[((c * kh + ky) * kw + kx) * columns_stride + n * oh * ow + oy * ow + ox]
///     = input[c * channel_stride + n * height * width + (oy * stride + ky) * width + ox * stride + kx].
/// The same loop as Conv2D.swift's former Swift one: in C it runs twice as fast (0.4 ns a float for
/// conv1 at batch 8, measured with gcc -O2; a staged transpose through memcpy was 2.4 times slower).
void nk_im2col(float *columns, size_t columns_stride, const float *input, size_t channel_stride,
               size_t batch, size_t channels, size_t height, size_t width,
               size_t kernel_height, size_t kernel_width, size_t stride);

// MARK: - Matrix products (GEMM.c)

/// c[m, n] = alpha * op(a)[m, k] * op(b)[k, n] + beta * c[m, n], row-major with leading dimensions
/// lda, ldb, ldc (op(x) = x^T when its transpose flag is set), by oneDNN's `dnnl_sgemm` (JIT-compiled
/// for the CPU's widest instructions: AVX2, AVX-512) on the calling thread alone. Returns 0, or
/// oneDNN's status when it refused the arguments (a programmer error: sizes or leading dimensions).
/// Not bit-identical to OpenBLAS (another order of summation); deterministic for given sizes and CPU.
int nk_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
             const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

/// Limits `nk_sgemm` to the instructions of `level` (SCALAR: SSE4.1, oneDNN's lowest; AVX2; AVX512: no
/// limit), so that a benchmark can measure the AVX2 path on an AVX-512 machine. oneDNN takes this only
/// before its first product in the process: returns 0 if taken, -1 if too late.
int nk_sgemm_limit_level(nk_level level);

// MARK: - The core's peak (Peak.c)

/// The core's measured fused multiply-add throughput at `level` (lowered to the supported level), in
/// GFLOP/s (2 flops per multiply-add per lane): 12 independent chains of vector FMAs in registers, the
/// best of tries of about a millisecond over `seconds`. At the scalar level on x86-64, 4-lane SSE
/// multiplies and adds (the baseline instructions, which oneDNN's lowest kernels still use); elsewhere
/// one lane of fmaf. What the hardware can do on one thread, as a
/// yardstick for the network's kernels (`a3c bench nn`); it reads no memory.
double nk_fma_peak_gflops(nk_level level, double seconds);

// MARK: - Reductions

/// sum_i x[i] in float, as 64 interleaved partial sums (lane l takes i = l mod 64 of the first n - n mod 64
/// elements) combined pairwise (l + 32, 16, 8, 4, 2, 1), then the last n mod 64 elements in order.
/// Bit-identical across levels; far more accurate than one running sum for large n.
float nk_sum(const float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif
