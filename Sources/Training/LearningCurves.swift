import Foundation
import Telemetry

/// Learning curves as SVG pictures: `curve.svg` in a run directory, and one overlay of several
/// runs (`a3c report`).
///
/// What is drawn, from `episodes.csv` (one row per episode, in episode order): the rolling mean
/// of the raw return over the last 100 episodes (the `Perf/Rolling Reward (100)` of TensorBoard,
/// and what `checkpoints/best/` is chosen by), against the run's cumulative frames and against
/// its cumulative training time in minutes; below it, the same for one metric column (e.g.
/// `kills` for defend_the_center, `success` for my_way_home, where the mean of a 0/1 column is a
/// success rate) when the run logs it. Before the 100th episode a point is the mean of all the
/// episodes so far.
///
/// Why both x axes: frames compare sample efficiency (the paper's axis), wall time compares what a
/// setting costs on this machine (more workers, another frame skip). Why rolling means: single
/// returns of a stochastic policy scatter too much to compare runs by eye.
///
/// Columns are found by name, so rows with more metric columns, in any order, read the same.
public enum LearningCurves {
    /// The file each run gets at the end of training.
    public static let fileName = "curve.svg"
    /// Episodes per rolling mean: the trainer's own window.
    public static let window = TrainingStatistics.rollingWindow

    /// One run's curves: point `i` is after episode `i + 1` (rows of a torn last line excluded).
    public struct Run: Equatable, Sendable {
        /// The legend's text: the run directory's name unless a label was given.
        public var name: String
        /// Cumulative frames of the run after each episode.
        public var frames: [Double]
        /// Cumulative training seconds after each episode.
        public var wallTime: [Double]
        /// Mean raw return of the last (up to) `window` episodes.
        public var rollingReturn: [Double]
        /// The metric column drawn below the return, if any, and its rolling mean.
        public var metric: String?
        public var rollingMetric: [Double]?
    }

    // MARK: - Files

    /// Writes `<run>/curve.svg` atomically and returns its URL.
    /// - Parameter metric: the column to draw below the return; nil for the scenario's main
    ///   metric (the first of `config.json`'s metrics) when the run logs it, else none.
    /// - Throws: `LearningCurvesError` for a missing, empty or damaged `episodes.csv` or a missing
    ///   column; `TelemetryError` if a file cannot be read or `curve.svg` cannot be written.
    @discardableResult
    public static func writeRunCurve(runDirectory: URL, metric: String? = nil) throws -> URL {
        let run = try load(runDirectory: runDirectory, metric: metric)
        let url = runDirectory.appendingPathComponent(fileName)
        try chart([run], title: "\(run.name): mean of the last \(window) episodes").write(to: url)
        return url
    }

    /// Writes one SVG with every run overlaid, one colour per run (the legend names them).
    /// - Parameters:
    ///   - labels: legend labels in the order of `runs` (default: the run directories' names).
    ///   - metric: as for `writeRunCurve`; with nil, the metric panels appear only when every run
    ///     logs its scenario's main metric and all of them name the same one.
    public static func writeReport(runs: [URL], labels: [String]? = nil, metric: String? = nil,
                                   title: String? = nil, to url: URL) throws {
        precondition(!runs.isEmpty, "a report needs at least one run")
        precondition(labels == nil || labels!.count == runs.count, "one label per run")
        var loaded = try runs.enumerated().map { index, run in
            try load(runDirectory: run, metric: metric, label: labels?[index])
        }
        if metric == nil, Set(loaded.map(\.metric)).count > 1 {
            for index in loaded.indices { loaded[index].metric = nil; loaded[index].rollingMetric = nil }
        }
        let heading = title ?? (loaded.count == 1 ? loaded[0].name : "\(loaded.count) runs")
        try chart(loaded, title: "\(heading): mean of the last \(window) episodes").write(to: url)
    }

