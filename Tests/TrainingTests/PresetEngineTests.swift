import Foundation
import Testing
import A3CTestSupport
import ViZDoom
@testable import Training


/// The product's own game for a preset scenario: `TrainingConfiguration.forScenario` and
/// `makeEnvironment`, as `a3c train --scenario NAME` plays it.
private struct PresetGame {
    let configuration: TrainingConfiguration
    let environment: DoomEnvironment
    var game: DoomGame { environment.game }

    init(_ name: String, skill: Int? = nil) throws {
        var configuration = try TrainingConfiguration.forScenario(name)
        configuration.doomSkill = skill
        self.configuration = configuration
        environment = try configuration.makeEnvironment(index: 0)
    }

    /// Plays `action(step)` until the episode ends (or `maxSteps`); its outcome as the worker reads it.
    func playEpisode(maxSteps: Int = 10_000, action: (Int) -> Int) throws -> EpisodeOutcome? {
        try environment.reset()
        for step in 0..<maxSteps {
            if try environment.step(action: action(step)).finished { return try environment.finishedEpisodeOutcome() }
        }
        return nil
    }
}

@Suite("Presets with the real engine", .serialized)
struct PresetEngineTests {
    @Test("each preset's game starts with its buttons and plays 10 steps of each action",
          arguments: ScenarioPresetTests.names)
    func playsEveryAction(name: String) throws {
        try onThread {
            let setup = try PresetGame(name)
            defer { setup.environment.close() }
            let preset = try #require(ScenarioPreset.named(name))
            #expect(setup.environment.actionCount == preset.actions.count)
            #expect(preset.actions.buttons.allSatisfy(setup.game.buttons.contains))
            try setup.environment.reset()
            var episodes = 0
            let frame = UnsafeMutableBufferPointer<Float>.allocate(capacity: 84 * 84)
            defer { frame.deallocate() }
            for action in 0..<preset.actions.count {
                for _ in 0..<10 {
                    let outcome = try setup.environment.step(action: action)
                    #expect(outcome.reward.isFinite)
                    if outcome.finished {
                        episodes += 1
                        #expect(try setup.environment.finishedEpisodeMetrics().count == preset.metrics.count)
                        try setup.environment.reset()
                    }
                    try setup.environment.observe(into: frame)
                }
            }
            print("\(name): \(preset.actions.count) actions x 10 steps, \(episodes) episodes ended, buttons \(setup.game.buttons)")
        }
    }

    @Test("episodes end as the metrics read them: timeouts, deaths, kills")
    func outcomes() throws {
        try onThread {
            // basic, MOVE_LEFT only (basic has no no-op): the seed's 300 tics after a start of 10, then the timeout; no kill.
            do {
                let setup = try PresetGame("basic")
                defer { setup.environment.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("basic, MOVE_LEFT only: \(outcome)")
                #expect(outcome.reachedTimeout && outcome.tics == 310 && outcome.playedTics == 300)
                #expect(ScoreMetric.success.value(of: outcome) == 0)
                // What the worker asks to bootstrap a timeout (TrainingConfiguration.timeLimitBootstrap).
                #expect(try setup.environment.finishedEpisodeReachedTimeout())
            }
            // my_way_home, no-ops: alive at the timeout, so no success.
            do {
                let setup = try PresetGame("my_way_home")
                defer { setup.environment.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("my_way_home, no-ops: \(outcome)")
                #expect(!outcome.playerDead && outcome.reachedTimeout && outcome.tics == setup.game.episodeStartTime + 2100)
                #expect(ScoreMetric.success.value(of: outcome) == 0)
            }
            // predict_position, no-ops: no rocket, the timeout, a negative return: no hit.
            do {
                let setup = try PresetGame("predict_position")
                defer { setup.environment.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("predict_position, no-ops: \(outcome)")
                #expect(outcome.reachedTimeout && outcome.rawReturn < 0)
                #expect(ScoreMetric.hits.value(of: outcome) == 0)
            }
            // take_cover with the preset's 2,100-tic timeout, standing still: the fireballs kill.
            do {
                let setup = try PresetGame("take_cover")
                defer { setup.environment.close() }
                #expect(setup.game.episodeTimeout == 2100)
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("take_cover, no-ops: \(outcome)")
                #expect(outcome.playerDead && !outcome.reachedTimeout)
                #expect(try !setup.environment.finishedEpisodeReachedTimeout(), "a death is no timeout")
                #expect(ScoreMetric.survivalTics.value(of: outcome) == Double(outcome.tics - setup.game.episodeStartTime))
                // A living reward of 1 a tic: the return counts the tics survived.
                #expect(abs(outcome.rawReturn - Double(outcome.playedTics)) <= 1)
            }
            // defend_the_center, shooting straight ahead: KILLCOUNT, read from the engine after the
            // end, agrees exactly with the map's +1 a kill (the return is kills - 1 at death).
            do {
                let setup = try PresetGame("defend_the_center")
                defer { setup.environment.close() }
                let attack = try #require(setup.configuration.actions.actions.firstIndex(of: [.attack]))
                let outcome = try #require(try setup.playEpisode { _ in attack })
                print("defend_the_center, ATTACK only: \(outcome)")
                let paidKills = outcome.rawReturn + (outcome.playerDead ? 1 : 0)
                #expect(ScoreMetric.kills.value(of: outcome) == paidKills)
            }
        }
    }

    @Test("--skill replaces the .cfg's doom_skill: deadly_corridor's monsters kill a player standing still sooner at 5 than at 1")
    func skillOverride() throws {
        try onThread {
            var survived: [Int: Int] = [:]
            for skill in [nil, 1] as [Int?] {
                let setup = try PresetGame("deadly_corridor", skill: skill)
                defer { setup.environment.close() }
                #expect(setup.game.doomSkill == skill ?? 5, "the .cfg's doom_skill is 5")
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("deadly_corridor, skill \(setup.game.doomSkill), no-ops: \(outcome)")
                survived[setup.game.doomSkill] = outcome.playedTics
            }
            let nightmare = try #require(survived[5]), easiest = try #require(survived[1])
            #expect(easiest > nightmare)
        }
        for bad in [0, 6] {
            var configuration = try TrainingConfiguration.forScenario("deadly_corridor")
            configuration.doomSkill = bad
            #expect(throws: TrainingError.self) { try configuration.validate() }
            do { try configuration.validate() } catch { #expect("\(error)".contains("--skill must be 1 (easiest) to 5")) }
        }
        // It lands in config.json and comes back.
        var configuration = try TrainingConfiguration.forScenario("deadly_corridor")
        configuration.doomSkill = 2
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(decoded.doomSkill == 2)
    }
}
