import Foundation
import Testing
import Algorithms

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

    @Test("a time-limit end continues from its value: the episode's targets are those of a cut rollout")
    func timeLimitEnd() {
        let rewards: [Float] = [1, 0, 2, 1], values: [Float] = [0.5, 1, 1.5, 0.25]
        // A timeout after step 2, continued from V = 3; the next episode is cut with bootstrap 10.
        let both = RolloutTargets.compute(rewards: rewards, values: values, ends: [.timeLimit(after: 2, value: 3)],
                                          bootstrap: 10, gamma: 0.9, lambda: 0.95)
        let first = RolloutTargets.compute(rewards: [1, 0], values: [0.5, 1], bootstrap: 3, gamma: 0.9, lambda: 0.95)
        let second = RolloutTargets.compute(rewards: [2, 1], values: [1.5, 0.25], bootstrap: 10, gamma: 0.9, lambda: 0.95)
        #expect(close(both.returns, first.returns + second.returns) && close(both.advantages, first.advantages + second.advantages))
        // By hand: R_1 = 0 + 0.9 * 3 = 2.7, R_0 = 1 + 0.9 * 2.7 = 3.43 (a death would give 0 and 1).
        #expect(close(first.returns, [3.43, 2.7]))
        let death = RolloutTargets.compute(rewards: rewards, values: values, episodeEnds: [2], bootstrap: 10, gamma: 0.9, lambda: 0.95)
        #expect(close(Array(death.returns.prefix(2)), [1, 0]))
    }

    @Test("V-trace by hand: truncated importance weights on a two-step rollout")
    func vTraceByHand() {
        // pi/mu = 2 at step 0 (rho = c = 1 with rhoBar = cBar = 1) and 0.5 at step 1; gamma 0.9, lambda 1, V_T = 4.
        let (targets, advantages) = VTrace.compute(logRatios: [Float(Foundation.log(2.0)), Float(Foundation.log(0.5))],
                                                   rewards: [1, 2], values: [3, 5], bootstrap: 4, gamma: 0.9)
        // Step 1: rho = c = 0.5, delta = 0.5 * (2 + 0.9 * 4 - 5) = 0.3, v_1 = 5 + 0.3 = 5.3,
        //         A_1 = 0.5 * (2 + 0.9 * 4 - 5) = 0.3.
        // Step 0: rho = c = 1,   delta = 1 + 0.9 * 5 - 3 = 2.5, v_0 = 3 + 2.5 + 0.9 * 1 * (5.3 - 5) = 5.77,
        //         A_0 = 1 + 0.9 * 5.3 - 3 = 2.77.
        #expect(close(targets, [5.77, 5.3]) && close(advantages, [2.77, 0.3]))
        // lambda 0.5 halves the trace: v_0 = 3 + 2.5 + 0.9 * 0.5 * 0.3 = 5.635.
        let halved = VTrace.compute(logRatios: [Float(Foundation.log(2.0)), Float(Foundation.log(0.5))],
                                    rewards: [1, 2], values: [3, 5], bootstrap: 4, gamma: 0.9, lambda: 0.5)
        #expect(close(halved.targets, [5.635, 5.3]))
    }

    @Test("V-trace on-policy with lambda = c = rho = 1 is the n-step return, its advantage R - V", arguments: [0.0, 2.5] as [Float])
    func vTraceOnPolicy(bootstrap: Float) {
        let rewards: [Float] = [0.5, -1, 0, 2, 1, 0.25], values: [Float] = [1, 0.5, -0.5, 2, 1.5, 0]
        let ends: [RolloutEnd] = [.terminal(after: 2), .timeLimit(after: 4, value: 1.25)]
        let nStep = RolloutTargets.compute(rewards: rewards, values: values, ends: ends, bootstrap: bootstrap, gamma: 0.99, lambda: 1)
        let vTrace = VTrace.compute(logRatios: [Float](repeating: 0, count: rewards.count), rewards: rewards, values: values,
                                    ends: ends, bootstrap: bootstrap, gamma: 0.99, lambda: 1, rhoBar: 1, cBar: 1)
        #expect(close(vTrace.targets, nStep.returns) && close(vTrace.advantages, nStep.advantages))
    }
}
