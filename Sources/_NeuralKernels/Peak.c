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

#ifdef NK_PEAK_X86
__attribute__((target("avx512f"))) static double nk_peak_avx512(long iterations, float *sink) {
    __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-4f);
    __m512 a0 = _mm512_set1_ps(0.f), a1 = _mm512_set1_ps(1.f), a2 = _mm512_set1_ps(2.f), a3 = _mm512_set1_ps(3.f);
    __m512 a4 = _mm512_set1_ps(4.f), a5 = _mm512_set1_ps(5.f), a6 = _mm512_set1_ps(6.f), a7 = _mm512_set1_ps(7.f);
    __m512 a8 = _mm512_set1_ps(8.f), a9 = _mm512_set1_ps(9.f), a10 = _mm512_set1_ps(10.f), a11 = _mm512_set1_ps(11.f);
    double start = nk_seconds();
    for (long i = 0; i < iterations; i++) { NK_PEAK_BODY(_mm512_fmadd_ps) NK_PEAK_BODY(_mm512_fmadd_ps) }
    double elapsed = nk_seconds() - start;
    __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                               _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)),
                                             _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11))));
    *sink = _mm512_reduce_add_ps(sum);
    return (double)iterations * 24 * 16 * 2 / elapsed * 1e-9;
}

__attribute__((target("avx2,fma"))) static double nk_peak_avx2(long iterations, float *sink) {
    __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-4f);
    __m256 a0 = _mm256_set1_ps(0.f), a1 = _mm256_set1_ps(1.f), a2 = _mm256_set1_ps(2.f), a3 = _mm256_set1_ps(3.f);
    __m256 a4 = _mm256_set1_ps(4.f), a5 = _mm256_set1_ps(5.f), a6 = _mm256_set1_ps(6.f), a7 = _mm256_set1_ps(7.f);
    __m256 a8 = _mm256_set1_ps(8.f), a9 = _mm256_set1_ps(9.f), a10 = _mm256_set1_ps(10.f), a11 = _mm256_set1_ps(11.f);
    double start = nk_seconds();
    for (long i = 0; i < iterations; i++) { NK_PEAK_BODY(_mm256_fmadd_ps) NK_PEAK_BODY(_mm256_fmadd_ps) }
    double elapsed = nk_seconds() - start;
    __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                               _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)),
                                             _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11))));
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    *sink = lanes[0];
    return (double)iterations * 24 * 8 * 2 / elapsed * 1e-9;
}
#endif

static double nk_peak_scalar(long iterations, float *sink) {
    float x = 0.999f, y = 1e-4f;
    float a0 = 0, a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5, a6 = 6, a7 = 7, a8 = 8, a9 = 9, a10 = 10, a11 = 11;
    double start = nk_seconds();
    for (long i = 0; i < iterations; i++) { NK_PEAK_BODY(fmaf) NK_PEAK_BODY(fmaf) }
    double elapsed = nk_seconds() - start;
    *sink = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    return (double)iterations * 24 * 2 / elapsed * 1e-9;
}

double nk_fma_peak_gflops(nk_level level, double seconds) {
    if (level > nk_supported_level()) level = nk_supported_level();
    double (*measure)(long, float *) = nk_peak_scalar;
#ifdef NK_PEAK_X86
    if (level == NK_LEVEL_AVX512) measure = nk_peak_avx512;
    else if (level == NK_LEVEL_AVX2) measure = nk_peak_avx2;
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
