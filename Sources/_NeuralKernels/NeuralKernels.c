// Implementation of _NeuralKernels.h, in sections:
// - the element-wise kernels: a scalar reference version each, then AVX2 and AVX-512 versions that do
//   the same operations 8 or 16 lanes at a time and finish the last n mod 8 (16) elements with the
//   scalar code; their dispatching entry points (NK_DISPATCH) are at the end of the file;
// - nk_sum: one plain C body compiled once per level;
// - nk_dense_rows and nk_conv2d_forward: a scalar version (fmaf), an AVX2 + FMA version and an
//   AVX-512 version (with AVX512DQ) with the same fused operations in the same order, chosen in their
//   entry points (nk_has_avx512_dq, nk_has_avx2_fma);
// - nk_im2col and nk_col2im_accumulate: one plain C version.
// The matrix products (GEMM.c), the convolutions' weight gradients (ConvolutionGradient.c) and the
// peak measurement (Peak.c) have files of their own.
#include "_NeuralKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// Bit-identical variants: a * b + c must stay two roundings everywhere (clang would otherwise fuse it
// into an FMA inside the AVX2/AVX-512 functions, and on aarch64 in the scalar ones). The fused
// multiply-adds of nk_dense_rows and nk_conv2d_forward are explicit (fmaf, _mm256_fmadd_ps), which
// this pragma does not affect.
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define NK_X86 1
#include <immintrin.h>
#define NK_AVX2 __attribute__((target("avx2")))
#define NK_AVX512 __attribute__((target("avx512f")))
#else
#define NK_X86 0
#endif

// MARK: - Dispatch

static int nk_detected = -1;  // nk_supported_level(), once known
static int nk_active = -1;    // the level in use

nk_level nk_supported_level(void) {
    int level = __atomic_load_n(&nk_detected, __ATOMIC_RELAXED);
    if (level >= 0) return (nk_level)level;
    level = NK_LEVEL_SCALAR;
#if NK_X86
    __builtin_cpu_init();
    // The runtime's feature bits include the OS check (XGETBV) that the wide registers are saved.
    if (__builtin_cpu_supports("avx512f")) level = NK_LEVEL_AVX512;
    else if (__builtin_cpu_supports("avx2")) level = NK_LEVEL_AVX2;
#endif
    __atomic_store_n(&nk_detected, level, __ATOMIC_RELAXED);
    return (nk_level)level;
}

nk_level nk_current_level(void) {
    int level = __atomic_load_n(&nk_active, __ATOMIC_RELAXED);
    if (level >= 0) return (nk_level)level;
    level = nk_supported_level();
    __atomic_store_n(&nk_active, level, __ATOMIC_RELAXED);
    return (nk_level)level;
}

nk_level nk_set_level(nk_level level) {
    nk_level supported = nk_supported_level();
    int chosen = level < supported ? level : supported;
    __atomic_store_n(&nk_active, chosen, __ATOMIC_RELAXED);
    return (nk_level)chosen;
}

// MARK: - Scalar reference

static inline float nk_bits_to_float(int32_t bits) { float f; memcpy(&f, &bits, 4); return f; }
static inline int32_t nk_float_to_bits(float f) { int32_t bits; memcpy(&bits, &f, 4); return bits; }

// max(x, -87) and min(x, 0) written so that a NaN x is returned (NaN propagates), as Swift's max/min.
static inline float nk_clamp_low(float x) { return -87.0f > x ? -87.0f : x; }
static inline float nk_min0(float x) { return 0.0f < x ? 0.0f : x; }

/// exp(x) for x <= 0 (see the header): identical to NeuralCore's former Swift `_expNonPositive`.
static inline float nk_exp_nonpositive(float x) {
    float xc = nk_clamp_low(x);
    // k = round(x log2 e) by adding 1.5 * 2^23: the sum's low mantissa bits are k itself.
    float shifted = xc * 1.44269504f + 12582912.0f;
    float k = shifted - 12582912.0f;
    float r = (xc - k * 0.693359375f) + k * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    // 2^k: (bits(shifted) - bits(1.5 * 2^23) + 127) << 23, in wrapping unsigned arithmetic.
    uint32_t e = ((uint32_t)nk_float_to_bits(shifted) - 0x4B400000u + 127u) << 23;
    return p * nk_bits_to_float((int32_t)e);
}

static inline float nk_sigmoid1(float x) {
    float e = nk_exp_nonpositive(-fabsf(x));
    float inverse = 1.0f / (1.0f + e);
    return x >= 0.0f ? inverse : e * inverse;
}

static inline float nk_tanh1(float x) {
    float e = nk_exp_nonpositive(-2.0f * fabsf(x));
    float magnitude = (1.0f - e) / (1.0f + e);
    return x >= 0.0f ? magnitude : -magnitude;
}

// The optimizer loops are written once with `has_mirror` and `zero` as parameters and instantiated
// for the four combinations (constants after inlining), with restrict pointers, so that the compiler
// vectorizes the scalar version too (SSE2 on x86-64, NEON on arm64; sqrtf needs -fno-math-errno).
static inline __attribute__((always_inline)) void
adam_loop(float *restrict theta, float *restrict m, float *restrict v, float *restrict gradients, size_t start,
          size_t n, nk_adam_constants k, float *restrict mirror, bool has_mirror, bool zero) {
    for (size_t i = start; i < n; i++) {
        float g = gradients[i] * k.gradient_scale;
        float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
        float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
        m[i] = mi; v[i] = vi;
        float t = theta[i] - k.rate * mi / (sqrtf(vi) + k.epsilon);
        theta[i] = t;
        if (has_mirror) mirror[i] = t;
        if (zero) gradients[i] = 0.0f;
    }
}

static void adam_scalar(float *theta, float *m, float *v, float *gradients, size_t start, size_t n,
                        nk_adam_constants k, float *mirror, bool zero_gradients) {
    if (mirror) {
        if (zero_gradients) adam_loop(theta, m, v, gradients, start, n, k, mirror, true, true);
        else adam_loop(theta, m, v, gradients, start, n, k, mirror, true, false);
    } else {
        if (zero_gradients) adam_loop(theta, m, v, gradients, start, n, k, NULL, false, true);
        else adam_loop(theta, m, v, gradients, start, n, k, NULL, false, false);
    }
}

static inline __attribute__((always_inline)) void
rmsprop_loop(float *restrict theta, float *restrict ms, float *restrict gradients, size_t start, size_t n,
             nk_rmsprop_constants k, float *restrict mirror, bool has_mirror, bool zero) {
    for (size_t i = start; i < n; i++) {
        float g = gradients[i] * k.gradient_scale;
        float s = k.decay * ms[i] + k.one_minus_decay * g * g;
        ms[i] = s;
        float t = theta[i] - k.rate * g / sqrtf(s + k.epsilon);
        theta[i] = t;
        if (has_mirror) mirror[i] = t;
        if (zero) gradients[i] = 0.0f;
    }
}

