// `mpirun -np N a3c train --distributed` on localhost with real engines: the ranks train together,
// every update is applied once, every rank ends with rank 0's parameters, the run directory is
// complete; a SIGKILLed rank ends the job with nothing left behind, and --resume continues with
// another N.
import Foundation
import NeuralCore
import Telemetry
import TelemetryTestSupport
import Testing
import ViZDoom
import A3CTestSupport
@testable import Training

/// The run directory under `logdir`, or nil while there is none (a poll must not record an issue,
/// as `#require` would when rank 0 has made the log directory but not yet the run's).
private func existingRunDirectory(in logdir: URL) -> URL? {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: logdir.path)) ?? []
    return names.first { $0.contains("__a3c__") }.map { logdir.appendingPathComponent($0) }
}

/// The run directory under `logdir` (there is one).
private func runDirectory(in logdir: URL) throws -> URL {
    try #require(existingRunDirectory(in: logdir), "no run directory in \(logdir.path)")
}

@Suite("Distributed training under mpirun", .serialized)
struct DistributedTrainingTests {
    /// One worker of one environment per rank: the smallest job (2 and 3 ranks share 2 cores here).
    private static let small = ["--workers", "1", "--envs-per-worker", "1", "--gif-every", "0", "--quiet",
                                "--checkpoint-every", "20", "--checkpoint-min-seconds", "0"]

    @Test("2 and 3 ranks train one run: every update applied once, every rank holds the final parameters, the run directory complete",
          arguments: [2, 3])
    func ranksTrainTogether(ranks: Int) throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-mpi-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let before = EngineHygiene.liveInstanceIds()
        let result = try runProcess(try mpirunExecutable(),
                                    try mpirunArguments(ranks: ranks, ["train", "--distributed", "--max-frames", "16000",
                                                                       "--logdir", logdir.path] + Self.small),
                                    environment: mpirunEnvironment, timeout: 240)
        #expect(result.status == 0, "mpirun -np \(ranks) a3c train --distributed failed (\(result.status)):\n\(result.output)")
        // Rank 0's account of the other ranks: counts and final parameters.
        for rank in 1..<ranks {
            #expect(result.output.range(of: "rank \(rank): (\\d+) updates sent, \\1 applied; holds the final parameters",
                                        options: .regularExpression) != nil, "rank \(rank):\n\(result.output)")
        }
        #expect(result.output.contains("every rank's updates were applied once, and every rank holds the final parameters"))

        // The run directory: config, episodes of every rank, readable events, checkpoints.
        let run = try runDirectory(in: logdir)
        let (_, configuration) = try RunDirectory.open(run.path)
        #expect(configuration.distributed)
        let rows = try CSVReader.read(run.appendingPathComponent(RunDirectory.episodesFile))
        #expect(rows.first == RunDirectory.episodesHeader(metrics: configuration.metrics, distributed: true))
        #expect(Set(rows.dropFirst().map { $0[0] }) == Set((0..<ranks).map(String.init)), "episodes of every rank")
        let events = try EventFileReader.events(at: try #require(try EventFileReader.eventFiles(in: run).first))
        #expect(events.contains { $0.scalars.contains { $0.tag == "Perf/Reward" } })
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(LearningCurves.fileName).path))
        // Counts add up: the updates the job counted (rank 0's and every rank's acknowledged ones) are
        // the updates the global parameters received.
        let store = CheckpointStore(runDirectory: run, keep: 5)
        let last = try #require(store.checkpoints().last)
        let counters = try CheckpointStore.counters(in: last)
        let model = try SafeTensors.read(from: last.appendingPathComponent(CheckpointStore.modelFile))
        #expect(model.metadata["a3c.update_count"] == String(counters.updates), "\(model.metadata) vs \(counters.updates)")
        #expect(counters.frames >= 16_000)
        // Nothing left behind.
        #expect(waitFor(10) { EngineHygiene.liveInstanceIds().subtracting(before).isEmpty }, "engines outlived the job")
    }

    @Test("a SIGKILLed rank ends the job within 30 s, leaves no engine or segment, and --resume continues with another N")
    func killedRank() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-mpi-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let before = EngineHygiene.liveInstanceIds()
        let mpirun = Process()
        mpirun.executableURL = try mpirunExecutable()
        mpirun.arguments = try mpirunArguments(ranks: 2, ["train", "--distributed", "--max-minutes", "5", "--logdir", logdir.path]
                                                + Self.small)
        mpirun.environment = ProcessInfo.processInfo.environment.merging(mpirunEnvironment) { $1 }
        mpirun.standardOutput = FileHandle.nullDevice
        mpirun.standardError = FileHandle.nullDevice
        try mpirun.run()
        var ranks: [Int: Int32] = [:]
        defer {
            if mpirun.isRunning { kill(mpirun.processIdentifier, SIGKILL) }
            for pid in ranks.values { kill(pid, SIGKILL) }
        }
        func checkpoints() -> [URL] {
            guard let run = existingRunDirectory(in: logdir) else { return [] }
            return CheckpointStore(runDirectory: run, keep: 5).checkpoints()
        }
        #expect(waitFor(90) { checkpoints().count >= 2 }, "no checkpoints were written")
        for pid in childProcesses(of: mpirun.processIdentifier) { if let rank = mpiRank(of: pid) { ranks[rank] = pid } }
        let rank1 = try #require(ranks[1], "rank 1 not found among mpirun's children")
        let engines = EngineHygiene.liveInstanceIds().subtracting(before)
        #expect(!engines.isEmpty)
        let killed = Date()
        kill(rank1, SIGKILL)
        #expect(waitFor(30) { !mpirun.isRunning }, "the job outlived its killed rank by 30 s")
        mpirun.waitUntilExit()
        print("the job ended \(String(format: "%.1f", Date().timeIntervalSince(killed))) s after rank 1 was killed (status \(mpirun.terminationStatus))")
        #expect(mpirun.terminationStatus != 0)
        #expect(waitFor(10) {
            let live = EngineHygiene.liveInstanceIds()
            return engines.allSatisfy { !live.contains($0) && EngineHygiene.segments(ofInstance: $0).isEmpty }
        }, "engines or segments outlived the job: \(engines)")

        // Rank 0's last checkpoint is intact, and the run goes on with 3 ranks.
        let run = try runDirectory(in: logdir)
        let last = try #require(checkpoints().last)
        let counters = try CheckpointStore.counters(in: last)
        let network = ActorCriticNetwork(actionCount: try RunDirectory.open(run.path).1.actions.count, maxSteps: 1, seed: 0)
        try network.loadCheckpoint(from: last.appendingPathComponent(CheckpointStore.modelFile))
        let resumed = try runProcess(try mpirunExecutable(),
                                     try mpirunArguments(ranks: 3, ["train", "--distributed", "--resume", run.path,
                                                                    "--max-frames", String(counters.frames + 6000)]),
                                     environment: mpirunEnvironment, timeout: 240)
        #expect(resumed.status == 0, "the resume with 3 ranks failed:\n\(resumed.output)")
        #expect(resumed.output.contains("resuming"), "\(resumed.output)")
        let after = try CheckpointStore.counters(in: try #require(checkpoints().last))
        #expect(after.frames >= counters.frames + 6000)
    }
}
