import Foundation
import _MPIShim

/// A send or receive in flight (`MPIWorld.startSend` / `startReceive`), to overlap transfers with
/// each other or with work on the communication thread.
///
/// Its buffer belongs to MPI until the request completes. Use it on the world's thread only. A
/// request dropped while still in flight is finished in `deinit`: a receive is cancelled, a send is
/// waited for (MPI cannot take a send back), so dropping a pending send can block.
public final class MPIRequest {
    private let handle: OpaquePointer
    private let world: MPIWorld

    init(_ handle: OpaquePointer, world: MPIWorld) {
        self.handle = handle
        self.world = world
    }

    deinit {
        if !isComplete { world._checkThread() }
        mps_request_free(handle)
    }

    /// True once `test()` or `wait()` has seen the transfer complete.
    public var isComplete: Bool { mps_request_is_complete(handle) != 0 }

    /// The message's envelope if the transfer has completed (MPI_Test), else nil; never blocks.
    /// Once it returns a message, the buffer is the caller's again.
    public func test() throws -> MPIMessage? {
        world._checkThread()
        var done: Int32 = 0
        var info = MPSMessageInfo()
        try world.check(mps_test(handle, &done, &info, world.error))
        return done != 0 ? MPIMessage(info) : nil
    }

    /// `wait()` without spinning: tests for completion (MPI_Test) and sleeps between tests, first
    /// for `firstPollInterval` and then twice as long each time, up to `pollInterval` seconds.
    ///
    /// Open MPI's MPI_Wait busy-polls: on a host whose cores are all busy (workers and engines), a
    /// rank waiting in it for its peer takes a core the peer needs (17-21% of a core per rank's
    /// communication thread, measured with 2 ranks on 2 cores). A transfer moves only while its
    /// ranks call MPI (a large one over shared memory without single-copy goes in 32 KB fragments,
    /// each side moving what the other has made ready), so the first tests come quickly and the
    /// sleeps lengthen only while nothing completes: a peer that is not there yet costs at most
    /// `pollInterval` of latency, a transfer under way a few short sleeps.
    @discardableResult
    public func wait(pollInterval: Double) throws -> MPIMessage {
        precondition(pollInterval >= 0 && pollInterval.isFinite, "pollInterval must be a number of seconds >= 0, got \(pollInterval)")
        var interval = min(MPIRequest.firstPollInterval, pollInterval)
        while true {
            if let message = try test() { return message }
            usleep(useconds_t(min(interval * 1e6, 1e9)))
            interval = min(2 * interval, pollInterval)
        }
    }

    /// The first sleep of `wait(pollInterval:)`: 50 µs, about what a 32 KB fragment takes to copy
    /// and a thread to be woken, so a transfer under way is not held up by the sleeps.
    public static let firstPollInterval = 0.000_05

    /// Blocks until the transfer has completed (MPI_Wait) and returns the message's envelope; the
    /// buffer is the caller's again. A received message larger than the buffer throws `truncated`.
    @discardableResult
    public func wait() throws -> MPIMessage {
        world._checkThread()
        var info = MPSMessageInfo()
        try world.check(mps_wait(handle, &info, world.error))
        return MPIMessage(info)
    }
}

/// An MPIRequest belongs to the thread of its world.
@available(*, unavailable)
extension MPIRequest: Sendable {}