static void rmsprop_scalar(float *theta, float *ms, float *gradients, size_t start, size_t n,
                           nk_rmsprop_constants k, float *mirror, bool zero_gradients) {
    if (mirror) {
        if (zero_gradients) rmsprop_loop(theta, ms, gradients, start, n, k, mirror, true, true);
        else rmsprop_loop(theta, ms, gradients, start, n, k, mirror, true, false);
    } else {
        if (zero_gradients) rmsprop_loop(theta, ms, gradients, start, n, k, NULL, false, true);
        else rmsprop_loop(theta, ms, gradients, start, n, k, NULL, false, false);
    }
}

static void elu_forward_scalar(float *out, const float *x, size_t start, size_t n) {
    for (size_t i = start; i < n; i++) {
        float xi = x[i];
        float negative = nk_exp_nonpositive(nk_min0(xi)) - 1.0f;
        out[i] = xi > 0.0f ? xi : negative;
    }
}

static void elu_backward_scalar(float *d_x, const float *d_out, const float *y, size_t start, size_t n) {
    for (size_t i = start; i < n; i++) {
        float yi = y[i];
        d_x[i] += d_out[i] * (yi > 0.0f ? 1.0f : yi + 1.0f);
    }
}

static void sigmoid_scalar(float *out, const float *x, size_t start, size_t n) {
    for (size_t i = start; i < n; i++) out[i] = nk_sigmoid1(x[i]);
}

static void tanh_scalar(float *out, const float *x, size_t start, size_t n) {
    for (size_t i = start; i < n; i++) out[i] = nk_tanh1(x[i]);
}

static void lstm_forward_scalar(float *h, float *c, float *tanh_c, float *gates, const float *c_prev,
                                size_t start, size_t hs) {
    float *gi = gates, *gf = gates + hs, *gg = gates + 2 * hs, *go = gates + 3 * hs;
    for (size_t j = start; j < hs; j++) {
        float i = nk_sigmoid1(gi[j]), f = nk_sigmoid1(gf[j]), g = nk_tanh1(gg[j]), o = nk_sigmoid1(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
        float cell = f * c_prev[j] + i * g;
        float tc = nk_tanh1(cell);
        c[j] = cell; tanh_c[j] = tc; h[j] = o * tc;
    }
}

static void lstm_backward_scalar(float *dz, float *dc_next, const float *dh_next, const float *d_h,
                                 const float *gates, const float *tc, const float *cp, size_t start, size_t hs) {
    const float *i = gates, *f = gates + hs, *g = gates + 2 * hs, *o = gates + 3 * hs;
    for (size_t j = start; j < hs; j++) {
        float dh = d_h[j] + dh_next[j];
        float dc = dc_next[j] + dh * o[j] * (1.0f - tc[j] * tc[j]);
        float d_output_gate = dh * tc[j];
        dz[j] = dc * g[j] * i[j] * (1.0f - i[j]);
        dz[hs + j] = dc * cp[j] * f[j] * (1.0f - f[j]);
        dz[2 * hs + j] = dc * i[j] * (1.0f - g[j] * g[j]);
        dz[3 * hs + j] = d_output_gate * o[j] * (1.0f - o[j]);
        dc_next[j] = dc * f[j];
    }
}

#if NK_X86
// MARK: - AVX2 (8 lanes)

// max_ps/min_ps return the SECOND operand when either is NaN: the constant goes first so NaN propagates.
NK_AVX2 static inline __m256 exp_nonpositive_avx2(__m256 x) {
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);
    __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 shifted = _mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504f)), magic);
    __m256 k = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_add_ps(_mm256_sub_ps(xc, _mm256_mul_ps(k, _mm256_set1_ps(0.693359375f))),
                             _mm256_mul_ps(k, _mm256_set1_ps(2.1219444e-4f)));
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(shifted),
                                                   _mm256_set1_epi32(127 - 0x4B400000)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

NK_AVX2 static inline __m256 abs_avx2(__m256 x) {
    return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
}

NK_AVX2 static inline __m256 sigmoid_avx2(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp_nonpositive_avx2(_mm256_xor_ps(abs_avx2(x), _mm256_set1_ps(-0.0f)));  // -|x|
    __m256 inverse = _mm256_div_ps(one, _mm256_add_ps(one, e));
    __m256 nonnegative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(e, inverse), inverse, nonnegative);
}

NK_AVX2 static inline __m256 tanh_avx2(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp_nonpositive_avx2(_mm256_mul_ps(_mm256_set1_ps(-2.0f), abs_avx2(x)));
    __m256 magnitude = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    __m256 nonnegative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    __m256 negated = _mm256_xor_ps(magnitude, _mm256_set1_ps(-0.0f));
    return _mm256_blendv_ps(negated, magnitude, nonnegative);
}

NK_AVX2 static void adam_avx2(float *theta, float *m, float *v, float *gradients, size_t n,
                              nk_adam_constants k, float *mirror, bool zero_gradients) {
    const __m256 scale = _mm256_set1_ps(k.gradient_scale), b1 = _mm256_set1_ps(k.beta1), b2 = _mm256_set1_ps(k.beta2);
    const __m256 c1 = _mm256_set1_ps(k.one_minus_beta1), c2 = _mm256_set1_ps(k.one_minus_beta2);
    const __m256 rate = _mm256_set1_ps(k.rate), eps = _mm256_set1_ps(k.epsilon), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_mul_ps(_mm256_loadu_ps(gradients + i), scale);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, g));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(c2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(rate, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(theta + i), step);
        _mm256_storeu_ps(theta + i, t);
        if (mirror) _mm256_storeu_ps(mirror + i, t);
        if (zero_gradients) _mm256_storeu_ps(gradients + i, zero);
    }
    adam_scalar(theta, m, v, gradients, i, n, k, mirror, zero_gradients);
}

NK_AVX2 static void rmsprop_avx2(float *theta, float *ms, float *gradients, size_t n,
                                 nk_rmsprop_constants k, float *mirror, bool zero_gradients) {
    const __m256 scale = _mm256_set1_ps(k.gradient_scale), a = _mm256_set1_ps(k.decay);
    const __m256 c = _mm256_set1_ps(k.one_minus_decay), rate = _mm256_set1_ps(k.rate);
    const __m256 eps = _mm256_set1_ps(k.epsilon), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_mul_ps(_mm256_loadu_ps(gradients + i), scale);
        __m256 s = _mm256_add_ps(_mm256_mul_ps(a, _mm256_loadu_ps(ms + i)), _mm256_mul_ps(_mm256_mul_ps(c, g), g));
        _mm256_storeu_ps(ms + i, s);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(rate, g), _mm256_sqrt_ps(_mm256_add_ps(s, eps)));
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(theta + i), step);
        _mm256_storeu_ps(theta + i, t);
        if (mirror) _mm256_storeu_ps(mirror + i, t);
        if (zero_gradients) _mm256_storeu_ps(gradients + i, zero);
    }
    rmsprop_scalar(theta, ms, gradients, i, n, k, mirror, zero_gradients);
}

NK_AVX2 static void elu_forward_avx2(float *out, const float *x, size_t n) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xi = _mm256_loadu_ps(x + i);
        __m256 negative = _mm256_sub_ps(exp_nonpositive_avx2(_mm256_min_ps(zero, xi)), one);
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(negative, xi, _mm256_cmp_ps(xi, zero, _CMP_GT_OQ)));
    }
    elu_forward_scalar(out, x, i, n);
}

