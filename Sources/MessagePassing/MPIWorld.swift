import Foundation
import _MPIShim

/// The processes of one `mpirun`, seen from one of them: MPI_COMM_WORLD.
///
/// Create it once per process, on the thread that will make every MPI call (MPI_THREAD_FUNNELED:
/// worker threads compute, one communication thread talks). Every method checks that it runs on
/// that thread (a `precondition`: calling from another thread is a programmer error).
///
/// Messages are raw bytes. Both ends must agree on their layout, which holds between ranks of the
/// same binary on the same architecture (Floats travel as their IEEE bytes).
///
/// Ordering: MPI messages are non-overtaking. Two messages from the same sender to the same
/// receiver, both matching a receive (same tag, or a wildcard), arrive in the order they were sent.
/// Nothing orders messages from different senders.
///
/// Failure: Debian's Open MPI 4.1 has no fault tolerance (no ULFM). When a rank dies, mpirun ends
/// the others: SIGCONT at once, SIGTERM 1 s later, SIGKILL 1 s after that (the MCA parameter
/// `odls_base_sigkill_timeout`, in seconds, sets both delays). A rank that exits without
/// `finalize()` (even with status 0) counts as dead. A survivor blocked in a receive from the dead
/// rank gets no error before those signals end it.
///
/// Signals (Open MPI 4.1's mpirun): each rank runs in its own process group, so Ctrl-C in the
/// terminal reaches mpirun only. On SIGINT or SIGTERM mpirun ends the job as above (SIGCONT, SIGTERM
/// 1 s later, SIGKILL 1 s after that): a rank never sees SIGINT and has 1 s between SIGTERM and
/// SIGKILL to save its work. SIGUSR1 and SIGUSR2 sent to mpirun are forwarded to every rank.
/// A rank's stdout is a pipe to mpirun: flush after each line that must show at once.
///
/// Typical use, on the communication thread:
///
///     let world = try MPIWorld()
///     if world.rank == 0 {
///         let message = try world.receive(floats: gradients.buffer, tag: Tag.gradients)  // any rank
///         try world.send(floats: UnsafeBufferPointer(parameters.buffer), to: message.source, tag: Tag.parameters)
///     } else { ... }
///     try world.finalize()
public final class MPIWorld {
    /// This process's rank, in `0..<size`.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    /// The host this rank runs on (MPI_Get_processor_name).
    public let hostName: String
    /// The thread level the library granted: at least `.funneled` (else `init` throws).
    public let threadLevel: MPIThreadLevel
    /// The largest tag MPI accepts here (MPI_TAG_UB: `Int32.max` in Open MPI 4.1, at least 32767 anywhere).
    public let tagUpperBound: Int
    /// True once `finalize()` has run; no MPI call is allowed after it.
    public private(set) var isFinalized = false

    private let thread: pthread_t
    /// One error record for every call (all calls come from one thread); MPIRequest uses it too.
    let error: UnsafeMutablePointer<MPSError>

    // MARK: - Launch environment (no MPI call)

    /// True if an MPI launcher started this process (Open MPI's mpirun, a PMIx launcher such as
    /// `srun --mpi=pmix`, or MPICH's Hydra), read from the environment it sets
    /// (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK). Safe before `MPIWorld()`, from any thread.
    public static var isLaunchedByMPIRun: Bool { mps_launch_environment(nil, nil) != 0 }

    /// The rank and size the launcher announced (nil where it announces none), or nil if no launcher
    /// started this process. Lets a process know its rank before starting MPI.
    public static var launchEnvironment: (rank: Int?, size: Int?)? {
        var rank: Int32 = -1, size: Int32 = -1
        guard mps_launch_environment(&rank, &size) != 0 else { return nil }
        return (rank >= 0 ? Int(rank) : nil, size >= 0 ? Int(size) : nil)
    }

    /// Undoes mpirun's binding of this process to a core (see `mps_widen_cpu_affinity`): a rank runs
    /// worker threads and engine processes that must share the host's cores. Call it before starting
    /// any thread or engine. Returns the CPUs allowed before and after, or nil if nothing changed.
    public static func widenCPUAffinity() -> (before: Int, after: Int)? {
        var before: Int32 = 0, after: Int32 = 0
        guard mps_widen_cpu_affinity(&before, &after) != 0, before != after else { return nil }
        return (Int(before), Int(after))
    }

