import Foundation
import Telemetry

/// A run's folder, `<logdir>/<scenario>__<algorithm>__<seed>__<timestamp>/` (cleanrl's naming):
///
///     config.json                        every setting (read back by --resume and `a3c play`)
///     events.out.tfevents.*              TensorBoard: Perf/..., Losses/..., charts/...
///     episodes.csv                       [rank,] worker, episode, frames, wall_time, raw_return, length,
///                                        one column per score metric, [shaped_return] (`episodesHeader`)
///     curve.svg                          learning curves at the end of training (`LearningCurves`)
///     gifs/episode_<n>_worker0.gif       worker 0's episodes every --gif-every of its episodes; n is the episode's number in episodes.csv
///     checkpoints/ckpt-<frames>/         the last --keep-checkpoints checkpoints, and best/
public struct RunDirectory {
    public let url: URL
    public static let configFile = "config.json"
    public static let episodesFile = "episodes.csv"
    public static let episodesHeader = ["worker", "episode", "frames", "wall_time", "raw_return", "length"]
    /// `episodesHeader` and one column per score metric (`ScoreMetric.columnName`), after a `rank`
    /// column for a `--distributed` run, and `shaped_return` last with reward shaping.
    public static func episodesHeader(metrics: [ScoreMetric], distributed: Bool = false, shaped: Bool = false) -> [String] {
        (distributed ? ["rank"] : []) + episodesHeader + metrics.map(\.columnName) + (shaped ? [shapedReturnColumn] : [])
    }

    /// With reward shaping, the return the agent learned from (scaled rewards plus shaping), after the metrics.
    public static let shapedReturnColumn = "shaped_return"
    public static let discardedEpisodesFile = "episodes.discarded.csv"

    public init(url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent(Self.configFile) }
    public var episodesURL: URL { url.appendingPathComponent(Self.episodesFile) }
    public var gifsURL: URL { url.appendingPathComponent("gifs") }
    public var discardedEpisodesURL: URL { url.appendingPathComponent(Self.discardedEpisodesFile) }

    /// The scenario's name for run names: a built-in name, or a `.cfg` file's base name.
    static func scenarioLabel(_ scenario: String) -> String {
        URL(fileURLWithPath: scenario).deletingPathExtension().lastPathComponent
    }

