import ViZDoom

/// A published score to compare a run with, and where it comes from.
public struct ReferenceScore: Sendable, Equatable {
    /// The score in the preset's terms, e.g. `24.7 kills`; or what is known when nothing is published.
    public let score: String
    /// Who reported it and under which settings.
    public let source: String
}

/// The settings that make one of ViZDoom's standard scenarios learnable and comparable: the
/// actions (button combinations), the reward scale, the frame skip, the score metrics and the
/// reference score. `a3c train --scenario NAME` starts from them; each stays overridable.
///
/// Where the scenarios come from and what their maps do (read from each `.wad`'s ACS `SCRIPTS`
/// lump and `.cfg`): see the doc comment of each preset below. The action sets follow Sample
/// Factory (`sf_examples/vizdoom/doom/doom_utils.py`, `action_space.py`) where it has one; its
/// tuple spaces become `ActionSet.combinations`. Frame skip is 4 everywhere, the field's practice
/// (Sample Factory, the A3C paper's Atari setting); no scenario here needs finer control.
///
/// **Reward scale.** The learner sees `reward * rewardScale`; reports show raw rewards. The seed's
/// 0.01 suits rewards of about 100 (basic's +106 kill, deadly_corridor's distance, the
/// survival scenarios' +1 a tic = +4 a step) and starves scenarios that pay 1 per event (kills,
/// the vest, a hit): there the entropy bonus (0.01) outweighs the scaled reward. In
/// defend_the_center, 0.01 stayed at a rolling return of 0.3-0.7 over 3.2 M frames; 1 reached 5.6
/// at 1.5 M (DESIGN.md, "Scenarios"). So: 0.01 for rewards in the hundreds, 1 for rewards of 1.
public struct ScenarioPreset: Sendable, Equatable {
    /// The scenario's name in the catalog (its `.cfg` without the extension).
    public let name: String
    /// One line: what the agent has to do.
    public let summary: String
    /// The policy's actions, in output order.
    public let actions: ActionSet
    /// How the actions were chosen, in a few words (e.g. `turn {none, left, right} x attack {no, yes}`).
    public let actionScheme: String
    /// Buttons the actions press that the `.cfg` does not make available: the game must be given
    /// them in addition to the `.cfg`'s (see `gameButtons(scenarioButtons:)`).
    public let addedButtons: [Button]
    /// Rewards are multiplied by this for learning.
    public let rewardScale: Float
    /// Tics each action is held.
    public let frameSkip: Int
    /// An episode timeout in tics that replaces the `.cfg`'s; nil keeps the `.cfg`'s.
    public let episodeTimeout: Int?
    /// Score metrics, in order; the first is the main one (drawn in the curves).
    public let metrics: [ScoreMetric]
    public let reference: ReferenceScore

    /// The reward shaping this scenario needs, within the learning suite's budget, to be learned or to
    /// reach issue 9's floor; opt-in with `--reward-shaping` (see `RewardShaping` for why); nil
    /// where none is needed (`a3c scenarios` lists which presets set one).
    public var recommendedShaping: RewardShaping? = nil
    /// The learning-rate schedule (`--lr-schedule`): constant, the seed's, unless a preset found a
    /// constant rate undoing what the agent had learned within 20 minutes (take_cover,
    /// defend_the_center: see them).
    public var learningRateSchedule: TrainingConfiguration.LearningRateSchedule = .constant
    /// Environments per worker (`--envs-per-worker`) where the preset sets them; nil for the default.
    public var envsPerWorker: Int? = nil
    /// The entropy bonus's coefficient (`--entropy-coefficient`) where the preset sets it; nil for
    /// the default (0.01, the A3C paper's).
    public var entropyCoefficient: Float? = nil

    /// The game variables the metrics read (at the end of each episode, from the engine's game state).
    public var gameVariables: [GameVariable] { metrics.gameVariables }

    /// The buttons to give the game: the `.cfg`'s, in their order, then `addedButtons`.
    public func gameButtons(scenarioButtons: [Button]) -> [Button] {
        scenarioButtons + addedButtons.filter { !scenarioButtons.contains($0) }
    }

