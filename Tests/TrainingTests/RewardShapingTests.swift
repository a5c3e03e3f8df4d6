// Opt-in reward shaping: the bonus by hand, and what the worker learns from and logs: the score
// stays the scenario's raw return, the shaped return is logged beside it.
import Foundation
import Testing
import Telemetry
import ViZDoom
@testable import Training

/// The side-bar task with a shaping bonus of 0.5 every step.
private final class ShapedSideBar: Environment {
    private let inner = SideBarEnvironment(seed: 11)
    var actionCount: Int { inner.actionCount }
    var framesPerStep: Int { 1 }
    var lastShapingBonus: Double { 0.5 }
    func reset() throws { try inner.reset() }
    func observe(into frame: UnsafeMutableBufferPointer<Float>) throws { try inner.observe(into: frame) }
    func step(action: Int) throws -> (reward: Double, finished: Bool) { try inner.step(action: action) }
    func withRawScreen<R>(_ body: (UnsafeBufferPointer<UInt8>?, Int, Int) throws -> R) throws -> R { try inner.withRawScreen(body) }
    func close() {}
}

@Suite("Reward shaping")
struct RewardShapingTests {
    /// The bonuses of `scheme` over one episode whose game variables take `states` (the first: the
    /// episode's start).
    private func bonuses(_ scheme: RewardShaping, _ states: [[String: Double]]) throws -> [Double] {
        var shaper = RewardShaper(scheme: scheme)
        func reader(_ state: [String: Double]) -> (GameVariable) throws -> Double {
            { variable in try #require(state[variable.name], "\(scheme) read \(variable.name)") }
        }
        try shaper.startEpisode(reader(states[0]))
        return try states.dropFirst().map { try shaper.bonus(reader($0)) }
    }

    @Test("health: +1 for a step in which HEALTH rose, else 0, from the episode's start on")
    func healthBonus() throws {
        let health: [[String: Double]] = [100, 80, 60, 85, 85, 70, 95].map { ["HEALTH": $0] }
        #expect(try bonuses(.health, health) == [0, 0, 1, 0, 0, 1])
    }

    @Test("ammunition: minus the penalty for each round fired, from the episode's start on; a pickup costs nothing")
    func ammunitionPenalty() throws {
        let ammunition: [[String: Double]] = [26, 26, 25, 25, 23, 30, 29].map { ["AMMO2": $0] }
        let penalty = RewardShaping.ammunitionPenalty
        #expect(try bonuses(.ammunition, ammunition) == [0, -penalty, 0, -2 * penalty, 0, -penalty])
    }

    @Test("exploration: +0.05 for each step into a 64-unit square not yet visited in the episode; a new episode forgets")
    func explorationBonus() throws {
        let path: [(Double, Double)] = [(10, 10), (60, 10), (70, 10), (10, 20), (70, 63.9), (70, 64), (-1, 64), (-1, 64)]
        let states = path.map { ["POSITION_X": $0.0, "POSITION_Y": $0.1] }
        // Start in square (0, 0); (60, 10) is still in it; (70, 10) enters (1, 0); back to (0, 0);
        // (70, 63.9) is (1, 0) again; (70, 64) enters (1, 1); (-1, 64) enters (-1, 1); staying earns nothing.
        let bonus = RewardShaping.explorationBonus
        #expect(try bonuses(.exploration, states) == [0, bonus, 0, 0, bonus, bonus, 0])
        // The same path again, as a new episode: the same bonuses, nothing remembered.
        var shaper = RewardShaper(scheme: .exploration)
        for _ in 0..<2 {
            shaper.startEpisode { _ in 10 }
            #expect(shaper.bonus { $0.name == "POSITION_X" ? 70 : 10 } == bonus)
        }
        #expect(RewardShaper.cellKey(x: -0.5, y: 0) != RewardShaper.cellKey(x: 0.5, y: 0))
        #expect(RewardShaper.cellKey(x: 0, y: -0.5) != RewardShaper.cellKey(x: 0, y: 0.5))
    }

    /// A real run of `scenario` with `scheme`: every episode's shaped return must be the raw one
    /// times the preset's `scale` plus a whole number of `unit` bonuses, of the sign of `unit`
    /// (this fails if the scheme's game variables cannot be read, or the worker drops the bonus).
    private func expectWholeBonuses(scenario: String, _ scheme: RewardShaping, metrics: [ScoreMetric], scale: Double, unit: Double) throws {
        try withTrainedRun(["--scenario", scenario, "--reward-shaping", scheme.rawValue, "--max-frames", "5000",
                            "--workers", "1", "--envs-per-worker", "2", "--gif-every", "0"]) { run in
            let rows = try CSVReader.read(run.appendingPathComponent(RunDirectory.episodesFile))
            #expect(rows.first == RunDirectory.episodesHeader(metrics: metrics, shaped: true))
            #expect(rows.count >= 2, "\(rows)")
            for row in rows.dropFirst() {
                let raw = try #require(Double(row[4])), shaped = try #require(row.last.flatMap(Double.init))
                let bonuses = (shaped - scale * raw) / unit
                // 0.01 of a bonus: the CSV keeps 6 significant digits of a Float sum.
                #expect(bonuses >= 1 && abs(bonuses - bonuses.rounded()) < 0.01, "\(row): \(bonuses) bonuses")
            }
        }
    }

    @Test("exploration on the real engine: my_way_home's episodes earn a bonus from POSITION_X and POSITION_Y, in steps of 0.05")
    func explorationOnTheEngine() throws {
        try expectWholeBonuses(scenario: "my_way_home", .exploration, metrics: [.success], scale: 5, unit: RewardShaping.explorationBonus)
    }

    @Test("ammunition on the real engine: defend_the_center's episodes pay for the rounds fired, read from AMMO2")
    func ammunitionOnTheEngine() throws {
        try expectWholeBonuses(scenario: "defend_the_center", .ammunition, metrics: [.kills], scale: 1, unit: -RewardShaping.ammunitionPenalty)
    }

    @Test("damage: minus the penalty for each point of HEALTH lost down to 0, from the episode's start on; a medikit earns nothing")
    func damagePenalty() throws {
        let health: [[String: Double]] = [100, 100, 79, 79, 37, 58, -131].map { ["HEALTH": $0] }
        let penalty = RewardShaping.damagePenalty
        let expected = [0, -21 * penalty, 0, -42 * penalty, 0, -58 * penalty]
        let charged = try bonuses(.damage, health)
        #expect(charged.count == expected.count)
        for (bonus, wanted) in zip(charged, expected) { #expect(abs(bonus - wanted) < 1e-12) }
    }

    @Test("damage on the real engine: take_cover's episodes pay for the health lost, read from HEALTH")
    func damageOnTheEngine() throws {
        try expectWholeBonuses(scenario: "take_cover", .damage, metrics: [.survivalTics, .reachedTimeout], scale: 0.01, unit: -RewardShaping.damagePenalty)
    }

    @Test("the presets that recommend a shaping: ammunition for defend_the_center, health for the gathering maps, damage for take_cover, exploration for my_way_home")
    func recommendedShaping() {
        let recommended = ScenarioPreset.all.compactMap { preset in preset.recommendedShaping.map { "\(preset.name): \($0)" } }
        #expect(recommended == ["defend_the_center: ammunition", "health_gathering: health", "health_gathering_supreme: health", "take_cover: damage", "my_way_home: exploration"])
    }

    @Test("the worker learns from scaled rewards plus the bonus; episodes.csv keeps the raw return and logs the shaped one")
    func shapedReturnLogged() throws {
        var configuration = TrainingConfiguration()
        configuration.workers = 1
        configuration.envsPerWorker = 2
        configuration.maxFrames = 400
        configuration.rolloutLength = 7
        configuration.rewardScale = 0.1
        configuration.rewardShaping = .health
        configuration.metrics = []
        configuration.gifEveryEpisodes = 0
        configuration.logdir = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-shaping-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: configuration.logdir) }
        let trainer = try Trainer(configuration: configuration, makeEnvironment: { _ in ShapedSideBar() })
        try trainer.train()
        let rows = try CSVReader.read(trainer.run.episodesURL)
        #expect(rows.first == RunDirectory.episodesHeader(metrics: [], shaped: true))
        #expect(rows.count > 5)
        for row in rows.dropFirst() {
            let raw = try #require(Double(row[4])), length = try #require(Double(row[5])), shaped = try #require(Double(row[6]))
            // Every step: 0.1 x its raw reward (+1 or -1) + 0.5.
            #expect(abs(shaped - (0.1 * raw + 0.5 * length)) < 1e-4, "\(row)")
        }
    }
}