NK_AVX2 static void elu_backward_avx2(float *d_x, const float *d_out, const float *y, size_t n) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 yi = _mm256_loadu_ps(y + i);
        __m256 slope = _mm256_blendv_ps(_mm256_add_ps(yi, one), one, _mm256_cmp_ps(yi, zero, _CMP_GT_OQ));
        _mm256_storeu_ps(d_x + i, _mm256_add_ps(_mm256_loadu_ps(d_x + i), _mm256_mul_ps(_mm256_loadu_ps(d_out + i), slope)));
    }
    elu_backward_scalar(d_x, d_out, y, i, n);
}

NK_AVX2 static void sigmoid_avx2_loop(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, sigmoid_avx2(_mm256_loadu_ps(x + i)));
    sigmoid_scalar(out, x, i, n);
}

NK_AVX2 static void tanh_avx2_loop(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, tanh_avx2(_mm256_loadu_ps(x + i)));
    tanh_scalar(out, x, i, n);
}

NK_AVX2 static void lstm_forward_avx2(float *h, float *c, float *tanh_c, float *gates, const float *c_prev, size_t hs) {
    float *gi = gates, *gf = gates + hs, *gg = gates + 2 * hs, *go = gates + 3 * hs;
    size_t j = 0;
    for (; j + 8 <= hs; j += 8) {
        __m256 i = sigmoid_avx2(_mm256_loadu_ps(gi + j)), f = sigmoid_avx2(_mm256_loadu_ps(gf + j));
        __m256 g = tanh_avx2(_mm256_loadu_ps(gg + j)), o = sigmoid_avx2(_mm256_loadu_ps(go + j));
        _mm256_storeu_ps(gi + j, i); _mm256_storeu_ps(gf + j, f); _mm256_storeu_ps(gg + j, g); _mm256_storeu_ps(go + j, o);
        __m256 cell = _mm256_add_ps(_mm256_mul_ps(f, _mm256_loadu_ps(c_prev + j)), _mm256_mul_ps(i, g));
        __m256 tc = tanh_avx2(cell);
        _mm256_storeu_ps(c + j, cell); _mm256_storeu_ps(tanh_c + j, tc); _mm256_storeu_ps(h + j, _mm256_mul_ps(o, tc));
    }
    lstm_forward_scalar(h, c, tanh_c, gates, c_prev, j, hs);
}

NK_AVX2 static void lstm_backward_avx2(float *dz, float *dc_next, const float *dh_next, const float *d_h,
                                       const float *gates, const float *tanh_c, const float *c_prev, size_t hs) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t j = 0;
    for (; j + 8 <= hs; j += 8) {
        __m256 i = _mm256_loadu_ps(gates + j), f = _mm256_loadu_ps(gates + hs + j);
        __m256 g = _mm256_loadu_ps(gates + 2 * hs + j), o = _mm256_loadu_ps(gates + 3 * hs + j);
        __m256 tc = _mm256_loadu_ps(tanh_c + j), cp = _mm256_loadu_ps(c_prev + j);
        __m256 dh = _mm256_add_ps(_mm256_loadu_ps(d_h + j), _mm256_loadu_ps(dh_next + j));
        __m256 dc = _mm256_add_ps(_mm256_loadu_ps(dc_next + j),
                                  _mm256_mul_ps(_mm256_mul_ps(dh, o), _mm256_sub_ps(one, _mm256_mul_ps(tc, tc))));
        __m256 d_output_gate = _mm256_mul_ps(dh, tc);
        _mm256_storeu_ps(dz + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, g), i), _mm256_sub_ps(one, i)));
        _mm256_storeu_ps(dz + hs + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, cp), f), _mm256_sub_ps(one, f)));
        _mm256_storeu_ps(dz + 2 * hs + j, _mm256_mul_ps(_mm256_mul_ps(dc, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g))));
        _mm256_storeu_ps(dz + 3 * hs + j, _mm256_mul_ps(_mm256_mul_ps(d_output_gate, o), _mm256_sub_ps(one, o)));
        _mm256_storeu_ps(dc_next + j, _mm256_mul_ps(dc, f));
    }
    lstm_backward_scalar(dz, dc_next, dh_next, d_h, gates, tanh_c, c_prev, j, hs);
}

// MARK: - AVX-512 (16 lanes)

NK_AVX512 static inline __m512 exp_nonpositive_avx512(__m512 x) {
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(-87.0f), x);
    __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 shifted = _mm512_add_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504f)), magic);
    __m512 k = _mm512_sub_ps(shifted, magic);
    __m512 r = _mm512_add_ps(_mm512_sub_ps(xc, _mm512_mul_ps(k, _mm512_set1_ps(0.693359375f))),
                             _mm512_mul_ps(k, _mm512_set1_ps(2.1219444e-4f)));
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, r), r), r), _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(shifted),
                                                   _mm512_set1_epi32(127 - 0x4B400000)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

NK_AVX512 static inline __m512 abs_avx512(__m512 x) {
    return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
}

NK_AVX512 static inline __m512 sigmoid_avx512(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp_nonpositive_avx512(_mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(x),
                                                                        _mm512_set1_epi32((int)0x80000000))));  // -|x|
    __m512 inverse = _mm512_div_ps(one, _mm512_add_ps(one, e));
    __mmask16 nonnegative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    return _mm512_mask_blend_ps(nonnegative, _mm512_mul_ps(e, inverse), inverse);
}

NK_AVX512 static inline __m512 tanh_avx512(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp_nonpositive_avx512(_mm512_mul_ps(_mm512_set1_ps(-2.0f), abs_avx512(x)));
    __m512 magnitude = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    __mmask16 nonnegative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    __m512 negated = _mm512_castsi512_ps(_mm512_xor_epi32(_mm512_castps_si512(magnitude), _mm512_set1_epi32((int)0x80000000)));
    return _mm512_mask_blend_ps(nonnegative, negated, magnitude);
}

NK_AVX512 static void adam_avx512(float *theta, float *m, float *v, float *gradients, size_t n,
                                  nk_adam_constants k, float *mirror, bool zero_gradients) {
    const __m512 scale = _mm512_set1_ps(k.gradient_scale), b1 = _mm512_set1_ps(k.beta1), b2 = _mm512_set1_ps(k.beta2);
    const __m512 c1 = _mm512_set1_ps(k.one_minus_beta1), c2 = _mm512_set1_ps(k.one_minus_beta2);
    const __m512 rate = _mm512_set1_ps(k.rate), eps = _mm512_set1_ps(k.epsilon), zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_mul_ps(_mm512_loadu_ps(gradients + i), scale);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(c1, g));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(c2, g), g));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 step = _mm512_div_ps(_mm512_mul_ps(rate, mi), _mm512_add_ps(_mm512_sqrt_ps(vi), eps));
        __m512 t = _mm512_sub_ps(_mm512_loadu_ps(theta + i), step);
        _mm512_storeu_ps(theta + i, t);
        if (mirror) _mm512_storeu_ps(mirror + i, t);
        if (zero_gradients) _mm512_storeu_ps(gradients + i, zero);
    }
    adam_scalar(theta, m, v, gradients, i, n, k, mirror, zero_gradients);
}

