import Foundation
import Testing
import ViZDoom
@testable import Training

private func button(_ name: String) -> Button { Button(name: name)! }
private let turnLeft = button("TURN_LEFT"), turnRight = button("TURN_RIGHT"), attack = button("ATTACK")
private let moveLeft = button("MOVE_LEFT"), moveRight = button("MOVE_RIGHT")
/// defend_the_center's buttons, in its .cfg's order.
private let center = [turnLeft, turnRight, attack]

@Suite("Action sets")
struct ActionSetTests {
    @Test("--actions: ';' separates actions, '+' joins buttons, NOOP is the no-op")
    func parses() throws {
        let set = try ActionSet(parsing: "NOOP;TURN_LEFT;TURN_RIGHT;TURN_LEFT+ATTACK", available: center,
                                scenario: "defend_the_center")
        #expect(set.actions == [[], [turnLeft], [turnRight], [turnLeft, attack]])
        #expect(set.count == 4)
        #expect(set.buttons == [turnLeft, turnRight, attack])
    }

    @Test("names in any case, spaces around them ignored")
    func lenientSpelling() throws {
        let set = try ActionSet(parsing: " noop ; turn_left + Attack ;ATTACK", available: center, scenario: "s")
        #expect(set.actions == [[], [turnLeft, attack], [attack]])
    }

    @Test("description writes the --actions syntax back", arguments: ScenarioPreset.all.map(\.name))
    func descriptionRoundTrip(name: String) throws {
        let preset = try #require(ScenarioPreset.named(name))
        let available = preset.actions.buttons
        #expect(try ActionSet(parsing: preset.actions.description, available: available, scenario: name) == preset.actions)
    }

    @Test("bad --actions values: each names the bad part and lists the scenario's buttons", arguments: [
        ("", ActionSetError.Problem.noActions),
        ("   ", .noActions),
        (";", .noActions),
        ("TURN_LEFT;;ATTACK", .emptyAction(position: 2)),
        ("TURN_LEFT;ATTACK;", .emptyAction(position: 3)),
        ("TURN_LEFT+", .emptyButtonName(action: "TURN_LEFT+")),
        ("ATTACK;+ATTACK", .emptyButtonName(action: "+ATTACK")),
        ("TURN_LEFT;JUMPP", .unknownButton("JUMPP")),
        ("NO_OP", .unknownButton("NO_OP")),
        ("TURN_LEFT;MOVE_FORWARD+ATTACK", .unavailableButton("MOVE_FORWARD")),
        ("ATTACK+attack", .repeatedButton("ATTACK", action: "ATTACK+attack")),
        ("NOOP+ATTACK", .noopWithButtons(action: "NOOP+ATTACK")),
        ("TURN_LEFT+ATTACK;TURN_RIGHT;ATTACK+TURN_LEFT", .duplicateAction("ATTACK+TURN_LEFT", position: 3, sameAs: 1)),
        ("NOOP;ATTACK;noop", .duplicateAction("noop", position: 3, sameAs: 1)),
    ] as [(String, ActionSetError.Problem)])
    func rejects(text: String, problem: ActionSetError.Problem) throws {
        let expected = ActionSetError(problem: problem, scenario: "defend_the_center", available: center)
        #expect(throws: expected) { try ActionSet(parsing: text, available: center, scenario: "defend_the_center") }
        let message = expected.description
        #expect(message.contains("The buttons of defend_the_center: TURN_LEFT, TURN_RIGHT, ATTACK;"), "\(message)")
        #expect(message.contains("--actions \"NOOP;TURN_LEFT;TURN_LEFT+ATTACK\""), "\(message)")
        switch problem {
        case .unknownButton(let name), .unavailableButton(let name), .repeatedButton(let name, _):
            #expect(message.contains(name), "\(message)")
        case .emptyButtonName(let action), .noopWithButtons(let action), .duplicateAction(let action, _, _):
            #expect(message.contains("'\(action)'"), "\(message)")
        case .emptyAction(let position):
            #expect(message.contains("action \(position) is empty"), "\(message)")
        case .noActions:
            #expect(message.contains("no actions"), "\(message)")
        }
        print(message)
    }

