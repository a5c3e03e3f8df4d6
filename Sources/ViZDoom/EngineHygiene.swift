import Foundation

/// Finds and removes what engines that are gone left behind: ViZDoom shared-memory segments, and
/// the launcher's private working directories.
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
            guard isUnchanged(path, for: gracePeriod, at: now) else { continue }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Whether `path` was last modified at least `gracePeriod` before `now`: what an engine starting
    /// right now makes is younger (its segments and its directory exist just before its process does).
    private static func isUnchanged(_ path: String, for gracePeriod: TimeInterval, at now: Date) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return false }
        return now.timeIntervalSince(modified) >= gracePeriod
    }

    /// Where `a3c-engine-launcher` makes each engine's private working directory
    /// (`/tmp/a3c-engine-XXXXXX`, see native/engine-launcher.c), and the prefix of its name.
    public static let scratchParent = "/tmp", scratchPrefix = "a3c-engine-"

    /// The working directories of running processes (those this user may read).
    static func workingDirectories() -> Set<String> {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return Set(entries.compactMap { Int32($0).flatMap(workingDirectory(ofProcess:)) })
    }

    /// A running process's working directory, or nil if it is gone or this user may not read it.
    public static func workingDirectory(ofProcess pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
    }

    /// Removes engine working directories that no engine works in any more, and returns their paths.
    ///
    /// The launcher removes its engine's directory when the engine exits, or when its owner dies; only
    /// a launcher killed outright (SIGKILL) leaves it. A directory is stale when no running process has
    /// it as its working directory (its engine's) and it is older than the grace period (the launcher
    /// makes it just before it starts the engine in it).
    @discardableResult
    public static func removeStaleScratchDirectories(in parent: String = scratchParent,
                                                     gracePeriod: TimeInterval = 30) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
        let candidates = names.filter { $0.hasPrefix(scratchPrefix) }
        guard !candidates.isEmpty else { return [] }
        let live = workingDirectories()
        let now = Date()
        var removed: [String] = []
        for name in candidates {
            let path = parent + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
                  !live.contains(path), isUnchanged(path, for: gracePeriod, at: now) else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    private static let once: Void = {
        removeStaleSegments()
        removeStaleScratchDirectories()
    }()

    /// Cleans stale segments and engine working directories the first time a game is created in this
    /// process.
    static func removeLeftoversOnce() { _ = once }
}
