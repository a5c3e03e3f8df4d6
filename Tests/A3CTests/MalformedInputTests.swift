import Foundation
import Testing
@testable import A3C

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
}