    @Test("combinations: the first group varies fastest and the first action is the no-op")
    func combinations() {
        let set = ActionSet.combinations([[turnLeft, turnRight], [attack]])
        #expect(set.description == "NOOP; TURN_LEFT; TURN_RIGHT; ATTACK; TURN_LEFT+ATTACK; TURN_RIGHT+ATTACK")
        let forward = button("MOVE_FORWARD"), backward = button("MOVE_BACKWARD")
        let corridor = ActionSet.combinations([[turnLeft, turnRight], [forward, backward], [moveLeft, moveRight], [attack]])
        #expect(corridor.count == 3 * 3 * 3 * 2)
        #expect(Set(corridor.actions.map(Set.init)).count == 54)
        #expect(corridor.actions.first == [] && corridor.actions.last == [turnRight, backward, moveRight, attack])
        #expect(ActionSet.combinations([]).actions == [[]])
    }

    @Test("button vectors: one value per button of the game, 1 where pressed, in the game's order")
    func buttonVectors() throws {
        let set = ActionSet.combinations([[turnLeft, turnRight], [attack]])
        #expect(try set.buttonVectors(gameButtons: center) == [
            [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1],
        ])
        // Another order, and a button no action presses: they stay released.
        let game = [attack, moveLeft, turnLeft, turnRight]
        #expect(try set.buttonVector(action: 4, gameButtons: game) == [1, 0, 1, 0])
        #expect(try set.buttonVector(action: 0, gameButtons: game) == [0, 0, 0, 0])
        #expect(try ActionSet.oneButtonEach(game).buttonVectors(gameButtons: game) ==
                [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    }

    @Test("a game without a button the actions press is an error, not a silent no-op")
    func missingGameButton() {
        let set = ActionSet.combinations([[turnLeft, turnRight], [attack]])
        #expect(throws: ActionSetError(problem: .unavailableButton("ATTACK"), scenario: "the game",
                                       available: [turnLeft, turnRight])) {
            try set.buttonVectors(gameButtons: [turnLeft, turnRight])
        }
        #expect(throws: ActionSetError.self) { try set.validate(available: [turnLeft], scenario: "x") }
        #expect(throws: Never.self) { try set.validate(available: [attack, turnRight, turnLeft], scenario: "x") }
    }

    @Test("config.json: arrays of button names, the no-op as []; decoding round-trips")
    func codable() throws {
        let set = ActionSet.combinations([[turnLeft, turnRight], [attack]])
        let json = String(decoding: try JSONEncoder().encode(set), as: UTF8.self)
        #expect(json == #"[[],["TURN_LEFT"],["TURN_RIGHT"],["ATTACK"],["TURN_LEFT","ATTACK"],["TURN_RIGHT","ATTACK"]]"#)
        #expect(try JSONDecoder().decode(ActionSet.self, from: Data(json.utf8)) == set)
        let lowercase = #"[["move_left"],["move_right"],["attack"]]"#
        #expect(try JSONDecoder().decode(ActionSet.self, from: Data(lowercase.utf8)) == ScenarioPreset.basic.actions)
    }

    @Test("config.json: an invalid action set does not decode", arguments: [
        "[]", #"[["ATTACK"],["ATTACK"]]"#, #"[["TURN_LEFT","ATTACK"],["ATTACK","TURN_LEFT"]]"#,
        #"[["ATTACK","ATTACK"]]"#, #"[["NOT_A_BUTTON"]]"#, #"[[],[]]"#, #"["ATTACK"]"#, "{}",
    ])
    func invalidJSON(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ActionSet.self, from: Data(json.utf8)) }
    }
}
