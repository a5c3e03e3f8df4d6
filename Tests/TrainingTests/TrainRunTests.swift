import Foundation
import Telemetry
import ViZDoom
import TelemetryTestSupport
import Testing
import ThreadSafety
import A3CTestSupport
@testable import Training

@Suite("a3c train on the real engine", .serialized)
struct TrainRunTests {
    @Test("a short run writes every file of the run directory, and --resume continues it")
    func shortRunAndResume() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let first = try runA3C(["train", "--max-frames", "6000", "--workers", "2", "--logdir", logdir.path,
                                "--gif-every", "1", "--checkpoint-every", "5", "--checkpoint-min-seconds", "0", "--quiet"])
        #expect(first.status == 0, "train failed: \(first.output)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: logdir.path)
        #expect(runs.count == 1 && runs[0].hasPrefix("basic__a3c__1__"), "\(runs)")
        let run = logdir.appendingPathComponent(runs[0])
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path)
        #expect(files.contains("config.json") && files.contains("episodes.csv") && files.contains("checkpoints") && files.contains("gifs"))

        // TensorBoard: record framing and CRCs verified by the reader, the seed's tags present.
        let eventFiles = try EventFileReader.eventFiles(in: run)
        #expect(eventFiles.count == 1)
        let events = try EventFileReader.events(at: eventFiles[0])
        #expect(events.first?.fileVersion == "brain.Event:2")
        let tags = Set(events.flatMap { $0.scalars.map(\.tag) })
        for tag in ["Perf/Reward", "Perf/Length", "Perf/Value", "Losses/Value Loss", "Losses/Policy Loss",
                    "Losses/Entropy", "Losses/Grad Norm", "Losses/Var Norm", "charts/frames_per_second"] {
            #expect(tags.contains(tag), "missing TensorBoard tag \(tag)")
        }

        // GIF: a real GIF89a with a trailer.
        let gifs = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("gifs").path)
        #expect(!gifs.isEmpty)
        let gif = try Data(contentsOf: run.appendingPathComponent("gifs").appendingPathComponent(gifs.sorted()[0]))
        #expect(gif.prefix(6) == Data("GIF89a".utf8) && gif.last == 0x3B)

        // episodes.csv: header and rows.
        let rows = try CSVReader.read(run.appendingPathComponent("episodes.csv"))
        #expect(rows.first == RunDirectory.episodesHeader(metrics: [.success]))  // basic's preset metric
        #expect(rows.count > 5)
        let firstFrames = rows.dropFirst().map { Int($0[2])! }
        let firstEpisodes = rows.dropFirst().map { Int($0[1])! }
        #expect(zip(firstFrames, firstFrames.dropFirst()).allSatisfy { $0 <= $1 }, "rows must be in frame order")
        #expect(firstEpisodes == Array(1...firstEpisodes.count), "episode numbers must run 1, 2, 3, ...")

        // Checkpoints: model + optimizer + state, loadable counters.
        let store = CheckpointStore(runDirectory: run, keep: 5)
        let newest = try #require(store.checkpoints().last)
        let counters = try CheckpointStore.counters(in: newest)
        #expect(counters.frames >= 6000)

        // Resume: counters continue from the checkpoint, same run directory, one more event file; a
        // setting of the algorithm (not of the problem) may change, and config.json records it.
        let second = try runA3C(["train", "--resume", run.path, "--max-frames", "10000", "--cross-episodes", "--quiet"])
        #expect(second.status == 0, "resume failed: \(second.output)")
        #expect(second.output.contains("resuming"), "\(second.output)")
        let saved = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(contentsOf: run.appendingPathComponent("config.json")))
        #expect(saved.rolloutsCrossEpisodes)
        let resumed = try CheckpointStore.counters(in: try #require(store.checkpoints().last))
        #expect(resumed.frames >= 10000 && resumed.episodes > counters.episodes && resumed.updates > counters.updates)
        let allRows = try CSVReader.read(run.appendingPathComponent("episodes.csv"))
        let frameColumn = allRows.dropFirst().map { Int($0[2])! }
        #expect(allRows.count > rows.count)
        #expect(zip(frameColumn, frameColumn.dropFirst()).allSatisfy { $0 <= $1 }, "frame counts must never go back")

        // A budget the run has already played is refused before anything is written; a --max-minutes
        // given alone replaces the saved --max-frames (the hint every run ends with) and trains on.
        let episodesBefore = try Data(contentsOf: run.appendingPathComponent("episodes.csv"))
        let eventFilesBefore = try EventFileReader.eventFiles(in: run).count
        let played = try runA3C(["train", "--resume", run.path, "--max-frames", "10000", "--quiet"])
        #expect(played.status != 0 && played.output.contains("already has \(resumed.frames) frames"), "\(played.output)")
        #expect(try Data(contentsOf: run.appendingPathComponent("episodes.csv")) == episodesBefore)
        #expect(try EventFileReader.eventFiles(in: run).count == eventFilesBefore)
        let extended = try runA3C(["train", "--resume", run.path, "--max-minutes", "0.05", "--quiet"])
        #expect(extended.status == 0, "\(extended.output)")
        #expect(try CheckpointStore.counters(in: try #require(store.checkpoints().last)).frames > resumed.frames)

        // bench train --from: measures training from the run's newest checkpoint on a copy; the run is untouched.
        let before = (store.checkpoints(), try Data(contentsOf: run.appendingPathComponent("episodes.csv")))
        let bench = try runA3C(["bench", "train", "--from", run.path, "--seconds", "2", "--no-cross-episodes"])
        #expect(bench.status == 0, "bench failed: \(bench.output)")
        #expect(bench.output.contains("from \(run.path)") && bench.output.contains("frames/s"), "\(bench.output)")
        #expect(store.checkpoints() == before.0)
        #expect(try Data(contentsOf: run.appendingPathComponent("episodes.csv")) == before.1)

        // play: the trained agent plays and writes a GIF.
        let gifPath = logdir.appendingPathComponent("play.gif")
        let play = try runA3C(["play", run.path, "--episodes", "2", "--gif", gifPath.path])
        #expect(play.status == 0, "play failed: \(play.output)")
        #expect(play.output.contains("2 episodes: mean"))
        #expect(FileManager.default.fileExists(atPath: gifPath.path))
    }

    @Test("--lr-schedule linear anneals the learning rate towards 0 over --max-frames, as TensorBoard shows; --view full trains and lands in config.json")
    func linearLearningRate() throws {
        try withTrainedRun(["--max-frames", "8000", "--lr-schedule", "linear", "--learning-rate", "0.001", "--view", "full",
                            "--log-every", "1", "--gif-every", "0"]) { run in
            let (_, configuration) = try RunDirectory.open(run.path)
            #expect(configuration.learningRateSchedule == .linear)
            #expect(configuration.view == .full)
            let rates = try EventFileReader.scalars(tag: "charts/learning_rate", at: try #require(try EventFileReader.eventFiles(in: run).first))
            let first = try #require(rates.first), last = try #require(rates.last)
            #expect(rates.count >= 3, "\(rates)")
            #expect(zip(rates, rates.dropFirst()).allSatisfy { $0.value >= $1.value }, "the rate must not rise: \(rates)")
            // lr * (1 - frames / 8000) at each summary, within the 50 ms between two of the trainer's settings.
            #expect(first.value <= 0.001 && last.value < first.value, "\(rates)")
            for rate in rates {
                let expected = 0.001 * (1 - Float(rate.step) / 8000)
                #expect(rate.value >= expected - 0.000_3 && rate.value <= min(0.001, expected + 0.000_3), "at frame \(rate.step): \(rate.value), expected about \(expected)")
            }
        }
    }

    @Test("PPO and APPO on the real engine improve basic's return: the best rolling mean of 100 episodes beats the first 100 by 100 points; eval plays the run unchanged",
          arguments: ["ppo", "appo"])
    func algorithmImprovesBasic(algorithm: String) throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-\(algorithm)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        // About 0.85-1.2 M frames reach a rolling mean of 70 (docs/algorithms.md); 1 M reach far above the start.
        let train = try runA3C(["train", "--algorithm", algorithm, "--max-frames", "1000000", "--logdir", logdir.path,
                                "--gif-every", "0", "--quiet"], timeout: 600)
        #expect(train.status == 0, "train failed: \(train.output)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: logdir.path).first)
        #expect(run.hasPrefix("basic__\(algorithm)__1__"))
        let rows = try CSVReader.read(logdir.appendingPathComponent(run).appendingPathComponent("episodes.csv")).dropFirst()
        let returns = rows.map { Double($0[4])! }
        try #require(returns.count >= 200, "only \(returns.count) episodes")
        let first = returns.prefix(100).reduce(0, +) / 100
        var window = first * 100, best = first
        for end in 100..<returns.count {
            window += returns[end] - returns[end - 100]
            best = max(best, window / 100)
        }
        print("basic, \(algorithm): \(returns.count) episodes, first 100 \(first), best rolling 100 \(best)")
        #expect(best > first + 100, "\(algorithm) did not improve basic: first 100 episodes \(first), best rolling mean \(best)")
        let evaluation = try runA3C(["eval", logdir.appendingPathComponent(run).path, "--episodes", "3"])
        #expect(evaluation.status == 0, "eval failed: \(evaluation.output)")
    }

    @Test("eval --json: the per-episode list (return, length, each metric) agrees with the summary")
    func evalEpisodeList() throws {
        try withTrainedRun(["--max-frames", "4000", "--gif-every", "0"]) { run in
            let result = try runA3C(["eval", run.path, "--episodes", "5", "--json"], timeout: 120)
            #expect(result.status == 0, "\(result.output)")
            let json = try #require(result.output.split(separator: "\n").last)
            let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data(json.utf8))
            let list = try #require(evaluation.episodeList)
            #expect(list.count == 5 && evaluation.episodes == 5)
            #expect(abs(list.map(\.rawReturn).reduce(0, +) / 5 - evaluation.meanReturn) < 1e-9)
            #expect(list.map(\.rawReturn).max() == evaluation.maxReturn)
            #expect(abs(Double(list.map(\.length).reduce(0, +)) / 5 - evaluation.meanLength) < 1e-9)
            // basic's metric (success), per episode; its mean is the summary's share.
            let successes = list.compactMap { $0.metrics["success"] ?? nil }
            #expect(successes.count == 5 && abs(successes.reduce(0, +) / 5 - (evaluation.metrics["success"] ?? -1)) < 1e-9)
            #expect(json.contains("\"episode_list\"") && json.contains("\"return\""))
        }
    }

    @Test("bench nn --json: the work per step, GFLOP/s and the core's measured peak, at the best and a lowered instruction set")
    func benchNetworkJSON() throws {
        for extra in [[], ["--isa", "scalar"]] {
            let result = try runA3C(["bench", "nn", "--seconds", "0.2", "--batch", "2", "--json"] + extra, timeout: 120)
            #expect(result.status == 0, "\(result.output)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            // The cost model: conv1 0.82 + conv2 1.33 + fc 1.33 + LSTM 1.05 + heads 0.002 MFLOP per acting step.
            #expect(json["acting_flops_per_step"] as? Double == 4_524_032)
            #expect((json["learning_flops_per_step"] as? Double ?? 0) > 8e6)
            let peak = json["peak_gflops"] as? Double ?? 0, acting = json["act_step_gflops"] as? Double ?? 0
            #expect(peak > 0 && acting > 0, "\(json)")
            let actingFraction = json["acting_fraction_of_peak"] as? Double ?? -1
            #expect(abs(actingFraction - acting / peak) < 1e-9, "\(actingFraction) against \(acting / peak)")
            // The peak is of the instructions the step may use, so neither step exceeds it (beyond noise).
            for key in ["acting_fraction_of_peak", "learning_fraction_of_peak"] {
                let fraction = json[key] as? Double ?? -1
                #expect(fraction > 0 && fraction < 1.5, "\(key) = \(fraction) at \(extra)")
            }
            if extra.isEmpty {
                #expect(["avx512", "avx2", "scalar"].contains(json["instruction_set"] as? String ?? ""))
            } else {
                #expect(json["instruction_set"] as? String == "scalar")
            }
        }
    }

    @Test("bad invocations get a clear message and a non-zero exit", arguments: [
        (["train", "--workers", "0"], "--workers"),
        (["train", "--learning-rate", "-1"], "--learning-rate"),
        (["train", "--rollout-length", "0"], "--rollout-length"),
        (["train", "--scenario", "no_such_scenario", "--max-frames", "100"], "Valid scenarios"),
        (["train", "--resume", "/nonexistent/run"], "not a run directory"),
        (["train", "--logdir", "/proc/a3c-cannot-write", "--max-frames", "100"], "cannot write"),
        (["play", "/nonexistent/run"], "not a run directory"),
        (["bench", "env", "--envs", "0"], "--envs"),
        (["bench", "train", "--from", "/nonexistent/run"], "not a run directory"),
        (["bench", "train", "--from", "/tmp", "--rollout-length", "5"], "--from uses the run's own --rollout-length"),
        (["train", "--optimizer", "sgd"], "adam"),
        (["train", "--lr-schedule", "cosine"], "linear"),
        (["train", "--view", "wide"], "full"),
        (["train", "--scenario", "/nonexistent/custom.cfg", "--max-frames", "100"], "file not found"),
        (["play", "/"], "not a run directory"),
        (["play", "/tmp", "--episodes", "0"], "--episodes"),
        (["play", "/tmp", "--gif", "/nonexistent/x.gif"], "the folder of --gif, /nonexistent, does not exist"),
        (["bench", "train", "--max-minutes", "1"], "leave out --max-minutes and --max-frames"),
        (["bench", "nn", "--isa", "sse9"], "--isa must be avx512, avx2 or scalar"),
        (["chart", "/nonexistent/trace.csv"], "cannot read /nonexistent/trace.csv"),
        (["chart", "/tmp/x.csv", "--output", "chart.png"], "--output must name a .svg file"),
    ])
    func badInvocations(arguments: [String], expected: String) throws {
        let result = try runA3C(arguments, timeout: 60)
        #expect(result.status != 0, "\(arguments) should fail")
        #expect(result.output.contains(expected), "\(arguments): \(result.output)")
        #expect(!result.output.contains("Fatal error") && !result.output.contains("Stack dump"))
    }
}

