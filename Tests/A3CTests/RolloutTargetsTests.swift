import Foundation
import Testing
@testable import A3C

@Suite("Returns and advantages")
struct RolloutTargetsTests {
    private func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test("episode end: no bootstrap, lambda 1")
    func episodeEnd() {
        // gamma 0.5: R2 = 4, R1 = 2 + 0.5*4 = 4, R0 = 1 + 0.5*4 = 3; A_t = R_t - V_t with lambda 1.
        let (returns, advantages) = RolloutTargets.compute(rewards: [1, 2, 4], values: [0.5, 1, 2], bootstrap: 0,
                                                           gamma: 0.5, lambda: 1)
        #expect(close(returns, [3, 4, 4]))
        #expect(close(advantages, [2.5, 3, 2]))
    }

    @Test("cut rollout: bootstrap from V(s_T)")
    func bootstrap() {
        // gamma 0.9, V_T = 10: R1 = 1 + 9 = 10, R0 = 0 + 0.9*10 = 9.
        let (returns, advantages) = RolloutTargets.compute(rewards: [0, 1], values: [5, 6], bootstrap: 10,
                                                           gamma: 0.9, lambda: 1)
        #expect(close(returns, [9, 10]))
        #expect(close(advantages, [4, 4]))
    }

    @Test("lambda < 1: generalized advantage estimation by hand")
    func gae() {
        // gamma 0.9, lambda 0.5, V = [1, 2], bootstrap 3, r = [1, 1]:
        // delta1 = 1 + 0.9*3 - 2 = 1.7; delta0 = 1 + 0.9*2 - 1 = 1.8
        // A1 = 1.7; A0 = 1.8 + 0.45*1.7 = 2.565. Returns ignore lambda: R1 = 1 + 2.7 = 3.7, R0 = 1 + 0.9*3.7 = 4.33.
        let (returns, advantages) = RolloutTargets.compute(rewards: [1, 1], values: [1, 2], bootstrap: 3,
                                                           gamma: 0.9, lambda: 0.5)
        #expect(close(returns, [4.33, 3.7]))
        #expect(close(advantages, [2.565, 1.7]))
    }

    @Test("a rollout across episode ends: each episode's targets by hand, nothing leaks from the next episode", arguments: [1, 0.5] as [Float])
    func acrossEpisodeEnds(lambda: Float) {
        // Steps 0-1: an episode that ends; steps 2-4: another that ends; steps 5-6: the next, cut (V_T = 10).
        let rewards: [Float] = [1, 2, 3, 4, 5, 6, 7], values: [Float] = [0.5, 1, 1.5, 2, 2.5, 3, 3.5]
        let crossed = RolloutTargets.compute(rewards: rewards, values: values, episodeEnds: [2, 5], bootstrap: 10,
                                             gamma: 0.9, lambda: lambda)
        var returns: [Float] = [], advantages: [Float] = []
        for (range, bootstrap) in [(0..<2, Float(0)), (2..<5, 0), (5..<7, 10)] {
            let alone = RolloutTargets.compute(rewards: Array(rewards[range]), values: Array(values[range]),
                                               bootstrap: bootstrap, gamma: 0.9, lambda: lambda)
            returns += alone.returns
            advantages += alone.advantages
        }
        #expect(close(crossed.returns, returns))
        #expect(close(crossed.advantages, advantages))
        // By hand, the first episode: R1 = 2, R0 = 1 + 0.9 * 2 = 2.8 (not the 3 of the next episode's first step).
        #expect(close(Array(crossed.returns[0..<2]), [2.8, 2]))
        // An end at the rollout's last step: no step bootstraps.
        let endedLast = RolloutTargets.compute(rewards: [1, 2], values: [0, 0], episodeEnds: [1, 2], bootstrap: 100,
                                               gamma: 0.9, lambda: lambda)
        #expect(close(endedLast.returns, [1, 2]))
    }

    @Test("lambda 1 advantages equal returns minus values", arguments: [0.0, 2.5] as [Float])
    func lambdaOneIsNStep(bootstrap: Float) {
        let rewards: [Float] = [0.3, -1, 0, 2, 0.5]
        let values: [Float] = [0.1, 0.2, -0.3, 1, 0]
        let (returns, advantages) = RolloutTargets.compute(rewards: rewards, values: values, bootstrap: bootstrap,
                                                           gamma: 0.99, lambda: 1)
        #expect(close(advantages, zip(returns, values).map { $0 - $1 }, tolerance: 1e-4))
    }
}

@Suite("Training configuration")
struct TrainingConfigurationTests {
    @Test("invalid settings name the option", arguments: [
        ({ (c: inout TrainingConfiguration) in c.workers = 0 }, "--workers"),
        ({ (c: inout TrainingConfiguration) in c.learningRate = -1 }, "--learning-rate"),
        ({ (c: inout TrainingConfiguration) in c.rolloutLength = 0 }, "--rollout-length"),
        ({ (c: inout TrainingConfiguration) in c.gamma = 1.5 }, "--gamma"),
        ({ (c: inout TrainingConfiguration) in c.frameSkip = 0 }, "--frame-skip"),
        ({ (c: inout TrainingConfiguration) in c.maxMinutes = 0 }, "--max-minutes"),
        ({ (c: inout TrainingConfiguration) in c.maxFrames = -5 }, "--max-frames"),
    ] as [((inout TrainingConfiguration) -> Void, String)])
    func invalid(change: (inout TrainingConfiguration) -> Void, option: String) {
        var configuration = TrainingConfiguration()
        change(&configuration)
        do {
            try configuration.validate()
            Issue.record("expected \(option) to be rejected")
        } catch {
            #expect("\(error)".contains(option))
        }
    }

    @Test("defaults are the seed's and validate")
    func defaults() throws {
        let configuration = TrainingConfiguration()
        try configuration.validate()
        #expect(configuration.rolloutLength == 30 && configuration.gamma == 0.99 && configuration.learningRate == 1e-4)
        #expect(configuration.maxGradientNorm == 40 && configuration.rewardScale == 0.01 && configuration.frameSkip == 4)
        #expect(configuration.timeBudgetSeconds == TrainingConfiguration.defaultMinutes * 60)
    }

    @Test("the learning rate: constant throughout, or linear from the rate to 0 over the budget")
    func learningRateSchedules() throws {
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.002
        for progress in [0, 0.5, 1, 2] { #expect(configuration.learningRate(atProgress: progress) == 0.002) }
        configuration.learningRateSchedule = .linear
        #expect(configuration.learningRate(atProgress: 0) == 0.002)
        #expect(configuration.learningRate(atProgress: 0.25) == 0.0015)
        #expect(configuration.learningRate(atProgress: 1) == 0)
        #expect(configuration.learningRate(atProgress: 1.5) == 0, "past the budget the rate stays 0")
        #expect(configuration.learningRate(atProgress: -1) == 0.002)
        // config.json keeps the schedule; a file without one (an older run) reads as constant.
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(decoded.learningRateSchedule == .linear)
        let old = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(#"{"scenario":"basic"}"#.utf8))
        #expect(old.learningRateSchedule == .constant)
    }
}
