import Foundation
import _ViZDoomShim

/// A ViZDoom button (`MOVE_LEFT`, `ATTACK`, ...), identified by the library's numeric code.
///
/// The names come from the client library itself (`vizdoom::buttonToString`), so this type never
/// disagrees with the engine about which code is which.
public struct Button: Hashable, Sendable, CustomStringConvertible, Codable {
    public let code: Int32

    public init?(code: Int32) {
        guard code >= 0, code < Int32(vzd_button_code_count()) else { return nil }
        self.code = code
    }

    /// Looks a button up by its ViZDoom name, case-insensitively (`"move_left"` works).
    public init?(name: String) {
        guard let found = Button.all.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else { return nil }
        self = found
    }

    public var name: String { libraryName(code: code, lookup: vzd_button_name) }
    public var description: String { name }

    /// Every button the library knows, in code order.
    public static let all: [Button] = (0..<Int32(vzd_button_code_count())).compactMap { Button(code: $0) }

    public static let attack = Button(name: "ATTACK")!
    public static let moveLeft = Button(name: "MOVE_LEFT")!
    public static let moveRight = Button(name: "MOVE_RIGHT")!

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let button = Button(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown button \(name)"))
        }
        self = button
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// A ViZDoom game variable (`AMMO2`, `HEALTH`, `POSITION_X`, ...), by the library's numeric code.
public struct GameVariable: Hashable, Sendable, CustomStringConvertible, Codable {
    public let code: Int32

    public init?(code: Int32) {
        guard code >= 0, code < Int32(vzd_game_variable_code_count()) else { return nil }
        self.code = code
    }

    public init?(name: String) {
        guard let found = GameVariable.all.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else { return nil }
        self = found
    }

    public var name: String { libraryName(code: code, lookup: vzd_game_variable_name) }
    public var description: String { name }

    /// Every game variable the library can name, in code order (a few codes have no name in
    /// ViZDoom 1.3.2's `gameVariableToString` and are left out).
    public static let all: [GameVariable] = (0..<Int32(vzd_game_variable_code_count()))
        .compactMap { GameVariable(code: $0) }
        .filter { !$0.name.hasPrefix("UNKNOWN") }

    public static let ammo2 = GameVariable(name: "AMMO2")!
    public static let positionX = GameVariable(name: "POSITION_X")!
    public static let positionY = GameVariable(name: "POSITION_Y")!
    public static let health = GameVariable(name: "HEALTH")!

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let variable = GameVariable(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown game variable \(name)"))
        }
        self = variable
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

private func libraryName(code: Int32, lookup: (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    guard lookup(code, &buffer, buffer.count) != 0 else { return "UNKNOWN_\(code)" }
    return String(cString: buffer)
}
