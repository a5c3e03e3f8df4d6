import Foundation
import Testing
import ViZDoom
@testable import A3C

/// Runs `body` on a fresh long-lived thread and waits for it (games belong to one thread).
private func onThread(_ body: @escaping () throws -> Void) throws {
    final class Outcome: @unchecked Sendable { var error: Error? }  // written by the thread before `done`
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread { do { try body() } catch { outcome.error = error }; done.signal() }
    thread.start()
    done.wait()
    if let error = outcome.error { throw error }
}

/// A real game set up as a preset asks: the `.cfg`'s buttons plus the preset's, its variables plus
/// the metrics', the preset's timeout; and what an episode's outcome needs from the settings.
private struct PresetGame {
    let preset: ScenarioPreset
    let game: DoomGame
    let vectors: [[Double]]
    let startTime: Int
    let timeout: Int

    init(_ name: String) throws {
        preset = try #require(ScenarioPreset.named(name))
        let scenario = try ScenarioCatalog().scenario(named: name)
        var configuration = GameConfiguration(scenario: name)
        configuration.buttons = preset.gameButtons(scenarioButtons: scenario.buttons)
        let variables = configuration.gameVariables ?? scenario.gameVariables
        configuration.gameVariables = variables + preset.gameVariables.filter { !variables.contains($0) }
        if let timeout = preset.episodeTimeout { configuration.episodeTimeout = timeout }
        startTime = configuration.episodeStartTime ?? scenario.episodeStartTime
        timeout = configuration.episodeTimeout ?? scenario.episodeTimeout
        game = try DoomGame(configuration)
        vectors = try preset.actions.buttonVectors(gameButtons: game.buttons)
    }

    /// Plays `action(step)` until the episode ends (or `maxSteps`), keeping the game variables of
    /// the last state before the end, as a worker would.
    func playEpisode(maxSteps: Int = 10_000, action: (Int) -> Int) throws -> EpisodeOutcome? {
        try game.newEpisode()
        var rawReturn = 0.0
        var last: [GameVariable: Double] = [:]
        for step in 0..<maxSteps {
            last = Dictionary(uniqueKeysWithValues: zip(game.gameVariables, try game.gameVariableValues()))
            rawReturn += try game.makeAction(vectors[action(step)], tics: preset.frameSkip)
            if try game.isEpisodeFinished {
                return EpisodeOutcome(tics: try game.episodeTime(), startTime: startTime, timeout: timeout,
                                      playerDead: try game.isPlayerDead, rawReturn: rawReturn, lastGameVariables: last)
            }
        }
        return nil
    }
}

@Suite("Presets with the real engine", .serialized)
struct PresetEngineTests {
    @Test("each preset's game starts with its buttons and variables and plays 10 steps of each action",
          arguments: ScenarioPresetTests.names)
    func playsEveryAction(name: String) throws {
        try onThread {
            let setup = try PresetGame(name)
            let game = setup.game
            defer { game.close() }
            #expect(setup.vectors.count == setup.preset.actions.count)
            #expect(setup.vectors.allSatisfy { $0.count == game.buttons.count })
            for variable in setup.preset.gameVariables { #expect(game.gameVariables.contains(variable)) }
            try game.newEpisode()
            var episodes = 0
            for action in 0..<setup.preset.actions.count {
                for _ in 0..<10 {
                    if try game.isEpisodeFinished { episodes += 1; try game.newEpisode() }
                    #expect(try game.gameVariableValues().count == game.gameVariables.count)
                    let reward = try game.makeAction(setup.vectors[action], tics: setup.preset.frameSkip)
                    #expect(reward.isFinite)
                }
            }
            print("\(name): \(setup.preset.actions.count) actions x 10 steps, \(episodes) episodes ended, buttons \(game.buttons)")
        }
    }

    @Test("episodes end as the metrics read them: timeouts, deaths, kills")
    func outcomes() throws {
        try onThread {
            // basic, MOVE_LEFT only (basic has no no-op): the seed's 300 tics after a start of 10, then the timeout; no kill.
            do {
                let setup = try PresetGame("basic")
                defer { setup.game.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("basic, MOVE_LEFT only: \(outcome)")
                #expect(outcome.reachedTimeout && outcome.tics == 310 && outcome.playedTics == 300)
                #expect(ScoreMetric.success.value(of: outcome) == 0)
            }
            // my_way_home, no-ops: alive at the timeout, so no success.
            do {
                let setup = try PresetGame("my_way_home")
                defer { setup.game.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("my_way_home, no-ops: \(outcome)")
                #expect(!outcome.playerDead && outcome.reachedTimeout && outcome.tics == setup.startTime + 2100)
                #expect(ScoreMetric.success.value(of: outcome) == 0)
            }
            // predict_position, no-ops: no rocket, the timeout, a negative return: no hit.
            do {
                let setup = try PresetGame("predict_position")
                defer { setup.game.close() }
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("predict_position, no-ops: \(outcome)")
                #expect(outcome.reachedTimeout && outcome.rawReturn < 0)
                #expect(ScoreMetric.hits.value(of: outcome) == 0)
            }
            // take_cover with the preset's 2,100-tic timeout, standing still: the fireballs kill.
            do {
                let setup = try PresetGame("take_cover")
                defer { setup.game.close() }
                #expect(setup.timeout == 2100)
                let outcome = try #require(try setup.playEpisode { _ in 0 })
                print("take_cover, no-ops: \(outcome)")
                #expect(outcome.playerDead && !outcome.reachedTimeout)
                #expect(ScoreMetric.survivalTics.value(of: outcome) == Double(outcome.tics - setup.startTime))
                // A living reward of 1 a tic: the return counts the tics survived.
                #expect(abs(outcome.rawReturn - Double(outcome.playedTics)) <= 1)
            }
            // defend_the_center, shooting straight ahead: KILLCOUNT agrees with the map's +1 a kill
            // (the return is kills - 1 at death), short of at most a kill in the final step.
            do {
                let setup = try PresetGame("defend_the_center")
                defer { setup.game.close() }
                let attack = try #require(setup.preset.actions.actions.firstIndex(of: [.attack]))
                let outcome = try #require(try setup.playEpisode { _ in attack })
                print("defend_the_center, ATTACK only: \(outcome)")
                let paidKills = outcome.rawReturn + (outcome.playerDead ? 1 : 0)
                let kills = try #require(ScoreMetric.kills.value(of: outcome))
                #expect(kills <= paidKills && kills >= paidKills - 1)
            }
        }
    }
}
