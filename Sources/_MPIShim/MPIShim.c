// _MPIShim: see include/MPIShim.h. Every entry point that calls MPI goes through `check`, which turns
// a non-success return code into an MPSStatus and a message naming the call.
#include "MPIShim.h"

// Workaround: without Open MPI's headers SwiftPM's own message is a bare "'mpi.h' file not found".
// Name the fix instead.
#if !__has_include(<mpi.h>)
#error "mpi.h not found: Open MPI is not installed. Run scripts/bootstrap (it installs Debian's openmpi-bin and libopenmpi-dev)."
#endif
#include <mpi.h>

#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#endif

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct MPSRequest {
    MPI_Request request;      ///< MPI_REQUEST_NULL once complete
    int is_receive;
    int complete;
    MPSMessageInfo info;      ///< for a send: destination, tag and count, set when started
};

// MARK: - Errors

static void clear(MPSError *error) {
    if (!error) return;
    error->status = MPS_OK;
    error->mpi_error_class = 0;
    error->message[0] = '\0';
}

static MPSStatus reject(MPSError *error, MPSStatus status, const char *format, ...) {
    if (error) {
        error->status = status;
        error->mpi_error_class = 0;
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(error->message, sizeof error->message, format, arguments);
        va_end(arguments);
    }
    return status;
}

static MPSStatus status_of_class(int error_class) {
    switch (error_class) {
    case MPI_ERR_TRUNCATE: return MPS_ERROR_TRUNCATED;
    case MPI_ERR_RANK: return MPS_ERROR_RANK;
    case MPI_ERR_TAG: return MPS_ERROR_TAG;
    case MPI_ERR_COUNT: return MPS_ERROR_INVALID_ARGUMENT;
    default: return MPS_ERROR_MPI;
    }
}

/// MPS_OK for MPI_SUCCESS; otherwise the status of the code's class, with "<what>: <MPI's text>".
static MPSStatus check(int code, MPSError *error, const char *format, ...) {
    if (code == MPI_SUCCESS) return MPS_OK;
    int error_class = MPI_ERR_UNKNOWN;
    if (MPI_Error_class(code, &error_class) != MPI_SUCCESS) error_class = MPI_ERR_UNKNOWN;
    MPSStatus status = status_of_class(error_class);
    if (error) {
        error->status = status;
        error->mpi_error_class = error_class;
        va_list arguments;
        va_start(arguments, format);
        int used = vsnprintf(error->message, sizeof error->message, format, arguments);
        va_end(arguments);
        if (used < 0) used = 0;
        if ((size_t)used < sizeof error->message - 3) {
            char text[MPI_MAX_ERROR_STRING] = "";
            int length = 0;
            if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", code);
            snprintf(error->message + used, sizeof error->message - (size_t)used, ": %s", text);
        }
    }
    return status;
}

static int active(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized && !finalized;
}

#define REQUIRE_ACTIVE(error, call) \
    do { if (!active()) return reject(error, MPS_ERROR_STATE, "%s: MPI is not initialized (or already finalized)", call); } while (0)

// MARK: - Argument checks

/// MPI counts are `int`: a byte count above INT_MAX cannot be expressed with MPI_BYTE.
static MPSStatus check_count(size_t count, const void *bytes, MPSError *error, const char *call) {
    if (count > (size_t)INT_MAX)
        return reject(error, MPS_ERROR_MESSAGE_TOO_LARGE,
                      "%s: %zu bytes is more than an MPI message of MPI_BYTE can hold (%d); send it in parts",
                      call, count, INT_MAX);
    if (count > 0 && bytes == NULL) return reject(error, MPS_ERROR_INVALID_ARGUMENT, "%s: NULL buffer of %zu bytes", call, count);
    return MPS_OK;
}

/// "rank 3" or "any rank", for messages.
static const char *source_text(int source, char *buffer, size_t capacity) {
    if (source == MPS_ANY_SOURCE) snprintf(buffer, capacity, "any rank");
    else snprintf(buffer, capacity, "rank %d", source);
    return buffer;
}

static int mpi_source(int source) { return source == MPS_ANY_SOURCE ? MPI_ANY_SOURCE : source; }
static int mpi_tag(int tag) { return tag == MPS_ANY_TAG ? MPI_ANY_TAG : tag; }

/// The shim's wildcards are -1; any other negative rank or tag is a mistake MPI would report less clearly.
static MPSStatus check_envelope(int rank, int tag, int wildcards, MPSError *error, const char *call) {
    if (rank < 0 && !(wildcards && rank == MPS_ANY_SOURCE))
        return reject(error, MPS_ERROR_RANK, "%s: rank %d is negative", call, rank);
    if (tag < 0 && !(wildcards && tag == MPS_ANY_TAG))
        return reject(error, MPS_ERROR_TAG, "%s: tag %d is negative", call, tag);
    return MPS_OK;
}

