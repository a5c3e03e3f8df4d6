import Foundation
import ViZDoom

/// How an episode ended, as a trainer can observe it: everything a score metric is computed from.
///
/// ViZDoom keeps no state once an episode has finished (no frame, no state variables), but the
/// engine's episode time, its player-dead flag, the total reward and its game state stay readable.
/// So, after the step that finished the episode (`DoomEnvironment.finishedEpisodeOutcome()`):
///
/// - `tics`, `playerDead`, `rawReturn`: `DoomGame.episodeTime()`, `isPlayerDead`, the sum of the
///   step rewards;
/// - `startTime`, `timeout`: the game's settings (`episode_start_time`, `episode_timeout`);
/// - `lastGameVariables`: the values at the episode's last tic, read with `DoomGame.gameVariable`
///   (the engine's game state, which outlives the episode's state): a kill in the very tic the
///   player dies is counted.
///
/// The engine ends an episode in three ways (ViZDoom `DoomController::isTicPossible`): the player
/// dies, the map's script ends the map (`Exit_Normal`: basic's kill, my_way_home's vest,
/// predict_position's hit or miss), or the episode time reaches `startTime + timeout`.
public struct EpisodeOutcome: Sendable, Equatable {
    /// The engine's episode time at the end (`DoomGame.episodeTime()`): tics since the map started,
    /// the start time included.
    public var tics: Int
    /// Tics the engine played before the agent's first action (`episode_start_time`, at least 1 in
    /// ViZDoom; see `Scenario.episodeStartTime`).
    public var startTime: Int
    /// The episode timeout in tics after the start time (`episode_timeout`; 0 = none).
    public var timeout: Int
    /// Whether the player was dead when the episode ended.
    public var playerDead: Bool
    /// The episode's total raw (unscaled) reward.
    public var rawReturn: Double
    /// Game variables at the episode's last tic (empty if none were requested).
    public var lastGameVariables: [GameVariable: Double]

    public init(tics: Int, startTime: Int, timeout: Int, playerDead: Bool, rawReturn: Double,
                lastGameVariables: [GameVariable: Double] = [:]) {
        self.tics = tics
        self.startTime = startTime
        self.timeout = timeout
        self.playerDead = playerDead
        self.rawReturn = rawReturn
        self.lastGameVariables = lastGameVariables
    }

    /// Tics the agent played: `tics - startTime` (what a living reward of 1 pays).
    public var playedTics: Int { max(tics - startTime, 0) }

    /// The timeout ended the episode: a timeout is set, the episode time reached `startTime +
    /// timeout` (ViZDoom's `isEpisodeTimeoutReached`), and the player is alive (a death in the last
    /// tic counts as a death).
    public var reachedTimeout: Bool { timeout > 0 && !playerDead && tics >= startTime + timeout }

    /// The map's script ended the episode: neither a death nor the timeout. In the scenarios that
    /// use it (my_way_home, deadly_corridor, basic) only reaching the goal does that.
    public var reachedGoal: Bool { !playerDead && !reachedTimeout }
}

/// A per-episode score beyond the raw return, computed from an `EpisodeOutcome`.
///
/// Each metric has one value per episode; the mean over episodes is what is reported (for the 0/1
/// metrics, the share of episodes). Names: `rawValue` is the `episodes.csv` column, `tensorBoardTag`
/// the scalar's tag.
public enum ScoreMetric: String, Codable, Sendable, CaseIterable {
    /// Monsters killed: KILLCOUNT at the episode's last tic (defend_the_center, defend_the_line);
    /// equal to the kills the map pays +1 for.
    case kills
    /// Tics survived: the episode time minus the start time, up to the timeout (health_gathering,
    /// take_cover; what World Models' take_cover "time steps" count).
    case survivalTics = "survival_tics"
    /// 1 if the episode lasted to its timeout with the player alive, else 0.
    case reachedTimeout = "reached_timeout"
    /// 1 if the map ended the episode before the timeout with the player alive (my_way_home's
    /// vest, deadly_corridor's vest, basic's kill), else 0.
    case success
    /// 1 if the rocket killed the target, else 0 (predict_position). Read from the return: the
    /// scenario pays +1 for the kill and -0.001 a tic otherwise, at most -0.3 over its 300-tic
    /// timeout, so the return is positive exactly when the target was hit. The kill ends the map in
    /// the same tic, so no game variable would show it.
    case hits

    /// The `episodes.csv` column (snake_case).
    public var columnName: String { rawValue }

    /// The TensorBoard scalar, in the `Perf/` group with the other per-episode curves.
    public var tensorBoardTag: String { "Perf/" + title }

    /// A title for tags and tables: `Kills`, `Survival Tics`, `Reached Timeout`, ...
    public var title: String {
        switch self {
        case .kills: return "Kills"
        case .survivalTics: return "Survival Tics"
        case .reachedTimeout: return "Reached Timeout"
        case .success: return "Success"
        case .hits: return "Hits"
        }
    }

    /// Whether each episode's value is 0 or 1 (its mean is a share, shown as a percentage).
    public var isShare: Bool {
        switch self {
        case .kills, .survivalTics: return false
        case .reachedTimeout, .success, .hits: return true
        }
    }

    /// The game variables the metric reads at the episode's end.
    public var gameVariables: [GameVariable] {
        switch self {
        case .kills: return [ScoreMetric.killCount]
        case .survivalTics, .reachedTimeout, .success, .hits: return []
        }
    }

    /// How the value is computed, in a few words (for `a3c scenarios`).
    public var definition: String {
        switch self {
        case .kills: return "KILLCOUNT at the episode's end"
        case .survivalTics: return "tics played until death or timeout"
        case .reachedTimeout: return "share of episodes alive at the timeout"
        case .success: return "share of episodes the map ended early, player alive"
        case .hits: return "share of episodes with a positive return, i.e. the +1 for the kill"
        }
    }

    /// The episode's value, or nil if a game variable it needs is not in `lastGameVariables`
    /// (the game was not asked to report it).
    public func value(of outcome: EpisodeOutcome) -> Double? {
        switch self {
        case .kills: return outcome.lastGameVariables[ScoreMetric.killCount]
        case .survivalTics: return Double(outcome.playedTics)
        case .reachedTimeout: return outcome.reachedTimeout ? 1 : 0
        case .success: return outcome.reachedGoal ? 1 : 0
        case .hits: return outcome.rawReturn > 0 ? 1 : 0
        }
    }

    /// A mean over episodes as the progress line shows it: `24.7`, `2100`, `98%`.
    public func formatted(mean: Double) -> String {
        guard mean.isFinite else { return "-" }
        if isShare { return "\(Int((mean * 100).rounded()))%" }
        switch self {
        case .survivalTics: return "\(Int(mean.rounded()))"
        default: return String(format: "%.1f", mean)
        }
    }

    static let killCount = GameVariable(name: "KILLCOUNT")!
}

extension Array where Element == ScoreMetric {
    /// Every metric's value for one episode, in order (nil where a game variable is missing).
    public func values(of outcome: EpisodeOutcome) -> [Double?] { map { $0.value(of: outcome) } }

    /// The game variables these metrics need, each once, in order.
    public var gameVariables: [GameVariable] {
        var seen: [GameVariable] = []
        for variable in flatMap(\.gameVariables) where !seen.contains(variable) { seen.append(variable) }
        return seen
    }
}
