import Testing
import ViZDoom
@testable import Training

private let killCount = GameVariable(name: "KILLCOUNT")!

@Suite("Score metrics")
struct ScoreMetricsTests {
    /// my_way_home: start time 10, timeout 2100 (its .cfg).
    private func myWayHome(tics: Int, dead: Bool = false, rawReturn: Double = 0) -> EpisodeOutcome {
        EpisodeOutcome(tics: tics, startTime: 10, timeout: 2100, playerDead: dead, rawReturn: rawReturn)
    }

    @Test("my_way_home: the vest at tic 500 is a success; the timeout is not")
    func myWayHomeSuccess() {
        #expect(ScoreMetric.success.value(of: myWayHome(tics: 500, rawReturn: 0.95)) == 1)
        let timedOut = myWayHome(tics: 2110, rawReturn: -0.21)
        #expect(timedOut.reachedTimeout)
        #expect(ScoreMetric.success.value(of: timedOut) == 0)
        // One tic before the timeout the map's script ended it: the vest.
        #expect(ScoreMetric.success.value(of: myWayHome(tics: 2109)) == 1)
    }

    @Test("deadly_corridor: death before the vest is no success, even before the timeout")
    func deadlyCorridor() {
        let died = EpisodeOutcome(tics: 300, startTime: 1, timeout: 2100, playerDead: true, rawReturn: -60)
        let vest = EpisodeOutcome(tics: 400, startTime: 1, timeout: 2100, playerDead: false, rawReturn: 2300)
        #expect(ScoreMetric.success.value(of: died) == 0)
        #expect(ScoreMetric.success.value(of: vest) == 1)
    }

    @Test("health_gathering: survival tics exclude the start time; reaching the timeout alive counts")
    func survival() {
        // No episode_start_time in its .cfg: ViZDoom's minimum, 1.
        let died = EpisodeOutcome(tics: 801, startTime: 1, timeout: 2100, playerDead: true, rawReturn: 700)
        #expect(ScoreMetric.survivalTics.value(of: died) == 800)
        #expect(ScoreMetric.reachedTimeout.value(of: died) == 0)
        let survived = EpisodeOutcome(tics: 2101, startTime: 1, timeout: 2100, playerDead: false, rawReturn: 2100)
        #expect(ScoreMetric.survivalTics.value(of: survived) == 2100)
        #expect(ScoreMetric.reachedTimeout.value(of: survived) == 1)
        // Dying in the last tic is a death.
        let diedLast = EpisodeOutcome(tics: 2101, startTime: 1, timeout: 2100, playerDead: true, rawReturn: 2000)
        #expect(ScoreMetric.reachedTimeout.value(of: diedLast) == 0)
        #expect(ScoreMetric.survivalTics.value(of: diedLast) == 2100)
    }

    @Test("without a timeout nothing reaches it")
    func noTimeout() {
        let takeCover = EpisodeOutcome(tics: 1093, startTime: 1, timeout: 0, playerDead: true, rawReturn: 1092)
        #expect(ScoreMetric.survivalTics.value(of: takeCover) == 1092)
        #expect(ScoreMetric.reachedTimeout.value(of: takeCover) == 0)
        let alive = EpisodeOutcome(tics: 90_000, startTime: 1, timeout: 0, playerDead: false, rawReturn: 0)
        #expect(!alive.reachedTimeout && alive.reachedGoal)
    }

    @Test("basic: killed before the timeout is a success; the seed's no-op episode (start 10, 300 tics) is not")
    func basic() {
        let killed = EpisodeOutcome(tics: 60, startTime: 10, timeout: 300, playerDead: false, rawReturn: 51)
        let noop = EpisodeOutcome(tics: 310, startTime: 10, timeout: 300, playerDead: false, rawReturn: -300)
        #expect(ScoreMetric.success.value(of: killed) == 1)
        #expect(ScoreMetric.success.value(of: noop) == 0)
        #expect(noop.playedTics == 300)
    }

    @Test("kills: KILLCOUNT of the last state; nil when the game did not report it")
    func kills() {
        var outcome = EpisodeOutcome(tics: 1500, startTime: 10, timeout: 2100, playerDead: true, rawReturn: 11,
                                     lastGameVariables: [killCount: 12, GameVariable.health: 4])
        #expect(ScoreMetric.kills.value(of: outcome) == 12)
        outcome.lastGameVariables = [GameVariable.health: 4]
        #expect(ScoreMetric.kills.value(of: outcome) == nil)
        #expect(ScoreMetric.kills.gameVariables == [killCount])
    }

    @Test("predict_position: a hit is a positive return", arguments: [
        (0.9, 1.0), (0.701, 1), (-0.3, 0), (-0.045, 0), (0, 0),
    ] as [(Double, Double)])
    func hits(rawReturn: Double, expected: Double) {
        let outcome = EpisodeOutcome(tics: 100, startTime: 16, timeout: 300, playerDead: false, rawReturn: rawReturn)
        #expect(ScoreMetric.hits.value(of: outcome) == expected)
    }

    @Test("names: snake_case columns, Perf/ tags, each unique")
    func names() {
        #expect(ScoreMetric.allCases.map(\.columnName) == ["kills", "survival_tics", "reached_timeout", "success", "hits"])
        #expect(ScoreMetric.allCases.map(\.tensorBoardTag) ==
                ["Perf/Kills", "Perf/Survival Tics", "Perf/Reached Timeout", "Perf/Success", "Perf/Hits"])
        for metric in ScoreMetric.allCases {
            #expect(metric.columnName.allSatisfy { $0.isLowercase || $0 == "_" })
            #expect(ScoreMetric(rawValue: metric.columnName) == metric)
        }
    }

    @Test("a list of metrics: values in order, game variables once")
    func lists() {
        let metrics: [ScoreMetric] = [.kills, .survivalTics, .kills, .reachedTimeout]
        let outcome = EpisodeOutcome(tics: 2101, startTime: 1, timeout: 2100, playerDead: false, rawReturn: 3,
                                     lastGameVariables: [killCount: 3])
        #expect(metrics.values(of: outcome) == [3, 2100, 3, 1])
        #expect(metrics.gameVariables == [killCount])
    }

    @Test("progress-line format: one decimal, whole tics, shares in percent")
    func formatting() {
        #expect(ScoreMetric.kills.formatted(mean: 24.66) == "24.7")
        #expect(ScoreMetric.survivalTics.formatted(mean: 2099.6) == "2100")
        #expect(ScoreMetric.success.formatted(mean: 0.983) == "98%")
        #expect(ScoreMetric.reachedTimeout.formatted(mean: 0) == "0%")
        #expect(ScoreMetric.hits.formatted(mean: .nan) == "-")
    }
}