NK_AVX512 static void rmsprop_avx512(float *theta, float *ms, float *gradients, size_t n,
                                     nk_rmsprop_constants k, float *mirror, bool zero_gradients) {
    const __m512 scale = _mm512_set1_ps(k.gradient_scale), a = _mm512_set1_ps(k.decay);
    const __m512 c = _mm512_set1_ps(k.one_minus_decay), rate = _mm512_set1_ps(k.rate);
    const __m512 eps = _mm512_set1_ps(k.epsilon), zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_mul_ps(_mm512_loadu_ps(gradients + i), scale);
        __m512 s = _mm512_add_ps(_mm512_mul_ps(a, _mm512_loadu_ps(ms + i)), _mm512_mul_ps(_mm512_mul_ps(c, g), g));
        _mm512_storeu_ps(ms + i, s);
        __m512 step = _mm512_div_ps(_mm512_mul_ps(rate, g), _mm512_sqrt_ps(_mm512_add_ps(s, eps)));
        __m512 t = _mm512_sub_ps(_mm512_loadu_ps(theta + i), step);
        _mm512_storeu_ps(theta + i, t);
        if (mirror) _mm512_storeu_ps(mirror + i, t);
        if (zero_gradients) _mm512_storeu_ps(gradients + i, zero);
    }
    rmsprop_scalar(theta, ms, gradients, i, n, k, mirror, zero_gradients);
}

NK_AVX512 static void elu_forward_avx512(float *out, const float *x, size_t n) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 xi = _mm512_loadu_ps(x + i);
        __m512 negative = _mm512_sub_ps(exp_nonpositive_avx512(_mm512_min_ps(zero, xi)), one);
        _mm512_storeu_ps(out + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xi, zero, _CMP_GT_OQ), negative, xi));
    }
    elu_forward_scalar(out, x, i, n);
}

NK_AVX512 static void elu_backward_avx512(float *d_x, const float *d_out, const float *y, size_t n) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 yi = _mm512_loadu_ps(y + i);
        __m512 slope = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(yi, zero, _CMP_GT_OQ), _mm512_add_ps(yi, one), one);
        _mm512_storeu_ps(d_x + i, _mm512_add_ps(_mm512_loadu_ps(d_x + i), _mm512_mul_ps(_mm512_loadu_ps(d_out + i), slope)));
    }
    elu_backward_scalar(d_x, d_out, y, i, n);
}

NK_AVX512 static void sigmoid_avx512_loop(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, sigmoid_avx512(_mm512_loadu_ps(x + i)));
    sigmoid_scalar(out, x, i, n);
}

NK_AVX512 static void tanh_avx512_loop(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, tanh_avx512(_mm512_loadu_ps(x + i)));
    tanh_scalar(out, x, i, n);
}

NK_AVX512 static void lstm_forward_avx512(float *h, float *c, float *tanh_c, float *gates, const float *c_prev, size_t hs) {
    float *gi = gates, *gf = gates + hs, *gg = gates + 2 * hs, *go = gates + 3 * hs;
    size_t j = 0;
    for (; j + 16 <= hs; j += 16) {
        __m512 i = sigmoid_avx512(_mm512_loadu_ps(gi + j)), f = sigmoid_avx512(_mm512_loadu_ps(gf + j));
        __m512 g = tanh_avx512(_mm512_loadu_ps(gg + j)), o = sigmoid_avx512(_mm512_loadu_ps(go + j));
        _mm512_storeu_ps(gi + j, i); _mm512_storeu_ps(gf + j, f); _mm512_storeu_ps(gg + j, g); _mm512_storeu_ps(go + j, o);
        __m512 cell = _mm512_add_ps(_mm512_mul_ps(f, _mm512_loadu_ps(c_prev + j)), _mm512_mul_ps(i, g));
        __m512 tc = tanh_avx512(cell);
        _mm512_storeu_ps(c + j, cell); _mm512_storeu_ps(tanh_c + j, tc); _mm512_storeu_ps(h + j, _mm512_mul_ps(o, tc));
    }
    lstm_forward_scalar(h, c, tanh_c, gates, c_prev, j, hs);
}

NK_AVX512 static void lstm_backward_avx512(float *dz, float *dc_next, const float *dh_next, const float *d_h,
                                           const float *gates, const float *tanh_c, const float *c_prev, size_t hs) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t j = 0;
    for (; j + 16 <= hs; j += 16) {
        __m512 i = _mm512_loadu_ps(gates + j), f = _mm512_loadu_ps(gates + hs + j);
        __m512 g = _mm512_loadu_ps(gates + 2 * hs + j), o = _mm512_loadu_ps(gates + 3 * hs + j);
        __m512 tc = _mm512_loadu_ps(tanh_c + j), cp = _mm512_loadu_ps(c_prev + j);
        __m512 dh = _mm512_add_ps(_mm512_loadu_ps(d_h + j), _mm512_loadu_ps(dh_next + j));
        __m512 dc = _mm512_add_ps(_mm512_loadu_ps(dc_next + j),
                                  _mm512_mul_ps(_mm512_mul_ps(dh, o), _mm512_sub_ps(one, _mm512_mul_ps(tc, tc))));
        __m512 d_output_gate = _mm512_mul_ps(dh, tc);
        _mm512_storeu_ps(dz + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, g), i), _mm512_sub_ps(one, i)));
        _mm512_storeu_ps(dz + hs + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, cp), f), _mm512_sub_ps(one, f)));
        _mm512_storeu_ps(dz + 2 * hs + j, _mm512_mul_ps(_mm512_mul_ps(dc, i), _mm512_sub_ps(one, _mm512_mul_ps(g, g))));
        _mm512_storeu_ps(dz + 3 * hs + j, _mm512_mul_ps(_mm512_mul_ps(d_output_gate, o), _mm512_sub_ps(one, o)));
        _mm512_storeu_ps(dc_next + j, _mm512_mul_ps(dc, f));
    }
    lstm_backward_scalar(dz, dc_next, dh_next, d_h, gates, tanh_c, c_prev, j, hs);
}
#endif

// MARK: - Sums (plain C, compiled once per level so that the compiler vectorizes the 64 lanes)

static inline __attribute__((always_inline)) float sum_body(const float *x, size_t n) {
    float lanes[64] = {0};
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (size_t l = 0; l < 64; l++) lanes[l] += x[i + l];
    for (size_t half = 32; half >= 1; half /= 2)
        for (size_t l = 0; l < half; l++) lanes[l] += lanes[l + half];
    float sum = lanes[0];
    for (; i < n; i++) sum += x[i];
    return sum;
}

static float sum_scalar(const float *x, size_t n) { return sum_body(x, n); }

#if NK_X86
NK_AVX2 static float sum_avx2(const float *x, size_t n) { return sum_body(x, n); }
NK_AVX512 static float sum_avx512(const float *x, size_t n) { return sum_body(x, n); }
#endif

// MARK: - Dense layer over a few rows (see the header: 8 fused-multiply-add lanes per output)