/// The engines of an `a3c` process: (engine pid, instance id), through its launchers.
func engines(of pid: Int32) -> [(pid: Int32, instanceId: String)] {
    let all = EngineHygiene.engineProcesses()
    return childProcesses(of: pid).flatMap { launcher in
        childProcesses(of: launcher).compactMap { engine in all.first { $0.pid == engine } }
    }
}

@Suite("a3c train survives faults", .serialized)
struct TrainFaultTests {
    @Test("a killed engine is replaced, SIGTERM stops with a checkpoint and status 143 within 10 s, nothing is left")
    func engineKillThenSigterm() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-fault-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let process = Process()
        process.executableURL = try a3cExecutable()
        process.arguments = ["train", "--max-minutes", "5", "--workers", "2", "--envs-per-worker", "1", "--logdir", logdir.path, "--gif-every", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let collected = _Collected()
        output.fileHandleForReading.readabilityHandler = { collected.append($0.availableData) }
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        #expect(waitFor(60) { engines(of: process.processIdentifier).count == 2 }, "two engines did not start")
        var seen = Set(engines(of: process.processIdentifier).map(\.instanceId))
        let victim = try #require(engines(of: process.processIdentifier).first)
        kill(victim.pid, SIGKILL)
        let killedAt = Date()
        #expect(waitFor(10) {
            let now = engines(of: process.processIdentifier)
            seen.formUnion(now.map(\.instanceId))
            return now.count == 2 && !now.contains { $0.instanceId == victim.instanceId }
        }, "the killed engine was not replaced")
        let replacement = Date().timeIntervalSince(killedAt)
        print("engine replaced in \(replacement) s")
        #expect(replacement < 5)
        sleep(2)  // let it train a little with the new engine

        kill(process.processIdentifier, SIGTERM)
        let stopSent = Date()
        #expect(waitFor(15) { !process.isRunning }, "the trainer did not stop after SIGTERM")
        let stopSeconds = Date().timeIntervalSince(stopSent)
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        let text = collected.text
        #expect(process.terminationStatus == 143, "exit status \(process.terminationStatus): \(text)")
        #expect(stopSeconds < 10, "stopping took \(stopSeconds) s")
        #expect(text.contains("engine restarts: "), "\(text)")

        let run = logdir.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: logdir.path).first))
        let newest = try #require(CheckpointStore(runDirectory: run, keep: 5).checkpoints().last)
        let counters = try CheckpointStore.counters(in: newest)
        #expect(counters.engineRestarts >= 1)
        #expect(counters.frames > 0)

        // Nothing of ours remains: no engine process, no segment.
        #expect(waitFor(10) {
            let live = EngineHygiene.liveInstanceIds()
            return seen.allSatisfy { !live.contains($0) && EngineHygiene.segments(ofInstance: $0).isEmpty }
        }, "engines or segments left: \(seen)")
    }
}

