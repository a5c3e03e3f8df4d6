import Foundation
import A3CTestSupport
import Testing
@testable import Training

@Suite("a3c report")
struct ReportCommandTests {
    let curves = LearningCurvesTests()

    func withFolder<Result>(_ body: (URL) throws -> Result) throws -> Result { try curves.withFolder(body) }

    @Test("`a3c report` writes the overlay, and refuses bad input with a clear message")
    func command() throws {
        try withFolder { folder in
            let one = try curves.makeRun("seed1", in: folder, rows: LearningCurvesTests.rows(episodes: 150))
            let two = try curves.makeRun("seed2", in: folder, rows: LearningCurvesTests.rows(episodes: 150))
            let result = try runA3C(["report", one.path, two.path, "--metric", "kills", "--title", "two seeds"], in: folder, timeout: 60)
            #expect(result.status == 0, "\(result.output)")
            #expect(try curves.polylines(in: folder.appendingPathComponent("report.svg")) == 8)

            let missing = try runA3C(["report", folder.appendingPathComponent("nothing").path, "--output", "x.svg"], in: folder, timeout: 60)
            #expect(missing.status != 0 && missing.output.contains("no episodes.csv"), "\(missing.output)")
            // The folder that holds the runs (a --logdir) passed for a run: the message lists them.
            for run in [one, two] { try Data("{}".utf8).write(to: run.appendingPathComponent(RunDirectory.configFile)) }
            let logdir = try runA3C(["report", folder.path, "--output", "x.svg"], in: folder, timeout: 60)
            #expect(logdir.status != 0 && logdir.output.contains("holds 2 runs") && logdir.output.contains(one.path)
                    && logdir.output.contains(two.path), "\(logdir.output)")
            let labels = try runA3C(["report", one.path, two.path, "--label", "only one"], in: folder, timeout: 60)
            #expect(labels.status != 0 && labels.output.contains("one label per run"), "\(labels.output)")
            let png = try runA3C(["report", one.path, "--output", "curves.png"], in: folder, timeout: 60)
            #expect(png.status != 0 && png.output.contains(".svg"), "\(png.output)")
            let nowhere = try runA3C(["report", one.path, "--output", "no/such/folder/r.svg"], in: folder, timeout: 60)
            #expect(nowhere.status != 0 && nowhere.output.contains("does not exist"), "\(nowhere.output)")
        }
    }
}
