import Foundation
import Testing
import A3CTestSupport
import ThreadSafety
@testable import ViZDoom


@Suite("DoomGame with the real engine", .serialized)
struct DoomGameTests {
    @Test("an episode of basic with only no-ops runs to the timeout; total reward = living reward x tics")
    func noopEpisodeRunsToTimeout() throws {
        let game = try DoomGame(GameConfiguration(scenario: "basic"))
        defer { game.close() }
        #expect(game.buttons == [.moveLeft, .moveRight, .attack])
        #expect(game.gameVariables == [.ammo2, .positionX, .positionY])
        #expect(game.screenWidth == 160 && game.screenHeight == 120 && game.screenChannels == 1)
        try game.newEpisode()
        var steps = 0
        var summed = 0.0
        while !(try game.isEpisodeFinished) {
            summed += try game.makeAction([0, 0, 0], tics: 1)
            steps += 1
            #expect(steps <= 400, "the episode did not end at its timeout")
            if steps > 400 { break }
        }
        let tics = try game.episodeTime()
        let total = try game.totalReward()
        print("no-op episode: \(steps) actions, \(tics) tics, total reward \(total)")
        // The episode time counts the 10 start-up tics too; the agent plays the other 300.
        let played = tics - 10
        #expect(played == 300)
        #expect(steps == played)
        #expect(total == -1 * Double(played))
        #expect(total == summed)
        #expect(try game.withScreen { $0 == nil })
    }

    @Test("frames are 120x160 GRAY8 and game variables are reported")
    func stateIsReported() throws {
        let game = try DoomGame(GameConfiguration(scenario: "basic"))
        defer { game.close() }
        try game.newEpisode()
        let bytes = try game.withScreen { $0?.count ?? 0 }
        #expect(bytes == 160 * 120)
        let variables = try game.gameVariableValues()
        #expect(variables.count == 3)
        #expect(variables[0] == 50, "basic starts with 50 pistol bullets (AMMO2)")
        for _ in 0..<10 where !(try game.isEpisodeFinished) { try game.makeAction(buttonIndex: 2, tics: 4) }
        #expect(try game.isEpisodeFinished || game.gameVariableValues()[0] < 50, "ATTACK uses ammunition")
    }

    @Test("an action of the wrong length is an error, not a crash")
    func wrongActionLength() throws {
        let game = try DoomGame(GameConfiguration(scenario: "basic"))
        defer { game.close() }
        #expect(throws: ViZDoomError.invalidAction(expected: 3, got: 2)) { try game.makeAction([1, 0], tics: 1) }
        #expect(throws: ViZDoomError.self) { try game.makeAction(buttonIndex: 7) }
        #expect(throws: ViZDoomError.self) { try game.makeAction([0, 0, 0], tics: 0) }
    }

    @Test("a call on a closed game is an error, and close() leaves nothing behind")
    func closedGame() throws {
        let game = try DoomGame(GameConfiguration(scenario: "basic"))
        let id = game.instanceId
        #expect(!leftovers(of: id).processes.isEmpty, "the engine runs while the game is open")
        game.close()
        game.close()
        #expect(throws: ViZDoomError.closed) { try game.makeAction([0, 0, 0]) }
        #expect(throws: ViZDoomError.closed) { try game.newEpisode() }
        let left = waitUntilGone(id)
        #expect(left.processes.isEmpty && left.segments.isEmpty, "left behind: \(left)")
    }

    @Test("a scenario whose .wad is missing names the .cfg, the .wad and the fix")
    func missingWad() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("broken.cfg")
        try "doom_scenario_path = nowhere.wad\navailable_buttons = { ATTACK }\n".write(to: config, atomically: true, encoding: .utf8)
        do {
            _ = try DoomGame(GameConfiguration(scenario: config.path))
            Issue.record("a game started without its .wad")
        } catch {
            let message = "\(error)"
            #expect(message.contains(config.path) && message.contains(directory.appendingPathComponent("nowhere.wad").path)
                    && message.contains("put the .wad there or give its path relative to the .cfg"), "\(message)")
        }
    }

    @Test("an engine killed mid-episode is reported as an error; the game closes itself and leaves nothing")
    func engineDiesMidEpisode() throws {
        let game = try DoomGame(GameConfiguration(scenario: "basic"))
        let id = game.instanceId
        // The engine only: its launcher then reaps it and cleans up, as after a crash.
        let victim = try #require(engine(of: id), "the engine is running")
        kill(victim.pid, SIGKILL)
        var caught: Error?
        for _ in 0..<100 {
            do { try game.makeAction([0, 0, 0]) } catch { caught = error; break }
            usleep(10_000)
        }
        #expect(caught != nil, "stepping a dead engine must throw")
        #expect(throws: ViZDoomError.closed) { try game.makeAction([0, 0, 0]) }
        let left = waitUntilGone(id)
        #expect(left.processes.isEmpty && left.segments.isEmpty, "left behind: \(left)")
        #expect(!FileManager.default.fileExists(atPath: victim.scratchDirectory), "its working directory is left")
    }

    @Test("two games run at once on two threads")
    func twoGamesOnTwoThreads() throws {
        let results = _ResultBox()
        let group = DispatchGroup()
        for worker in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let game = try DoomGame(GameConfiguration(scenario: "basic"))
                    defer { game.close() }
                    var steps = 0
                    while !(try game.isEpisodeFinished) && steps < 200 {
                        try game.makeAction(buttonIndex: (steps + worker) % 3, tics: 4)
                        steps += 1
                    }
                    results.append((game.instanceId, steps))
                } catch { results.fail(error) }
            }.start()
        }
        group.wait()
        #expect(results.errors.isEmpty, "\(results.errors)")
        #expect(results.values.count == 2)
        #expect(Set(results.values.map(\.0)).count == 2, "each game has its own engine")
        #expect(results.values.allSatisfy { $0.1 > 0 })
    }

    @Test("the engine's files never land in the working directory")
    func workingDirectoryStaysClean() throws {
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath))
        try onThread {
            let game = try DoomGame(GameConfiguration(scenario: "basic"))
            try game.makeAction([0, 0, 0])
            game.close()
        }
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath))
        #expect(!after.contains("_vizdoom.ini") || before.contains("_vizdoom.ini"))
        #expect(!after.contains("_vizdoom") || before.contains("_vizdoom"))
    }
}

private final class _ResultBox: Sendable {
    private let state = LockedValue((values: [(String, Int)](), errors: [Error]()))
    var values: [(String, Int)] { state.withLockedValue { $0.values } }
    var errors: [Error] { state.withLockedValue { $0.errors } }
    func append(_ value: (String, Int)) { state.withLockedValue { $0.values.append(value) } }
    func fail(_ error: Error) { state.withLockedValue { $0.errors.append(error) } }
}
