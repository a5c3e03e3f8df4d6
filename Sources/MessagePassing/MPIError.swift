import _MPIShim

/// Everything that can go wrong with MPI, each with the thing and the fix.
///
/// Failures of MPI calls arrive from `_MPIShim` as a status and a message (the call, its arguments
/// and Open MPI's own text), mapped to the cases below in one place (`MPIError(_:)`).
public enum MPIError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No `mpirun` on the PATH.
    case notInstalled
    /// `MPIWorld()` in a process that no MPI launcher started.
    case notLaunchedByMPIRun
    /// A command that runs alone was started by mpirun without `--distributed` (thrown by commands,
    /// which know their flags; `MPIWorld` never throws it).
    case launchedWithoutDistributed(command: String)
    /// The launcher announced `launchedSize` processes but MPI sees a world of `worldSize`: the
    /// launcher belongs to another MPI library than the one this binary is linked with.
    case launcherMismatch(launchedSize: Int, worldSize: Int)
    /// A call at the wrong time: MPI initialized a second time (it starts once per process), or a
    /// call before `MPIWorld()` or after `finalize()`; the message names which.
    case wrongState(message: String)
    /// The library grants less than `MPI_THREAD_FUNNELED`.
    case threadLevel(provided: MPIThreadLevel)
    /// More bytes than one MPI message can carry (counts are `Int32`).
    case messageTooLarge(byteCount: Int)
    /// The incoming message was larger than the receive buffer.
    case truncated(message: String)
    /// A rank outside `0..<size`.
    case invalidRank(Int, size: Int)
    /// A tag outside `0...tagUpperBound`.
    case invalidTag(Int, upperBound: Int)
    /// An argument the shim rejected before it reached MPI.
    case invalidArgument(message: String)
    /// Any other MPI failure: MPI's error class and the message naming the call.
    case communication(errorClass: Int, message: String)

    public var description: String {
        switch self {
        case .notInstalled:
            return "MPI is not installed (no mpirun on the PATH): run scripts/bootstrap, which installs Debian's openmpi-bin and libopenmpi-dev"
        case .notLaunchedByMPIRun:
            return "this process was not started by mpirun: run it as `mpirun -np N a3c ...` (add --oversubscribe when N is larger than the number of cores; as root, set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)"
        case .launchedWithoutDistributed(let command):
            return "`a3c \(command)` was started by mpirun without --distributed: every rank would run alone. Add --distributed, or run it without mpirun"
        case .launcherMismatch(let launchedSize, let worldSize):
            return "the launcher started \(launchedSize) processes but MPI sees a world of \(worldSize): a3c is linked with Open MPI, so start it with Open MPI's mpirun (not MPICH's mpiexec or another MPI's launcher)"
        case .wrongState(let message):
            return "\(message): create one MPIWorld per process, keep it, and make every call between MPIWorld() and finalize()"
        case .threadLevel(let provided):
            return "the MPI library grants thread level \(provided), below the funneled level a communication thread next to the worker threads needs; use an MPI built with thread support (Debian's Open MPI is)"
        case .messageTooLarge(let byteCount):
            return "a message of \(byteCount) bytes is larger than one MPI message can carry (\(Int32.max) bytes): send it in parts"
        case .truncated(let message):
            return "a message was larger than its receive buffer (\(message)): probe first, or give each tag a fixed size"
        case .invalidRank(let rank, let size):
            return "rank \(rank) does not exist: this world has ranks 0..<\(size)"
        case .invalidTag(let tag, let upperBound):
            return "tag \(tag) is outside 0...\(upperBound)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .communication(_, let message):
            return "MPI error: \(message)"
        }
    }

    /// The error for a failed shim call.
    init(_ error: MPSError) {
        var error = error
        let message = withUnsafeBytes(of: &error.message) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        switch error.status {
        case MPS_ERROR_TRUNCATED: self = .truncated(message: message)
        case MPS_ERROR_STATE: self = .wrongState(message: message)
        case MPS_ERROR_INVALID_ARGUMENT, MPS_ERROR_MESSAGE_TOO_LARGE, MPS_ERROR_RANK, MPS_ERROR_TAG:
            self = .invalidArgument(message: message)
        default: self = .communication(errorClass: Int(error.mpi_error_class), message: message)
        }
    }
}

/// How much concurrency the MPI library allows (MPI's `MPI_THREAD_*`, in increasing order).
public enum MPIThreadLevel: Int, Comparable, CustomStringConvertible, Sendable {
    /// One thread in the process.
    case single = 0
    /// Many threads; only the one that initialized MPI calls it. What `MPIWorld` asks for.
    case funneled = 1
    /// Many threads call MPI, one at a time.
    case serialized = 2
    /// Any thread calls MPI at any time.
    case multiple = 3

    public static func < (a: MPIThreadLevel, b: MPIThreadLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .single: return "single"
        case .funneled: return "funneled"
        case .serialized: return "serialized"
        case .multiple: return "multiple"
        }
    }
}
