import ViZDoom

/// A documented reward shaping scheme, opt-in (`--reward-shaping NAME`), for scenarios the agent
/// cannot learn, or not well enough for issue 9's floor (take_cover), within the learning suite's
/// budget from their own rewards alone.
///
/// Shaping changes only what the agent learns from: the score everywhere (progress line,
/// `Perf/Reward`, `raw_return`, `a3c eval`) stays the scenario's own return, and the return the
/// agent learned from (scaled rewards plus shaping) is logged beside it (`shaped_return`,
/// `Perf/Shaped Return`). A scheme reads game variables after every step; `RewardShaper` keeps
/// what it remembers within an episode.
public enum RewardShaping: String, Codable, Sendable, CaseIterable {
    /// +1 (after the reward scale) for every step in which the player's HEALTH rose: a medikit picked
    /// up. Sample Factory's health_gathering shaping (`sf_examples/vizdoom/doom/wrappers/
    /// gathering_reward_shaping.py`). Why: health_gathering pays +1 a tic alive and -100 at death, so
    /// a medikit's worth shows only hundreds of tics later, beyond gamma 0.99's horizon of about 100
    /// steps; trained on its own rewards for 7 minutes (2.8 M frames), the agent survived no longer
    /// than a random one (about 430 tics).
    case health

    /// +`explorationBonus` (after the reward scale) for every step that takes the player into a
    /// square of `explorationCellSize` map units not yet visited in this episode: an episodic
    /// count-based novelty bonus (visited once or not), read from POSITION_X and POSITION_Y. Why:
    /// my_way_home pays only at the vest; on its own rewards the agent found it in 8% of episodes,
    /// a random walk's rate, for 20 minutes (7.8 M frames), so nothing was learned. A policy paid
    /// to enter new squares walks through the maze instead of in circles, and finds the vest often
    /// enough to learn from it. The bonus is bounded: my_way_home's map spans 960 x 832 units, at
    /// most 195 squares of 64 units (far fewer are floor), and its preset scales the vest to 5 so
    /// that finding it is worth more than walking the maze.
    case exploration

    /// -`ammunitionPenalty` (after the reward scale) for each round fired (AMMO2 fell): a round
    /// costs at once, where a miss otherwise costs only near the episode's end (a hit nets +0.7).
    /// Why: defend_the_center gives the player 26 rounds and pays +1 a kill, so a wasted round is a
    /// kill that cannot happen later, when the ammunition has run out (ViZDoom's own description:
    /// "wasting ammunition is not very good either ... he has to figure out the rest for himself").
    /// That cost falls up to about 200 steps after the shot, where gamma 0.99 weighs it at 0.13,
    /// and the HUD that shows the rounds left is not rendered; trained on its own rewards for 20
    /// minutes (11.9 M frames), the agent killed 15.7 with its 26 rounds.
    case ammunition

    /// -`damagePenalty` (after the reward scale) for each point of HEALTH lost, down to 0: a wound
    /// costs at once, where it otherwise costs only at the death it brings nearer. Why: take_cover
    /// pays +1 a tic alive and nothing else, and its imps' fireballs take 21 to 168 of the player's
    /// 100 points (the scenario's 7x damage; measured on the engine), so half the first hits wound
    /// rather than kill, and the wounded player dies of the next. The wound changes nothing the
    /// agent sees (the HUD that shows health is not rendered) and its cost falls at that death,
    /// often hundreds of tics later, where gamma 0.99 weighs it little: only the killing hit is
    /// charged in full. Points lost below 0 (a killing hit's excess) are not charged.
    case damage

    /// What the scheme adds, in a few words (for `a3c scenarios` and help texts).
    public var definition: String {
        switch self {
        case .health: return "+1 (scaled units) for each step in which HEALTH rose (a medikit), Sample Factory's"
        case .exploration:
            return "+\(RewardShaping.explorationBonus) (scaled units) for each step into a \(Int(RewardShaping.explorationCellSize))-unit"
                + " square of the map not yet visited in the episode (from POSITION_X, POSITION_Y)"
        case .ammunition: return "-\(RewardShaping.ammunitionPenalty) (scaled units) for each round fired (AMMO2 fell)"
        case .damage: return "-\(RewardShaping.damagePenalty) (scaled units) for each point of HEALTH lost (down to 0)"
        }
    }

