// _MPIShim: plain C functions over Open MPI's mpi.h, for the MessagePassing module.
//
// Why a shim: mpi.h's handles are macros that Swift cannot import. In Open MPI, MPI_COMM_WORLD is
// `((MPI_Comm)&ompi_mpi_comm_world)`, MPI_BYTE and MPI_STATUS_IGNORE are casts of addresses too,
// and MPI_ANY_SOURCE is a bare #define. This header uses plain C types only, so Swift never sees
// mpi.h; MPIShim.c is the one file that includes it.
//
// Scope: what one communication thread per rank needs for asynchronous A3C across processes:
// MPI_COMM_WORLD only, messages of raw bytes (MPI_BYTE; both ends must agree on the layout, which
// holds between ranks of the same binary on the same architecture), blocking and non-blocking
// point-to-point, probe, barrier, abort. No collectives beyond the barrier, no one-sided RMA (its
// osc/pt2pt path is deprecated and not thread-safe in Open MPI 4.1, open-mpi/ompi #8112).
//
// Errors: mps_init sets MPI_COMM_WORLD's error handler to MPI_ERRORS_RETURN, so a failing call
// returns instead of aborting the job (the default, MPI_ERRORS_ARE_FATAL). Every function that can
// fail returns an MPSStatus and fills the caller's MPSError with MPI's error class and a message
// naming the call and its arguments, followed by Open MPI's own text.
//
// Threading: MPI_THREAD_FUNNELED. Every function except those under "Launch environment" must be
// called from the thread that called mps_init.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Errors

/// What went wrong, by kind. The message says the rest.
typedef enum MPSStatus {
    MPS_OK = 0,
    MPS_ERROR_INVALID_ARGUMENT = 1, ///< Rejected by the shim before reaching MPI (see the message).
    MPS_ERROR_MESSAGE_TOO_LARGE = 2,///< More than INT_MAX bytes: MPI counts are `int`.
    MPS_ERROR_STATE = 3,            ///< mps_init twice, or a call before mps_init or after mps_finalize.
    MPS_ERROR_THREAD_LEVEL = 4,     ///< The library provides less than MPI_THREAD_FUNNELED.
    MPS_ERROR_TRUNCATED = 5,        ///< MPI_ERR_TRUNCATE: the message is larger than the receive buffer.
    MPS_ERROR_RANK = 6,             ///< MPI_ERR_RANK: no such rank in MPI_COMM_WORLD.
    MPS_ERROR_TAG = 7,              ///< MPI_ERR_TAG: a tag outside 0...MPI_TAG_UB.
    MPS_ERROR_MPI = 9,              ///< Any other MPI error class (in MPSError.mpi_error_class).
} MPSStatus;

typedef struct MPSError {
    MPSStatus status;
    int mpi_error_class;  ///< MPI_Error_class of the failing call's code; 0 when the shim rejected it.
    char message[768];    ///< "<call> <arguments>: <Open MPI's MPI_Error_string>", NUL-terminated.
} MPSError;

// MARK: - Launch environment (no MPI call: any thread, before or after mps_init)

/// 1 if an MPI launcher started this process: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE and
/// OMPI_COMM_WORLD_RANK; PMIx launchers (mpirun, srun --mpi=pmix) set PMIX_RANK; MPICH's Hydra and
/// Slurm's PMI-2 set PMI_RANK and PMI_SIZE. `rank` and `size` receive the values announced by the
/// launcher, or -1 where it announces none (PMIx announces no size).
int mps_launch_environment(int *rank, int *size);

/// The MPI library's version text (MPI_Get_library_version, callable before init), e.g.
/// "Open MPI v4.1.4, package: Debian OpenMPI, ...", into `buffer` (truncated to `capacity`).
void mps_library_version(char *buffer, size_t capacity);

/// Widens the calling thread's CPU affinity to every online CPU of the host (Linux), and reports how
/// many CPUs it allowed before and after. Workaround: mpirun binds each rank to a core by default
/// (`--bind-to core` for up to 2 ranks), and the processes a rank starts inherit the binding, so a
/// rank's worker threads and all its engine processes would share one core while others idle. Call
/// it first thing, before any thread or engine is started (they inherit it). Returns 0 if the
/// affinity could not be read or set (nothing changed).
int mps_widen_cpu_affinity(int *allowed_before, int *allowed_after);

// MARK: - Lifetime

/// Thread support levels, in increasing order (MPI's MPI_THREAD_*, numbered here so that the values
/// do not depend on the library).
typedef enum MPSThreadLevel {
    MPS_THREAD_SINGLE = 0,
    MPS_THREAD_FUNNELED = 1,
    MPS_THREAD_SERIALIZED = 2,
    MPS_THREAD_MULTIPLE = 3,
} MPSThreadLevel;

