import ViZDoom

extension TrainingConfiguration {
    /// The buttons `--actions` may press in `scenario`: its `.cfg`'s (the seed's three for basic),
    /// and those its preset adds. Throws for an unknown scenario or a missing `.cfg`.
    public static func availableButtons(scenario: String) throws -> [Button] {
        let buttons = try configButtons(scenario: scenario)
        return ScenarioPreset.named(scenario)?.gameButtons(scenarioButtons: buttons) ?? buttons
    }

    /// The buttons a game of `scenario` starts with before the actions add theirs: the seed's for
    /// basic, the `.cfg`'s for the others (read by the client library, no engine started).
    static func configButtons(scenario: String) throws -> [Button] {
        if let buttons = GameConfiguration(scenario: scenario).buttons { return buttons }
        return try ScenarioCatalog().scenario(named: scenario).buttons
    }

    /// The game this run plays: the scenario with the seed's settings (`GameConfiguration(scenario:)`),
    /// its buttons followed by any the actions press that it lacks, the timeout and skill overrides,
    /// and `engineSeed`. Throws `TrainingError.invalidOption` (naming the bad button and the scenario's
    /// buttons) if an action presses a button the scenario does not make available.
    public func gameConfiguration(engineSeed: UInt32?) throws -> GameConfiguration {
        let buttons = try Self.configButtons(scenario: scenario)
        do {
            try actions.validate(available: try Self.availableButtons(scenario: scenario), scenario: scenario)
        } catch let error as ActionSetError {
            throw TrainingError.invalidOption("\(error)")
        }
        var game = GameConfiguration(scenario: scenario)
        game.buttons = buttons + actions.buttons.filter { !buttons.contains($0) }
        if let episodeTimeout { game.episodeTimeout = episodeTimeout }
        game.doomSkill = doomSkill
        game.seed = engineSeed
        return game
    }

    /// A new engine for environment `index` of the run (its seed: the run's seed + 1000 * index).
    public func makeEnvironment(index: Int) throws -> DoomEnvironment {
        let game = try gameConfiguration(engineSeed: UInt32(truncatingIfNeeded: seed &+ UInt64(index) &* 1000))
        return try DoomEnvironment(configuration: game, actions: actions, frameSkip: frameSkip, view: view,
                                   metrics: metrics, shaping: rewardShaping)
    }
}