extension TrainFaultTests {
    @Test("SIGKILL of the trainer: no engine or segment remains 10 s later, and --resume continues from the last checkpoint")
    func trainerKilledThenResumed() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-sigkill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let process = Process()
        process.executableURL = try a3cExecutable()
        process.arguments = ["train", "--max-minutes", "5", "--logdir", logdir.path, "--gif-every", "0",
                             "--checkpoint-every", "30", "--checkpoint-min-seconds", "0", "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func checkpoints() -> [URL] {
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: logdir.path).first else { return [] }
            return CheckpointStore(runDirectory: logdir.appendingPathComponent(run), keep: 5).checkpoints()
        }
        #expect(waitFor(90) { checkpoints().count >= 2 }, "no checkpoints were written")
        let seen = Set(engines(of: process.processIdentifier).map(\.instanceId))
        #expect(seen.count == TrainingConfiguration().workers * TrainingConfiguration().envsPerWorker)  // the defaults
        usleep(700_000)  // mid-way to the next checkpoint: episodes.csv has rows the checkpoint lacks
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(waitFor(10) {
            let live = EngineHygiene.liveInstanceIds()
            return seen.allSatisfy { !live.contains($0) && EngineHygiene.segments(ofInstance: $0).isEmpty }
        }, "engines or segments outlived the trainer by 10 s: \(seen)")

        let run = try #require(checkpoints().last).deletingLastPathComponent().deletingLastPathComponent()
        let last = try CheckpointStore.counters(in: try #require(checkpoints().last))
        let rowsBefore = try CSVReader.read(run.appendingPathComponent(RunDirectory.episodesFile)).count - 1
        let resumed = try runA3C(["train", "--resume", run.path, "--max-minutes", "0.1", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("resuming \(run.path) from \(String(format: "ckpt-%012d", last.frames))"), "\(resumed.output)")
        let rows = try CSVReader.read(run.appendingPathComponent(RunDirectory.episodesFile)).dropFirst()
        let discarded = max(0, ((try? CSVReader.read(run.appendingPathComponent(RunDirectory.discardedEpisodesFile)))?.count ?? 1) - 1)
        #expect(rowsBefore - last.episodes == discarded, "rows after the checkpoint: \(rowsBefore - last.episodes), moved: \(discarded)")
        let frames = rows.map { Int($0[2])! }, episodes = rows.map { Int($0[1])! }
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0 <= $1 }, "the frame column steps back")
        #expect(episodes == Array(1...episodes.count), "episode numbers are not 1, 2, 3, ...")
        #expect(frames.last ?? 0 > last.frames)
    }
}

