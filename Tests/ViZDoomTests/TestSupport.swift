import Foundation
@testable import ViZDoom

/// Engine processes and segments of one instance that are still there.
func leftovers(of instanceId: String) -> (processes: [Int32], segments: [String]) {
    (EngineHygiene.engineProcesses().filter { $0.instanceId == instanceId }.map(\.pid),
     EngineHygiene.segments(ofInstance: instanceId))
}

/// The launcher's private working directory of one instance's engine, while the engine runs.
func scratchDirectory(of instanceId: String) -> String? {
    EngineHygiene.engineProcesses().filter { $0.instanceId == instanceId }
        .compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0.pid)/cwd") }
        .first { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix(EngineHygiene.scratchPrefix) }
}

/// Waits up to `seconds` for an instance to leave nothing behind.
func waitUntilGone(_ instanceId: String, seconds: Double = 10) -> (processes: [Int32], segments: [String]) {
    let deadline = Date(timeIntervalSinceNow: seconds)
    var left = leftovers(of: instanceId)
    while (!left.processes.isEmpty || !left.segments.isEmpty) && Date() < deadline {
        usleep(100_000)
        left = leftovers(of: instanceId)
    }
    return left
}
