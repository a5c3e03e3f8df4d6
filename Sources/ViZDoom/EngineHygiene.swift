import Foundation

/// Finds and removes ViZDoom shared-memory segments whose engine is gone.
///
/// Each engine's segments are `/dev/shm/ViZDoomSM<id>`, `ViZDoomMQCtr<id>` and `ViZDoomMQDoom<id>`,
/// where `<id>` is the instance id passed on the engine's command line after `+viz_instance_id`.
/// A segment is stale when no running process carries its id on its command line and it is older
/// than a grace period (a game being started right now has its queues before its engine). Only
/// such segments are removed: those of a live engine, ours or anyone else's, are never touched.
public enum EngineHygiene {
    static let prefixes = ["ViZDoomSM", "ViZDoomMQCtr", "ViZDoomMQDoom"]

    /// Running processes that carry an instance id after `+viz_instance_id` (engines and their
    /// launchers; zombies, whose command line is empty, are not listed).
    public static func engineProcesses() -> [(pid: Int32, instanceId: String)] {
        var found: [(pid: Int32, instanceId: String)] = []
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return found }
        for entry in entries {
            guard let pid = Int32(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            for (index, argument) in arguments.enumerated() where argument == "+viz_instance_id" && index + 1 < arguments.count {
                found.append((pid, arguments[index + 1]))
            }
        }
        return found
    }

    /// Instance ids that some running process carries after `+viz_instance_id`.
    public static func liveInstanceIds() -> Set<String> { Set(engineProcesses().map(\.instanceId)) }

    /// The `/dev/shm` segment names of one instance that exist now.
    public static func segments(ofInstance id: String, in directory: String = "/dev/shm") -> [String] {
        prefixes.map { $0 + id }.filter { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// The instance id of a segment file name, or nil if it is not a ViZDoom segment.
    public static func instanceId(ofSegment name: String) -> String? {
        // Longest prefix first: "ViZDoomMQCtr" and "ViZDoomMQDoom" both start with "ViZDoomMQ".
        for prefix in prefixes.sorted(by: { $0.count > $1.count }) where name.hasPrefix(prefix) {
            let id = String(name.dropFirst(prefix.count))
            return id.isEmpty ? nil : id
        }
        return nil
    }

    /// Removes stale segments from `directory` and returns their names.
    @discardableResult
    public static func removeStaleSegments(in directory: String = "/dev/shm", gracePeriod: TimeInterval = 30) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let candidates = names.filter { instanceId(ofSegment: $0) != nil }
        guard !candidates.isEmpty else { return [] }
        let live = liveInstanceIds()
        let now = Date()
        var removed: [String] = []
        for name in candidates {
            guard let id = instanceId(ofSegment: name), !live.contains(id) else { continue }
            let path = directory + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let modified = attributes[.modificationDate] as? Date,
                  now.timeIntervalSince(modified) >= gracePeriod else { continue }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    private static let once: Void = { removeStaleSegments() }()

    /// Cleans stale segments the first time a game is created in this process.
    static func removeStaleSegmentsOnce() { _ = once }
}
