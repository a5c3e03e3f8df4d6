/// Everything that can go wrong below the learning algorithm, each with the thing and the fix.
///
/// The engine's own failures arrive from the C++ client library through `_ViZDoomShim` as a status
/// and a message; they are mapped to the cases below, and the engine's message is kept verbatim.
public enum ViZDoomError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The installation made by `scripts/bootstrap` is missing a file.
    case notInstalled(missing: String)
    /// A scenario name that is not in the catalog.
    case unknownScenario(name: String, valid: [String])
    /// A `.cfg` or `.wad` file that does not exist.
    case fileNotFound(path: String)
    /// The engine or the client library refused, with the engine's message.
    case engine(message: String)
    /// The engine process ended while the game was running (crash or kill).
    case engineExited(message: String)
    /// Shared memory or message queue failure between the client and the engine.
    case communication(message: String)
    /// An action whose length does not match the game's available buttons.
    case invalidAction(expected: Int, got: Int)
    /// A value rejected before it reached the engine.
    case invalidArgument(message: String)
    /// A call on a game after `close()` (or after the engine died and the game closed itself).
    case closed

    public var description: String {
        switch self {
        case .notInstalled(let missing):
            return "ViZDoom is not installed: \(missing) is missing. Run scripts/bootstrap (or `make setup`) to install it."
        case .unknownScenario(let name, let valid):
            return "unknown scenario '\(name)'. Valid scenarios: \(valid.joined(separator: ", ")); or pass the path of a .cfg file."
        case .fileNotFound(let path):
            return "file not found: \(path). Check the path; for the built-in scenarios and the engine, run scripts/bootstrap."
        case .engine(let message):
            return "ViZDoom engine error: \(message)"
        case .engineExited(let message):
            return "the ViZDoom engine process ended unexpectedly (\(message)); start a new game to go on"
        case .communication(let message):
            return "cannot talk to the ViZDoom engine: \(message)"
        case .invalidAction(let expected, let got):
            return "an action has \(got) values but the game has \(expected) available buttons; pass one value per button"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .closed:
            return "the game is closed; create a new DoomGame to play again"
        }
    }
}