    /// The side of exploration's squares, in map units: about two steps of a walking player (8
    /// units a tic, 4 tics a step), so that walking on earns a bonus every other step or so, and a
    /// room of my_way_home (about 200 units across) holds a few squares.
    public static let explorationCellSize = 64.0
    /// The bonus per new square, in the units the agent learns from (after the reward scale): 0.05,
    /// large enough to be learned from beside the entropy bonus (0.01). In 5-minute runs of
    /// my_way_home (seed 1), the squares visited per episode stayed near 20 at 0.01 (with Sample
    /// Factory's 9 actions and scale 1), and rose from about 18 to 33 at 0.05 with the preset's.
    public static let explorationBonus = 0.05

    /// The cost of a round, in the units the agent learns from (after the reward scale): 0.3, a
    /// third of a kill, so that a shot pays when it hits more than one time in three. In runs of
    /// defend_the_center of 3 M frames each (seed 1, constant rate), the rolling kills at the end
    /// were 8.9 unshaped, 11.2 at 0.1 and 17.7 at 0.3; at 0.3 the agent first all but stopped
    /// shooting (0.2 kills for 1.3 M frames), then learned to aim.
    public static let ammunitionPenalty = 0.3

    /// The cost of a point of health, in the units the agent learns from (after the reward scale):
    /// 0.01, what a tic alive pays at take_cover's scale (1 raw, 0.01 scaled), so a wound of 50
    /// points costs 50 tics of life at once. The discounted value a wound takes is about twice
    /// that: a player with 200 steps to live expects about half as many after it (the next hit
    /// kills), and 0.04 x (gamma^100 - gamma^200) / (1 - gamma) is 0.93 at gamma 0.99. The charge
    /// stays below it, so the death itself remains the larger signal (a 4 M-frame run with 0.04 a
    /// point, in a temporary build, ended below the unshaped preset: 625 tics against 728).
    public static let damagePenalty = 0.01
}

/// One environment's shaping over its episodes: the scheme, and what it remembers of the episode
/// in progress (the last HEALTH or AMMO2; the squares visited). No allocation per step once an
/// episode has visited as many squares as the set was first given room for.
public struct RewardShaper {
    public let scheme: RewardShaping
    /// health and damage: HEALTH after the last step; ammunition: AMMO2 after it.
    private var previousValue = 0.0
    /// exploration: the squares visited in this episode, as `cellKey(x:y:)`.
    private var visitedCells = Set<Int>(minimumCapacity: 1024)

    public init(scheme: RewardShaping) { self.scheme = scheme }

    /// Starts an episode from its first state; `read` gives a game variable's value.
    public mutating func startEpisode(_ read: (GameVariable) throws -> Double) rethrows {
        switch scheme {
        case .health, .damage:
            previousValue = try read(.health)
        case .ammunition:
            previousValue = try read(.ammo2)
        case .exploration:
            visitedCells.removeAll(keepingCapacity: true)
            visitedCells.insert(Self.cellKey(x: try read(.positionX), y: try read(.positionY)))
        }
    }

    /// The bonus of the step just played, from the game variables after it (`read`).
    public mutating func bonus(_ read: (GameVariable) throws -> Double) rethrows -> Double {
        switch scheme {
        case .health:
            let health = try read(.health)
            defer { previousValue = health }
            return health > previousValue ? 1 : 0
        case .ammunition:
            let ammunition = try read(.ammo2)
            defer { previousValue = ammunition }
            return -RewardShaping.ammunitionPenalty * max(0, previousValue - ammunition)
        case .damage:
            let health = try read(.health)
            defer { previousValue = health }
            return -RewardShaping.damagePenalty * max(0, max(previousValue, 0) - max(health, 0))
        case .exploration:
            let key = Self.cellKey(x: try read(.positionX), y: try read(.positionY))
            return visitedCells.insert(key).inserted ? RewardShaping.explorationBonus : 0
        }
    }

    /// The square holding map point (x, y): floor(x / size) and floor(y / size) packed in one Int
    /// (Doom's coordinates lie within +-32,768 units, so each index fits in 32 bits).
    static func cellKey(x: Double, y: Double) -> Int {
        let column = Int((x / RewardShaping.explorationCellSize).rounded(.down))
        let row = Int((y / RewardShaping.explorationCellSize).rounded(.down))
        return column << 32 | (row & 0xFFFF_FFFF)
    }
}
