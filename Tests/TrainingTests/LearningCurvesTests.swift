import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Telemetry
import Testing
@testable import Training

@Suite("Learning curves")
struct LearningCurvesTests {
    /// Columns in another order than the trainer writes them, with extra metric columns: the
    /// reader must go by name.
    static let shuffledHeader = ["episode", "kills", "raw_return", "worker", "length", "wall_time", "frames", "success"]

    /// Episode i (1-based) returns i, has i % 2 kills, ends at 100 i frames and 0.5 i seconds.
    static func rows(episodes: Int) -> [[String]] {
        (1 ... episodes).map { i in
            ["\(i)", "\(i % 2)", "\(i)", "0", "25", "\(Double(i) * 0.5)", "\(100 * i)", i > 200 ? "1" : "0"]
        }
    }

    /// A fresh folder for one test, removed after it.
    func withFolder<Result>(_ body: (URL) throws -> Result) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-curves-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder)
    }

    /// A run directory `name` in `parent` with `episodes.csv` (header and rows, plus any raw text
    /// appended) and, if `scenario` is given, a config.json naming it.
    @discardableResult
    func makeRun(_ name: String, in parent: URL, header: [String] = shuffledHeader, rows: [[String]],
                 appending tail: String = "", scenario: String? = nil) throws -> URL {
        let run = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let text = ([header] + rows).map(CSVWriter.line).joined() + tail
        try Data(text.utf8).write(to: run.appendingPathComponent(RunDirectory.episodesFile))
        if let scenario {
            // The metrics a run of this scenario logs (its preset's; a .cfg path by its base name).
            let metrics = ScenarioPreset.named(RunDirectory.scenarioLabel(scenario))?.metrics.map { "\"\($0.columnName)\"" } ?? []
            try Data("{\"scenario\": \"\(scenario)\", \"seed\": 1, \"metrics\": [\(metrics.joined(separator: ", "))]}".utf8)
                .write(to: run.appendingPathComponent(RunDirectory.configFile))
        }
        return run
    }

    func polylines(in url: URL) throws -> Int {
        let text = try String(contentsOf: url, encoding: .utf8)
        let parser = XMLParser(data: Data(text.utf8))
        #expect(parser.parse(), "\(url.lastPathComponent) is not well-formed XML: \(String(describing: parser.parserError))")
        return text.components(separatedBy: "<polyline ").count - 1
    }

    @Test("the rolling mean averages the last `window` values, fewer at the start")
    func rollingMean() {
        #expect(LearningCurves.rollingMean([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
        #expect(LearningCurves.rollingMean([4, 2], window: 100) == [4, 3])
        #expect(LearningCurves.rollingMean([]) == [])
    }

    @Test("episodes.csv read by column name gives the known rolling means against frames and wall time")
    func knownCurve() throws {
        try withFolder { folder in
            let run = try makeRun("basic__a3c__1__20261202-100000", in: folder, rows: Self.rows(episodes: 250))
            let curves = try LearningCurves.load(runDirectory: run, metric: "kills")
            #expect(curves.name == "basic__a3c__1__20261202-100000")
            #expect(curves.frames == (1 ... 250).map { Double(100 * $0) })
            #expect(curves.wallTime == (1 ... 250).map { Double($0) * 0.5 })
            // Returns 1, 2, ..., i: the mean of the last min(i, 100) of them.
            let expected: [Double] = (1 ... 250).map { (i: Int) -> Double in
                let x = Double(i)
                return i <= 100 ? (x + 1) / 2 : x - 49.5
            }
            #expect(zip(curves.rollingReturn, expected).allSatisfy { abs($0 - $1) < 1e-9 })
            #expect(curves.rollingReturn.count == 250)
            let kills = try #require(curves.rollingMetric)
            #expect(curves.metric == "kills")
            #expect(kills[0] == 1 && kills[1] == 0.5 && abs(kills[2] - 2.0 / 3) < 1e-12 && kills[249] == 0.5)
            // "raw_return" as the metric draws nothing twice.
            #expect(try LearningCurves.load(runDirectory: run, metric: "raw_return").metric == nil)
        }
    }

    @Test("without --metric, the scenario's main metric is drawn when the run logs it")
    func defaultMetric() throws {
        try withFolder { folder in
            let rows = Self.rows(episodes: 20)
            let center = try makeRun("a", in: folder, rows: rows, scenario: "defend_the_center")
            #expect(try LearningCurves.load(runDirectory: center).metric == "kills")
            let cfg = try makeRun("b", in: folder, rows: rows, scenario: "/some/where/my_way_home.cfg")
            #expect(try LearningCurves.load(runDirectory: cfg).metric == "success")
            let basic = try makeRun("c", in: folder, rows: rows, scenario: "basic")
            #expect(try LearningCurves.load(runDirectory: basic).metric == "success")  // basic's preset: the kill before the timeout
            let custom = try makeRun("f", in: folder, rows: rows, scenario: "/some/where/custom.cfg")
            #expect(try LearningCurves.load(runDirectory: custom).metric == nil)
            let noConfig = try makeRun("d", in: folder, rows: rows)
            #expect(try LearningCurves.load(runDirectory: noConfig).metric == nil)
            let header = Array(Self.shuffledHeader.prefix(7))  // no success column
            let unlogged = try makeRun("e", in: folder, header: header, rows: rows.map { Array($0.prefix(7)) },
                                       scenario: "my_way_home")
            #expect(try LearningCurves.load(runDirectory: unlogged).metric == nil)
        }
    }

    @Test("curve.svg: a 2x2 grid with a metric, one row without")
    func runCurve() throws {
        try withFolder { folder in
            let run = try makeRun("run", in: folder, rows: Self.rows(episodes: 300), scenario: "defend_the_center")
            let url = try LearningCurves.writeRunCurve(runDirectory: run)
            #expect(url == run.appendingPathComponent("curve.svg"))
            #expect(try polylines(in: url) == 4)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(">kills vs frames<") && text.contains(">wall time (minutes)<"))
            try LearningCurves.writeRunCurve(runDirectory: run, metric: "raw_return")
            #expect(try polylines(in: url) == 2)
        }
    }

    @Test("a report overlays runs, one legend entry each, and drops a metric not every run shares")
    func report() throws {
        try withFolder { folder in
            let one = try makeRun("seed1", in: folder, rows: Self.rows(episodes: 150), scenario: "defend_the_center")
            let two = try makeRun("seed2", in: folder, rows: Self.rows(episodes: 120), scenario: "defend_the_center")
            let output = folder.appendingPathComponent("report.svg")
            try LearningCurves.writeReport(runs: [one, two], labels: ["lr 1e-4", "lr <3e-4>"], to: output)
            #expect(try polylines(in: output) == 8)
            let text = try String(contentsOf: output, encoding: .utf8)
            #expect(text.contains(">lr 1e-4<") && text.contains(">lr &lt;3e-4&gt;<"))
            #expect(text.contains(LineChartSVG.palette[0]) && text.contains(LineChartSVG.palette[1]))

            let basic = try makeRun("basic", in: folder, rows: Self.rows(episodes: 50), scenario: "basic")
            try LearningCurves.writeReport(runs: [one, basic], to: output)
            #expect(try polylines(in: output) == 4)
            try LearningCurves.writeReport(runs: [one, basic], metric: "success", to: output)
            #expect(try polylines(in: output) == 8)
        }
    }

    @Test("bad input throws an error naming the file and the fix")
    func badInput() throws {
        try withFolder { folder in
            let missing = folder.appendingPathComponent("no-such-run")
            let noFile = #expect(throws: LearningCurvesError.self) { try LearningCurves.load(runDirectory: missing) }
            #expect(noFile?.description.contains("\(missing.path)/episodes.csv") == true)
            #expect(noFile?.description.contains("a3c train") == true)

            let empty = try makeRun("empty", in: folder, rows: [])
            #expect(throws: LearningCurvesError.noEpisodes(path: empty.appendingPathComponent("episodes.csv").path)) {
                try LearningCurves.load(runDirectory: empty)
            }
            try Data().write(to: empty.appendingPathComponent("episodes.csv"))
            #expect(throws: LearningCurvesError.noEpisodes(path: empty.appendingPathComponent("episodes.csv").path)) {
                try LearningCurves.load(runDirectory: empty)
            }

            let noReturn = try makeRun("no-return", in: folder, header: ["frames", "wall_time"], rows: [["1", "2"]])
            let missingReturn = #expect(throws: LearningCurvesError.self) { try LearningCurves.load(runDirectory: noReturn) }
            #expect(missingReturn == .missingColumn(path: noReturn.appendingPathComponent("episodes.csv").path,
                                                    column: "raw_return", available: ["frames", "wall_time"]))

            let run = try makeRun("run", in: folder, rows: Self.rows(episodes: 10))
            let noMetric = #expect(throws: LearningCurvesError.self) { try LearningCurves.load(runDirectory: run, metric: "hits") }
            let message = noMetric?.description ?? ""
            #expect(message.contains("episodes.csv") && message.contains("'hits'") && message.contains("--metric")
                && message.contains("kills, raw_return"), "\(message)")

            var rows = Self.rows(episodes: 10)
            rows[1][6] = "lots"
            let damaged = try makeRun("damaged", in: folder, rows: rows)
            let bad = #expect(throws: LearningCurvesError.self) { try LearningCurves.load(runDirectory: damaged) }
            #expect(bad?.description.contains("line 3: column 'frames' holds 'lots'") == true, "\(String(describing: bad))")

            let unquoted = try makeRun("broken-csv", in: folder, rows: [], appending: "1,\"open\n")
            #expect(throws: TelemetryError.self) { try LearningCurves.load(runDirectory: unquoted) }
        }
    }

    @Test("a torn last row (a run still writing, or killed mid-row) ends the curve before it")
    func tornLastRow() throws {
        try withFolder { folder in
            let run = try makeRun("live", in: folder, rows: Self.rows(episodes: 10), appending: "11,1,11,0,2")
            #expect(try LearningCurves.load(runDirectory: run).frames.count == 10)
            let onlyTorn = try makeRun("torn", in: folder, rows: [], appending: "1,0,1")
            #expect(throws: LearningCurvesError.self) { try LearningCurves.load(runDirectory: onlyTorn) }
        }
    }
}
