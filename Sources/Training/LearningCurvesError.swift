import Foundation

/// Why a run's learning curves cannot be drawn; each message names the file, the problem and the fix.
public enum LearningCurvesError: Error, CustomStringConvertible, Equatable {
    /// The folder has no `episodes.csv`: not a run directory, or a typo. `runsInside`: the run
    /// directories directly inside the folder, newest first (a --logdir passed for a run).
    case noEpisodesFile(path: String, runsInside: [String] = [])
    /// `episodes.csv` has no episode row yet (empty, or only its header).
    case noEpisodes(path: String)
    /// A column the curves need (or the one asked for with `--metric`) is not in the header.
    case missingColumn(path: String, column: String, available: [String])
    /// A row whose field is not a number, or whose field count is not the header's (other than a
    /// torn last row, which is skipped as a run still being written).
    case badRow(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .noEpisodesFile(path, runsInside) where !runsInside.isEmpty:
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            return "no episodes.csv at \(path): \(folder) is not a run directory but "
                + RunDirectory.describe(runsInside: runsInside)
        case let .noEpisodesFile(path, _):
            return "no episodes.csv at \(path): pass a run directory written by `a3c train` "
                + "(e.g. runs/basic__a3c__1__20261125-120000), and check the path for typos"
        case let .noEpisodes(path):
            return "\(path) has no episode yet, so there is no curve to draw: train longer "
                + "(a row is written at the end of every episode), or leave this run out"
        case let .missingColumn(path, column, available):
            return "\(path) has no column '\(column)' (its columns: \(available.joined(separator: ", "))): "
                + "choose --metric from those columns, or leave --metric out to draw the return alone"
        case let .badRow(path, line, reason):
            return "\(path) line \(line): \(reason). Fix or remove that line (every row needs a number "
                + "in each column the curves read)"
        }
    }
}
