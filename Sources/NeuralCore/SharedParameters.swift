// The global parameters of A3C (Mnih et al. 2016, Algorithm S3: "global shared parameter vectors
// theta and theta_v"), shared by all worker threads: one flat parameter buffer plus the optimizer
// state, behind one lock (swift-nio `NIOLockedValueBox` style: a closure API, explicit Sendable).
//
// A worker's cycle: copyParameters(into: network) -> act T steps (recording) -> zeroGradients ->
// backwardRecorded -> apply(gradientsOf: network, maxGradientNorm: 40).
//
// `apply(gradientsOf:)` is the fused form of the last step: the optimizer's one pass over the buffers
// also writes the new parameters into the worker's network and zeroes its gradients. The next
// copyParameters(into: network) and zeroGradients() are then free, unless another update came in
// between (the global parameters carry a generation number; the network remembers the one it holds).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Global parameters and optimizer state, safe to use from many threads.
public final class SharedParameters: @unchecked Sendable {
    /// What the lock guards.
    public struct State {
        /// The global parameters, (layout.totalCount).
        public let parameters: FloatBuffer
        /// The optimizer and its state buffers.
        public let optimizer: FlatOptimizer
        /// Number of `apply` calls so far (global updates).
        public var updateCount: Int
    }

    /// Names and shapes of the tensors in the flat buffers.
    public let layout: ParameterLayout
    private let lock = NSLock()
    private var state: State // guarded by lock
    /// Bumped by every locked access that may write the parameters (guarded by lock); a network whose
    /// `_sharedSource` is self and `_sharedGeneration` equals it holds the current global parameters.
    private var generation = 0

    /// Takes a copy of `initialParameters` (e.g. a freshly initialised network's `parameters`).
    public init(layout: ParameterLayout, initialParameters: FloatBuffer, optimizer: FlatOptimizer) {
        precondition(initialParameters.count == layout.totalCount && optimizer.parameterCount == layout.totalCount,
                     "SharedParameters: buffer sizes do not match the layout (\(layout.totalCount) floats)")
        _ensureSingleThreadedBLAS()
        self.layout = layout
        let parameters = FloatBuffer(count: layout.totalCount)
        parameters.copy(from: initialParameters)
        state = State(parameters: parameters, optimizer: optimizer, updateCount: 0)
    }

    /// Runs `body` with exclusive access to the state. Keep it short: every worker waits on this lock.
    /// (Counts as a write of the parameters: networks that held them copy them again.)
    public func withLockedValue<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        generation &+= 1
        return try body(&state)
    }

    /// The lock for accesses that only read the state; `generation` is what the parameters are now.
    private func _withLockedReading<Result>(_ body: (State, _ generation: Int) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(state, generation)
    }

    /// One optimizer step with a worker's gradients; returns their global norm before clipping.
    /// If that norm is not finite (a NaN or Inf in any gradient), nothing is applied.
    ///
    /// Clipping happens INSIDE: the norm of the (worker-local) gradients is computed before taking the
    /// lock, and the optimizer applies g * min(1, maxGradientNorm / norm) on the fly, so the lock is held
    /// for one pass over the buffers and the caller's gradients are left unchanged.
    /// - maxGradientNorm: the seed clips at 40; nil for no clipping.
    @discardableResult
    public func apply(gradients: FloatBuffer, maxGradientNorm: Float?) -> Float {
        precondition(gradients.count == layout.totalCount, "apply: gradient buffer has \(gradients.count) floats, layout \(layout.totalCount)")
        let norm = globalNorm(gradients)
        // A NaN or Inf anywhere in the gradients makes the norm non-finite: such an update never
        // reaches the global parameters (the caller sees the norm and counts the skip).
        guard norm.isFinite else { return norm }
        let scale = maxGradientNorm.map { clipScale(norm: norm, maxNorm: $0) } ?? 1
        withLockedValue { state in
            state.optimizer.step(parameters: state.parameters.pointer, gradients: gradients.pointer, gradientScale: scale)
            state.updateCount += 1
        }
        return norm
    }

    /// `apply(gradients: network.gradients, ...)` fused with what the worker does next, in the optimizer's
    /// single pass over the buffers: the new global parameters are also written into `network.parameters`
    /// and `network.gradients` is zeroed, so the next `copyParameters(into: network)` (when no other update
    /// came in meanwhile) and `network.zeroGradients()` cost nothing. Returns the norm before clipping.
    ///
    /// If the norm is not finite, nothing is applied and the network is left as it was (gradients
    /// included: the caller's next zeroGradients() clears them). Forgets the network's recorded steps
    /// when it writes its parameters.
    @discardableResult
    public func apply(gradientsOf network: ActorCriticNetwork, maxGradientNorm: Float?) -> Float {
        precondition(network.layout == layout, "apply: the network's layout differs from the shared one")
        let gradients = network.gradients
        let norm = globalNorm(gradients)
        guard norm.isFinite else { return norm }
        let scale = maxGradientNorm.map { clipScale(norm: norm, maxNorm: $0) } ?? 1
        let generation = withLockedValue { state -> Int in
            state.optimizer.step(parameters: state.parameters.pointer, gradients: gradients.pointer, gradientScale: scale,
                                 mirror: network.parameters.pointer, zeroingGradients: true)
            state.updateCount += 1
            return self.generation
        }
        network.invalidateRecordedSteps()
        network._markHolding(self, generation: generation)
        network._gradientsAreZero = true
        return norm
    }

    /// Copies the global parameters into `destination` (one memcpy under the lock).
    public func copyParameters(into destination: FloatBuffer) {
        precondition(destination.count == layout.totalCount, "copyParameters: destination has \(destination.count) floats, layout \(layout.totalCount)")
        _withLockedReading { state, _ in destination.copy(from: state.parameters) }
    }

    /// Copies the global parameters into a worker's network and forgets its recorded steps. Copies
    /// nothing when the network already holds them: the last write of its parameters was this object's
    /// `apply(gradientsOf:)` and no update came in since (write `network.parameters` by other means
    /// only through its own methods, which forget that).
    public func copyParameters(into network: ActorCriticNetwork) {
        precondition(network.layout == layout, "copyParameters: the network's layout differs from the shared one")
        let generation = _withLockedReading { state, generation -> Int in
            if !network._holds(self, generation: generation) { network.parameters.copy(from: state.parameters) }
            return generation
        }
        network.invalidateRecordedSteps()
        network._markHolding(self, generation: generation)
    }

    /// Global L2 norm of the parameters (the seed's "Var Norm").
    public func parameterNorm() -> Float { _withLockedReading { state, _ in globalNorm(state.parameters) } }

    /// Number of global updates applied so far.
    public var updateCount: Int { _withLockedReading { state, _ in state.updateCount } }
}