    /// The preset of a standard scenario, or nil (other scenarios and `.cfg` paths have none: see
    /// `withoutPreset(scenario:buttons:)`).
    public static func named(_ name: String) -> ScenarioPreset? { all.first { $0.name == name } }

    /// What a scenario without a preset (a custom `.cfg`, deathmatch, ...) gets: one action per
    /// `.cfg` button, no no-op (the seed's scheme, as before presets), frame skip 4, no metrics
    /// beyond the return, and reward scale `rewardScaleWithoutPreset`.
    ///
    /// Throws if the `.cfg` makes no button available (there would be no action).
    public static func withoutPreset(scenario: String, buttons: [Button]) throws -> ScenarioPreset {
        guard !buttons.isEmpty else {
            throw TrainingError.invalidOption("\(scenario) makes no buttons available, so the agent would have no action; list them in its .cfg, e.g. available_buttons = { MOVE_LEFT MOVE_RIGHT ATTACK }")
        }
        return ScenarioPreset(name: scenario, summary: "no preset: one action per button of the .cfg",
                              actions: .oneButtonEach(buttons), actionScheme: "one button each, no no-op",
                              addedButtons: [], rewardScale: rewardScaleWithoutPreset, frameSkip: 4,
                              episodeTimeout: nil, metrics: [],
                              reference: ReferenceScore(score: "-", source: "no preset"))
    }

    /// 1: a custom map's reward size is unknown, and a scale too small learns nothing (the entropy
    /// bonus wins, as defend_the_center showed at 0.01) while one too large still learns, its
    /// gradients clipped to norm 40. Maps written for ViZDoom mostly pay about 1 per event.
    public static let rewardScaleWithoutPreset: Float = 1

    /// Every preset, in the order of issue 9.
    public static let all: [ScenarioPreset] = [
        basic, simplerBasic, rocketBasic, defendTheCenter, defendTheLine, healthGathering,
        healthGatheringSupreme, takeCover, myWayHome, deadlyCorridor, predictPosition,
    ]
}

// MARK: - The presets

extension ScenarioPreset {
    private static func button(_ name: String) -> Button {
        guard let button = Button(name: name) else { preconditionFailure("ViZDoom has no button \(name)") }
        return button
    }

    private static let moveLeft = button("MOVE_LEFT"), moveRight = button("MOVE_RIGHT")
    private static let moveForward = button("MOVE_FORWARD"), moveBackward = button("MOVE_BACKWARD")
    private static let turnLeft = button("TURN_LEFT"), turnRight = button("TURN_RIGHT")
    private static let attack = button("ATTACK")

