// nk_conv2d_weight_gradient: a convolution's weight gradient computed directly (see the header).
#include "_NeuralKernels.h"

#include <math.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define NK_GRAD_X86 1
#endif

// Geometry shared by the variants. dOut is first transposed into the scratch as (N, P, O), so that an
// output position's O channels are one contiguous vector.
typedef struct {
    size_t channels, height, width, out_channels, kh, kw, stride, oh, ow, p, batch, ics, taps;
} nk_grad_shape;

static void nk_transpose_d_out(float *scratch, const float *d_out, size_t ocs, nk_grad_shape s) {
    // Blocks of 64 positions: each channel's run is read in order, each position's channels written
    // together while its cache line is held.
    size_t positions = s.batch * s.p;
    for (size_t j0 = 0; j0 < positions; j0 += 64) {
        size_t j1 = j0 + 64 < positions ? j0 + 64 : positions;
        for (size_t o = 0; o < s.out_channels; o++) {
            const float *source = d_out + o * ocs;
            for (size_t j = j0; j < j1; j++) scratch[j * s.out_channels + o] = source[j];
        }
    }
}

// Reference: every dW[o, c, ky, kx] is one chain of fused multiply-adds from 0 over (n, oy, ox) in
// order, then added to d_weight. The vector variants compute the same chains, 16 or 8 channels at once.
static void nk_grad_scalar(float *d_weight, const float *d_out_t, const float *input, nk_grad_shape s) {
    for (size_t o = 0; o < s.out_channels; o++)
        for (size_t c = 0; c < s.channels; c++)
            for (size_t ky = 0; ky < s.kh; ky++)
                for (size_t kx = 0; kx < s.kw; kx++) {
                    float acc = 0.0f;
                    for (size_t n = 0; n < s.batch; n++)
                        for (size_t oy = 0; oy < s.oh; oy++) {
                            const float *row = input + c * s.ics + n * s.height * s.width + (oy * s.stride + ky) * s.width + kx;
                            const float *g = d_out_t + (n * s.p + oy * s.ow) * s.out_channels + o;
                            for (size_t ox = 0; ox < s.ow; ox++)
                                acc = fmaf(row[ox * s.stride], g[ox * s.out_channels], acc);
                        }
                    d_weight[o * s.taps + (c * s.kh + ky) * s.kw + kx] += acc;
                }
}

#ifdef NK_GRAD_X86
// One pass: channels o0 ..< o0 + lanes, input channel c, kernel rows ky0 ..< ky0 + KYG, all KW columns:
// KYG * KW accumulators over every output position.
#define NK_GRAD_PASS(VEC, SET1, LOAD, FMA, ZERO, STORE, LANES)                                                  \
    VEC acc[KYG][KW];                                                                                          \
    for (int a = 0; a < KYG; a++) for (int b = 0; b < KW; b++) acc[a][b] = ZERO;                               \
    for (size_t n = 0; n < s.batch; n++)                                                                        \
        for (size_t oy = 0; oy < s.oh; oy++) {                                                                 \
            const float *rows = input + c * s.ics + n * s.height * s.width + (oy * s.stride + ky0) * s.width;  \
            const float *g_row = d_out_t + (n * s.p + oy * s.ow) * s.out_channels + o0;                        \
            for (size_t ox = 0; ox < s.ow; ox++) {                                                             \
                VEC g = LOAD(g_row + ox * s.out_channels);                                                     \
                const float *at = rows + ox * s.stride;                                                        \
                for (int a = 0; a < KYG; a++)                                                                  \
                    for (int b = 0; b < KW; b++) acc[a][b] = FMA(SET1(at[a * s.width + b]), g, acc[a][b]);     \
            }                                                                                                  \
        }                                                                                                      \
    for (int a = 0; a < KYG; a++)                                                                              \
        for (int b = 0; b < KW; b++) {                                                                         \
            float lanes[LANES];                                                                                \
            STORE(lanes, acc[a][b]);                                                                           \
            for (int j = 0; j < LANES; j++)                                                                    \
                d_weight[(o0 + j) * s.taps + (c * s.kh + ky0 + a) * s.kw + b] += lanes[j];                     \
        }