static inline __attribute__((always_inline)) float dense_reduce(const float lanes[8]) {
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

static inline __attribute__((always_inline)) float dense_init(const float *out, const float *bias, bool accumulate, size_t o) {
    return accumulate ? *out : (bias ? bias[o] : 0.0f);
}

/// One output of one row, lanes as in the header, from lane values already summed over [0, k8).
static inline __attribute__((always_inline)) void
dense_finish(float *out, float lanes[8], const float *x, const float *w, size_t k8, size_t inputs,
             const float *bias, bool accumulate, size_t o) {
    for (size_t i = k8; i < inputs; i++) lanes[i - k8] = fmaf(x[i], w[i], lanes[i - k8]);
    *out = dense_init(out, bias, accumulate, o) + dense_reduce(lanes);
}

static void dense_rows_scalar(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                              const float *bias, bool accumulate, size_t rows, size_t inputs, size_t outputs) {
    size_t k8 = inputs & ~(size_t)7;
    for (size_t o = 0; o < outputs; o++) {
        const float *wo = w + o * ldw;
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x + r * ldx;
            float lanes[8] = {0};
            for (size_t i = 0; i < k8; i += 8)
                for (size_t l = 0; l < 8; l++) lanes[l] = fmaf(xr[i + l], wo[i + l], lanes[l]);
            dense_finish(out + r * ldo + o, lanes, xr, wo, k8, inputs, bias, accumulate, o);
        }
    }
}

#if NK_X86
#define NK_AVX2_FMA __attribute__((target("avx2,fma")))

/// A tile of R rows (<= 4) x U outputs (<= 2): each weight row loaded once per 8 inputs and used for
/// all R rows, R * U accumulators in registers.
NK_AVX2_FMA static inline __attribute__((always_inline)) void
dense_tile_avx2(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                const float *bias, bool accumulate, size_t inputs, size_t o, const int R, const int U) {
    __m256 acc[4][2];
    for (int r = 0; r < R; r++) for (int u = 0; u < U; u++) acc[r][u] = _mm256_setzero_ps();
    size_t k8 = inputs & ~(size_t)7;
    for (size_t i = 0; i < k8; i += 8) {
        __m256 wv[2];
        for (int u = 0; u < U; u++) wv[u] = _mm256_loadu_ps(w + u * ldw + i);
        for (int r = 0; r < R; r++) {
            __m256 xv = _mm256_loadu_ps(x + r * ldx + i);
            for (int u = 0; u < U; u++) acc[r][u] = _mm256_fmadd_ps(xv, wv[u], acc[r][u]);
        }
    }
    for (int r = 0; r < R; r++) {
        for (int u = 0; u < U; u++) {
            float lanes[8];
            _mm256_storeu_ps(lanes, acc[r][u]);
            dense_finish(out + r * ldo + u, lanes, x + r * ldx, w + u * ldw, k8, inputs, bias, accumulate, o + u);
        }
    }
}

NK_AVX2_FMA static void dense_rows_avx2(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                                        const float *bias, bool accumulate, size_t rows, size_t inputs, size_t outputs) {
    // Outputs outer, rows inner: each pair of weight rows is streamed once for all input rows.
    for (size_t o = 0; o < outputs; o += 2) {
        int u = outputs - o >= 2 ? 2 : 1;
        for (size_t r = 0; r < rows; r += 4) {
            float *out_tile = out + r * ldo + o;
            const float *x_tile = x + r * ldx, *w_tile = w + o * ldw;
            size_t left = rows - r;
            #define NK_TILE(R, U) dense_tile_avx2(out_tile, ldo, x_tile, ldx, w_tile, ldw, bias, accumulate, inputs, o, R, U)
            if (u == 2) {
                if (left >= 4) NK_TILE(4, 2); else if (left == 3) NK_TILE(3, 2); else if (left == 2) NK_TILE(2, 2); else NK_TILE(1, 2);
            } else {
                if (left >= 4) NK_TILE(4, 1); else if (left == 3) NK_TILE(3, 1); else if (left == 2) NK_TILE(2, 1); else NK_TILE(1, 1);
            }
            #undef NK_TILE
        }
    }
}
#endif

#if NK_X86
// AVX-512 with the 8-lane arithmetic above: a 512-bit register holds TWO 8-lane accumulators, so
// every (row, output) still runs the same chain of fused multiply-adds as in the scalar and AVX2
// code, and the results stay bit-identical. Two ways to fill both halves:
// - row pairs: rows r and r + 1 of x in the halves, one weight row broadcast to both (one load);
// - output pairs, for a row left alone: the row broadcast to both halves, weight rows o and o + 1.
#define NK_AVX512_DQ __attribute__((target("avx512f,avx512dq,avx2,fma")))

NK_AVX512_DQ static inline __m512 nk_pair256(const float *low, const float *high) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(low)), _mm256_loadu_ps(high), 1);
}

/// A tile of 2 * RP rows (RP <= 2 row pairs) x U outputs (<= 8): RP * U accumulators; per 8 inputs
/// RP row-pair loads and U weight broadcasts.
NK_AVX512_DQ static inline __attribute__((always_inline)) void
dense_row_pairs_avx512(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                       const float *bias, bool accumulate, size_t inputs, size_t o, const int RP, const int U) {
    __m512 acc[2][8];
    for (int p = 0; p < RP; p++) for (int u = 0; u < U; u++) acc[p][u] = _mm512_setzero_ps();
    size_t k8 = inputs & ~(size_t)7;
    for (size_t i = 0; i < k8; i += 8) {
        __m512 xv[2];
        for (int p = 0; p < RP; p++) xv[p] = nk_pair256(x + 2 * p * ldx + i, x + (2 * p + 1) * ldx + i);
        for (int u = 0; u < U; u++) {
            __m512 wv = _mm512_broadcast_f32x8(_mm256_loadu_ps(w + u * ldw + i));
            for (int p = 0; p < RP; p++) acc[p][u] = _mm512_fmadd_ps(xv[p], wv, acc[p][u]);
        }
    }
    for (int p = 0; p < RP; p++)
        for (int u = 0; u < U; u++) {
            float lanes[16];
            _mm512_storeu_ps(lanes, acc[p][u]);
            for (int half = 0; half < 2; half++) {
                size_t r = 2 * p + half;
                dense_finish(out + r * ldo + u, lanes + 8 * half, x + r * ldx, w + u * ldw, k8, inputs, bias,
                             accumulate, o + u);
            }
        }
}

/// One row x 2 * UP outputs (UP <= 4 output pairs): UP accumulators; per 8 inputs one row broadcast
/// and UP weight-pair loads.
NK_AVX512_DQ static inline __attribute__((always_inline)) void
dense_output_pairs_avx512(float *out, const float *x, const float *w, size_t ldw, const float *bias, bool accumulate,
                          size_t inputs, size_t o, const int UP) {
    __m512 acc[4];
    for (int u = 0; u < UP; u++) acc[u] = _mm512_setzero_ps();
    size_t k8 = inputs & ~(size_t)7;
    for (size_t i = 0; i < k8; i += 8) {
        __m512 xv = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + i));
        for (int u = 0; u < UP; u++)
            acc[u] = _mm512_fmadd_ps(xv, nk_pair256(w + 2 * u * ldw + i, w + (2 * u + 1) * ldw + i), acc[u]);
    }
    for (int u = 0; u < UP; u++) {
        float lanes[16];
        _mm512_storeu_ps(lanes, acc[u]);
        for (int half = 0; half < 2; half++) {
            size_t j = 2 * u + half;
            dense_finish(out + j, lanes + 8 * half, x, w + j * ldw, k8, inputs, bias, accumulate, o + j);
        }
    }
}