    /// The MPI library's version text, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...".
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: 512)
        mps_library_version(&buffer, buffer.count)
        return String(cString: buffer)
    }

    /// The `mpirun` found on `PATH`, or nil.
    public static func mpirunPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let directories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    // MARK: - Lifetime

    /// Starts MPI on the calling thread (MPI_Init_thread with MPI_THREAD_FUNNELED) with errors
    /// returned rather than fatal. Collective: returns once every rank has started (0.23 s with
    /// Debian's Open MPI 4.1 on one host, most of it spent probing network libraries for the `cm`
    /// and `ucx` transports; `mpirun --mca pml ob1`, shared memory and TCP only, takes 0.035 s).
    ///
    /// Throws `notLaunchedByMPIRun` without a launcher: Open MPI would start a one-rank world by
    /// forking an `orted` daemon, which is never what a3c wants. Throws `wrongState` on a
    /// second call in the process. If it throws after MPI started (`threadLevel`,
    /// `launcherMismatch`), exit the process: mpirun then ends the job.
    public init() throws {
        guard MPIWorld.isLaunchedByMPIRun else { throw MPIError.notLaunchedByMPIRun }
        error = .allocate(capacity: 1)
        error.initialize(to: MPSError())
        thread = pthread_self()
        var provided = MPS_THREAD_SINGLE
        var rank: Int32 = 0, size: Int32 = 0, tagUpperBound: Int32 = 0
        var name = [CChar](repeating: 0, count: 257)
        do {
            let status = mps_init(&provided, error)
            if status == MPS_ERROR_THREAD_LEVEL {
                throw MPIError.threadLevel(provided: MPIThreadLevel(rawValue: Int(provided.rawValue)) ?? .single)
            }
            if status != MPS_OK { throw MPIError(error.pointee) }
            try MPIWorld.check(mps_rank(&rank, error), error)
            try MPIWorld.check(mps_size(&size, error), error)
            try MPIWorld.check(mps_tag_upper_bound(&tagUpperBound, error), error)
            try MPIWorld.check(mps_processor_name(&name, name.count, error), error)
        } catch {
            self.error.deallocate()
            throw error
        }
        self.rank = Int(rank)
        self.size = Int(size)
        self.tagUpperBound = Int(tagUpperBound)
        self.hostName = String(cString: name)
        self.threadLevel = MPIThreadLevel(rawValue: Int(provided.rawValue)) ?? .single
        // Another MPI's launcher starts N processes that each see a world of one.
        if let launched = MPIWorld.launchEnvironment?.size, launched != self.size {
            throw MPIError.launcherMismatch(launchedSize: launched, worldSize: self.size)
        }
    }

    deinit { error.deallocate() }

    /// Ends MPI (MPI_Finalize). Collective: returns when every rank has called it. Call it before
    /// the process exits; pending requests must be complete.
    public func finalize() throws {
        _checkThread()
        precondition(!isFinalized, "MPIWorld.finalize() called twice")
        isFinalized = true
        try check(mps_finalize(error))
    }

    /// Ends the whole job at once (MPI_Abort): mpirun sends every rank SIGCONT and SIGTERM
    /// immediately and SIGKILL about 1 s later, and exits with `code`. Never returns.
    public func abort(code: Int32) -> Never {
        _checkThread()
        mps_abort(code)
    }

    /// Waits until every rank has called `barrier()` (MPI_Barrier).
    public func barrier() throws {
        _checkThread()
        try check(mps_barrier(error))
    }

    // MARK: - Blocking point to point

    /// Sends `bytes` to rank `destination` with `tag` (MPI_Send). Returns when `bytes` may be
    /// reused: at once for small messages (Open MPI buffers up to 4 KB over shared memory, 64 KB over
    /// TCP), when the receiver has matched the message for larger ones. At most `Int32.max` bytes.
    public func send(bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
        try _checkSend(byteCount: bytes.count, to: destination, tag: tag)
        try check(mps_send(bytes.baseAddress, bytes.count, Int32(destination), Int32(tag), error))
    }

    /// Sends a copy of `bytes` (convenience for small messages such as text and statistics).
    public func send(bytes: [UInt8], to destination: Int, tag: Int) throws {
        try bytes.withUnsafeBytes { try send(bytes: $0, to: destination, tag: tag) }
    }

    /// Sends `floats` as `4 * floats.count` bytes (a gradient or a parameter vector).
    public func send(floats: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws {
        try send(bytes: UnsafeRawBufferPointer(floats), to: destination, tag: tag)
    }

    /// Receives one message into `buffer` (MPI_Recv) from rank `source` (nil: any rank) with `tag`
    /// (nil: any tag), blocking until it has arrived. Returns its envelope; `byteCount` bytes at the
    /// start of `buffer` hold it. A message larger than the buffer throws `truncated`.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, from source: Int? = nil, tag: Int? = nil) throws -> MPIMessage {
        try _checkMatch(from: source, tag: tag)
        var info = MPSMessageInfo()
        try check(mps_recv(buffer.baseAddress, buffer.count, Int32(source ?? Int(MPS_ANY_SOURCE)),
                           Int32(tag ?? Int(MPS_ANY_TAG)), &info, error))
        return MPIMessage(info)
    }

    /// Receives one message of Floats into `floats` (`message.byteCount / 4` of them).
    public func receive(floats: UnsafeMutableBufferPointer<Float>, from source: Int? = nil, tag: Int? = nil) throws -> MPIMessage {
        try receive(into: UnsafeMutableRawBufferPointer(floats), from: source, tag: tag)
    }

    /// Receives one message of any size into a new array (probe, then receive exactly that message:
    /// with one communication thread no other receive can take it in between).
    public func receiveBytes(from source: Int? = nil, tag: Int? = nil) throws -> (message: MPIMessage, bytes: [UInt8]) {
        let envelope = try probe(from: source, tag: tag)
        var bytes = [UInt8](repeating: 0, count: envelope.byteCount)
        let message = try bytes.withUnsafeMutableBytes { try receive(into: $0, from: envelope.source, tag: envelope.tag) }
        return (message, bytes)
    }

    /// Blocks until a message from `source` (nil: any) with `tag` (nil: any) can be received, and
    /// returns its envelope without receiving it (MPI_Probe). The next matching `receive` gets it.
    public func probe(from source: Int? = nil, tag: Int? = nil) throws -> MPIMessage {
        try _checkMatch(from: source, tag: tag)
        var info = MPSMessageInfo()
        try check(mps_probe(Int32(source ?? Int(MPS_ANY_SOURCE)), Int32(tag ?? Int(MPS_ANY_TAG)), &info, error))
        return MPIMessage(info)
    }

    /// `probe` without spinning. Open MPI's blocking calls busy-poll: a rank waiting in `probe` or
    /// `receive` keeps a core busy (92% of one measured here, for a rank that waited 5 s). This one
    /// asks with `tryProbe` every `pollInterval` seconds and sleeps in between (5% of a core at
    /// 0.0002 s, 2% at 0.001 s), at the cost of up to `pollInterval` of latency. For waiting until a
    /// peer has something to say; the `receive` that follows spins only while the data moves.
    public func probe(from source: Int? = nil, tag: Int? = nil, pollInterval: Double) throws -> MPIMessage {
        precondition(pollInterval >= 0 && pollInterval.isFinite, "pollInterval must be a number of seconds >= 0, got \(pollInterval)")
        let microseconds = useconds_t(min(pollInterval * 1e6, 1e9))
        while true {
            if let message = try tryProbe(from: source, tag: tag) { return message }
            usleep(microseconds)
        }
    }

    /// The envelope of a matching message if one is waiting, else nil, without blocking (MPI_Iprobe).
    /// Polling it also lets MPI progress the transfers in flight.
    public func tryProbe(from source: Int? = nil, tag: Int? = nil) throws -> MPIMessage? {
        try _checkMatch(from: source, tag: tag)
        var info = MPSMessageInfo()
        var found: Int32 = 0
        try check(mps_iprobe(Int32(source ?? Int(MPS_ANY_SOURCE)), Int32(tag ?? Int(MPS_ANY_TAG)), &found, &info, error))
        return found != 0 ? MPIMessage(info) : nil
    }

    // MARK: - Non-blocking point to point

    /// Starts sending `bytes` (MPI_Isend) and returns at once. `bytes` belongs to MPI until the
    /// request completes: keep the memory alive and unchanged until `wait()` returns or `test()`
    /// returns a message.
    public func startSend(bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws -> MPIRequest {
        try _checkSend(byteCount: bytes.count, to: destination, tag: tag)
        var request: OpaquePointer?
        try check(mps_isend(bytes.baseAddress, bytes.count, Int32(destination), Int32(tag), &request, error))
        return MPIRequest(request!, world: self)
    }

    /// `startSend` of `4 * floats.count` bytes.
    public func startSend(floats: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> MPIRequest {
        try startSend(bytes: UnsafeRawBufferPointer(floats), to: destination, tag: tag)
    }

    /// Starts receiving into `buffer` (MPI_Irecv) and returns at once. Posting the receive before the
    /// matching send arrives lets a large message land directly in `buffer`. `buffer` belongs to MPI
    /// until the request completes.
    public func startReceive(into buffer: UnsafeMutableRawBufferPointer, from source: Int? = nil, tag: Int? = nil) throws -> MPIRequest {
        try _checkMatch(from: source, tag: tag)
        var request: OpaquePointer?
        try check(mps_irecv(buffer.baseAddress, buffer.count, Int32(source ?? Int(MPS_ANY_SOURCE)),
                            Int32(tag ?? Int(MPS_ANY_TAG)), &request, error))
        return MPIRequest(request!, world: self)
    }

    /// `startReceive` into Floats.
    public func startReceive(floats: UnsafeMutableBufferPointer<Float>, from source: Int? = nil, tag: Int? = nil) throws -> MPIRequest {
        try startReceive(into: UnsafeMutableRawBufferPointer(floats), from: source, tag: tag)
    }

    // MARK: - Point to point without spinning

    /// `send` that sleeps while it waits instead of spinning (`startSend`, then
    /// `MPIRequest.wait(pollInterval:)`): for a thread that shares the host's cores with busy ones.
    public func send(bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, pollInterval: Double) throws {
        try startSend(bytes: bytes, to: destination, tag: tag).wait(pollInterval: pollInterval)
    }

    /// `send(bytes:to:tag:pollInterval:)` of a copy of `bytes`.
    public func send(bytes: [UInt8], to destination: Int, tag: Int, pollInterval: Double) throws {
        try bytes.withUnsafeBytes { try send(bytes: $0, to: destination, tag: tag, pollInterval: pollInterval) }
    }

    /// `send(bytes:to:tag:pollInterval:)` of `4 * floats.count` bytes.
    public func send(floats: UnsafeBufferPointer<Float>, to destination: Int, tag: Int, pollInterval: Double) throws {
        try send(bytes: UnsafeRawBufferPointer(floats), to: destination, tag: tag, pollInterval: pollInterval)
    }

    /// `receive(floats:from:tag:)` that sleeps while it waits instead of spinning (`startReceive`,
    /// then `MPIRequest.wait(pollInterval:)`).
    public func receive(floats: UnsafeMutableBufferPointer<Float>, from source: Int? = nil, tag: Int? = nil,
                        pollInterval: Double) throws -> MPIMessage {
        try startReceive(floats: floats, from: source, tag: tag).wait(pollInterval: pollInterval)
    }

    /// `receiveBytes(from:tag:)` that sleeps while it waits instead of spinning.
    public func receiveBytes(from source: Int? = nil, tag: Int? = nil, pollInterval: Double) throws -> (message: MPIMessage, bytes: [UInt8]) {
        let envelope = try probe(from: source, tag: tag, pollInterval: pollInterval)
        var bytes = [UInt8](repeating: 0, count: envelope.byteCount)
        let message = try bytes.withUnsafeMutableBytes {
            try startReceive(into: $0, from: envelope.source, tag: envelope.tag).wait(pollInterval: pollInterval)
        }
        return (message, bytes)
    }

    // MARK: - Checks

    /// Throws the error a shim call left in `error` if its status is not OK.
    func check(_ status: MPSStatus) throws {
        try MPIWorld.check(status, error)
    }

    private static func check(_ status: MPSStatus, _ error: UnsafeMutablePointer<MPSError>) throws {
        if status != MPS_OK { throw MPIError(error.pointee) }
    }

    /// Every MPI call comes from the thread that created the world, and none after `finalize()`.
    func _checkThread() {
        precondition(pthread_equal(pthread_self(), thread) != 0,
                     "MPIWorld used from a thread other than the one that created it (MPI_THREAD_FUNNELED)")
        precondition(!isFinalized, "MPIWorld used after finalize()")
    }

    private func _checkSend(byteCount: Int, to destination: Int, tag: Int) throws {
        _checkThread()
        guard byteCount <= Int(Int32.max) else { throw MPIError.messageTooLarge(byteCount: byteCount) }
        guard (0..<size).contains(destination) else { throw MPIError.invalidRank(destination, size: size) }
        guard (0...tagUpperBound).contains(tag) else { throw MPIError.invalidTag(tag, upperBound: tagUpperBound) }
    }

    private func _checkMatch(from source: Int?, tag: Int?) throws {
        _checkThread()
        if let source, !(0..<size).contains(source) { throw MPIError.invalidRank(source, size: size) }
        if let tag, !(0...tagUpperBound).contains(tag) { throw MPIError.invalidTag(tag, upperBound: tagUpperBound) }
    }
}

/// An MPIWorld belongs to the thread that created it.
@available(*, unavailable)
extension MPIWorld: Sendable {}
