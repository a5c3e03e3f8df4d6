import Foundation
import Testing
import _MPIShim
@testable import MessagePassing

/// The shim and the error mapping, in this process, without starting MPI (MPI_Init can run only
/// once per process and needs a launcher; everything that talks is tested under mpirun in MPICheckTests).
@Suite("_MPIShim and MPIError without MPI running")
struct MPIShimTests {
    @Test("a call before MPI starts is refused with a status and a message naming the call")
    func callBeforeInit() {
        #expect(mps_is_active() == 0)
        var error = MPSError()
        let bytes: [UInt8] = [1, 2, 3]
        #expect(mps_send(bytes, bytes.count, 1, 0, &error) == MPS_ERROR_STATE)
        #expect(message(of: error).hasPrefix("MPI_Send: MPI is not initialized"), "\(message(of: error))")
    }

    @Test("statuses map to the MPIError cases, keeping the shim's message")
    func statusMapping() {
        #expect(MPIError(record(MPS_ERROR_TRUNCATED, "MPI_Recv into 4 bytes")) == .truncated(message: "MPI_Recv into 4 bytes"))
        #expect(MPIError(record(MPS_ERROR_RANK, "MPI_Send: rank -2 is negative")) == .invalidArgument(message: "MPI_Send: rank -2 is negative"))
        #expect(MPIError(record(MPS_ERROR_MESSAGE_TOO_LARGE, "too large")) == .invalidArgument(message: "too large"))
        #expect(MPIError(record(MPS_ERROR_MPI, "MPI_Barrier: boom", errorClass: 16)) == .communication(errorClass: 16, message: "MPI_Barrier: boom"))
        #expect(MPIError(record(MPS_ERROR_STATE, "MPI_Init_thread: twice")) == .wrongState(message: "MPI_Init_thread: twice"))
    }

    @Test("every error names the fix", arguments: [
        (MPIError.notInstalled, "scripts/bootstrap"),
        (.notLaunchedByMPIRun, "mpirun -np N"),
        (.launchedWithoutDistributed(command: "train"), "--distributed"),
        (.launcherMismatch(launchedSize: 4, worldSize: 1), "Open MPI's mpirun"),
        (.messageTooLarge(byteCount: 3_000_000_000), "send it in parts"),
        (.invalidRank(5, size: 3), "0..<3"),
        (.threadLevel(provided: .single), "thread support"),
    ])
    func descriptions(error: MPIError, fix: String) {
        #expect(error.description.contains(fix), "\(error.description)")
    }
}

private func message(of error: MPSError) -> String {
    var error = error
    return withUnsafeBytes(of: &error.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
}

private func record(_ status: MPSStatus, _ text: String, errorClass: Int32 = 0) -> MPSError {
    var error = MPSError()
    error.status = status
    error.mpi_error_class = errorClass
    withUnsafeMutableBytes(of: &error.message) { raw in
        let bytes = Array(text.utf8.prefix(raw.count - 1)) + [0]
        raw.copyBytes(from: bytes)
    }
    return error
}
