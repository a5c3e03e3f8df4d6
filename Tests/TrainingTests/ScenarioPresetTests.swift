import A3CTestSupport
import Foundation
import Testing
import ViZDoom
@testable import Training

@Suite("Scenario presets")
struct ScenarioPresetTests {
    static let names = ["basic", "simpler_basic", "rocket_basic", "defend_the_center", "defend_the_line",
                        "health_gathering", "health_gathering_supreme", "take_cover", "my_way_home",
                        "deadly_corridor", "predict_position"]

    @Test("one preset per standard scenario, found by name; none for the others")
    func lookup() throws {
        #expect(ScenarioPreset.all.map(\.name) == Self.names)
        for name in Self.names { #expect(ScenarioPreset.named(name)?.name == name) }
        let catalog = try ScenarioCatalog()
        for name in catalog.names where !Self.names.contains(name) { #expect(ScenarioPreset.named(name) == nil) }
        #expect(ScenarioPreset.named("/tmp/basic.cfg") == nil)
        #expect(ScenarioPreset.named("Basic") == nil)
    }

    /// Read through the real client library (no engine): the `.cfg`'s buttons, variables, timeout.
    @Test("each preset's buttons are in its .cfg or added by the preset, and every added one is needed",
          arguments: names)
    func buttonsAvailable(name: String) throws {
        let preset = try #require(ScenarioPreset.named(name))
        let scenario = try ScenarioCatalog().scenario(named: name)
        let gameButtons = preset.gameButtons(scenarioButtons: scenario.buttons)
        #expect(Array(gameButtons.prefix(scenario.buttons.count)) == scenario.buttons, "the .cfg's order is kept")
        try preset.actions.validate(available: gameButtons, scenario: name)
        for added in preset.addedButtons {
            #expect(!scenario.buttons.contains(added), "\(added) is already in \(name).cfg")
            #expect(preset.actions.buttons.contains(added), "\(added) is added but no action presses it")
        }
        #expect(Set(preset.actions.buttons).subtracting(scenario.buttons) == Set(preset.addedButtons))
        _ = try preset.actions.buttonVectors(gameButtons: gameButtons)
    }

    @Test("each preset has metrics it can compute, a positive reward scale and a reference", arguments: names)
    func metricsComputable(name: String) throws {
        let preset = try #require(ScenarioPreset.named(name))
        let scenario = try ScenarioCatalog().scenario(named: name)
        let timeout = preset.episodeTimeout ?? scenario.episodeTimeout
        #expect(!preset.metrics.isEmpty)
        #expect(Set(preset.metrics).count == preset.metrics.count)
        // Timeout-based metrics (and success, "ended before the timeout") need a timeout.
        if preset.metrics.contains(where: { [.reachedTimeout, .success].contains($0) }) {
            #expect(timeout > 0, "\(name) has no timeout")
        }
        #expect(preset.gameVariables == preset.metrics.gameVariables)
        #expect(preset.rewardScale > 0 && preset.frameSkip == 4)
        #expect(!preset.summary.isEmpty && !preset.reference.score.isEmpty)
        #expect(preset.actions.count >= 2)
    }

    @Test("a preset's learning-rate schedule, environments per worker and entropy coefficient land in the run's configuration")
    func presetSchedule() throws {
        #expect(try TrainingConfiguration.forScenario("take_cover").entropyCoefficient == 0.005)
        #expect(try TrainingConfiguration.forScenario("defend_the_center").entropyCoefficient == TrainingConfiguration().entropyCoefficient)
        #expect(try TrainingConfiguration.forScenario("take_cover").learningRateSchedule == .linear)
        #expect(try TrainingConfiguration.forScenario("basic").learningRateSchedule == .constant)
        #expect(try TrainingConfiguration.forScenario("defend_the_center").envsPerWorker == 1)
        #expect(try TrainingConfiguration.forScenario("defend_the_line").envsPerWorker == TrainingConfiguration().envsPerWorker)
    }

    @Test("basic keeps the seed's actions, reward scale, frame skip and buttons")
    func basicIsTheSeed() {
        let basic = ScenarioPreset.basic
        let seed = TrainingConfiguration()
        #expect(basic.actions.actions == [[.moveLeft], [.moveRight], [.attack]])
        #expect(basic.rewardScale == seed.rewardScale && basic.frameSkip == seed.frameSkip)
        #expect(basic.episodeTimeout == nil && basic.addedButtons.isEmpty)
        #expect(basic.learningRateSchedule == seed.learningRateSchedule)
        #expect(seed.view == .center && (try? TrainingConfiguration.forScenario("take_cover").view) == .center)
        #expect(basic.gameButtons(scenarioButtons: [.moveLeft, .moveRight, .attack]) == GameConfiguration(scenario: "basic").buttons)
    }

    @Test("the action sets of issue 9 and Sample Factory")
    func actionSets() {
        #expect(ScenarioPreset.defendTheLine.actions.description ==
                "NOOP; TURN_LEFT; TURN_RIGHT; ATTACK; TURN_LEFT+ATTACK; TURN_RIGHT+ATTACK")
        #expect(ScenarioPreset.defendTheCenter.actions.description == "TURN_LEFT; TURN_RIGHT; ATTACK")
        #expect(ScenarioPreset.healthGathering.actions.description == "NOOP; TURN_LEFT; TURN_RIGHT; MOVE_FORWARD; MOVE_BACKWARD")
        #expect(ScenarioPreset.myWayHome.actions.description ==
                "MOVE_FORWARD; TURN_LEFT; TURN_RIGHT; MOVE_FORWARD+TURN_LEFT; MOVE_FORWARD+TURN_RIGHT")
        #expect(ScenarioPreset.deadlyCorridor.actions.count == 54)
        #expect(ScenarioPreset.takeCover.actions.description == "NOOP; MOVE_LEFT; MOVE_RIGHT")
    }

