import Foundation
import ThreadSafety

/// The env-only ceiling: K engines on K threads stepping random one-button actions, fetching and
/// preprocessing every frame, with no learning. The trainer's throughput is judged against it.
public enum EnvironmentBenchmark {
    public struct Result: Codable, Sendable {
        public let envs: Int
        public let seconds: Double
        public let frameSkip: Int
        public let steps: Int
        public let episodes: Int
        public let stepsPerSecond: Double
        /// Engine tics per second: steps per second times the frame skip.
        public let framesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case envs, seconds, steps, episodes
            case frameSkip = "frame_skip"
            case stepsPerSecond = "steps_per_second"
            case framesPerSecond = "frames_per_second"
        }
    }

    /// Starts `envs` games (not timed), then steps all of them for `seconds`, or until
    /// `stopRequested` (polled every 50 ms) says so, and counts.
    public static func run(configuration: GameConfiguration, envs: Int, seconds: Double, frameSkip: Int,
                           installation: ViZDoomInstallation = .default,
                           stopRequested: () -> Bool = { false }) throws -> Result {
        precondition(envs >= 1 && seconds > 0 && frameSkip >= 1, "envs, seconds and frame skip must be positive")
        let counters = _Counters(count: envs)
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let stop = StopFlag()
        for index in 0..<envs {
            let thread = Thread {
                defer { done.signal() }
                var configuration = configuration
                configuration.seed = configuration.seed.map { $0 &+ UInt32(index) }
                let game: DoomGame
                do { game = try DoomGame(configuration, installation: installation) } catch {
                    counters.fail(index, error); ready.signal(); return
                }
                defer { game.close() }
                guard !game.buttons.isEmpty else {  // random actions need at least one button
                    counters.fail(index, ViZDoomError.invalidArgument(message: "\(configuration.scenario) makes no buttons available, so there is no action to take; list them in its .cfg, e.g. available_buttons = { MOVE_LEFT MOVE_RIGHT ATTACK }"))
                    ready.signal(); return
                }
                ready.signal()
                go.wait()
                let preprocessor = FramePreprocessor(inputWidth: game.screenWidth, inputHeight: game.screenHeight)
                let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: preprocessor.outputCount)
                defer { input.deallocate() }
                var random = UInt64(0x9E37_79B9_7F4A_7C15) &* UInt64(index + 1)
                var steps = 0, episodes = 0
                do {
                    while !stop.isSet {
                        if try game.isEpisodeFinished { try game.newEpisode(); episodes += 1 }
                        try game.withScreen { frame in if let frame { preprocessor.process(frame, into: input) } }
                        random = random &* 6364136223846793005 &+ 1442695040888963407
                        try game.makeAction(buttonIndex: Int((random >> 33) % UInt64(game.buttons.count)), tics: frameSkip)
                        steps += 1
                    }
                } catch { counters.fail(index, error) }
                counters.set(index, steps: steps, episodes: episodes)
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<envs { ready.wait() }
        if let error = counters.firstError {
            stop.set()
            for _ in 0..<envs { go.signal() }
            for _ in 0..<envs { done.wait() }
            throw error
        }
        let start = DispatchTime.now()
        for _ in 0..<envs { go.signal() }
        let deadline = start.uptimeNanoseconds + UInt64(seconds * 1e9)
        while case let now = DispatchTime.now().uptimeNanoseconds, now < deadline, !stopRequested() {
            Thread.sleep(forTimeInterval: min(0.05, Double(deadline - now) / 1e9))
        }
        stop.set()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        for _ in 0..<envs { done.wait() }
        if let error = counters.firstError { throw error }
        let steps = counters.totalSteps
        return Result(envs: envs, seconds: elapsed, frameSkip: frameSkip, steps: steps, episodes: counters.totalEpisodes,
                      stepsPerSecond: Double(steps) / elapsed, framesPerSecond: Double(steps * frameSkip) / elapsed)
    }
}

/// Per-thread results, written once by each thread under a lock.
private final class _Counters: Sendable {
    private struct Results {
        var steps: [Int]
        var episodes: [Int]
        var errors: [Error] = []
    }
    private let results: LockedValue<Results>

    init(count: Int) {
        results = LockedValue(Results(steps: Array(repeating: 0, count: count), episodes: Array(repeating: 0, count: count)))
    }

    func set(_ index: Int, steps: Int, episodes: Int) {
        results.withLockedValue { $0.steps[index] = steps; $0.episodes[index] = episodes }
    }

    func fail(_ index: Int, _ error: Error) { results.withLockedValue { $0.errors.append(error) } }
    var firstError: Error? { results.withLockedValue { $0.errors.first } }
    var totalSteps: Int { results.withLockedValue { $0.steps.reduce(0, +) } }
    var totalEpisodes: Int { results.withLockedValue { $0.episodes.reduce(0, +) } }
}
