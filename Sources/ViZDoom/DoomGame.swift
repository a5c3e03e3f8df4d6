import Foundation
import _ViZDoomShim

/// One running ViZDoom game: an engine process driven synchronously from the calling thread.
///
/// Creating a `DoomGame` starts its engine; `close()` (or `deinit`) ends it. Every engine runs
/// through `a3c-engine-launcher`, which guarantees that no engine process and none of its
/// `/dev/shm/ViZDoom*` segments outlive this process, however it ends (even by SIGKILL), and that
/// the engine's `_vizdoom.ini` and `_vizdoom/` go to a private scratch folder, never into the
/// user's working directory.
///
/// **Threading:** one game per thread. A `DoomGame` is not thread-safe; create and use it on one
/// thread (several games on several threads run fully in parallel). Create games from long-lived
/// threads: the engine is tied to the life of the thread the client library spawns it from.
///
///     let game = try DoomGame(GameConfiguration(scenario: "basic"))
///     defer { game.close() }
///     while !(try game.isEpisodeFinished) {
///         let reward = try game.makeAction([0, 0, 1], tics: 4)   // ATTACK for 4 tics
///     }
///     print(try game.totalReward())
public final class DoomGame {
    /// The buttons of an action, in order: `makeAction` takes one value per button.
    public let buttons: [Button]
    /// The game variables reported by `gameVariables()`, in order.
    public let gameVariables: [GameVariable]
    public let screenWidth: Int
    public let screenHeight: Int
    public let screenChannels: Int
    /// The engine's instance id: the suffix of its `/dev/shm/ViZDoom*` segments and the value
    /// after `+viz_instance_id` on its command line.
    public let instanceId: String
    /// The settings the game was started with.
    public let configuration: GameConfiguration
    /// The `.cfg` the game was read from.
    public let configFile: URL
    /// Tics the engine plays before the agent's first action (`episode_start_time`; ViZDoom counts
    /// them in the episode time).
    public let episodeStartTime: Int
    /// The episode timeout in tics after the start time (`episode_timeout`; 0 = none).
    public let episodeTimeout: Int
    /// Doom's skill level the game plays at, 1...5 (`doom_skill`, or `GameConfiguration.doomSkill`).
    public let doomSkill: Int

    private var native: _NativeGame?
    /// One-hot action scratch, reused by `makeAction(buttonIndex:tics:)`.
    private var oneHot: [Double]

    /// Reads the scenario's `.cfg`, applies the configuration's overrides, and starts the engine.
    ///
    /// Throws `.unknownScenario`, `.fileNotFound`, `.notInstalled` (with the fix: run
    /// scripts/bootstrap), or `.engine` with the engine's message if it does not start.
    public init(_ configuration: GameConfiguration, installation: ViZDoomInstallation = .default) throws {
        try installation.validate()
        EngineHygiene.removeLeftoversOnce()
        let catalog = try ScenarioCatalog(installation: installation)
        let configFile = try catalog.configFile(for: configuration.scenario)
        let native = try _NativeGame()
        try native.loadConfig(configFile.path)
        try Self.checkScenario(of: native, configFile: configFile, installation: installation)
        try native.set(VZD_VIZDOOM_PATH, installation.launcher.path)
        try native.set(VZD_DOOM_GAME_PATH, installation.iwad.path)
        try Self.apply(configuration, to: native)
        try native.check { vzd_init($0, $1) }

        self.native = native
        self.configuration = configuration
        self.configFile = configFile
        buttons = try native.buttons()
        gameVariables = try native.gameVariables()
        screenWidth = Int(try native.int(VZD_SCREEN_WIDTH))
        screenHeight = Int(try native.int(VZD_SCREEN_HEIGHT))
        screenChannels = Int(try native.int(VZD_SCREEN_CHANNELS))
        episodeStartTime = Int(try native.int(VZD_EPISODE_START_TIME))
        episodeTimeout = Int(try native.int(VZD_EPISODE_TIMEOUT))
        doomSkill = Int(try native.int(VZD_DOOM_SKILL))
        oneHot = [Double](repeating: 0, count: buttons.count)
        var idBuffer = [CChar](repeating: 0, count: 64)
        try native.check { vzd_instance_id($0, &idBuffer, idBuffer.count, $1) }
        instanceId = String(cString: idBuffer)
    }

    deinit { close() }

