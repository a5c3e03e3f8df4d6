import Foundation
@testable import Telemetry

/// A fresh directory under the system temporary directory, removed after `body`.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("TelemetryTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Deterministic bytes (SplitMix64), so a failing case can be reproduced from its seed.
func pseudoRandomBytes(count: Int, seed: UInt64, alphabet: Int = 256) -> [UInt8] {
    var state = seed
    return (0 ..< count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return UInt8(truncatingIfNeeded: z % UInt64(alphabet))
    }
}

func fileBytes(_ url: URL) throws -> [UInt8] {
    Array(try Data(contentsOf: url))
}

func writeBytes(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}
