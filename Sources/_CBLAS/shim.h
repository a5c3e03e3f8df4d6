// _CBLAS: Debian's OpenBLAS (libopenblas-dev) seen from Swift.
// Parallelism in swift-a3c is across worker threads, so callers set OpenBLAS to one thread
// (openblas_set_num_threads(1)) before any sgemm.
#include <cblas.h>

// MARK: - OpenBLAS extensions not declared by every cblas.h
void openblas_set_num_threads(int num_threads);
