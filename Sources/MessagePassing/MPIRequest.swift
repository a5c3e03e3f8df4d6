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
