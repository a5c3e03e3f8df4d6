import Foundation
import Testing
@testable import Training

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
        // Timeouts: bootstrapped in new runs; an older run's config.json (without the setting) learned them as deaths.
        #expect(TrainingConfiguration().timeLimitBootstrap && decoded.timeLimitBootstrap)
        #expect(!old.timeLimitBootstrap)
    }
}