    private static func apply(_ configuration: GameConfiguration, to native: _NativeGame) throws {
        if let resolution = configuration.screenResolution { try native.set(VZD_SCREEN_RESOLUTION, resolution.code) }
        if let format = configuration.screenFormat { try native.set(VZD_SCREEN_FORMAT, format.rawValue) }
        let flags: [(VZDBoolSetting, Bool?)] = [
            (VZD_RENDER_HUD, configuration.renderHud),
            (VZD_RENDER_MINIMAL_HUD, configuration.renderMinimalHud),
            (VZD_RENDER_CROSSHAIR, configuration.renderCrosshair),
            (VZD_RENDER_WEAPON, configuration.renderWeapon),
            (VZD_RENDER_DECALS, configuration.renderDecals),
            (VZD_RENDER_PARTICLES, configuration.renderParticles),
        ]
        for case let (setting, value?) in flags { try native.set(setting, value) }
        try native.set(VZD_WINDOW_VISIBLE, configuration.windowVisible)
        try native.set(VZD_SOUND_ENABLED, configuration.soundEnabled)
        if let buttons = configuration.buttons {
            guard !buttons.isEmpty else { throw ViZDoomError.invalidArgument(message: "a game needs at least one button") }
            try native.setButtons(buttons)
        }
        if let variables = configuration.gameVariables { try native.setGameVariables(variables) }
        if let timeout = configuration.episodeTimeout {
            guard timeout >= 0 else { throw ViZDoomError.invalidArgument(message: "episode timeout must be >= 0, got \(timeout)") }
            try native.set(VZD_EPISODE_TIMEOUT, Int64(timeout))
        }
        if let start = configuration.episodeStartTime {
            guard start >= 0 else { throw ViZDoomError.invalidArgument(message: "episode start time must be >= 0, got \(start)") }
            try native.set(VZD_EPISODE_START_TIME, Int64(start))
        }
        if let skill = configuration.doomSkill {
            guard GameConfiguration.doomSkills.contains(skill) else {
                throw ViZDoomError.invalidArgument(message: "Doom skill must be \(GameConfiguration.doomSkills), got \(skill)")
            }
            try native.set(VZD_DOOM_SKILL, Int64(skill))
        }
        if let reward = configuration.livingReward { try native.set(VZD_LIVING_REWARD, reward) }
        if let mode = configuration.mode { try native.set(VZD_MODE, mode.rawValue) }
        if let seed = configuration.seed { try native.set(VZD_SEED, Int64(seed)) }
    }

