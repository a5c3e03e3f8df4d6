// Opt-in reward shaping: the bonus by hand, and what the worker learns from and logs: the score
// stays the scenario's raw return, the shaped return is logged beside it.
import Foundation
import Testing
import Telemetry
@testable import A3C

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
    @Test("health: +1 for a step in which HEALTH rose, else 0; recommended for the two health_gathering scenarios only")
    func healthBonus() {
        #expect(RewardShaping.health.bonus(before: 50, after: 75) == 1)
        #expect(RewardShaping.health.bonus(before: 75, after: 75) == 0)
        #expect(RewardShaping.health.bonus(before: 75, after: 62) == 0)
        #expect(RewardShaping.health.gameVariable.name == "HEALTH")
        let recommended = ScenarioPreset.all.filter { $0.recommendedShaping != nil }.map(\.name)
        #expect(recommended == ["health_gathering", "health_gathering_supreme"])
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
