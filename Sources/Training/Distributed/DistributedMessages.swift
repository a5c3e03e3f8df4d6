// The messages of a `--distributed` job (MPI, one communication thread per rank). Every exchange
// starts with a small JSON header; gradients and parameters follow it as raw Floats, in a second
// message with the same tag from the same rank (MPI keeps two messages between the same pair of
// ranks with the same tag in order).
//
//   rank 0 -> k   welcome  RankWelcome, then the global parameters            (once, at the start)
//   rank k -> 0   request  RankReport, then the clipped gradients if .update  (after each rollout; a
//                          .statistics report at least once a second; .final when its workers end;
//                          .goodbye after the final parameters arrived)
//   rank 0 -> k   reply    ServerReply, then the parameters if it has a generation
//
// A job's traffic per update is one gradient and one parameter vector: 2 x 4.8 MB for the seed's
// network (1.2 M floats), plus headers of a few hundred bytes.
import Foundation
import NeuralCore

/// MPI tags of the three kinds of exchange.
enum DistributedTag {
    static let welcome = 1
    static let request = 2
    static let reply = 3
}

/// Rank 0's first message to every other rank: the run's settings (from its command line or, on
/// resume, its `config.json`) and the size of the parameter vector that follows.
struct RankWelcome: Codable {
    var configuration: TrainingConfiguration
    var generation: Int
    var parameterCount: Int
}

/// What a rank other than 0 sends: its statistics since the previous report and, for `.update`,
/// the announcement of a clipped gradient that follows in the next message.
struct RankReport: Codable {
    enum Kind: String, Codable {
        /// A clipped gradient follows; the reply brings the parameters after it was applied.
        case update
        /// Statistics only (episodes must reach rank 0 even when no update is due).
        case statistics
        /// The rank's workers have ended (told to stop, or failed: `failure`).
        case final
        /// After the final parameters: their CRC-32, so that rank 0 can check every rank holds them.
        case goodbye
    }
    var kind: Kind
    var rank: Int
    var delta: TrainingStatistics.Delta
    var episodes: [EpisodeReport]
    /// Why the rank's workers stopped, if one failed.
    var failure: String?
    /// Updates this rank sent whose reply brought parameters (with `.final`).
    var acknowledgedUpdates: Int?
    /// CRC-32 of the final parameters as received (with `.goodbye`).
    var parameterChecksum: UInt32?
}

/// Rank 0's answer to every report.
struct ServerReply: Codable {
    /// Stop training: the job's budget is spent, it was interrupted, or it failed.
    var stop: Bool
    /// The generation of the parameters that follow, nil if none do.
    var generation: Int?
}

/// JSON with non-finite numbers allowed (a broken environment's NaN return must not break a message).
enum DistributedCoding {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: Data(bytes))
    }
}
