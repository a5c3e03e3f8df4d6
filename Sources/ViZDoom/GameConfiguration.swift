/// A screen resolution ViZDoom can render, by the library's `ScreenResolution` code.
public struct ScreenResolution: Hashable, Sendable, Codable, CustomStringConvertible {
    public let width: Int
    public let height: Int

    /// The order of `vizdoom::ScreenResolution` in ViZDoom 1.3.2 (the code is the index).
    static let table: [(Int, Int)] = [
        (160, 120), (200, 125), (200, 150), (256, 144), (256, 160), (256, 192), (320, 180), (320, 200),
        (320, 240), (320, 256), (400, 225), (400, 250), (400, 300), (512, 288), (512, 320), (512, 384),
        (640, 360), (640, 400), (640, 480), (800, 450), (800, 500), (800, 600), (1024, 576), (1024, 640),
        (1024, 768), (1280, 720), (1280, 800), (1280, 960), (1280, 1024), (1400, 787), (1400, 875),
        (1400, 1050), (1600, 900), (1600, 1000), (1600, 1200), (1920, 1080),
    ]

    /// Nil if ViZDoom has no such resolution.
    public init?(width: Int, height: Int) {
        guard ScreenResolution.table.contains(where: { $0 == (width, height) }) else { return nil }
        self.width = width
        self.height = height
    }

    var code: Int64 { Int64(ScreenResolution.table.firstIndex { $0 == (width, height) }!) }
    public var description: String { "\(width)x\(height)" }

    /// The seed's resolution: small frames are what a CPU agent can afford.
    public static let res160x120 = ScreenResolution(width: 160, height: 120)!
    public static let res320x240 = ScreenResolution(width: 320, height: 240)!
}

/// How the engine lays out the screen buffer (`vizdoom::ScreenFormat`).
public enum ScreenFormat: Int64, Sendable, Codable, CaseIterable {
    case crcgcb = 0, rgb24 = 1, rgba32 = 2, argb32 = 3, cbcgcr = 4, bgr24 = 5, bgra32 = 6, abgr32 = 7
    /// One 8-bit gray channel: the seed's format, and the input of `FramePreprocessor`.
    case gray8 = 8
    case doom256Colors8 = 9
}

/// Synchronous modes wait for the agent every tic; asynchronous ones run in real time.
public enum GameMode: Int64, Sendable, Codable, CaseIterable {
    case player = 0, spectator = 1, asyncPlayer = 2, asyncSpectator = 3
}

/// Everything needed to start a game: a scenario plus the settings that override its `.cfg`.
///
/// Every optional setting left `nil` keeps the value from the scenario's `.cfg` file.
/// `GameConfiguration(scenario:)` applies the seed notebook's settings (see `init`).
public struct GameConfiguration: Sendable, Codable, Equatable {
    /// A built-in scenario name (`basic`, `defend_the_center`, ...; see `ScenarioCatalog`) or the
    /// path of a `.cfg` file (anything containing `/` or ending in `.cfg`).
    public var scenario: String
    public var screenResolution: ScreenResolution?
    public var screenFormat: ScreenFormat?
    public var renderHud: Bool?
    public var renderMinimalHud: Bool?
    public var renderCrosshair: Bool?
    public var renderWeapon: Bool?
    public var renderDecals: Bool?
    public var renderParticles: Bool?
    /// The buttons the agent may press, in action order; nil keeps the `.cfg`'s.
    public var buttons: [Button]?
    /// The game variables reported with each state; nil keeps the `.cfg`'s.
    public var gameVariables: [GameVariable]?
    /// Episode length limit in tics (0 = none).
    public var episodeTimeout: Int?
    /// Tics skipped before the agent acts (e.g. while the weapon is raised).
    public var episodeStartTime: Int?
    /// Doom's skill level, 1 (easiest) to 5 (nightmare), replacing the `.cfg`'s `doom_skill`; nil
    /// keeps the `.cfg`'s. It sets the monsters' aggressiveness and speed, the damage the player
    /// takes and the ammunition found.
    public var doomSkill: Int?
    /// The skill levels Doom has: 1 (I'm too young to die) to 5 (nightmare).
    public static let doomSkills = 1...5
    /// Reward added every tic the player is alive.
    public var livingReward: Double?
    public var mode: GameMode?
    /// The engine's random seed; nil lets ViZDoom choose.
    public var seed: UInt32?
    public var windowVisible: Bool
    public var soundEnabled: Bool

    /// The seed notebook's settings: 160x120 GRAY8, no HUD, no crosshair, weapon shown, no decals
    /// or particles (they only add noise to small gray frames), hidden window, no sound,
    /// synchronous player mode. For `basic` it also sets what the seed set: the buttons
    /// MOVE_LEFT, MOVE_RIGHT, ATTACK, the variables AMMO2, POSITION_X, POSITION_Y, timeout 300,
    /// start time 10 and living reward -1. Other scenarios keep their `.cfg`'s buttons,
    /// variables, timeout and rewards.
    public init(scenario: String) {
        self.scenario = scenario
        screenResolution = .res160x120
        screenFormat = .gray8
        renderHud = false
        renderMinimalHud = false
        renderCrosshair = false
        renderWeapon = true
        renderDecals = false
        renderParticles = false
        mode = .player
        windowVisible = false
        soundEnabled = false
        if scenario == "basic" {
            buttons = [.moveLeft, .moveRight, .attack]
            gameVariables = [.ammo2, .positionX, .positionY]
            episodeTimeout = 300
            episodeStartTime = 10
            livingReward = -1
        }
    }

    /// A configuration that changes nothing in the `.cfg` (but still hides the window and mutes sound).
    public static func fromConfigFile(_ scenario: String) -> GameConfiguration {
        var configuration = GameConfiguration(scenario: scenario)
        configuration.screenResolution = nil
        configuration.screenFormat = nil
        configuration.renderHud = nil
        configuration.renderMinimalHud = nil
        configuration.renderCrosshair = nil
        configuration.renderWeapon = nil
        configuration.renderDecals = nil
        configuration.renderParticles = nil
        configuration.buttons = nil
        configuration.gameVariables = nil
        configuration.episodeTimeout = nil
        configuration.episodeStartTime = nil
        configuration.livingReward = nil
        configuration.mode = nil
        return configuration
    }
}
