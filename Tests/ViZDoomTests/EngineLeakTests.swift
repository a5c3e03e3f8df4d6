import Foundation
import Testing
import A3CTestSupport
@testable import ViZDoom

/// A child `a3c hold-game` that owns one engine, started in a fresh empty working directory.
private struct GameOwner {
    let process: Process
    let instanceId: String
    let workingDirectory: URL

    static func start() throws -> GameOwner {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-owner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = try a3cExecutable()
        process.arguments = ["hold-game", "--scenario", "basic"]
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "ready <instance id>".
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("ready ") else {
            process.terminate()
            throw ViZDoomError.engine(message: "hold-game did not start: \(text)")
        }
        let id = text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)
        return GameOwner(process: process, instanceId: id, workingDirectory: directory)
    }
}


@Suite("No engine or segment outlives its owner", .serialized)
struct EngineLeakTests {
    @Test("after SIGKILL, SIGTERM or SIGINT of the owning process, nothing remains 10 s later",
          arguments: [SIGKILL, SIGTERM, SIGINT])
    func ownerKilled(signal: Int32) throws {
        let owner = try GameOwner.start()
        defer { try? FileManager.default.removeItem(at: owner.workingDirectory) }
        #expect(!EngineHygiene.engineProcesses().filter { $0.instanceId == owner.instanceId }.isEmpty, "the engine is running")
        #expect(EngineHygiene.segments(ofInstance: owner.instanceId).count == 3, "the engine has its three segments")
        let scratch = try #require(engine(of: owner.instanceId), "the engine works in a directory of its own").scratchDirectory
        kill(owner.process.processIdentifier, signal)
        let deadline = Date(timeIntervalSinceNow: 15)
        while owner.process.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!owner.process.isRunning, "the owner did not exit within 15 s of signal \(signal)")
        if owner.process.isRunning { kill(owner.process.processIdentifier, SIGKILL) }
        owner.process.waitUntilExit()
        let left = waitUntilGone(owner.instanceId)
        #expect(left.processes.isEmpty, "engine processes left after signal \(signal): \(left.processes)")
        #expect(left.segments.isEmpty, "segments left after signal \(signal): \(left.segments)")
        #expect(!FileManager.default.fileExists(atPath: scratch), "the engine's working directory is left: \(scratch)")
        let files = try FileManager.default.contentsOfDirectory(atPath: owner.workingDirectory.path)
        #expect(files.isEmpty, "the engine wrote into its owner's working directory: \(files)")
    }
}