    /// The client library only notices a missing scenario `.wad`, or a map that neither it nor the
    /// IWAD holds, when the engine fails to load it, with a message naming neither; check first.
    private static func checkScenario(of native: _NativeGame, configFile: URL, installation: ViZDoomInstallation) throws {
        func string(_ setting: VZDStringSetting) throws -> String {
            var buffer = [CChar](repeating: 0, count: 4096)
            try native.check { vzd_get_string($0, setting, &buffer, buffer.count, $1) }
            return String(cString: buffer)
        }
        let path = try string(VZD_DOOM_SCENARIO_PATH)
        var maps: [String] = []
        var wadName = "(no scenario .wad)"
        if !path.isEmpty {
            let url = (path.hasPrefix("/") ? URL(fileURLWithPath: path)
                : configFile.deletingLastPathComponent().appendingPathComponent(path)).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ViZDoomError.invalidArgument(message: "\(configFile.path): its doom_scenario_path \(path) does not exist (looked for \(url.path)); ViZDoom reads the path from the .cfg's folder, even one starting with /: put the .wad there or give its path relative to the .cfg")
            }
            maps = try WADDirectory.mapNames(of: url)
            wadName = url.lastPathComponent
        }
        let map = try string(VZD_DOOM_MAP).uppercased()
        guard !map.isEmpty, !maps.contains(map) else { return }
        // A map the scenario's .wad lacks may still come from the IWAD (freedoom2.wad: MAP01-MAP32).
        // An IWAD that cannot be read is its own error (naming the file), not a missing map.
        let iwadMaps = try WADDirectory.mapNames(of: installation.iwad, role: .iwad)
        guard !iwadMaps.contains(map) else { return }
        throw ViZDoomError.invalidArgument(message: "\(configFile.path): doom_map \(map.lowercased()) is in neither \(wadName) (its maps: \(maps.isEmpty ? "none" : maps.map { $0.lowercased() }.joined(separator: ", "))) nor \(installation.iwad.lastPathComponent); set doom_map to one of the maps")
    }

    private func running() throws -> _NativeGame {
        guard let native else { throw ViZDoomError.closed }
        return native
    }

    /// Seeds the engine's random generator for the episodes that follow (from the next
    /// `newEpisode()` on): the same seed and the same actions replay the same episode.
    public func setSeed(_ seed: UInt32) throws {
        try guardEngine { try $0.set(VZD_SEED, Int64(seed)) }
    }

    /// Starts a new episode (the previous one, if unfinished, is abandoned).
    public func newEpisode() throws {
        try guardEngine { try $0.check { vzd_new_episode($0, $1) } }
    }

    /// Holds each button at `action[i]` (1 = pressed, 0 = released; delta buttons take amounts)
    /// for `tics` tics and returns the reward collected over them.
    ///
    /// Throws `.invalidAction` if `action.count != buttons.count`, `.closed` after `close()`.
    @discardableResult
    public func makeAction(_ action: UnsafeBufferPointer<Double>, tics: Int = 1) throws -> Double {
        let native = try running()
        guard action.count == buttons.count else { throw ViZDoomError.invalidAction(expected: buttons.count, got: action.count) }
        guard tics >= 1 && tics <= Int(UInt32.max) else { throw ViZDoomError.invalidArgument(message: "tics must be between 1 and \(UInt32.max), got \(tics)") }
        var reward = 0.0
        try guardEngine(native) { try $0.check { vzd_make_action($0, action.baseAddress, action.count, UInt32(tics), &reward, $1) } }
        return reward
    }

    @discardableResult
    public func makeAction(_ action: [Double], tics: Int = 1) throws -> Double {
        try action.withUnsafeBufferPointer { try makeAction($0, tics: tics) }
    }

    /// Presses only the button at `buttonIndex` (the usual discrete-action agent's choice).
    @discardableResult
    public func makeAction(buttonIndex: Int, tics: Int = 1) throws -> Double {
        guard buttonIndex >= 0, buttonIndex < buttons.count else {
            throw ViZDoomError.invalidArgument(message: "button index \(buttonIndex) is outside 0..<\(buttons.count)")
        }
        oneHot[buttonIndex] = 1
        defer { oneHot[buttonIndex] = 0 }
        return try oneHot.withUnsafeBufferPointer { try makeAction($0, tics: tics) }
    }

    public var isEpisodeFinished: Bool {
        get throws {
            var finished: Int32 = 0
            try guardEngine { try $0.check { vzd_is_episode_finished($0, &finished, $1) } }
            return finished != 0
        }
    }

    public var isPlayerDead: Bool {
        get throws {
            var dead: Int32 = 0
            try guardEngine { try $0.check { vzd_is_player_dead($0, &dead, $1) } }
            return dead != 0
        }
    }

    /// The reward collected since the episode started (living reward included).
    public func totalReward() throws -> Double {
        var reward = 0.0
        try guardEngine { try $0.check { vzd_total_reward($0, &reward, $1) } }
        return reward
    }

    /// Tics played since the episode started.
    public func episodeTime() throws -> Int {
        Int(try running().int(VZD_EPISODE_TIME))
    }

    /// Calls `body` with the current frame (`screenHeight * screenWidth * screenChannels` bytes,
    /// row-major), or `nil` once the episode is finished. The buffer is valid only inside `body`.
    public func withScreen<Result>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> Result) throws -> Result {
        let native = try running()
        var pixels: UnsafePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0
        try native.check { vzd_screen($0, &pixels, &width, &height, &channels, $1) }
        guard let pixels else { return try body(nil) }
        return try body(UnsafeBufferPointer(start: pixels, count: Int(width) * Int(height) * Int(channels)))
    }

    /// One game variable's current value, whether or not the game reports it with each state. Still
    /// readable once the episode has finished, when it holds the last tic's value (a kill in the step
    /// that ended the episode included).
    public func gameVariable(_ variable: GameVariable) throws -> Double {
        var value = 0.0
        try guardEngine { try $0.check { vzd_get_game_variable($0, variable.code, &value, $1) } }
        return value
    }

    /// The current state's game variables, in `gameVariables` order (empty once the episode is finished).
    public func gameVariableValues() throws -> [Double] {
        let native = try running()
        var values: UnsafePointer<Double>?
        var count = 0
        var tic: UInt32 = 0
        try native.check { vzd_game_variables($0, &values, &count, &tic, $1) }
        guard let values else { return [] }
        return Array(UnsafeBufferPointer(start: values, count: count))
    }

    /// Whether the engine is running (false after `close()` or after the engine died).
    public var isRunning: Bool { native.map { vzd_is_running($0.handle) != 0 } ?? false }

    /// Ends the engine process and releases the game. Safe to call more than once.
    public func close() {
        guard let native else { return }
        self.native = nil
        try? native.check { vzd_close($0, $1) }
    }

    /// Runs an engine call; if the engine died, the game closes itself so later calls say `.closed`.
    private func guardEngine(_ native: _NativeGame? = nil, _ body: (_NativeGame) throws -> Void) throws {
        let native = try native ?? running()
        do {
            try body(native)
        } catch let error as ViZDoomError {
            if case .engineExited = error { close() }
            throw error
        }
    }
}