__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
nk_grad_pass_avx512(float *d_weight, const float *d_out_t, const float *input, nk_grad_shape s, size_t o0, size_t c,
                    size_t ky0, const int KYG, const int KW) {
    NK_GRAD_PASS(__m512, _mm512_set1_ps, _mm512_loadu_ps, _mm512_fmadd_ps, _mm512_setzero_ps(), _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
nk_grad_pass_avx2(float *d_weight, const float *d_out_t, const float *input, nk_grad_shape s, size_t o0, size_t c,
                  size_t ky0, const int KYG, const int KW) {
    NK_GRAD_PASS(__m256, _mm256_set1_ps, _mm256_loadu_ps, _mm256_fmadd_ps, _mm256_setzero_ps(), _mm256_storeu_ps, 8)
}

// Kernel rows in groups that fill the registers: 16 accumulators of 32 (AVX-512), 8 of 16 (AVX2).
__attribute__((target("avx512f"))) static void
nk_grad_avx512(float *d_weight, const float *d_out_t, const float *input, nk_grad_shape s) {
    for (size_t o0 = 0; o0 < s.out_channels; o0 += 16)
        for (size_t c = 0; c < s.channels; c++)
            for (size_t ky = 0; ky < s.kh; ) {
                if (s.kw == 8) {
                    if (s.kh - ky >= 2) { nk_grad_pass_avx512(d_weight, d_out_t, input, s, o0, c, ky, 2, 8); ky += 2; }
                    else { nk_grad_pass_avx512(d_weight, d_out_t, input, s, o0, c, ky, 1, 8); ky += 1; }
                } else {  // kw == 4
                    if (s.kh - ky >= 4) { nk_grad_pass_avx512(d_weight, d_out_t, input, s, o0, c, ky, 4, 4); ky += 4; }
                    else { nk_grad_pass_avx512(d_weight, d_out_t, input, s, o0, c, ky, 1, 4); ky += 1; }
                }
            }
}

__attribute__((target("avx2,fma"))) static void
nk_grad_avx2(float *d_weight, const float *d_out_t, const float *input, nk_grad_shape s) {
    for (size_t o0 = 0; o0 < s.out_channels; o0 += 8)
        for (size_t c = 0; c < s.channels; c++)
            for (size_t ky = 0; ky < s.kh; ) {
                if (s.kw == 8) { nk_grad_pass_avx2(d_weight, d_out_t, input, s, o0, c, ky, 1, 8); ky += 1; }
                else if (s.kh - ky >= 2) { nk_grad_pass_avx2(d_weight, d_out_t, input, s, o0, c, ky, 2, 4); ky += 2; }
                else { nk_grad_pass_avx2(d_weight, d_out_t, input, s, o0, c, ky, 1, 4); ky += 1; }
            }
}

static bool nk_grad_cpu_has_fma(void) {
    static int fma = -1;
    int known = __atomic_load_n(&fma, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("fma") ? 1 : 0;
        __atomic_store_n(&fma, known, __ATOMIC_RELAXED);
    }
    return known;
}
#endif

void nk_conv2d_weight_gradient(float *d_weight, const float *d_out, size_t out_channel_stride, const float *input,
                               size_t channel_stride, float *scratch, size_t batch, size_t channels, size_t height,
                               size_t width, size_t out_channels, size_t kernel_height, size_t kernel_width,
                               size_t stride) {
    nk_grad_shape s = {channels, height, width, out_channels, kernel_height, kernel_width, stride,
                       (height - kernel_height) / stride + 1, (width - kernel_width) / stride + 1, 0, batch,
                       channel_stride, channels * kernel_height * kernel_width};
    s.p = s.oh * s.ow;
    nk_transpose_d_out(scratch, d_out, out_channel_stride, s);
#ifdef NK_GRAD_X86
    bool shaped = (kernel_width == 8 || kernel_width == 4) && nk_grad_cpu_has_fma();
    nk_level level = nk_current_level();
    if (shaped && level >= NK_LEVEL_AVX512 && out_channels % 16 == 0) { nk_grad_avx512(d_weight, scratch, input, s); return; }
    if (shaped && level >= NK_LEVEL_AVX2 && out_channels % 8 == 0) { nk_grad_avx2(d_weight, scratch, input, s); return; }
#endif
    nk_grad_scalar(d_weight, scratch, input, s);
}
