import ArgumentParser
import ViZDoom

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the built-in ViZDoom scenarios with their buttons and game variables."
    )

    func run() throws {
        let catalog = try ScenarioCatalog()
        let scenarios = try catalog.all()
        let width = scenarios.map(\.name.count).max() ?? 0
        for scenario in scenarios {
            let name = scenario.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let buttons = scenario.buttons.map(\.name).joined(separator: " ")
            let variables = scenario.gameVariables.map(\.name).joined(separator: " ")
            print("\(name)  buttons: \(buttons.isEmpty ? "-" : buttons)  variables: \(variables.isEmpty ? "-" : variables)  timeout: \(scenario.episodeTimeout)")
        }
    }
}