    /// Creates a new, uniquely named run directory, checking first that `logdir` can be written.
    public static func create(for configuration: TrainingConfiguration, now: Date = Date()) throws -> RunDirectory {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let base = "\(scenarioLabel(configuration.scenario))__\(configuration.algorithm.rawValue)__\(configuration.seed)__\(formatter.string(from: now))"
        let logdir = URL(fileURLWithPath: configuration.logdir)
        do {
            try FileManager.default.createDirectory(at: logdir, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.unwritable(path: logdir.path, reason: fileErrorDescription(error))
        }
        guard access(logdir.path, W_OK | X_OK) == 0 else {
            throw TrainingError.unwritable(path: logdir.path, reason: String(cString: strerror(errno)))
        }
        // mkdir is the test and the claim in one step: two runs started in the same second (a sweep
        // started in parallel) take base and base-2, never one folder.
        var suffix = 1
        while true {
            let candidate = logdir.appendingPathComponent(suffix == 1 ? base : "\(base)-\(suffix)")
            if mkdir(candidate.path, 0o755) == 0 { return RunDirectory(url: candidate) }
            guard errno == EEXIST else {
                throw TrainingError.unwritable(path: candidate.path, reason: String(cString: strerror(errno)))
            }
            suffix += 1
        }
    }

    /// Opens an existing run; throws `.notARunDirectory` if it has no readable config.json.
    public static func open(_ path: String) throws -> (RunDirectory, TrainingConfiguration) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let run = RunDirectory(url: url)
        guard let data = FileManager.default.contents(atPath: run.configURL.path) else {
            throw TrainingError.notARunDirectory(url.path, runsInside: runs(inside: url).map(\.path))
        }
        let configuration: TrainingConfiguration
        do {
            configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: data)
        } catch {
            throw TrainingError.invalidOption("\(run.configURL.path) is not a valid run configuration (\(error)); it must be the config.json written by `a3c train`")
        }
        // Values out of range (an edited or damaged file) fail here, naming the file, not in the engine.
        do { try configuration.validate() } catch {
            throw TrainingError.invalidOption("\(run.configURL.path) holds a value `a3c train` would refuse: \(error); it must be the config.json written by `a3c train` (restore that value)")
        }
        return (run, configuration)
    }

    /// The run directories directly inside `folder` (those with a config.json), newest first by
    /// their config.json's modification time: what someone who passed a --logdir for a run meant.
    static func runs(inside folder: URL) -> [URL] {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: folder.path) else { return [] }
        let dated: [(run: URL, modified: Date)] = names.compactMap { name in
            let run = folder.appendingPathComponent(name)
            let config = RunDirectory(url: run).configURL.path
            guard let attributes = try? fileManager.attributesOfItem(atPath: config),
                  let modified = attributes[.modificationDate] as? Date else { return nil }
            return (run, modified)
        }
        return dated.sorted { ($0.modified, $0.run.path) > ($1.modified, $1.run.path) }.map(\.run)
    }

    /// What the error messages say of the runs a folder holds (`runs(inside:)`'s paths, newest
    /// first): at most three, then how many more.
    static func describe(runsInside runs: [String]) -> String {
        let shown = runs.prefix(3).joined(separator: ", ") + (runs.count > 3 ? " and \(runs.count - 3) more" : "")
        let held = runs.count == 1 ? "a run (\(shown))" : "\(runs.count) runs (newest first: \(shown))"
        return "holds \(held): pass a run, not the folder that holds it"
    }

    public func writeConfiguration(_ configuration: TrainingConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(data: try encoder.encode(configuration), to: configURL)
    }

    /// Before a resume from a checkpoint taken after `episodes` episodes: moves the rows of
    /// `episodes.csv` for later episodes (logged by a session that then died by SIGKILL or power
    /// loss, so their learning is lost with it), and any torn row, to `episodes.discarded.csv`.
    /// `episodes.csv` then continues where the checkpoint left it, its frame column never steps
    /// back, and no row is lost. The discarded rows are written first, then `episodes.csv` is
    /// replaced atomically, so a crash in between duplicates rows but never drops one.
    /// Returns how many rows were moved (0 after a clean stop, which checkpoints every episode).
    @discardableResult
    public func setAsideEpisodes(after episodes: Int) throws -> Int {
        guard let data = FileManager.default.contents(atPath: episodesURL.path), !data.isEmpty else { return 0 }
        let rows: [[String]]
        do {
            rows = try CSVReader.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw TrainingError.invalidOption("\(episodesURL.path) is not a CSV file (\(error)); it must be the episodes.csv written by `a3c train`")
        }
        guard let header = rows.first, let episodeColumn = header.firstIndex(of: "episode") else { return 0 }
        var kept = [header], discarded: [[String]] = []
        for row in rows.dropFirst() {
            // A torn last row (a write cut by the crash) has too few fields.
            if row.count == header.count, let number = Int(row[episodeColumn]), number <= episodes {
                kept.append(row)
            } else {
                discarded.append(row)
            }
        }
        guard !discarded.isEmpty else { return 0 }
        let previous = FileManager.default.contents(atPath: discardedEpisodesURL.path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let discardedText = (previous.isEmpty ? CSVWriter.line(header) : previous) + discarded.map(CSVWriter.line).joined()
        try AtomicFile.write(data: Data(discardedText.utf8), to: discardedEpisodesURL)
        try AtomicFile.write(data: Data(kept.map(CSVWriter.line).joined().utf8), to: episodesURL)
        return discarded.count
    }
}
