// ThreadSafety: the one locked-value type and the one stop flag of swift-a3c, shared by every module
// (swift-nio's `NIOLockedValueBox` shape: the value is reachable only inside the lock's closure).
import Foundation

/// A value that is only reachable while holding a lock.
///
/// Worker threads share counters, writers and the global parameters; each keeps its mutable state
/// in one of these instead of pairing a bare lock with loose variables. Keep the closures short:
/// every other thread that needs the value waits for them.
///
/// `NSLock` rather than `Synchronization.Mutex` because the package still targets macOS 13.
public final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    public func withLockedValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension LockedValue {
    /// A copy of the value, read under the lock.
    public var current: Value { withLockedValue { $0 } }
}
