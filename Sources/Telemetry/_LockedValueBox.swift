import Foundation

/// A value that is only reachable while holding a lock (the shape of swift-nio's
/// `NIOLockedValueBox`). Worker threads share the telemetry writers, so each writer keeps its
/// mutable state in one of these.
///
/// `NSLock` rather than `Synchronization.Mutex` because the package still targets macOS 13.
final class _LockedValueBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLockedValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
