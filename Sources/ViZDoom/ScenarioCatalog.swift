import Foundation
import _ViZDoomShim

/// A scenario shipped with ViZDoom: its `.cfg` and what that file sets.
public struct Scenario: Sendable, Equatable {
    /// The file name without `.cfg`, e.g. `basic`.
    public let name: String
    public let configFile: URL
    /// The buttons the `.cfg` makes available, in action order.
    public let buttons: [Button]
    /// The game variables the `.cfg` reports.
    public let gameVariables: [GameVariable]
    /// Episode timeout in tics (0 = none) and living reward, as the `.cfg` sets them.
    public let episodeTimeout: Int
    public let livingReward: Double
    /// Tics the engine plays before the agent's first action (`episode_start_time`; ViZDoom counts at
    /// least 1). The engine's episode time includes them: an episode that reaches the timeout ends
    /// at episode time `episodeStartTime + episodeTimeout`.
    public let episodeStartTime: Int
}

/// Every scenario in the installation's `scenarios/` folder, by name.
///
/// Each `.cfg` is read by the client library itself (no engine is started), so the catalog
/// reports exactly what a game created from it would use.
public struct ScenarioCatalog: Sendable {
    public let installation: ViZDoomInstallation
    /// The names, sorted.
    public let names: [String]

    public init(installation: ViZDoomInstallation = .default) throws {
        try installation.validate()
        self.installation = installation
        let files = try FileManager.default.contentsOfDirectory(atPath: installation.scenariosDirectory.path)
        names = files.filter { $0.hasSuffix(".cfg") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Whether `scenario` names a `.cfg` file (anything with a `/` or ending in `.cfg`), not a built-in scenario.
    public static func isPath(_ scenario: String) -> Bool { scenario.contains("/") || scenario.hasSuffix(".cfg") }

    /// The `.cfg` for a built-in name, or for a path (`isPath`).
    /// Throws `.unknownScenario` listing the valid names, or `.fileNotFound` for a missing path.
    public func configFile(for scenario: String) throws -> URL {
        if Self.isPath(scenario) {
            let url = URL(fileURLWithPath: scenario).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else { throw ViZDoomError.fileNotFound(path: url.path) }
            return url
        }
        guard names.contains(scenario) else { throw ViZDoomError.unknownScenario(name: scenario, valid: names) }
        return installation.scenariosDirectory.appendingPathComponent(scenario + ".cfg")
    }

    /// Reads one scenario's `.cfg`.
    public func scenario(named scenario: String) throws -> Scenario {
        let file = try configFile(for: scenario)
        let game = try _NativeGame()
        try game.loadConfig(file.path)
        return Scenario(
            name: file.deletingPathExtension().lastPathComponent,
            configFile: file,
            buttons: try game.buttons(),
            gameVariables: try game.gameVariables(),
            episodeTimeout: Int(try game.int(VZD_EPISODE_TIMEOUT)),
            livingReward: try game.double(VZD_LIVING_REWARD),
            episodeStartTime: Int(try game.int(VZD_EPISODE_START_TIME))
        )
    }

    /// Every scenario, read.
    public func all() throws -> [Scenario] { try names.map { try scenario(named: $0) } }
}