static void fill_info(MPSMessageInfo *info, const MPI_Status *status) {
    if (!info) return;
    int count = 0;
    if (MPI_Get_count(status, MPI_BYTE, &count) != MPI_SUCCESS || count == MPI_UNDEFINED) count = 0;
    info->source = status->MPI_SOURCE;
    info->tag = status->MPI_TAG;
    info->byte_count = (size_t)count;
}

// MARK: - Launch environment

/// The integer value of the environment variable `name`, or -1 if it is unset or not a number.
static int environment_int(const char *name) {
    const char *text = getenv(name);
    if (!text || !*text) return -1;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (*end != '\0' || value < 0 || value > INT_MAX) return -1;
    return (int)value;
}

int mps_launch_environment(int *rank, int *size) {
    int r = -1, s = -1, launched = 0;
    if (getenv("OMPI_COMM_WORLD_SIZE")) {
        launched = 1;
        r = environment_int("OMPI_COMM_WORLD_RANK");
        s = environment_int("OMPI_COMM_WORLD_SIZE");
    } else if (getenv("PMIX_RANK")) {
        launched = 1;
        r = environment_int("PMIX_RANK");
    } else if (getenv("PMI_RANK")) {
        launched = 1;
        r = environment_int("PMI_RANK");
        s = environment_int("PMI_SIZE");
    }
    if (rank) *rank = r;
    if (size) *size = s;
    return launched;
}

void mps_library_version(char *buffer, size_t capacity) {
    if (!buffer || capacity == 0) return;
    char text[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int length = 0;
    if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) snprintf(text, sizeof text, "unknown MPI library");
    // Open MPI's text ends with a newline; keep one line.
    text[strcspn(text, "\n")] = '\0';
    snprintf(buffer, capacity, "%s", text);
}

// MARK: - Lifetime

MPSStatus mps_init(MPSThreadLevel *provided, MPSError *error) {
    clear(error);
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized || finalized)
        return reject(error, MPS_ERROR_STATE, "MPI_Init_thread: MPI was %s in this process; it can be initialized only once",
                      finalized ? "initialized and finalized before" : "already initialized");
    int level = MPI_THREAD_SINGLE;
    // The default error handler (MPI_ERRORS_ARE_FATAL) also covers MPI_Init_thread itself, so a failure
    // here usually ends the process with Open MPI's own message before this check runs.
    MPSStatus status = check(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &level), error,
                             "MPI_Init_thread(MPI_THREAD_FUNNELED)");
    if (status != MPS_OK) return status;
    MPSThreadLevel granted = level == MPI_THREAD_MULTIPLE ? MPS_THREAD_MULTIPLE
                           : level == MPI_THREAD_SERIALIZED ? MPS_THREAD_SERIALIZED
                           : level == MPI_THREAD_FUNNELED ? MPS_THREAD_FUNNELED : MPS_THREAD_SINGLE;
    if (provided) *provided = granted;
    status = check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), error,
                   "MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)");
    if (status != MPS_OK) return status;
    if (granted < MPS_THREAD_FUNNELED)
        return reject(error, MPS_ERROR_THREAD_LEVEL,
                      "MPI_Init_thread: the MPI library grants thread level %d, below MPI_THREAD_FUNNELED", level);
    return MPS_OK;
}

int mps_is_active(void) { return active(); }

MPSStatus mps_finalize(MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Finalize");
    return check(MPI_Finalize(), error, "MPI_Finalize");
}

void mps_abort(int code) {
    if (active()) MPI_Abort(MPI_COMM_WORLD, code);
    // MPI_Abort should not return; if it does (or MPI is not running), end the process anyway.
    _exit(code);
}

// MARK: - The world

MPSStatus mps_rank(int *rank, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Comm_rank");
    return check(MPI_Comm_rank(MPI_COMM_WORLD, rank), error, "MPI_Comm_rank");
}

MPSStatus mps_size(int *size, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Comm_size");
    return check(MPI_Comm_size(MPI_COMM_WORLD, size), error, "MPI_Comm_size");
}

MPSStatus mps_processor_name(char *buffer, size_t capacity, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Get_processor_name");
    if (!buffer || capacity == 0) return reject(error, MPS_ERROR_INVALID_ARGUMENT, "MPI_Get_processor_name: no buffer");
    char name[MPI_MAX_PROCESSOR_NAME + 1] = "";
    int length = 0;
    MPSStatus status = check(MPI_Get_processor_name(name, &length), error, "MPI_Get_processor_name");
    if (status != MPS_OK) return status;
    snprintf(buffer, capacity, "%s", name);
    return MPS_OK;
}

