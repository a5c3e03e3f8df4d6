import Foundation
import ViZDoom

/// The agent's discrete actions: an ordered list of button combinations, each a set of buttons
/// held together for one step. The empty combination is the no-op. The policy has one output per
/// action, in this order.
///
/// On the command line (`--actions`): `;` separates actions, `+` joins the buttons of one action,
/// buttons are named as ViZDoom spells them (`vizdoom::Button`, any case), and `NOOP` is the action
/// that presses nothing. Spaces around names are ignored.
///
///     --actions "NOOP;TURN_LEFT;TURN_RIGHT;ATTACK;TURN_LEFT+ATTACK;TURN_RIGHT+ATTACK"
///
/// In `config.json`: one array of button names per action, the no-op as `[]`:
/// `[[], ["TURN_LEFT"], ["TURN_RIGHT"], ["ATTACK"], ["TURN_LEFT", "ATTACK"], ["TURN_RIGHT", "ATTACK"]]`.
///
/// An action set has at least one action, no action twice (whatever the order of its buttons) and
/// no button twice within an action; `description` writes it back in the `--actions` syntax.
public struct ActionSet: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Each action's buttons, in the order they were written.
    public let actions: [[Button]]

    /// An action set from button lists; the lists must form a valid set (a programmer error
    /// otherwise: user input goes through `init(parsing:available:scenario:)`).
    public init(_ actions: [[Button]]) {
        if let problem = Self.structuralProblem(actions) { preconditionFailure("invalid action set: \(problem)") }
        self.actions = actions
    }

    /// One action per button, no no-op: the seed's actions (basic: MOVE_LEFT, MOVE_RIGHT, ATTACK),
    /// and what a scenario without a preset gets.
    public static func oneButtonEach(_ buttons: [Button]) -> ActionSet {
        ActionSet(buttons.map { [$0] })
    }

    /// Every combination of one choice per group, each group being alternatives that exclude each
    /// other plus "none": Sample Factory's tuple action spaces flattened. The first group varies
    /// fastest and the first action is the no-op, so
    /// `combinations([[TURN_LEFT, TURN_RIGHT], [ATTACK]])` is NOOP, TURN_LEFT, TURN_RIGHT, ATTACK,
    /// TURN_LEFT+ATTACK, TURN_RIGHT+ATTACK: the product of (1 + group size) over the groups.
    public static func combinations(_ groups: [[Button]]) -> ActionSet {
        var actions: [[Button]] = [[]]
        for group in groups {
            let choices: [Button?] = [nil] + group.map { Optional($0) }
            actions = choices.flatMap { choice in actions.map { action in choice.map { action + [$0] } ?? action } }
        }
        return ActionSet(actions)
    }

    public var count: Int { actions.count }

    /// The buttons the actions press, each once, in order of first use.
    public var buttons: [Button] {
        var seen: [Button] = []
        for button in actions.joined() where !seen.contains(button) { seen.append(button) }
        return seen
    }

    /// The `--actions` spelling: `NOOP; TURN_LEFT; TURN_LEFT+ATTACK`.
    public var description: String {
        actions.map { $0.isEmpty ? Self.noop : $0.map(\.name).joined(separator: "+") }.joined(separator: "; ")
    }

    /// The word for the action that presses no button.
    public static let noop = "NOOP"

    // MARK: - Button vectors

    /// Action `index` as `DoomGame.makeAction` takes it: one value per button of the game, in
    /// `gameButtons` order, 1 for the buttons the action presses and 0 for the others. (A delta
    /// button, e.g. `TURN_LEFT_RIGHT_DELTA`, takes an amount: pressed, it moves by 1 unit.)
    ///
    /// Throws if the game lacks a button the actions press.
    public func buttonVector(action index: Int, gameButtons: [Button]) throws -> [Double] {
        precondition(actions.indices.contains(index), "action \(index) is outside 0..<\(count)")
        return try buttonVectors(gameButtons: gameButtons)[index]
    }

    /// Every action's button vector (see `buttonVector(action:gameButtons:)`), computed once so that
    /// a step only reads a row.
    public func buttonVectors(gameButtons: [Button]) throws -> [[Double]] {
        try validate(available: gameButtons, scenario: "the game")
        return actions.map { action in gameButtons.map { action.contains($0) ? 1 : 0 } }
    }

    // MARK: - Parsing and validation

    /// Parses the `--actions` syntax and checks every button against `available`, the buttons the
    /// scenario makes available (its `.cfg`'s, plus those its preset adds).
    ///
    /// Throws `ActionSetError` naming the bad part and listing `scenario`'s buttons for: no action
    /// at all, an empty action, an empty button name, an unknown button, a button the scenario does
    /// not have, a button twice in one action, NOOP joined to buttons, the same action twice.
    public init(parsing text: String, available: [Button], scenario: String) throws {
        func fail(_ problem: ActionSetError.Problem) -> ActionSetError {
            ActionSetError(problem: problem, scenario: scenario, available: available)
        }
        let items = text.split(separator: ";", omittingEmptySubsequences: false).map(Self.trimmed)
        guard items.contains(where: { !$0.isEmpty }) else { throw fail(.noActions) }
        var actions: [[Button]] = []
        for (offset, item) in items.enumerated() {
            guard !item.isEmpty else { throw fail(.emptyAction(position: offset + 1)) }
            var action: [Button] = []
            let names = Self.isNoop(item) ? [] : item.split(separator: "+", omittingEmptySubsequences: false).map(Self.trimmed)
            for name in names {
                guard !name.isEmpty else { throw fail(.emptyButtonName(action: item)) }
                guard !Self.isNoop(name) else { throw fail(.noopWithButtons(action: item)) }
                guard let button = Button(name: name) else { throw fail(.unknownButton(name)) }
                guard available.contains(button) else { throw fail(.unavailableButton(button.name)) }
                guard !action.contains(button) else { throw fail(.repeatedButton(button.name, action: item)) }
                action.append(button)
            }
            if let first = actions.firstIndex(where: { Set($0) == Set(action) }) {
                throw fail(.duplicateAction(item, position: offset + 1, sameAs: first + 1))
            }
            actions.append(action)
        }
        self.init(actions)
    }

    /// Throws `ActionSetError` (`.unavailableButton`) if an action presses a button not in
    /// `available`; for an action set read from a file, or a preset checked against its game.
    public func validate(available: [Button], scenario: String) throws {
        if let missing = buttons.first(where: { !available.contains($0) }) {
            throw ActionSetError(problem: .unavailableButton(missing.name), scenario: scenario, available: available)
        }
    }

    /// What makes `actions` an invalid set, or nil.
    private static func structuralProblem(_ actions: [[Button]]) -> String? {
        if actions.isEmpty { return "no actions" }
        for (index, action) in actions.enumerated() {
            if Set(action).count != action.count { return "action \(index + 1) presses a button twice" }
            if let first = actions[..<index].firstIndex(where: { Set($0) == Set(action) }) {
                return "actions \(first + 1) and \(index + 1) are the same"
            }
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> String { text.trimmingCharacters(in: .whitespaces) }
    private static func isNoop(_ name: String) -> Bool { name.caseInsensitiveCompare(noop) == .orderedSame }

    // MARK: - Codable

    public init(from decoder: Decoder) throws {
        let actions = try decoder.singleValueContainer().decode([[Button]].self)
        if let problem = Self.structuralProblem(actions) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "invalid action set: \(problem)"))
        }
        self.actions = actions
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(actions)
    }
}