    /// basic: a Cacodemon that neither moves nor attacks, somewhere on the opposite wall; one pistol
    /// hit kills it and ends the map. +106 for the kill, -5 a shot, -1 a tic; timeout 300 tics.
    /// The seed's three one-button actions and reward scale 0.01, unchanged, so its numbers stay
    /// comparable with every earlier run. Success = killed before the timeout.
    public static let basic = ScenarioPreset(
        name: "basic", summary: "strafe in front of a still monster and shoot it once",
        actions: .oneButtonEach([moveLeft, moveRight, attack]),
        actionScheme: "the seed's: one button each, no no-op", addedButtons: [],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.success],
        reference: ReferenceScore(score: "none published; a return is below 100",
                                  source: "the map: +106 for the kill, -5 for the shot, -1 a tic"))

    /// simpler_basic: basic's script in a room with plain cement walls and ceiling (basic's wad has
    /// brick walls); the same rewards, timeout and buttons, so the same preset.
    public static let simplerBasic = ScenarioPreset(
        name: "simpler_basic", summary: "basic with plain textures",
        actions: .oneButtonEach([moveLeft, moveRight, attack]),
        actionScheme: "the seed's: one button each, no no-op", addedButtons: [],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.success],
        reference: ReferenceScore(score: "none published; a return is below 100",
                                  source: "the map: +106 for the kill, -5 for the shot, -1 a tic"))

    /// rocket_basic: basic's room (plain textures) with a rocket launcher and 50 rockets instead of
    /// the pistol, and no autoaim (`+sv_noautoaim 1`): the rocket's flight and splash matter.
    /// Rewards as in basic (-5 a rocket).
    public static let rocketBasic = ScenarioPreset(
        name: "rocket_basic", summary: "basic with a rocket launcher and no autoaim",
        actions: .oneButtonEach([moveLeft, moveRight, attack]),
        actionScheme: "the seed's: one button each, no no-op", addedButtons: [],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.success],
        reference: ReferenceScore(score: "none published; a return is below basic's",
                                  source: "the map: +106 for the kill, -5 a rocket, -1 a tic (the rocket's flight costs tics)"))

    /// defend_the_center: the player stands in the middle of a circle with a pistol and 6 clip
    /// boxes; 5 melee monsters (chainsaw marines, demons) come from the wall, die in one hit and
    /// respawn. +1 a kill, -1 for death; ends when the player dies (inevitable: the ammunition runs
    /// out) or at 2,100 tics. Reward scale 1.
    ///
    /// Actions: the `.cfg`'s three buttons, one each, not Sample Factory's 6 turn x attack
    /// combinations: after 5 minutes (seed 1, rolling mean of 100 episodes) the 3 actions had 5.7
    /// kills and the 6 had 4.1 (7.7 with the 3 at one environment per worker, which the preset also
    /// sets). Likely why: half of the 6 fire, which spends a young policy's
    /// limited ammunition before it aims, and with a frame skip of 4, turning then firing in the next
    /// step is nearly as fast as both at once.
    ///
    /// One environment per worker: rolling kills after 5 minutes were 7.7 with 1 and 5.7 with the
    /// default 2 (3 actions, seed 1). Its episodes are long (up to 2,100 tics) and each kill comes
    /// late, so more updates of fewer frames each learn sooner than fewer, larger ones.
    ///
    /// The learning rate annealed to 0 (`--lr-schedule linear`): at a constant rate the issue's
    /// 20-minute run peaked at 13 kills and fell to 9.
    ///
    /// Recommended shaping: ammunition (`RewardShaping.ammunition`: -0.3 a round fired). Unshaped,
    /// 20 minutes (11.9 M frames) gave 15.7 kills from 26 rounds: the agent fired too freely.
    public static let defendTheCenter = ScenarioPreset(
        name: "defend_the_center", summary: "turn and shoot the monsters closing in on the center",
        actions: ActionSet([[turnLeft], [turnRight], [attack]]),
        actionScheme: "the .cfg's buttons, one each (measured better than Sample Factory's 6 turn x attack)", addedButtons: [],
        rewardScale: 1, frameSkip: 4, episodeTimeout: nil, metrics: [.kills],
        reference: ReferenceScore(score: "24.7 kills",
                                  source: "Sample Factory APPO (Hugging Face model card edbeeching/doom_defend_the_center); A2C 23.5"),
        recommendedShaping: .ammunition, learningRateSchedule: .linear, envsPerWorker: 1)

    /// defend_the_line: monsters (3 imps that shoot, 3 demons) along the opposite wall; each respawns
    /// with more health after it dies; ammunition is endless. +1 a kill, -1 for death; no timeout in
    /// the `.cfg`, so the episode ends when the player dies. Sample Factory's 6 turn x attack actions
    /// (the combinations defend_the_center's preset tried and left for 3 one-button ones), scale 1.
    public static let defendTheLine = ScenarioPreset(
        name: "defend_the_line", summary: "turn and shoot the monsters along the opposite wall",
        actions: .combinations([[turnLeft, turnRight], [attack]]),
        actionScheme: "Sample Factory's turn {none, left, right} x attack {no, yes}", addedButtons: [],
        rewardScale: 1, frameSkip: 4, episodeTimeout: nil, metrics: [.kills],
        reference: ReferenceScore(score: "43.5 kills",
                                  source: "Sample Factory (Hugging Face model card edbeeching/doom_defend_the_line); A2C 28"))

    /// health_gathering: an acid floor drains health; medikits appear on it. +1 a tic alive, -100
    /// for death; ends at death or 2,100 tics. Sample Factory's flat space (no-op + one button each
    /// of TURN_LEFT, TURN_RIGHT, MOVE_FORWARD, MOVE_BACKWARD); MOVE_BACKWARD is not in ViZDoom's
    /// `.cfg`, so the preset adds it. Scale 0.01 (+0.04 a step, -1 for death).
    public static let healthGathering = ScenarioPreset(
        name: "health_gathering", summary: "pick up medikits on an acid floor to stay alive",
        actions: ActionSet([[], [turnLeft], [turnRight], [moveForward], [moveBackward]]),
        actionScheme: "Sample Factory's no-op + one button each", addedButtons: [moveBackward],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.survivalTics, .reachedTimeout],
        reference: ReferenceScore(score: "survives the full 2,100 tics",
                                  source: "Sample Factory (its .cfg: living reward 0.01, no death penalty; +1 a medikit)"),
        recommendedShaping: .health)

    /// health_gathering_supreme: health_gathering on a larger map (1,856 units square instead of
    /// 1,216) with poison vials (-30 health) among the medikits and a random start point. Same
    /// rewards, timeout and preset.
    public static let healthGatheringSupreme = ScenarioPreset(
        name: "health_gathering_supreme", summary: "health_gathering on a larger map, with poison among the medikits",
        actions: ActionSet([[], [turnLeft], [turnRight], [moveForward], [moveBackward]]),
        actionScheme: "Sample Factory's no-op + one button each", addedButtons: [moveBackward],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.survivalTics, .reachedTimeout],
        reference: ReferenceScore(score: "none recorded",
                                  source: "Sample Factory trains it with its own .cfg and reward shaping"),
        recommendedShaping: .health)

    /// take_cover: imps on the opposite wall throw fireballs, more of them over time; the player
    /// (7x damage) can only move left and right. +1 a tic alive; ends at death. ViZDoom's `.cfg`
    /// sets no timeout; the preset sets Gym's and World Models' 2,100 tics, which bounds an episode
    /// and makes "reached the timeout" and the reference comparable. Actions: no-op, left, right
    /// (standing still is a choice). Scale 0.01 (+0.04 a step). The learning rate annealed to 0
    /// (`--lr-schedule linear`): at a constant rate the rolling survival peaked at 868 tics and fell
    /// to 457 by minute 20; annealed, it ended at 715.
    ///
    /// Entropy coefficient 0.005, half the default: after 4 M frames (constant rate, seed 1) the
    /// rolling survival was 721 tics with it and 618 with 0.01; in the learning suite's 20 minutes
    /// the best checkpoint averaged 880 tics over 1,000 episodes, against 733 with 0.01. Dodging
    /// rewards a decided move: a policy kept near uniform over stay, left and right walks into
    /// fireballs it saw. Halving it again (0.0025) did no better: two 20-minute runs' best
    /// checkpoints scored 922 and 842 over 1,000 episodes, against the preset's 880 and 811 (759 in a
    /// third run).
    ///
    /// Recommended shaping: damage (`RewardShaping.damage`: -0.01 a point of health lost). A wound
    /// costs nothing the agent sees until the death it brings nearer. Unshaped, two learning-suite
    /// runs' best checkpoints drew 744 and 696 tics from the suite's 100 episodes, below issue 9's
    /// 750 (880 and 759 over 1,000 held-out episodes); shaped, 829 (903 held-out, 17.7 M frames),
    /// and in a second run 790 (908 held-out).
    public static let takeCover = ScenarioPreset(
        name: "take_cover", summary: "dodge fireballs by moving left and right",
        actions: ActionSet([[], [moveLeft], [moveRight]]),
        actionScheme: "no-op + one button each", addedButtons: [],
        rewardScale: 0.01, frameSkip: 4, episodeTimeout: 2100, metrics: [.survivalTics, .reachedTimeout],
        reference: ReferenceScore(score: "1,092 +- 556 survival tics",
                                  source: "World Models (Ha & Schmidhuber 2018), as reported by others; 2,100-tic episodes"),
        recommendedShaping: .damage, learningRateSchedule: .linear, entropyCoefficient: 0.005)

    /// my_way_home: a maze of coloured rooms; the player starts in a random one, facing a random
    /// way; picking up the green vest (always in the same room) ends the map. +1 for the vest,
    /// -0.0001 a tic; timeout 2,100 tics. Success = the vest reached, i.e. the map ended before the
    /// timeout (the map has no monsters: the player cannot die).
    ///
    /// Actions: forward, turn left, turn right, and forward while turning (5), the forward-going
    /// space of the curiosity paper's my_way_home (Pathak et al. 2017: forward, left, right, no-op),
    /// not Sample Factory's turn x forward/back (9), a third of whose actions walk backward and a
    /// third stand: unshaped, the agent reached the vest in 12-16% of episodes in a 5-minute run
    /// with these 5 (seed 1, still near random), and in 3-10% throughout a 20-minute run with the 9.
    ///
    /// Recommended shaping: exploration (`RewardShaping.exploration`: a bonus for each new square of
    /// the map in an episode; why there). Reward scale 5, so that the vest (+5 to learn from)
    /// outweighs what the bonus pays for a whole maze walked through (at 0.05 a square, about 2 for
    /// the 40 squares of a good episode), and finding the vest stays the aim.
    public static let myWayHome = ScenarioPreset(
        name: "my_way_home", summary: "find the green vest in a maze of coloured rooms",
        actions: ActionSet([[moveForward], [turnLeft], [turnRight], [moveForward, turnLeft], [moveForward, turnRight]]),
        actionScheme: "forward, turn, or both (the curiosity paper's forward-going space)",
        addedButtons: [],
        rewardScale: 5, frameSkip: 4, episodeTimeout: nil, metrics: [.success],
        reference: ReferenceScore(score: "98% success",
                                  source: "Sample Factory and its A2C baseline (their .cfg: other buttons)"),
        recommendedShaping: .exploration)

    /// deadly_corridor: a corridor lined with 6 shooting monsters (zombiemen, shotgun guys,
    /// chaingunners; skill 5, the player takes 2x damage), the green vest at its end. The reward is
    /// the change of the player's x position (distance towards the vest), +1000 for the vest, which
    /// ends the map, and -100 for death;
    /// timeout 2,100 tics. Sample Factory's turn x forward/back x strafe x attack space
    /// (54 actions), reward scale 0.01 as there. Success = the vest reached alive before the timeout.
    /// At the `.cfg`'s skill 5, 20 minutes (13.7 M frames) reached 0% success; at `--skill 1` 74%
    /// (11.1 M frames, seed 1; the rolling success was about 50% at 2 M frames).
    public static let deadlyCorridor = ScenarioPreset(
        name: "deadly_corridor", summary: "fight through a corridor of monsters to the vest at its end",
        actions: .combinations([[turnLeft, turnRight], [moveForward, moveBackward], [moveLeft, moveRight], [attack]]),
        actionScheme: "Sample Factory's turn {none, left, right} x move {none, forward, back} x strafe {none, left, right}"
            + " x attack {no, yes}",
        addedButtons: [], rewardScale: 0.01, frameSkip: 4, episodeTimeout: nil, metrics: [.success],
        reference: ReferenceScore(score: "hard to reproduce",
                                  source: "sample-factory issue #296"))

    /// predict_position: a Cacodemon walks along the opposite wall; the player has a rocket launcher
    /// with one rocket and cannot be hurt. +1 when the rocket kills the target (which ends the map),
    /// -0.001 a tic; a miss ends the map 45 tics after the shot; timeout 300 tics. No published
    /// action space: the turn x attack product (6 actions), whose no-op lets the agent wait for
    /// the target. Scale 1. Hits: see `ScoreMetric.hits`.
    public static let predictPosition = ScenarioPreset(
        name: "predict_position", summary: "lead a moving target with a single slow rocket",
        actions: .combinations([[turnLeft, turnRight], [attack]]),
        actionScheme: "turn {none, left, right} x attack {no, yes}", addedButtons: [],
        rewardScale: 1, frameSkip: 4, episodeTimeout: nil, metrics: [.hits],
        reference: ReferenceScore(score: "no published score found", source: "-"))
}