NK_AVX512_DQ static void dense_rows_avx512(float *out, size_t ldo, const float *x, size_t ldx, const float *w,
                                           size_t ldw, const float *bias, bool accumulate, size_t rows, size_t inputs,
                                           size_t outputs) {
    // Outputs outer (blocks of 8), rows inner: each block of weight rows is streamed once for all rows.
    for (size_t o = 0; o < outputs; o += 8) {
        size_t u = outputs - o < 8 ? outputs - o : 8;
        const float *w_tile = w + o * ldw;
        size_t r = 0;
        for (; r + 2 <= rows; ) {
            int pairs = rows - r >= 4 ? 2 : 1;
            float *out_tile = out + r * ldo + o;
            const float *x_tile = x + r * ldx;
            #define NK_PAIRS(RP, U) dense_row_pairs_avx512(out_tile, ldo, x_tile, ldx, w_tile, ldw, bias, accumulate, inputs, o, RP, U)
            #define NK_PAIRS_U(RP) switch (u) { case 8: NK_PAIRS(RP, 8); break; case 7: NK_PAIRS(RP, 7); break; \
                case 6: NK_PAIRS(RP, 6); break; case 5: NK_PAIRS(RP, 5); break; case 4: NK_PAIRS(RP, 4); break; \
                case 3: NK_PAIRS(RP, 3); break; case 2: NK_PAIRS(RP, 2); break; default: NK_PAIRS(RP, 1); break; }
            if (pairs == 2) { NK_PAIRS_U(2) } else { NK_PAIRS_U(1) }
            #undef NK_PAIRS_U
            #undef NK_PAIRS
            r += 2 * (size_t)pairs;
        }
        if (r < rows) {  // the last row alone: output pairs, and an odd output through the AVX2 tile
            float *out_row = out + r * ldo + o;
            const float *x_row = x + r * ldx;
            size_t output_pairs = u / 2;
            #define NK_OUTPUTS(UP) dense_output_pairs_avx512(out_row, x_row, w_tile, ldw, bias, accumulate, inputs, o, UP)
            switch (output_pairs) { case 4: NK_OUTPUTS(4); break; case 3: NK_OUTPUTS(3); break;
                                    case 2: NK_OUTPUTS(2); break; case 1: NK_OUTPUTS(1); break; default: break; }
            #undef NK_OUTPUTS
            if (u % 2)
                dense_tile_avx2(out_row + u - 1, ldo, x_row, ldx, w_tile + (u - 1) * ldw, ldw, bias, accumulate, inputs,
                                o + u - 1, 1, 1);
        }
    }
}
#endif

#if NK_X86
/// Whether the level in use is AVX2 or above and the CPU has FMA (every AVX2 CPU of note does).
static bool nk_has_avx2_fma(void) {
    static int nk_fma = -1;  // whether the CPU has FMA, once known
    int fma = __atomic_load_n(&nk_fma, __ATOMIC_RELAXED);
    if (fma < 0) {
        __builtin_cpu_init();
        fma = __builtin_cpu_supports("fma") ? 1 : 0;
        __atomic_store_n(&nk_fma, fma, __ATOMIC_RELAXED);
    }
    return nk_current_level() >= NK_LEVEL_AVX2 && fma;
}

/// Whether the level in use is AVX-512 and the CPU has AVX512DQ (for the 256-bit halves) and FMA.
static bool nk_has_avx512_dq(void) {
    static int nk_dq = -1;  // whether the CPU has AVX512DQ, once known
    int dq = __atomic_load_n(&nk_dq, __ATOMIC_RELAXED);
    if (dq < 0) {
        __builtin_cpu_init();
        dq = __builtin_cpu_supports("avx512dq") ? 1 : 0;
        __atomic_store_n(&nk_dq, dq, __ATOMIC_RELAXED);
    }
    return nk_current_level() >= NK_LEVEL_AVX512 && dq && nk_has_avx2_fma();
}
#endif

void nk_dense_rows(float *out, size_t ldo, const float *x, size_t ldx, const float *w, size_t ldw,
                   const float *bias, bool accumulate, size_t rows, size_t inputs, size_t outputs) {
#if NK_X86
    if (nk_has_avx512_dq()) {
        dense_rows_avx512(out, ldo, x, ldx, w, ldw, bias, accumulate, rows, inputs, outputs);
        return;
    }
    if (nk_has_avx2_fma()) {
        dense_rows_avx2(out, ldo, x, ldx, w, ldw, bias, accumulate, rows, inputs, outputs);
        return;
    }
#endif
    dense_rows_scalar(out, ldo, x, ldx, w, ldw, bias, accumulate, rows, inputs, outputs);
}

// MARK: - im2col (plain C: copies only, identical at every level)

void nk_im2col(float *columns, size_t columns_stride, const float *input, size_t channel_stride,
               size_t batch, size_t channels, size_t height, size_t width,
               size_t kernel_height, size_t kernel_width, size_t stride) {
    size_t oh = (height - kernel_height) / stride + 1, ow = (width - kernel_width) / stride + 1, p = oh * ow;
    for (size_t c = 0; c < channels; c++)
        for (size_t ky = 0; ky < kernel_height; ky++)
            for (size_t kx = 0; kx < kernel_width; kx++) {
                float *row = columns + ((c * kernel_height + ky) * kernel_width + kx) * columns_stride;
                for (size_t n = 0; n < batch; n++)
                    for (size_t oy = 0; oy < oh; oy++) {
                        const float *source = input + c * channel_stride + n * height * width + (oy * stride + ky) * width + kx;
                        float *target = row + n * p + oy * ow;
                        for (size_t ox = 0; ox < ow; ox++) target[ox] = source[ox * stride];
                    }
            }
}

void nk_col2im_accumulate(float *d_input, size_t channel_stride, const float *columns, size_t columns_stride,
                          size_t batch, size_t channels, size_t height, size_t width,
                          size_t kernel_height, size_t kernel_width, size_t stride) {
    size_t oh = (height - kernel_height) / stride + 1, ow = (width - kernel_width) / stride + 1, p = oh * ow;
    for (size_t c = 0; c < channels; c++)
        for (size_t ky = 0; ky < kernel_height; ky++)
            for (size_t kx = 0; kx < kernel_width; kx++) {
                const float *row = columns + ((c * kernel_height + ky) * kernel_width + kx) * columns_stride;
                for (size_t n = 0; n < batch; n++)
                    for (size_t oy = 0; oy < oh; oy++) {
                        float *target = d_input + c * channel_stride + n * height * width + (oy * stride + ky) * width + kx;
                        const float *source = row + n * p + oy * ow;
                        for (size_t ox = 0; ox < ow; ox++) target[ox * stride] += source[ox];
                    }
            }
}

// MARK: - Direct convolution (see the header: one fused chain per output, taps in (c, ky, kx) order)

