// nk_fma_peak_gflops: the core's fused multiply-add throughput, measured (see the header).
#include "_NeuralKernels.h"

#include <math.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define NK_PEAK_X86 1
#endif

static double nk_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// 12 independent chains of a = a * x + y: enough to cover the FMA latency (4-5 cycles) times the
// FMA units (2) of current x86 cores, so the loop is bound by throughput alone. Each macro line is
// one FMA of every chain; the compiler keeps the 12 accumulators in registers.
#define NK_PEAK_BODY(FMA) \
    a0 = FMA(a0, x, y); a1 = FMA(a1, x, y); a2 = FMA(a2, x, y); a3 = FMA(a3, x, y); \
    a4 = FMA(a4, x, y); a5 = FMA(a5, x, y); a6 = FMA(a6, x, y); a7 = FMA(a7, x, y); \
    a8 = FMA(a8, x, y); a9 = FMA(a9, x, y); a10 = FMA(a10, x, y); a11 = FMA(a11, x, y);

// One measuring function per vector width: the 12 accumulators set apart, two body lines per
// iteration, then their sum stored (so that the compiler keeps every chain).
#define NK_PEAK_FUNCTION(NAME, TARGET, VEC, SET1, FMA, ADD, STORE, LANES)                                   \
    __attribute__((target(TARGET))) static double NAME(long iterations, float *sink) {                     \
        VEC x = SET1(0.999f), y = SET1(1e-4f);                                                            \
        VEC a0 = SET1(0.f), a1 = SET1(1.f), a2 = SET1(2.f), a3 = SET1(3.f), a4 = SET1(4.f), a5 = SET1(5.f); \
        VEC a6 = SET1(6.f), a7 = SET1(7.f), a8 = SET1(8.f), a9 = SET1(9.f), a10 = SET1(10.f), a11 = SET1(11.f); \
        double start = nk_seconds();                                                                      \
        for (long i = 0; i < iterations; i++) { NK_PEAK_BODY(FMA) NK_PEAK_BODY(FMA) }                     \
        double elapsed = nk_seconds() - start;                                                            \
        VEC sum = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(ADD(a4, a5), ADD(a6, a7)), ADD(ADD(a8, a9), ADD(a10, a11)))); \
        float lanes[LANES];                                                                               \
        STORE(lanes, sum);                                                                                \
        *sink = lanes[0];                                                                                 \
        return (double)iterations * 24 * LANES * 2 / elapsed * 1e-9;                                      \
    }

#ifdef NK_PEAK_X86
NK_PEAK_FUNCTION(nk_peak_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
NK_PEAK_FUNCTION(nk_peak_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
// The scalar level on x86-64: baseline SSE, 4 lanes, a multiply then an add (no FMA before AVX2),
// which is what oneDNN's lowest kernels (SSE4.1) and the compiler's vectorized loops can use.
#define NK_SSE_MULTIPLY_ADD(a, x, y) _mm_add_ps(_mm_mul_ps(a, x), y)
NK_PEAK_FUNCTION(nk_peak_sse, "sse2", __m128, _mm_set1_ps, NK_SSE_MULTIPLY_ADD, _mm_add_ps, _mm_storeu_ps, 4)
#endif

// Elsewhere (aarch64: fmaf is one instruction) the scalar level is one lane of fmaf.
#ifndef NK_PEAK_X86
static double nk_peak_scalar(long iterations, float *sink) {
    float x = 0.999f, y = 1e-4f;
    float a0 = 0, a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5, a6 = 6, a7 = 7, a8 = 8, a9 = 9, a10 = 10, a11 = 11;
    double start = nk_seconds();
    for (long i = 0; i < iterations; i++) { NK_PEAK_BODY(fmaf) NK_PEAK_BODY(fmaf) }
    double elapsed = nk_seconds() - start;
    *sink = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    return (double)iterations * 24 * 2 / elapsed * 1e-9;
}
#endif

double nk_fma_peak_gflops(nk_level level, double seconds) {
    if (level > nk_supported_level()) level = nk_supported_level();
#ifdef NK_PEAK_X86
    double (*measure)(long, float *) = nk_peak_sse;
    if (level == NK_LEVEL_AVX512) measure = nk_peak_avx512;
    else if (level == NK_LEVEL_AVX2) measure = nk_peak_avx2;
#else
    double (*measure)(long, float *) = nk_peak_scalar;
#endif
    volatile float sink_store;
    float sink = 0;
    // Tries of about a millisecond each, the best kept: noise from other tenants only slows a try down.
    long iterations = 1000;
    double best = 0, start = nk_seconds();
    measure(iterations, &sink);  // a warm-up: the clock may rise under load
    for (int tries = 0; tries < 1000 && (tries < 5 || nk_seconds() - start < seconds); tries++) {
        double t0 = nk_seconds();
        double gflops = measure(iterations, &sink);
        if (nk_seconds() - t0 < 5e-4 && iterations < (1L << 30)) iterations *= 2;
        if (gflops > best) best = gflops;
    }
    sink_store = sink;
    (void)sink_store;
    return best;
}
