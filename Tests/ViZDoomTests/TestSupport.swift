import Foundation
@testable import ViZDoom

/// Engine processes and segments of one instance that are still there.
func leftovers(of instanceId: String) -> (processes: [Int32], segments: [String]) {
    (EngineHygiene.engineProcesses().filter { $0.instanceId == instanceId }.map(\.pid),
     EngineHygiene.segments(ofInstance: instanceId))
}

/// One instance's engine process (not its launcher, which carries the same instance id) and the
/// launcher's private working directory it runs in, while it runs.
func engine(of instanceId: String) -> (pid: Int32, scratchDirectory: String)? {
    for process in EngineHygiene.engineProcesses() where process.instanceId == instanceId {
        if let directory = EngineHygiene.workingDirectory(ofProcess: process.pid),
           URL(fileURLWithPath: directory).lastPathComponent.hasPrefix(EngineHygiene.scratchPrefix) {
            return (process.pid, directory)
        }
    }
    return nil
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
