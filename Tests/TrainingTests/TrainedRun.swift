import Foundation
import Testing
import A3CTestSupport

/// Runs `a3c train ARGUMENTS --logdir TMP --quiet` into a new temporary folder, then `body` with the
/// run directory it made; the folder is removed afterwards. A failed training ends the test with
/// its output.
func withTrainedRun(_ arguments: [String], _ body: (URL) throws -> Void) throws {
    let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: logdir) }
    let result = try runA3C(["train"] + arguments + ["--logdir", logdir.path, "--quiet"])
    try #require(result.status == 0, "train failed: \(result.output)")
    try body(logdir.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: logdir.path).first)))
}
