import ArgumentParser
import Foundation
import MessagePassing

/// `mpirun -np N a3c mpi-check`: checks that the ranks of an mpirun can talk before a distributed
/// run: where each rank runs, round trips of a parameter-sized buffer (MB/s), and every byte intact.
struct MPICheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-check",
        abstract: "Check MPI across the ranks of an mpirun: hosts, 4.8 MB round trips (MB/s), bytes intact.",
        discussion: """
        Run it under Open MPI's mpirun, e.g. `mpirun -np 2 a3c mpi-check` on one machine or \
        `mpirun -np 4 --host a,b a3c mpi-check` across two (a3c at the same path on each). Rank 0 \
        prints the summary; the exit status is 0 when every message arrived intact.
        """
    )

    @Option(help: "Floats per message (default: 1,200,000, about the network's parameters: 4.8 MB).")
    var floats = 1_200_000

    @Option(help: "Round trips from rank 0 to each other rank, and exchanges per rank when all talk at once.")
    var roundTrips = 10

    @Option(help: "Seconds after which a rank that is still waiting ends the job (exit status 3), so a hang fails instead of hanging.")
    var timeout = 60.0

    @Option(help: .hidden)
    var holdSeconds = 0.0

    func validate() throws {
        guard floats >= 4, floats <= Int(Int32.max) / 4 else {
            throw ValidationError("--floats must be in 4...\(Int(Int32.max) / 4) (one MPI message), got \(floats)")
        }
        guard roundTrips >= 1 else { throw ValidationError("--round-trips must be at least 1, got \(roundTrips)") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)") }
        guard holdSeconds >= 0, holdSeconds.isFinite else { throw ValidationError("--hold-seconds must be 0 or more, got \(holdSeconds)") }
    }

    func run() throws {
        guard MPIWorld.isLaunchedByMPIRun else { throw MPICheckFailure(description: MPICheckCommand.howToRun()) }
        resetTerminationSignals()
        let label = MPIWorld.launchEnvironment?.rank.map { "rank \($0)" } ?? "a rank"
        let watchdog = MPICheckCommand.watchdog(seconds: timeout + holdSeconds, label: label)
        defer { watchdog.cancel() }

        let start = DispatchTime.now().uptimeNanoseconds
        let world: MPIWorld
        do { world = try MPIWorld() } catch { throw MPICheckFailure(description: "\(label): \(error)") }
        let initSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "mpi-check: rank %d of %d on %@, pid %d, MPI started in %.3f s",
                     world.rank, world.size, world.hostName, getpid(), initSeconds))
        fflush(stdout)

        let report: MPICheck.Report?
        do {
            report = try MPICheck.run(world: world, floats: floats, roundTrips: roundTrips, initSeconds: initSeconds)
            if let report { print(MPICheckCommand.summary(report, world: world)) }
            if holdSeconds > 0 {
                print("mpi-check: rank \(world.rank) holding for \(holdSeconds) s")
                fflush(stdout)
                try MPICheck.hold(world: world, floats: floats, seconds: holdSeconds)
            }
            fflush(stdout)
            try world.barrier()
            try world.finalize()
        } catch {
            fputs("mpi-check: rank \(world.rank) on \(world.hostName): \(error)\n", stderr)
            world.abort(code: 1)
        }
        if let report, !report.passed { throw ExitCode(1) }
    }

    /// What to type, when a3c mpi-check was started without mpirun.
    static func howToRun() -> String {
        if MPIWorld.mpirunPath() == nil { return MPIError.notInstalled.description }
        return """
        mpi-check runs under mpirun, one process per rank:
            mpirun -np 2 a3c mpi-check                      # two ranks on this machine
            mpirun -np 4 --host a,b a3c mpi-check           # across machines a and b (a3c at the same path)
        Add --oversubscribe for more ranks than cores; as root, set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
        """
    }

    /// Rank 0's summary: hosts, round trips, the all-at-once exchange, and the verdict.
    static func summary(_ report: MPICheck.Report, world: MPIWorld) -> String {
        let megabytes = Double(report.bytesPerMessage) / 1e6
        var lines = ["mpi-check: \(world.size) rank\(world.size == 1 ? "" : "s"), \(MPIWorld.libraryVersion), thread level \(world.threadLevel)"]
        for rank in report.ranks {
            lines.append(String(format: "  rank %d: %@, pid %d, MPI started in %.3f s", rank.rank, rank.host, rank.pid, rank.initSeconds))
        }
        if world.size == 1 {
            lines.append("only one rank: nothing to send; run it with -np 2 or more")
        }
        let hostOf = Dictionary(uniqueKeysWithValues: report.ranks.map { ($0.rank, $0.host) })
        if !report.roundTrips.isEmpty {
            lines.append(String(format: "round trips of %.1f MB from rank 0 (MB/s = both ways / time):", megabytes))
        }
        for trips in report.roundTrips {
            lines.append(String(format: "  rank 0 <-> rank %d (%@): median %.2f ms, best %.2f ms, %.0f MB/s over %d round trips",
                                trips.rank, hostOf[trips.rank] ?? "?", trips.median * 1e3, trips.best * 1e3,
                                2 * Double(report.bytesPerMessage) / trips.median / 1e6, trips.seconds.count))
            lines.append(String(format: "  rank 0 <-> rank %d, sleeping between polls (up to %.1f ms) as training does: median %.2f ms",
                                trips.rank, MPICheck.polledInterval * 1e3, trips.polledMedian * 1e3))
        }
        if report.exchanges > 0 {
            lines.append(String(format: "all at once, gradients up and parameters down (each verified on arrival): %d exchanges in %.3f s, %.2f ms each, %.0f MB/s through rank 0",
                                report.exchanges, report.exchangeSeconds, report.exchangeSeconds / Double(report.exchanges) * 1e3,
                                2 * Double(report.bytesPerMessage) * Double(report.exchanges) / report.exchangeSeconds / 1e6))
        }
        if report.passed {
            lines.append("ok: every message arrived intact")
        } else {
            lines.append("FAILED: \(report.failures.count) message(s) did not arrive intact:")
            lines += report.failures.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// Ends this rank with status 3 if the check is not over within `seconds`; mpirun then ends the others.
    private static func watchdog(seconds: Double, label: String) -> DispatchWorkItem {
        let item = DispatchWorkItem {
            fputs("mpi-check: \(label) still waiting after \(seconds) s; ending the job (is a rank stuck or unreachable?)\n", stderr)
            _exit(3)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
        return item
    }
}

/// A failure mpi-check reports as such (exit status 1), its description the whole message.
struct MPICheckFailure: Error, CustomStringConvertible {
    let description: String
}