    @Test("reward scale: 1 where the map pays 1 per event, 0.01 where rewards run to hundreds, 5 for my_way_home's vest against its exploration bonus")
    func rewardScales() {
        for preset in [ScenarioPreset.defendTheCenter, .defendTheLine, .predictPosition] {
            #expect(preset.rewardScale == 1, "\(preset.name)")
        }
        #expect(ScenarioPreset.myWayHome.rewardScale == 5)
        for preset in [ScenarioPreset.basic, .simplerBasic, .rocketBasic, .healthGathering, .healthGatheringSupreme,
                       .takeCover, .deadlyCorridor] {
            #expect(preset.rewardScale == 0.01, "\(preset.name)")
        }
    }

    @Test("a scenario without a preset: one action per .cfg button, reward scale 1, no metrics")
    func withoutPreset() throws {
        let deathmatch = try ScenarioCatalog().scenario(named: "deathmatch")
        let fallback = try ScenarioPreset.withoutPreset(scenario: "deathmatch", buttons: deathmatch.buttons)
        #expect(fallback.actions == .oneButtonEach(deathmatch.buttons))
        #expect(fallback.rewardScale == 1 && fallback.frameSkip == 4 && fallback.metrics.isEmpty)
        #expect(fallback.gameButtons(scenarioButtons: deathmatch.buttons) == deathmatch.buttons)
        // A .cfg with no buttons: a clear error naming the fix, not a crash.
        #expect(throws: TrainingError.self) { try ScenarioPreset.withoutPreset(scenario: "empty.cfg", buttons: []) }
        do { _ = try ScenarioPreset.withoutPreset(scenario: "empty.cfg", buttons: []) } catch {
            #expect("\(error)".contains("empty.cfg") && "\(error)".contains("available_buttons"))
        }
    }

    @Test("a3c scenarios: every preset's actions, metrics and reference; the others' buttons")
    func scenariosCommand() throws {
        let (status, output) = try runA3C(["scenarios"], timeout: 60)
        #expect(status == 0, "\(output)")
        for preset in ScenarioPreset.all {
            #expect(output.contains("\(preset.name): \(preset.summary)"), "\(preset.name) missing")
            #expect(output.contains(preset.reference.score))
        }
        #expect(output.contains("NOOP; TURN_LEFT; TURN_RIGHT; ATTACK; TURN_LEFT+ATTACK; TURN_RIGHT+ATTACK"))
        #expect(output.contains("kills = KILLCOUNT at the episode's end"))
        #expect(output.contains("+ MOVE_BACKWARD (added by the preset)"))
        #expect(output.contains("(list them with `a3c scenarios deadly_corridor`)"))
        #expect(output.contains("deathmatch ") && output.contains("buttons: ATTACK SPEED"))

        let one = try runA3C(["scenarios", "deadly_corridor"], timeout: 60)
        #expect(one.status == 0 && one.output.contains("TURN_RIGHT+MOVE_BACKWARD+MOVE_RIGHT+ATTACK"), "\(one.output)")
        let unknown = try runA3C(["scenarios", "basci"], timeout: 60)
        #expect(unknown.status != 0 && unknown.output.contains("unknown scenario 'basci'"), "\(unknown.output)")

        // --json NAME: one object, a scenario without a preset shows what it gets, a typo is an error.
        let learning = try runA3C(["scenarios", "--json", "learning"], timeout: 60)
        #expect(learning.status == 0 && learning.output.contains("\"name\":\"learning\""), "\(learning.output)")
        let unknownJSON = try runA3C(["scenarios", "--json", "basci"], timeout: 60)
        #expect(unknownJSON.status != 0 && unknownJSON.output.contains("unknown scenario 'basci'"), "\(unknownJSON.output)")
    }
}
