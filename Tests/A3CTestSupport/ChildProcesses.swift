// Helpers shared by the test targets that run the `a3c` executable as a child process
// (A3CTests, ViZDoomTests): finding it next to the test bundle, running it, polling.
import Foundation

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
}

/// The `a3c` executable built next to this test bundle.
public func a3cExecutable() throws -> URL {
    let testBinary = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    var directory = testBinary.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("a3c")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw TestSupportError(description: "the a3c executable was not found next to \(testBinary.path); run `swift build` first")
}

/// Runs `a3c` with arguments; returns exit status and the combined output.
@discardableResult
public func runA3C(_ arguments: [String], in directory: URL? = nil, timeout: Double = 300) throws -> (status: Int32, output: String) {
    try runProcess(try a3cExecutable(), arguments, in: directory, timeout: timeout)
}

/// Runs a program to its end (or SIGTERMs it after `timeout` s); returns its exit status and its
/// combined stdout and stderr (through a file, so a chatty child never blocks on a full pipe).
public func runProcess(_ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                timeout: Double) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = directory }
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-out-\(UUID().uuidString).txt")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    defer { try? FileManager.default.removeItem(at: output) }
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    _ = waitFor(timeout) { !process.isRunning }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    try handle.close()
    return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
}

/// Polls `condition` every 20 ms for up to `seconds`; returns its last value.
public func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while !condition() && Date() < deadline { usleep(20_000) }
    return condition()
}
