// nk_sgemm: oneDNN's dnnl_sgemm on the calling thread alone (see the header).
#include "_NeuralKernels.h"

#include <dlfcn.h>
#include <stdio.h>
#include <oneapi/dnnl/dnnl.h>

// Debian's oneDNN is built with OpenMP, whose default team is one thread per core. Parallelism in
// swift-a3c is one worker per core, so every thread that multiplies sets its own OpenMP team size to
// 1 once (the OpenMP setting is per thread); oneDNN then runs the product inline, without a team.
// libgomp is loaded with oneDNN; it is looked up at run time so that no link line must name it.
static _Thread_local bool nk_thread_is_single = false;

static void nk_make_thread_single(void) {
    typedef void (*set_threads_function)(int);
    static set_threads_function set_threads = NULL;
    static int looked_up = 0;
    if (!__atomic_load_n(&looked_up, __ATOMIC_ACQUIRE)) {
        set_threads_function found = (set_threads_function)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
        __atomic_store_n(&set_threads, found, __ATOMIC_RELAXED);
        __atomic_store_n(&looked_up, 1, __ATOMIC_RELEASE);
    }
    set_threads_function f = __atomic_load_n(&set_threads, __ATOMIC_RELAXED);
    if (f) {
        f(1);
    } else {
        // A oneDNN built without OpenMP (sequential, or another runtime): nothing to set, but say so
        // once, as a team per core on every worker would oversubscribe the cores.
        static int warned = 0;
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            fprintf(stderr, "warning: oneDNN's OpenMP runtime was not found (omp_set_num_threads); "
                            "its matrix products use its default threading\n");
    }
    nk_thread_is_single = true;
}

int nk_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
             const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    if (!nk_thread_is_single) nk_make_thread_single();
    dnnl_status_t status = dnnl_sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', (dnnl_dim_t)m, (dnnl_dim_t)n,
                                      (dnnl_dim_t)k, alpha, a, (dnnl_dim_t)lda, b, (dnnl_dim_t)ldb, beta, c,
                                      (dnnl_dim_t)ldc);
    return status == dnnl_success ? 0 : (int)status;
}

int nk_sgemm_limit_level(nk_level level) {
    dnnl_cpu_isa_t isa = level >= NK_LEVEL_AVX512 ? dnnl_cpu_isa_all
                       : level == NK_LEVEL_AVX2 ? dnnl_cpu_isa_avx2 : dnnl_cpu_isa_sse41;
    return dnnl_set_max_cpu_isa(isa) == dnnl_success ? 0 : -1;
}
