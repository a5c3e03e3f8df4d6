// Helpers shared by the test targets that run the `a3c` executable as a child process
// (TrainingTests, ViZDoomTests): finding it next to the test bundle, running it, polling.
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

// MARK: - mpirun

/// The environment every mpirun of the tests gets: as root, Open MPI refuses to start without the
/// two ALLOW variables; in containers, shared-memory single copy (CMA) may be forbidden and fail
/// (open-mpi/ompi #4948), so the copy-in/copy-out path is used.
public let mpirunEnvironment: [String: String] = {
    var environment = ["OMPI_MCA_btl_vader_single_copy_mechanism": "none"]
    if getuid() == 0 {
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    }
    return environment
}()

/// The `mpirun` on PATH (scripts/bootstrap installs Open MPI's).
public func mpirunExecutable() throws -> URL {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard let path = directories.map({ "\($0)/mpirun" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestSupportError(description: "mpirun is not on PATH; run scripts/bootstrap (it installs Open MPI)")
    }
    return URL(fileURLWithPath: path)
}

/// The arguments of `mpirun --oversubscribe -np <ranks> a3c <arguments>`.
public func mpirunArguments(ranks: Int, _ arguments: [String]) throws -> [String] {
    ["--oversubscribe", "-np", "\(ranks)", try a3cExecutable().path] + arguments
}

/// Direct children of `pid` that are not zombies, from /proc.
public func childProcesses(of pid: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
        guard let child = Int32(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, fields[0] != "Z", Int32(fields[1]) == pid else { return nil }
        return child
    }
}

/// A process's MPI rank, from the OMPI_COMM_WORLD_RANK its launcher set (nil if none).
public func mpiRank(of pid: Int32) -> Int? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
    for entry in data.split(separator: 0) {
        let text = String(decoding: entry, as: UTF8.self)
        if text.hasPrefix("OMPI_COMM_WORLD_RANK=") { return Int(text.dropFirst("OMPI_COMM_WORLD_RANK=".count)) }
    }
    return nil
}

// MARK: - Threads

/// Runs `body` on a fresh long-lived thread and waits for its result (a game belongs to the thread
/// that starts its engine).
public func onThread<T>(_ body: @escaping () throws -> T) throws -> T {
    let outcome = _ThreadOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        outcome.result = Result { try body() }
        done.signal()
    }
    thread.start()
    done.wait()
    return try outcome.result!.get()
}

/// `onThread`'s result, written by the thread before it signals, read after the wait.
private final class _ThreadOutcome<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
