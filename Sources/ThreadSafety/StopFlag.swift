/// A flag that one thread sets once and others read on every step: "stop now" for training workers,
/// benchmark threads and the trainer's loop.
public final class StopFlag: Sendable {
    private let state = LockedValue(false)

    public init() {}

    /// Whether `set()` was called.
    public var isSet: Bool { state.withLockedValue { $0 } }

    /// Sets the flag (idempotent).
    public func set() { state.withLockedValue { $0 = true } }
}