MPSStatus mps_tag_upper_bound(int *value, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Comm_get_attr(MPI_TAG_UB)");
    // The attribute's value is a pointer to an int owned by the library.
    int *bound = NULL, found = 0;
    MPSStatus status = check(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &bound, &found), error,
                             "MPI_Comm_get_attr(MPI_TAG_UB)");
    if (status != MPS_OK) return status;
    *value = (found && bound) ? *bound : 32767;  // 32767: the least the standard allows
    return MPS_OK;
}

MPSStatus mps_barrier(MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Barrier");
    return check(MPI_Barrier(MPI_COMM_WORLD), error, "MPI_Barrier");
}

// MARK: - Point to point

MPSStatus mps_send(const void *bytes, size_t count, int destination, int tag, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Send");
    MPSStatus status = check_count(count, bytes, error, "MPI_Send");
    if (status == MPS_OK) status = check_envelope(destination, tag, 0, error, "MPI_Send");
    if (status != MPS_OK) return status;
    return check(MPI_Send(bytes, (int)count, MPI_BYTE, destination, tag, MPI_COMM_WORLD), error,
                 "MPI_Send of %zu bytes to rank %d with tag %d", count, destination, tag);
}

MPSStatus mps_recv(void *bytes, size_t capacity, int source, int tag, MPSMessageInfo *info, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Recv");
    // A buffer larger than INT_MAX bytes can still receive any message MPI can send: clamp it.
    int count = capacity > (size_t)INT_MAX ? INT_MAX : (int)capacity;
    MPSStatus status = check_count((size_t)count, bytes, error, "MPI_Recv");
    if (status == MPS_OK) status = check_envelope(source, tag, 1, error, "MPI_Recv");
    if (status != MPS_OK) return status;
    MPI_Status mpi_status;
    char from[32];
    status = check(MPI_Recv(bytes, count, MPI_BYTE, mpi_source(source), mpi_tag(tag), MPI_COMM_WORLD, &mpi_status),
                   error, "MPI_Recv into %d bytes from %s with tag %d", count, source_text(source, from, sizeof from), tag);
    if (status == MPS_OK) fill_info(info, &mpi_status);
    return status;
}

MPSStatus mps_probe(int source, int tag, MPSMessageInfo *info, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Probe");
    MPSStatus status = check_envelope(source, tag, 1, error, "MPI_Probe");
    if (status != MPS_OK) return status;
    MPI_Status mpi_status;
    char from[32];
    status = check(MPI_Probe(mpi_source(source), mpi_tag(tag), MPI_COMM_WORLD, &mpi_status), error,
                   "MPI_Probe from %s with tag %d", source_text(source, from, sizeof from), tag);
    if (status == MPS_OK) fill_info(info, &mpi_status);
    return status;
}

MPSStatus mps_iprobe(int source, int tag, int *found, MPSMessageInfo *info, MPSError *error) {
    clear(error);
    REQUIRE_ACTIVE(error, "MPI_Iprobe");
    MPSStatus status = check_envelope(source, tag, 1, error, "MPI_Iprobe");
    if (status != MPS_OK) return status;
    MPI_Status mpi_status;
    int flag = 0;
    char from[32];
    status = check(MPI_Iprobe(mpi_source(source), mpi_tag(tag), MPI_COMM_WORLD, &flag, &mpi_status), error,
                   "MPI_Iprobe from %s with tag %d", source_text(source, from, sizeof from), tag);
    if (status != MPS_OK) return status;
    *found = flag;
    if (flag) fill_info(info, &mpi_status);
    return MPS_OK;
}

// MARK: - Point to point, non-blocking

static MPSRequest *new_request(int is_receive) {
    MPSRequest *request = calloc(1, sizeof *request);
    if (request) {
        request->request = MPI_REQUEST_NULL;
        request->is_receive = is_receive;
    }
    return request;
}

MPSStatus mps_isend(const void *bytes, size_t count, int destination, int tag, MPSRequest **request,
                    MPSError *error) {
    clear(error);
    *request = NULL;
    REQUIRE_ACTIVE(error, "MPI_Isend");
    MPSStatus status = check_count(count, bytes, error, "MPI_Isend");
    if (status == MPS_OK) status = check_envelope(destination, tag, 0, error, "MPI_Isend");
    if (status != MPS_OK) return status;
    MPSRequest *pending = new_request(0);
    if (!pending) return reject(error, MPS_ERROR_MPI, "MPI_Isend: out of memory for a request");
    status = check(MPI_Isend(bytes, (int)count, MPI_BYTE, destination, tag, MPI_COMM_WORLD, &pending->request), error,
                   "MPI_Isend of %zu bytes to rank %d with tag %d", count, destination, tag);
    if (status != MPS_OK) { free(pending); return status; }
    // MPI leaves the envelope of a completed send undefined; report what was sent.
    pending->info = (MPSMessageInfo){ .source = destination, .tag = tag, .byte_count = count };
    *request = pending;
    return MPS_OK;
}