extension TrainFaultTests {
    @Test("a second Ctrl-C exits at once, and still no engine or segment remains")
    func secondInterruptExitsAtOnce() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-sigint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let process = Process()
        process.executableURL = try a3cExecutable()
        process.arguments = ["train", "--max-minutes", "5", "--logdir", logdir.path, "--gif-every", "0", "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(waitFor(60) { engines(of: process.processIdentifier).count == 2 }, "two engines did not start")
        sleep(1)
        let seen = Set(engines(of: process.processIdentifier).map(\.instanceId))
        kill(process.processIdentifier, SIGINT)
        usleep(20_000)
        kill(process.processIdentifier, SIGINT)
        let sent = Date()
        #expect(waitFor(5) { !process.isRunning }, "the second Ctrl-C did not end the trainer")
        print("second Ctrl-C: exited in \(Date().timeIntervalSince(sent)) s")
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "status \(process.terminationStatus)")
        #expect(waitFor(10) {
            let live = EngineHygiene.liveInstanceIds()
            return seen.allSatisfy { !live.contains($0) && EngineHygiene.segments(ofInstance: $0).isEmpty }
        }, "engines or segments left: \(seen)")
    }

    @Test("SIGHUP (the terminal closed) stops with a final checkpoint and status 129; under nohup it is ignored",
          arguments: [false, true])
    func hangup(underNohup: Bool) throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-sighup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        let process = Process()
        let trainArguments = ["train", "--max-minutes", "5", "--logdir", logdir.path, "--gif-every", "0", "--quiet"]
        if underNohup {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nohup")
            process.arguments = [try a3cExecutable().path] + trainArguments  // nohup execs: the same pid
        } else {
            process.executableURL = try a3cExecutable()
            process.arguments = trainArguments
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(waitFor(60) { engines(of: process.processIdentifier).count == 2 }, "two engines did not start")
        let run = logdir.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: logdir.path).first))
        if !underNohup {  // one trainer per run: a second session on it is refused while the first trains
            let second = try runA3C(["train", "--resume", run.path, "--max-minutes", "0.05", "--quiet"])
            #expect(second.status != 0 && second.output.contains("another a3c process is training \(run.path)"), "\(second.output)")
        }
        kill(process.processIdentifier, SIGHUP)
        if underNohup {
            #expect(!waitFor(2) { !process.isRunning }, "SIGHUP ended a trainer started by nohup")
            kill(process.processIdentifier, SIGTERM)
        }
        #expect(waitFor(15) { !process.isRunning }, "the trainer did not stop")
        process.waitUntilExit()
        #expect(process.terminationStatus == (underNohup ? 143 : 129), "status \(process.terminationStatus)")
        #expect(!CheckpointStore(runDirectory: run, keep: 5).checkpoints().isEmpty, "no final checkpoint")
    }
}

final class _Collected: Sendable {
    private let data = LockedValue(Data())
    func append(_ chunk: Data) { data.withLockedValue { $0.append(chunk) } }
    var text: String { data.withLockedValue { String(decoding: $0, as: UTF8.self) } }
}
