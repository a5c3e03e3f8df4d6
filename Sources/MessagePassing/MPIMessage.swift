import _MPIShim

/// The envelope of a message: who sent it, with which tag, and how many bytes it holds.
///
/// For a completed send (`MPIRequest.wait()` of a `startSend`), `source` is the destination and
/// `byteCount` the bytes sent: MPI reports no envelope for sends.
public struct MPIMessage: Equatable, Hashable, Sendable {
    /// The sending rank (the destination, for a completed send).
    public let source: Int
    public let tag: Int
    public let byteCount: Int

    public init(source: Int, tag: Int, byteCount: Int) {
        self.source = source
        self.tag = tag
        self.byteCount = byteCount
    }

    init(_ info: MPSMessageInfo) {
        self.init(source: Int(info.source), tag: Int(info.tag), byteCount: Int(info.byte_count))
    }
}