static void conv2d_forward_scalar(float *out, size_t ocs, const float *input, size_t ics, const float *weight,
                                  const float *bias, size_t batch, size_t channels, size_t height, size_t width,
                                  size_t out_channels, size_t kh, size_t kw, size_t stride) {
    size_t oh = (height - kh) / stride + 1, ow = (width - kw) / stride + 1, p = oh * ow;
    for (size_t o = 0; o < out_channels; o++)
        for (size_t n = 0; n < batch; n++)
            for (size_t oy = 0; oy < oh; oy++)
                for (size_t ox = 0; ox < ow; ox++) {
                    float acc = bias ? bias[o] : 0.0f;
                    for (size_t c = 0; c < channels; c++)
                        for (size_t ky = 0; ky < kh; ky++) {
                            const float *row = input + c * ics + n * height * width + (oy * stride + ky) * width + ox * stride;
                            const float *w = weight + ((o * channels + c) * kh + ky) * kw;
                            for (size_t kx = 0; kx < kw; kx++) acc = fmaf(row[kx], w[kx], acc);
                        }
                    out[o * ocs + n * p + oy * ow + ox] = acc;
                }
}

#if NK_X86
/// Taps times output channels of the transposed weight the AVX2 kernel keeps on its stack (32 KB).
#define NK_CONV_MAX_WEIGHTS 8192

/// P pixels (<= 4) of one output row x 16 output channels: 2P accumulators; per tap two weight
/// vectors and P broadcast inputs.
NK_AVX2_FMA static inline __attribute__((always_inline)) void
conv_tile_avx2(float *out, size_t ocs, const float *in, size_t ics, const float *wt, size_t out_channels,
               const float *bias, size_t o0, size_t channels, size_t width, size_t kh, size_t kw, size_t stride,
               const int P) {
    __m256 acc[4][2];
    __m256 b0 = bias ? _mm256_loadu_ps(bias + o0) : _mm256_setzero_ps();
    __m256 b1 = bias ? _mm256_loadu_ps(bias + o0 + 8) : _mm256_setzero_ps();
    for (int q = 0; q < P; q++) { acc[q][0] = b0; acc[q][1] = b1; }
    size_t tap = 0;
    for (size_t c = 0; c < channels; c++)
        for (size_t ky = 0; ky < kh; ky++) {
            const float *row = in + c * ics + ky * width;
            for (size_t kx = 0; kx < kw; kx++, tap++) {
                __m256 w0 = _mm256_loadu_ps(wt + tap * out_channels + o0);
                __m256 w1 = _mm256_loadu_ps(wt + tap * out_channels + o0 + 8);
                for (int q = 0; q < P; q++) {
                    __m256 x = _mm256_broadcast_ss(row + q * stride + kx);
                    acc[q][0] = _mm256_fmadd_ps(x, w0, acc[q][0]);
                    acc[q][1] = _mm256_fmadd_ps(x, w1, acc[q][1]);
                }
            }
        }
    for (int q = 0; q < P; q++) {
        float lanes[16];
        _mm256_storeu_ps(lanes, acc[q][0]);
        _mm256_storeu_ps(lanes + 8, acc[q][1]);
        for (int j = 0; j < 16; j++) out[(o0 + j) * ocs + q] = lanes[j];
    }
}

NK_AVX2_FMA static void conv2d_forward_avx2(float *out, size_t ocs, const float *input, size_t ics, const float *weight,
                                            const float *bias, size_t batch, size_t channels, size_t height, size_t width,
                                            size_t out_channels, size_t kh, size_t kw, size_t stride) {
    size_t oh = (height - kh) / stride + 1, ow = (width - kw) / stride + 1, p = oh * ow, taps = channels * kh * kw;
    // The weight transposed to (taps, O): a tap's output channels are one contiguous vector.
    float wt[NK_CONV_MAX_WEIGHTS];
    for (size_t o = 0; o < out_channels; o++)
        for (size_t t = 0; t < taps; t++) wt[t * out_channels + o] = weight[o * taps + t];
    for (size_t n = 0; n < batch; n++)
        for (size_t oy = 0; oy < oh; oy++)
            for (size_t o0 = 0; o0 < out_channels; o0 += 16)
                // Tiles of 4 pixels, or of 3 where that divides the row (conv2's 9) and 4 does not.
                for (size_t ox = 0, block = ow % 4 != 0 && ow % 3 == 0 ? 3 : 4; ox < ow; ox += block) {
                    float *o_tile = out + n * p + oy * ow + ox;
                    const float *in_tile = input + n * height * width + oy * stride * width + ox * stride;
                    #define NK_CONV_TILE(P) conv_tile_avx2(o_tile, ocs, in_tile, ics, wt, out_channels, bias, o0, channels, width, kh, kw, stride, P)
                    size_t left = ow - ox < block ? ow - ox : block;
                    if (left == 4) NK_CONV_TILE(4); else if (left == 3) NK_CONV_TILE(3); else if (left == 2) NK_CONV_TILE(2); else NK_CONV_TILE(1);
                    #undef NK_CONV_TILE
                }
}
#endif

#if NK_X86
/// AVX-512: P pixels (<= 10) of one output row x 16 * CB output channels (CB <= 2 blocks of 16): P * CB
/// accumulators; per tap CB weight vectors and P broadcast inputs. The same chains as the AVX2 tile.
NK_AVX512_DQ static inline __attribute__((always_inline)) void
conv_tile_avx512(float *out, size_t ocs, const float *in, size_t ics, const float *wt, size_t out_channels,
                 const float *bias, size_t o0, size_t channels, size_t width, size_t kh, size_t kw, size_t stride,
                 const int P, const int CB) {
    __m512 acc[10][2];
    for (int b = 0; b < CB; b++) {
        __m512 start = bias ? _mm512_loadu_ps(bias + o0 + 16 * b) : _mm512_setzero_ps();
        for (int q = 0; q < P; q++) acc[q][b] = start;
    }
    size_t tap = 0;
    for (size_t c = 0; c < channels; c++)
        for (size_t ky = 0; ky < kh; ky++) {
            const float *row = in + c * ics + ky * width;
            for (size_t kx = 0; kx < kw; kx++, tap++) {
                __m512 wv[2];
                for (int b = 0; b < CB; b++) wv[b] = _mm512_loadu_ps(wt + tap * out_channels + o0 + 16 * b);
                for (int q = 0; q < P; q++) {
                    __m512 x = _mm512_set1_ps(row[q * stride + kx]);
                    for (int b = 0; b < CB; b++) acc[q][b] = _mm512_fmadd_ps(x, wv[b], acc[q][b]);
                }
            }
        }
    for (int q = 0; q < P; q++)
        for (int b = 0; b < CB; b++) {
            float lanes[16];
            _mm512_storeu_ps(lanes, acc[q][b]);
            for (int j = 0; j < 16; j++) out[(o0 + 16 * b + j) * ocs + q] = lanes[j];
        }
}

