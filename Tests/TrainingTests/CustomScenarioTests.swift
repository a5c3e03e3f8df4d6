// A scenario of one's own: a .cfg with its .wad in a folder of its own trains with --actions,
// evaluates and plays; a missing .wad, a map that does not exist and a button the .cfg does not make
// available each get a message naming the file and the fix, before any run directory exists.
import Foundation
import Testing
import ViZDoom
import A3CTestSupport
@testable import Training

@Suite("Custom scenarios", .serialized)
struct CustomScenarioTests {
    /// A folder holding basic's .cfg as `my.cfg` and its .wad, `doom_map` and the .wad's name as given.
    private func customScenario(map: String = "map01", wad: String = "basic.wad", copyWad: Bool = true) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-custom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scenarios = ViZDoomInstallation.default.scenariosDirectory
        var text = try String(contentsOf: scenarios.appendingPathComponent("basic.cfg"), encoding: .utf8)
        text = text.split(separator: "\n").filter { !$0.hasPrefix("doom_scenario_path") && !$0.hasPrefix("doom_map") }
            .joined(separator: "\n") + "\ndoom_scenario_path = \(wad)\ndoom_map = \(map)\n"
        try Data(text.utf8).write(to: folder.appendingPathComponent("my.cfg"))
        if copyWad {
            try FileManager.default.copyItem(at: scenarios.appendingPathComponent("basic.wad"), to: folder.appendingPathComponent(wad))
        }
        return folder
    }

    @Test("a .cfg with its .wad in a folder of its own trains with --actions, evaluates and plays")
    func trainsEvaluatesPlays() throws {
        let folder = try customScenario()
        defer { try? FileManager.default.removeItem(at: folder) }
        let logdir = folder.appendingPathComponent("runs")
        // From another working directory: the .wad is found next to the .cfg.
        let train = try runA3C(["train", "--scenario", folder.appendingPathComponent("my.cfg").path,
                                "--actions", "NOOP;MOVE_LEFT;MOVE_RIGHT;ATTACK;MOVE_LEFT+ATTACK", "--max-frames", "4000",
                                "--logdir", logdir.path, "--quiet"], in: FileManager.default.temporaryDirectory, timeout: 120)
        #expect(train.status == 0, "\(train.output)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: logdir.path)
        let run = logdir.appendingPathComponent(try #require(runs.first { $0.hasPrefix("my__a3c__") }))
        let (_, configuration) = try RunDirectory.open(run.path)
        #expect(configuration.actions.count == 5 && configuration.actions.description.contains("MOVE_LEFT+ATTACK"))
        #expect(configuration.metrics.isEmpty && configuration.rewardScale == ScenarioPreset.rewardScaleWithoutPreset)
        let eval = try runA3C(["eval", run.path, "--episodes", "4", "--json"], timeout: 120)
        #expect(eval.status == 0, "\(eval.output)")
        let json = try #require(eval.output.split(separator: "\n").last)
        let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data(json.utf8))
        #expect(evaluation.episodes == 4 && evaluation.meanReturn.isFinite)
        let play = try runA3C(["play", run.path, "--episodes", "1"], timeout: 120)
        #expect(play.status == 0 && play.output.contains("episode 1: return"), "\(play.output)")
    }

    @Test("bad custom scenarios: a missing .wad, a map that does not exist, a button the .cfg lacks",
          arguments: [("missing", "does not exist"), ("map", "is in neither"), ("button", "TURN_LEFT")])
    func badScenarios(problem: String, expected: String) throws {
        let folder = try customScenario(map: problem == "map" ? "map99" : "map01", wad: "basic.wad",
                                        copyWad: problem != "missing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let logdir = folder.appendingPathComponent("runs")
        var arguments = ["train", "--scenario", folder.appendingPathComponent("my.cfg").path, "--max-frames", "1000",
                         "--logdir", logdir.path, "--quiet"]
        if problem == "button" { arguments += ["--actions", "TURN_LEFT;ATTACK"] }
        let result = try runA3C(arguments, timeout: 60)
        #expect(result.status != 0)
        #expect(result.output.contains(expected) && result.output.contains("my"), "\(problem): \(result.output)")
        if problem == "button" {  // the message lists the buttons the .cfg has
            #expect(result.output.contains("MOVE_LEFT") && result.output.contains("ATTACK"), "\(result.output)")
        }
        #expect(!result.output.contains("Fatal error"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: logdir.path)) ?? []).isEmpty, "a run directory was created")
    }
}