MPSStatus mps_irecv(void *bytes, size_t capacity, int source, int tag, MPSRequest **request, MPSError *error) {
    clear(error);
    *request = NULL;
    REQUIRE_ACTIVE(error, "MPI_Irecv");
    int count = capacity > (size_t)INT_MAX ? INT_MAX : (int)capacity;
    MPSStatus status = check_count((size_t)count, bytes, error, "MPI_Irecv");
    if (status == MPS_OK) status = check_envelope(source, tag, 1, error, "MPI_Irecv");
    if (status != MPS_OK) return status;
    MPSRequest *pending = new_request(1);
    if (!pending) return reject(error, MPS_ERROR_MPI, "MPI_Irecv: out of memory for a request");
    char from[32];
    status = check(MPI_Irecv(bytes, count, MPI_BYTE, mpi_source(source), mpi_tag(tag), MPI_COMM_WORLD, &pending->request),
                   error, "MPI_Irecv into %d bytes from %s with tag %d", count, source_text(source, from, sizeof from), tag);
    if (status != MPS_OK) { free(pending); return status; }
    *request = pending;
    return MPS_OK;
}

/// Records a completion reported by MPI_Test or MPI_Wait.
static void complete(MPSRequest *request, const MPI_Status *mpi_status) {
    request->complete = 1;
    if (request->is_receive) fill_info(&request->info, mpi_status);
}

/// After a failed MPI_Test or MPI_Wait: if MPI has released the request (it does for a failed
/// receive, e.g. a truncated one), it is over and must not be waited for again.
static MPSStatus failed(MPSRequest *request, MPSStatus status) {
    if (request->request == MPI_REQUEST_NULL) request->complete = 1;
    return status;
}

MPSStatus mps_test(MPSRequest *request, int *done, MPSMessageInfo *info, MPSError *error) {
    clear(error);
    if (!request) return reject(error, MPS_ERROR_INVALID_ARGUMENT, "MPI_Test: NULL request");
    if (!request->complete) {
        REQUIRE_ACTIVE(error, "MPI_Test");
        MPI_Status mpi_status;
        int flag = 0;
        MPSStatus status = check(MPI_Test(&request->request, &flag, &mpi_status), error, "MPI_Test of an %s",
                                 request->is_receive ? "MPI_Irecv" : "MPI_Isend");
        if (status != MPS_OK) return failed(request, status);
        if (flag) complete(request, &mpi_status);
    }
    *done = request->complete;
    if (request->complete && info) *info = request->info;
    return MPS_OK;
}

MPSStatus mps_wait(MPSRequest *request, MPSMessageInfo *info, MPSError *error) {
    clear(error);
    if (!request) return reject(error, MPS_ERROR_INVALID_ARGUMENT, "MPI_Wait: NULL request");
    if (!request->complete) {
        REQUIRE_ACTIVE(error, "MPI_Wait");
        MPI_Status mpi_status;
        MPSStatus status = check(MPI_Wait(&request->request, &mpi_status), error, "MPI_Wait of an %s",
                                 request->is_receive ? "MPI_Irecv" : "MPI_Isend");
        if (status != MPS_OK) return failed(request, status);
        complete(request, &mpi_status);
    }
    if (info) *info = request->info;
    return MPS_OK;
}

int mps_request_is_complete(const MPSRequest *request) { return request && request->complete; }

void mps_request_free(MPSRequest *request) {
    if (!request) return;
    if (!request->complete && request->request != MPI_REQUEST_NULL && active()) {
        // Cancelling a pending receive is allowed and prompt; a send cannot be taken back, and its
        // buffer must not be freed under MPI, so it is waited for.
        if (request->is_receive) MPI_Cancel(&request->request);
        MPI_Wait(&request->request, MPI_STATUS_IGNORE);
    }
    free(request);
}

// MARK: - CPU affinity

int mps_widen_cpu_affinity(int *allowed_before, int *allowed_after) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    if (allowed_before) *allowed_before = CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CPU_ZERO(&set);
    for (long cpu = 0; cpu < online && cpu < CPU_SETSIZE; cpu++) CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) return 0;
    if (allowed_after) *allowed_after = CPU_COUNT(&set);
    return 1;
#else
    (void)allowed_before; (void)allowed_after;
    return 0;
#endif
}