/// A bad `--actions` value (or an action set that does not fit its game): the problem, and the
/// scenario's buttons to choose from.
public struct ActionSetError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Problem: Equatable, Sendable {
        /// No action at all (an empty or blank value).
        case noActions
        /// Nothing between two `;` (or after the last one); positions are 1-based.
        case emptyAction(position: Int)
        /// A `+` with no button name on one side.
        case emptyButtonName(action: String)
        /// A name ViZDoom does not know.
        case unknownButton(String)
        /// A ViZDoom button the scenario does not make available.
        case unavailableButton(String)
        /// The same button twice in one action.
        case repeatedButton(String, action: String)
        /// `NOOP` joined to buttons with `+`.
        case noopWithButtons(action: String)
        /// The same combination (in any order) as an earlier action; 1-based positions.
        case duplicateAction(String, position: Int, sameAs: Int)
    }

    public let problem: Problem
    public let scenario: String
    /// The buttons that may be used.
    public let available: [Button]

    public init(problem: Problem, scenario: String, available: [Button]) {
        self.problem = problem
        self.scenario = scenario
        self.available = available
    }

    public var description: String {
        let what: String
        switch problem {
        case .noActions:
            what = "no actions given"
        case .emptyAction(let position):
            what = "action \(position) is empty (write \(ActionSet.noop) for the action that presses no button, and no ';' at the end)"
        case .emptyButtonName(let action):
            what = "'\(action)' has an empty button name around '+'"
        case .unknownButton(let name):
            what = "'\(name)' is not a ViZDoom button"
        case .unavailableButton(let name):
            what = "\(scenario) has no button \(name)"
        case .repeatedButton(let name, let action):
            what = "'\(action)' presses \(name) twice"
        case .noopWithButtons(let action):
            what = "'\(action)' joins \(ActionSet.noop) to buttons (\(ActionSet.noop) stands alone)"
        case .duplicateAction(let action, let position, let first):
            what = "action \(position), '\(action)', presses the same buttons as action \(first)"
        }
        let names = available.map(\.name)
        var example = [ActionSet.noop]
        if let first = names.first { example.append(first) }
        if names.count > 1 { example.append(names[0] + "+" + names[names.count - 1]) }
        let buttons = names.isEmpty ? "none" : names.joined(separator: ", ")
        return "invalid --actions: \(what). The buttons of \(scenario): \(buttons); separate actions with ';', "
            + "join buttons with '+' and write \(ActionSet.noop) for no button, e.g. --actions \"\(example.joined(separator: ";"))\""
    }
}
