import Foundation
import Testing
import A3CTestSupport
import MessagePassing

private func mpirun() throws -> URL { try mpirunExecutable() }
private let mpiEnvironment = mpirunEnvironment

@Suite("a3c mpi-check under mpirun", .serialized)
struct MPICheckTests {
    @Test("without mpirun, mpi-check says how to run it and fails")
    func withoutMPIRun() throws {
        let result = try runA3C(["mpi-check"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.output.contains("mpirun -np 2 a3c mpi-check"), "\(result.output)")
    }

    @Test("every rank reports its host, 4.8 MB round trips to every rank arrive intact", arguments: [2, 3])
    func ranksTalk(ranks: Int) throws {
        // The ranks' own watchdog (--timeout) ends a hung job; the test's timeout is the last resort.
        let result = try runProcess(try mpirun(), try mpirunArguments(ranks: ranks, ["mpi-check", "--round-trips", "3", "--timeout", "90"]),
                                    environment: mpiEnvironment, timeout: 120)
        #expect(result.status == 0, "mpirun -np \(ranks) a3c mpi-check failed (\(result.status)):\n\(result.output)")
        for rank in 0..<ranks {
            #expect(result.output.contains("mpi-check: rank \(rank) of \(ranks) on "), "rank \(rank) did not report:\n\(result.output)")
            #expect(result.output.contains("  rank \(rank): "), "rank 0's summary misses rank \(rank):\n\(result.output)")
        }
        for peer in 1..<ranks {
            #expect(result.output.contains("rank 0 <-> rank \(peer) "), "no round trips with rank \(peer):\n\(result.output)")
            #expect(result.output.contains("rank 0 <-> rank \(peer), sleeping between polls"), "no polled round trips with rank \(peer):\n\(result.output)")
        }
        #expect(result.output.contains("round trips of 4.8 MB"))
        #expect(result.output.contains("ok: every message arrived intact"), "\(result.output)")
        print(result.output)
    }

    @Test("when one rank is SIGKILLed mid-transfer, mpirun ends the others within 30 s")
    func rankKilled() throws {
        let ranks = 3
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-mpi-kill-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = try mpirun()
        process.arguments = try mpirunArguments(ranks: ranks, ["mpi-check", "--round-trips", "2", "--hold-seconds", "120", "--timeout", "60"])
        process.environment = ProcessInfo.processInfo.environment.merging(mpiEnvironment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        var pids: [Int: Int32] = [:]
        defer {
            // Whatever happened, leave no mpirun and no rank behind.
            if process.isRunning {
                process.terminate()
                if !waitFor(15, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            }
            process.waitUntilExit()
            for pid in pids.values where isAlive(pid) { kill(pid, SIGKILL) }
        }
        func text() -> String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        // Every rank holding: rank 0 is sending 4.8 MB buffers to the others in turn.
        let holding = waitFor(120) {
            (0..<ranks).allSatisfy { text().contains("mpi-check: rank \($0) holding") } || !process.isRunning
        }
        pids = rankPids(in: text())
        try #require(holding && process.isRunning && pids.count == ranks, "the ranks did not all start holding:\n\(text())")

        let killed = Date()
        kill(pids[1]!, SIGKILL)
        let ended = waitFor(30) { !process.isRunning }
        let seconds = Date().timeIntervalSince(killed)
        #expect(ended, "mpirun still runs 30 s after rank 1 was SIGKILLed:\n\(text())")
        process.waitUntilExit()
        #expect(process.terminationStatus != 0, "mpirun reported success after a rank died:\n\(text())")
        let survivors = pids.filter { isAlive($0.value) }
        #expect(survivors.isEmpty, "ranks still alive after mpirun ended: \(survivors)")
        print(String(format: "rank 1 SIGKILLed: mpirun and the other ranks ended %.2f s later (mpirun status %d)",
                     seconds, process.terminationStatus))
    }

    @Test("MPIWorld outside mpirun: no launcher seen, init refuses with the fix, the library is Open MPI")
    func outsideMPIRun() throws {
        try #require(!MPIWorld.isLaunchedByMPIRun, "the test process itself runs under an MPI launcher")
        #expect(MPIWorld.launchEnvironment == nil)
        #expect(throws: MPIError.notLaunchedByMPIRun) { _ = try MPIWorld() }
        #expect(MPIError.notLaunchedByMPIRun.description.contains("mpirun -np N"))
        #expect(MPIError.notInstalled.description.contains("scripts/bootstrap"))
        #expect(MPIWorld.libraryVersion.hasPrefix("Open MPI v4"), "\(MPIWorld.libraryVersion)")
        #expect(MPIWorld.mpirunPath() != nil)
        #expect(MPIWorld.mpirunPath(environment: ["PATH": "/nonexistent"]) == nil)
    }
}

/// "mpi-check: rank R of N on HOST, pid P, ..." lines: rank -> pid.
private func rankPids(in output: String) -> [Int: Int32] {
    var pids: [Int: Int32] = [:]
    for line in output.split(separator: "\n") where line.hasPrefix("mpi-check: rank ") && line.contains(", pid ") {
        let words = line.split(separator: " ")
        guard let rank = Int(words[2]), let index = words.firstIndex(of: "pid"), index + 1 < words.count,
              let pid = Int32(words[index + 1].trimmingCharacters(in: CharacterSet(charactersIn: ","))) else { continue }
        pids[rank] = pid
    }
    return pids
}

/// True if `pid` is a live process (a zombie waiting to be reaped counts as dead).
private func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
}