NK_AVX512_DQ static void conv2d_forward_avx512(float *out, size_t ocs, const float *input, size_t ics,
                                               const float *weight, const float *bias, size_t batch, size_t channels,
                                               size_t height, size_t width, size_t out_channels, size_t kh, size_t kw,
                                               size_t stride) {
    size_t oh = (height - kh) / stride + 1, ow = (width - kw) / stride + 1, p = oh * ow, taps = channels * kh * kw;
    float wt[NK_CONV_MAX_WEIGHTS];  // the weight transposed to (taps, O), as in the AVX2 version
    for (size_t o = 0; o < out_channels; o++)
        for (size_t t = 0; t < taps; t++) wt[t * out_channels + o] = weight[o * taps + t];
    // Channel blocks of 32 (two registers) while they last, then 16; pixel tiles of up to 10, of equal
    // size where the row allows (conv1's 20 = 2 x 10, conv2's 9 = 1 x 9).
    size_t tiles = (ow + 9) / 10, block = (ow + tiles - 1) / tiles;
    for (size_t n = 0; n < batch; n++)
        for (size_t oy = 0; oy < oh; oy++)
            for (size_t o0 = 0; o0 < out_channels; ) {
                int cb = out_channels - o0 >= 32 ? 2 : 1;
                for (size_t ox = 0; ox < ow; ox += block) {
                    float *o_tile = out + n * p + oy * ow + ox;
                    const float *in_tile = input + n * height * width + oy * stride * width + ox * stride;
                    size_t left = ow - ox < block ? ow - ox : block;
                    #define NK_CONV_TILE(P, CB) conv_tile_avx512(o_tile, ocs, in_tile, ics, wt, out_channels, bias, o0, channels, width, kh, kw, stride, P, CB)
                    #define NK_CONV_TILE_P(CB) switch (left) { \
                        case 10: NK_CONV_TILE(10, CB); break; case 9: NK_CONV_TILE(9, CB); break; \
                        case 8: NK_CONV_TILE(8, CB); break; case 7: NK_CONV_TILE(7, CB); break; \
                        case 6: NK_CONV_TILE(6, CB); break; case 5: NK_CONV_TILE(5, CB); break; \
                        case 4: NK_CONV_TILE(4, CB); break; case 3: NK_CONV_TILE(3, CB); break; \
                        case 2: NK_CONV_TILE(2, CB); break; default: NK_CONV_TILE(1, CB); break; }
                    if (cb == 2) { NK_CONV_TILE_P(2) } else { NK_CONV_TILE_P(1) }
                    #undef NK_CONV_TILE_P
                    #undef NK_CONV_TILE
                }
                o0 += 16 * (size_t)cb;
            }
}
#endif

void nk_conv2d_forward(float *out, size_t out_channel_stride, const float *input, size_t channel_stride,
                       const float *weight, const float *bias, size_t batch, size_t channels,
                       size_t height, size_t width, size_t out_channels,
                       size_t kernel_height, size_t kernel_width, size_t stride) {
#if NK_X86
    bool fits = out_channels % 16 == 0 && out_channels * channels * kernel_height * kernel_width <= NK_CONV_MAX_WEIGHTS;
    if (fits && nk_has_avx512_dq()) {
        conv2d_forward_avx512(out, out_channel_stride, input, channel_stride, weight, bias, batch, channels, height,
                              width, out_channels, kernel_height, kernel_width, stride);
        return;
    }
    if (fits && nk_has_avx2_fma()) {
        conv2d_forward_avx2(out, out_channel_stride, input, channel_stride, weight, bias, batch, channels, height, width,
                            out_channels, kernel_height, kernel_width, stride);
        return;
    }
#endif
    conv2d_forward_scalar(out, out_channel_stride, input, channel_stride, weight, bias, batch, channels, height, width,
                          out_channels, kernel_height, kernel_width, stride);
}

// MARK: - Entry points

#if NK_X86
#define NK_DISPATCH(avx512_call, avx2_call, scalar_call) \
    switch (nk_current_level()) { \
    case NK_LEVEL_AVX512: avx512_call; break; \
    case NK_LEVEL_AVX2: avx2_call; break; \
    default: scalar_call; break; \
    }
#else
#define NK_DISPATCH(avx512_call, avx2_call, scalar_call) scalar_call;
#endif

void nk_adam_step(float *theta, float *m, float *v, float *gradients, size_t n,
                  nk_adam_constants k, float *mirror, bool zero_gradients) {
    NK_DISPATCH(adam_avx512(theta, m, v, gradients, n, k, mirror, zero_gradients),
                adam_avx2(theta, m, v, gradients, n, k, mirror, zero_gradients),
                adam_scalar(theta, m, v, gradients, 0, n, k, mirror, zero_gradients))
}

void nk_rmsprop_step(float *theta, float *mean_square, float *gradients, size_t n,
                     nk_rmsprop_constants k, float *mirror, bool zero_gradients) {
    NK_DISPATCH(rmsprop_avx512(theta, mean_square, gradients, n, k, mirror, zero_gradients),
                rmsprop_avx2(theta, mean_square, gradients, n, k, mirror, zero_gradients),
                rmsprop_scalar(theta, mean_square, gradients, 0, n, k, mirror, zero_gradients))
}

void nk_elu_forward(float *out, const float *x, size_t n) {
    NK_DISPATCH(elu_forward_avx512(out, x, n), elu_forward_avx2(out, x, n), elu_forward_scalar(out, x, 0, n))
}

void nk_elu_backward(float *d_x, const float *d_out, const float *y, size_t n) {
    NK_DISPATCH(elu_backward_avx512(d_x, d_out, y, n), elu_backward_avx2(d_x, d_out, y, n),
                elu_backward_scalar(d_x, d_out, y, 0, n))
}

void nk_sigmoid_forward(float *out, const float *x, size_t n) {
    NK_DISPATCH(sigmoid_avx512_loop(out, x, n), sigmoid_avx2_loop(out, x, n), sigmoid_scalar(out, x, 0, n))
}

void nk_tanh_forward(float *out, const float *x, size_t n) {
    NK_DISPATCH(tanh_avx512_loop(out, x, n), tanh_avx2_loop(out, x, n), tanh_scalar(out, x, 0, n))
}

void nk_lstm_cell_forward(float *h, float *c, float *tanh_c, float *gates, const float *c_prev, size_t hidden) {
    NK_DISPATCH(lstm_forward_avx512(h, c, tanh_c, gates, c_prev, hidden),
                lstm_forward_avx2(h, c, tanh_c, gates, c_prev, hidden),
                lstm_forward_scalar(h, c, tanh_c, gates, c_prev, 0, hidden))
}

void nk_lstm_cell_backward(float *d_gates, float *dc_next, const float *dh_next, const float *d_h,
                           const float *gates, const float *tanh_c, const float *c_prev, size_t hidden) {
    NK_DISPATCH(lstm_backward_avx512(d_gates, dc_next, dh_next, d_h, gates, tanh_c, c_prev, hidden),
                lstm_backward_avx2(d_gates, dc_next, dh_next, d_h, gates, tanh_c, c_prev, hidden),
                lstm_backward_scalar(d_gates, dc_next, dh_next, d_h, gates, tanh_c, c_prev, 0, hidden))
}

float nk_sum(const float *x, size_t n) {
    float sum = 0;
    NK_DISPATCH(sum = sum_avx512(x, n), sum = sum_avx2(x, n), sum = sum_scalar(x, n))
    return sum;
}