    /// Reads a run's `episodes.csv` (or the CSV file itself, if `runDirectory` names a file) into
    /// rolling means. `metric` as for `writeRunCurve`; "raw_return" means none (it is already drawn).
    public static func load(runDirectory: URL, metric: String? = nil, label: String? = nil) throws -> Run {
        let runDirectory = runDirectory.standardizedFileURL
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: runDirectory.path, isDirectory: &isDirectory)
        let csv = exists && !isDirectory.boolValue
            ? runDirectory : runDirectory.appendingPathComponent(RunDirectory.episodesFile)
        let folder = csv.deletingLastPathComponent()
        let path = csv.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw LearningCurvesError.noEpisodesFile(path: path, runsInside: RunDirectory.runs(inside: folder).map(\.path))
        }
        let records = try CSVReader.read(csv)
        guard let header = records.first, records.count > 1 else { throw LearningCurvesError.noEpisodes(path: path) }

        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else {
                throw LearningCurvesError.missingColumn(path: path, column: name, available: header)
            }
            return index
        }
        let chosen = metric ?? mainMetric(ofRun: folder).flatMap { header.contains($0) ? $0 : nil }
        let metricName = chosen == "raw_return" ? nil : chosen
        let framesColumn = try column("frames"), timeColumn = try column("wall_time")
        let returnColumn = try column("raw_return")
        let metricColumn = try metricName.map(column)

        var frames: [Double] = [], wallTime: [Double] = [], returns: [Double] = [], metrics: [Double?] = []
        let rows = records.dropFirst()
        for (offset, row) in rows.enumerated() {
            let line = offset + 2
            let isLast = offset == rows.count - 1
            func number(_ index: Int) throws -> Double {
                guard let value = Double(row[index]), value.isFinite else {
                    throw LearningCurvesError.badRow(path: path, line: line,
                                                     reason: "column '\(header[index])' holds '\(row[index])', not a number")
                }
                return value
            }
            do {
                guard row.count == header.count else {
                    throw LearningCurvesError.badRow(path: path, line: line,
                                                     reason: "\(row.count) fields where the header has \(header.count)")
                }
                // An empty metric cell is an episode whose metric could not be computed: no value.
                let values = (try number(framesColumn), try number(timeColumn), try number(returnColumn),
                              try metricColumn.map { row[$0].isEmpty ? nil : try number($0) })
                frames.append(values.0); wallTime.append(values.1); returns.append(values.2)
                if let value = values.3 { metrics.append(value) }
            } catch where isLast {
                break  // a row still being written (or cut by a kill): the curve ends before it
            }
        }
        guard !frames.isEmpty else { throw LearningCurvesError.noEpisodes(path: path) }
        return Run(name: label ?? folder.lastPathComponent, frames: frames, wallTime: wallTime,
                   rollingReturn: rollingMean(returns), metric: metricName,
                   rollingMetric: metricName == nil ? nil : rollingMean(present: metrics))
    }

    /// The run's main score metric: the first of its `config.json`'s metrics (nil without one, as
    /// for basic's return-only curves or a config that cannot be read: the curves do not need it).
    static func mainMetric(ofRun folder: URL) -> String? {
        (try? RunDirectory.open(folder.path))?.1.metrics.first?.columnName
    }

    // MARK: - Curves

    /// `rollingMean` over the values present: `result[i]` is the mean of the last `window` non-nil
    /// values up to i (0 before the first).
    public static func rollingMean(present values: [Double?], window: Int = window) -> [Double] {
        var recent: [Double] = [], sum = 0.0
        return values.map { value in
            if let value {
                recent.append(value); sum += value
                if recent.count > window { sum -= recent.removeFirst() }
            }
            return recent.isEmpty ? 0 : sum / Double(recent.count)
        }
    }

    /// `result[i]` = mean of `values[max(0, i - window + 1) ... i]`: one running sum, O(n).
    public static func rollingMean(_ values: [Double], window: Int = window) -> [Double] {
        precondition(window >= 1, "a rolling window needs at least one value, got \(window)")
        var sum = 0.0
        return values.indices.map { index in
            sum += values[index]
            if index >= window { sum -= values[index - window] }
            return sum / Double(min(index + 1, window))
        }
    }

    /// The figure: return vs frames and vs wall time, and the metric's row when the runs have one;
    /// run `i` in palette colour `i` (dashed from the 11th run on, when the colours come round).
    public static func chart(_ runs: [Run], title: String?) -> LineChartSVG {
        func series(_ values: (Run) -> [Double]?, against x: (Run) -> [Double]) -> [LineChartSVG.Series] {
            runs.enumerated().compactMap { index, run in
                guard let y = values(run) else { return nil }
                let palette = LineChartSVG.palette
                return LineChartSVG.Series(label: run.name, color: palette[index % palette.count],
                                           dashed: (index / palette.count) % 2 == 1,
                                           points: zip(x(run), y).map { LineChartSVG.Point(x: $0, y: $1) })
            }
        }
        let yReturn = "raw return (rolling \(window))"
        var panels: [LineChartSVG.Panel] = [
            .init(title: "Raw return vs frames", xLabel: "frames", yLabel: yReturn, xFormat: .count,
                  series: series({ $0.rollingReturn }, against: \.frames)),
            .init(title: "Raw return vs wall time", xLabel: "wall time (minutes)", yLabel: yReturn, xFormat: .minutes,
                  series: series({ $0.rollingReturn }, against: \.wallTime)),
        ]
        if let metric = runs.first?.metric, runs.allSatisfy({ $0.metric == metric }) {
            let yMetric = "\(metric) (rolling \(window))"
            panels += [
                .init(title: "\(metric) vs frames", xLabel: "frames", yLabel: yMetric, xFormat: .count,
                      series: series({ $0.rollingMetric }, against: \.frames)),
                .init(title: "\(metric) vs wall time", xLabel: "wall time (minutes)", yLabel: yMetric, xFormat: .minutes,
                      series: series({ $0.rollingMetric }, against: \.wallTime)),
            ]
        }
        return LineChartSVG(title: title, columns: 2, panels: panels)
    }
}
