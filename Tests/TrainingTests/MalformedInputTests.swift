import Foundation
import Telemetry
import Testing
import A3CTestSupport
@testable import Training

@Suite("Malformed files")
struct MalformedInputTests {
    private func writeRun(config: Data) throws -> URL {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-badrun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try config.write(to: run.appendingPathComponent(RunDirectory.configFile))
        return run
    }

    @Test("thousands of mutated config.json files either load or throw a clear error, never crash")
    func configFuzz() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let valid = [UInt8](try encoder.encode(TrainingConfiguration()))
        var random = SystemRandomNumberGenerator()
        let run = try writeRun(config: Data(valid))
        defer { try? FileManager.default.removeItem(at: run) }
        var loaded = 0, rejected = 0
        for round in 0..<3000 {
            var bytes = valid
            switch round % 4 {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
            default:
                // Replace one number by an absurd or negative value.
                let text = String(decoding: bytes, as: UTF8.self)
                let replaced = text.replacingOccurrences(of: "\"workers\":\(TrainingConfiguration().workers)",
                                                         with: "\"workers\":\(Int.random(in: -5...100_000, using: &random))")
                bytes = Array(replaced.utf8)
            }
            try Data(bytes).write(to: run.appendingPathComponent(RunDirectory.configFile))
            do {
                let (_, configuration) = try RunDirectory.open(run.path)
                do { try configuration.validate(); loaded += 1 } catch { rejected += 1 }
            } catch {
                #expect("\(error)".contains("config.json"), "unclear error: \(error)")
                rejected += 1
            }
        }
        print("config fuzz: \(loaded) loaded, \(rejected) rejected")
        #expect(loaded + rejected == 3000)
    }

    @Test("a run directory with a garbage config.json names the file")
    func garbageConfig() throws {
        let run = try writeRun(config: Data("not json".utf8))
        defer { try? FileManager.default.removeItem(at: run) }
        #expect(throws: TrainingError.self) { try RunDirectory.open(run.path) }
        do { _ = try RunDirectory.open(run.path) } catch { #expect("\(error)".contains("config.json")) }
    }

    @Test("a folder of runs (a --logdir) passed for a run: the message offers the runs inside, newest first")
    func logdirForRun() throws {
        let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-logdir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logdir) }
        try FileManager.default.createDirectory(at: logdir, withIntermediateDirectories: true)
        let message = { () -> String in
            do { _ = try RunDirectory.open(logdir.path); return "opened" } catch { return "\(error)" }
        }
        #expect(message().contains("e.g. runs/basic__a3c__1__"), "an empty folder gets the general advice: \(message())")

        // Two runs (config.json an hour apart) and a folder that is not a run.
        var runs: [URL] = []
        for (name, age) in [("take_cover__a3c__1__older", 3600.0), ("take_cover__a3c__1__newer", 0)] {
            let run = logdir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            let config = run.appendingPathComponent(RunDirectory.configFile)
            try Data("{}".utf8).write(to: config)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: config.path)
            runs.append(run)
        }
        try FileManager.default.createDirectory(at: logdir.appendingPathComponent("gifs"), withIntermediateDirectories: true)
        let text = message()
        #expect(text.contains("holds 2 runs (newest first: \(runs[1].path), \(runs[0].path))"), "\(text)")
        #expect(!text.contains("gifs"), "\(text)")
        let many = RunDirectory.describe(runsInside: ["a", "b", "c", "d", "e"])
        #expect(many.contains("5 runs (newest first: a, b, c and 2 more)"), "\(many)")
    }

    @Test("play with a garbage checkpoint gives an incompatible-checkpoint error")
    func garbageCheckpoint() throws {
        let encoder = JSONEncoder()
        let run = try writeRun(config: try encoder.encode(TrainingConfiguration()))
        defer { try? FileManager.default.removeItem(at: run) }
        let checkpoint = run.appendingPathComponent("checkpoints/ckpt-000000000100")
        try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
        try Data(repeating: 0xAB, count: 300).write(to: checkpoint.appendingPathComponent(CheckpointStore.modelFile))
        do {
            _ = try Player(source: run.path)
            Issue.record("a garbage checkpoint must be rejected")
        } catch {
            #expect("\(error)".contains("incompatible checkpoint"), "\(error)")
        }
    }

    @Test("on resume, episodes.csv rows past the checkpoint and torn rows move to episodes.discarded.csv")
    func setAsideEpisodes() throws {
        let run = try writeRun(config: Data("{}".utf8))
        defer { try? FileManager.default.removeItem(at: run) }
        let directory = RunDirectory(url: run)
        let header = RunDirectory.episodesHeader.joined(separator: ",")
        // Episodes 1-3 are in the checkpoint; 4 and 5 were logged after it; then a row torn by power loss.
        let rows = ["0,1,40,0.1,10,10", "1,2,80,0.2,-5,10", "0,3,120,0.3,7,10", "1,4,160,0.4,9,10", "0,5,200,0.5,1,10", "1,6,2"]
        try Data((([header] + rows).joined(separator: "\n")).utf8).write(to: directory.episodesURL)
        #expect(try directory.setAsideEpisodes(after: 3) == 3)
        #expect(try CSVReader.read(directory.episodesURL).map { $0.joined(separator: ",") } == [header] + rows.prefix(3))
        let discarded = try String(contentsOf: directory.discardedEpisodesURL, encoding: .utf8)
        #expect(discarded == ([header] + rows.suffix(3)).joined(separator: "\n") + "\n")
        // A second resume from the same checkpoint moves nothing more; a clean file is left alone.
        #expect(try directory.setAsideEpisodes(after: 3) == 0)
        #expect(try String(contentsOf: directory.discardedEpisodesURL, encoding: .utf8) == discarded)
    }

    @Test("malformed scenario files get their own clear message and a non-zero exit, before any run directory",
          arguments: [
              ("binary.cfg", "\u{01}\u{02}\u{7F} garbage\n", "ViZDoom rejected some of its lines"),
              ("bad-value.cfg", "screen_resolution = RES_1X1\navailable_buttons = { ATTACK }\n", "ViZDoom rejected some of its lines"),
              ("bad-button.cfg", "available_buttons = { JUMP_HIGHER }\n", "ViZDoom rejected some of its lines"),
              ("no-buttons.cfg", "doom_skill = 3\n", "makes no buttons available"),
              ("missing-wad.cfg", "doom_scenario_path = nowhere.wad\navailable_buttons = { ATTACK }\n", "does not exist"),
          ])
    func malformedScenarioFiles(name: String, content: String, expected: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-badcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cfg = directory.appendingPathComponent(name)
        try Data(content.utf8).write(to: cfg)
        let logdir = directory.appendingPathComponent("runs")
        let result = try runA3C(["train", "--scenario", cfg.path, "--max-frames", "1000", "--quiet", "--logdir", logdir.path], timeout: 60)
        #expect(result.status != 0)
        #expect(result.output.contains(expected) && result.output.contains(cfg.lastPathComponent.replacingOccurrences(of: ".cfg", with: "")),
                "\(result.output)")
        #expect(!result.output.contains("Fatal error") && !result.output.contains("Stack dump"))
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: logdir.path)) ?? []
        #expect(runs.isEmpty, "a run directory was created for a scenario that cannot run: \(runs)")
    }

    @Test("resume and play with malformed run files name the file and exit non-zero", arguments: [
        ("config.json", "{ \"workers\": ", ["train", "--resume"], "config.json"),
        ("config.json", "{}", ["play"], "config.json"),
        ("config.json", "{\"scenario\": \"basic\", \"frameSkip\": 5000000000}", ["eval"], "config.json holds a value `a3c train` would refuse: --frame-skip"),
        ("config.json", "{\"scenario\": \"basic\", \"episodeTimeout\": -5}", ["play"], "config.json holds a value `a3c train` would refuse: --episode-timeout"),
        ("checkpoints/notes.txt", "no checkpoint here", ["play"], "no usable checkpoint"),
        ("checkpoints/ckpt-000000000100/model.safetensors", "\u{10}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}{\"x\":1}", ["play"], "incompatible checkpoint"),
        ("checkpoints/ckpt-000000000100/state.json", "[1,2", ["train", "--resume"], "damaged"),
    ])
    func malformedRunFiles(file: String, content: String, command: [String], expected: String) throws {
        let run = try writeRun(config: try JSONEncoder().encode(TrainingConfiguration()))
        defer { try? FileManager.default.removeItem(at: run) }
        let url = run.appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
        let result = try runA3C(command + [run.path], timeout: 60)
        #expect(result.status != 0)
        #expect(result.output.contains(expected), "\(command) with a malformed \(file): \(result.output)")
        #expect(!result.output.contains("Fatal error") && !result.output.contains("Stack dump"))
    }
}
