import ArgumentParser
import Foundation
import ViZDoom

/// Test support, hidden from help: starts a game, prints `ready <instance id>`, and plays no-op
/// actions until killed. The leak tests signal or SIGKILL this process and then check that its
/// engine and segments are gone.
struct HoldGameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold-game",
        abstract: "Start a game and play no-ops until killed (used by the leak tests).",
        shouldDisplay: false
    )

    @Option(help: "Scenario name or .cfg path.")
    var scenario = "basic"

    func run() throws {
        resetTerminationSignals()
        let game = try DoomGame(GameConfiguration(scenario: scenario))
        print("ready \(game.instanceId)")
        fflush(stdout)
        let noop = [Double](repeating: 0, count: game.buttons.count)
        while true {
            if try game.isEpisodeFinished { try game.newEpisode() }
            try game.makeAction(noop, tics: 1)
            usleep(1000)
        }
    }
}