/// MPI_Init_thread(MPI_THREAD_FUNNELED) on the calling thread, then MPI_ERRORS_RETURN on
/// MPI_COMM_WORLD. `provided` receives the level the library grants. Fails with MPS_ERROR_STATE if
/// MPI was initialized (or finalized) before: MPI can be initialized once per process. Fails with
/// MPS_ERROR_THREAD_LEVEL if the library grants less than FUNNELED; MPI is then initialized and the
/// caller should mps_abort.
MPSStatus mps_init(MPSThreadLevel *provided, MPSError *error);

/// 1 between a successful mps_init and mps_finalize (MPI_Initialized and not MPI_Finalized).
int mps_is_active(void);

/// MPI_Finalize. Collective: it returns when every rank has called it (Open MPI 4.1 ends with a
/// fence across the job). A rank that exits without it makes mpirun abort the whole job.
MPSStatus mps_finalize(MPSError *error);

/// MPI_Abort(MPI_COMM_WORLD, code): mpirun ends every rank of the job (SIGCONT then SIGTERM at
/// once, SIGKILL about 1 s later) and exits with `code`. Does not return. Before mps_init or after
/// mps_finalize it is `_exit(code)`.
void mps_abort(int code) __attribute__((noreturn));

// MARK: - The world

MPSStatus mps_rank(int *rank, MPSError *error);
MPSStatus mps_size(int *size, MPSError *error);
/// MPI_Get_processor_name (the host name in Open MPI), into `buffer` (truncated to `capacity`).
MPSStatus mps_processor_name(char *buffer, size_t capacity, MPSError *error);
/// The largest tag this library accepts (the MPI_TAG_UB attribute; at least 32767 by the standard,
/// INT_MAX in Open MPI 4.1).
MPSStatus mps_tag_upper_bound(int *value, MPSError *error);
/// MPI_Barrier(MPI_COMM_WORLD).
MPSStatus mps_barrier(MPSError *error);

// MARK: - Point to point: bytes on MPI_COMM_WORLD

/// Wildcards for the `source` and `tag` of receives and probes (mapped to MPI_ANY_SOURCE and
/// MPI_ANY_TAG inside the shim). Sends take a real rank and a tag in 0...mps_tag_upper_bound.
enum { MPS_ANY_SOURCE = -1, MPS_ANY_TAG = -1 };

/// Who sent a message, with which tag, and how many bytes it holds (from MPI_Status and
/// MPI_Get_count with MPI_BYTE).
typedef struct MPSMessageInfo {
    int source;
    int tag;
    size_t byte_count;
} MPSMessageInfo;

/// MPI_Send of `count` bytes. Returns when `bytes` may be reused: small messages are buffered,
/// large ones (above Open MPI's eager limit, 4 KB for shared memory and 64 KB for TCP) wait for the
/// matching receive. `count` must be at most INT_MAX.
MPSStatus mps_send(const void *bytes, size_t count, int destination, int tag, MPSError *error);

/// MPI_Recv into `capacity` bytes from `source` (or MPS_ANY_SOURCE) with `tag` (or MPS_ANY_TAG).
/// A larger message fails with MPS_ERROR_TRUNCATED. `info` (may be NULL) receives the envelope.
MPSStatus mps_recv(void *bytes, size_t capacity, int source, int tag, MPSMessageInfo *info, MPSError *error);

/// MPI_Probe: blocks until a matching message can be received; `info` receives its envelope.
MPSStatus mps_probe(int source, int tag, MPSMessageInfo *info, MPSError *error);

/// MPI_Iprobe: `found` receives 1 and `info` the envelope if a matching message is waiting, else 0.
MPSStatus mps_iprobe(int source, int tag, int *found, MPSMessageInfo *info, MPSError *error);

// MARK: - Point to point, non-blocking

/// A pending MPI_Isend or MPI_Irecv. The buffer it was started with belongs to MPI until mps_test
/// reports completion or mps_wait returns.
typedef struct MPSRequest MPSRequest;

/// MPI_Isend; `request` receives a new request (free it with mps_request_free once complete).
MPSStatus mps_isend(const void *bytes, size_t count, int destination, int tag, MPSRequest **request,
                    MPSError *error);
/// MPI_Irecv; `request` receives a new request (free it with mps_request_free once complete).
MPSStatus mps_irecv(void *bytes, size_t capacity, int source, int tag, MPSRequest **request, MPSError *error);

/// MPI_Test: `done` receives 1 once the request is complete, with `info` the received envelope (for
/// a send: the destination and tag, and the byte count sent). Testing a complete request again
/// reports the same completion.
MPSStatus mps_test(MPSRequest *request, int *done, MPSMessageInfo *info, MPSError *error);
/// MPI_Wait: blocks until the request is complete; then as mps_test.
MPSStatus mps_wait(MPSRequest *request, MPSMessageInfo *info, MPSError *error);
/// 1 if the request has completed (through mps_test or mps_wait).
int mps_request_is_complete(const MPSRequest *request);
/// Frees a complete request. A pending request is a programmer error: the shim cancels a pending
/// receive and waits for it; a pending send is waited for (MPI cannot take a send back).
void mps_request_free(MPSRequest *request);

#ifdef __cplusplus
}
#endif
