// The global parameters of A3C (Mnih et al. 2016, Algorithm S3: "global shared parameter vectors
// theta and theta_v"), shared by all worker threads: one flat parameter buffer plus the optimizer
// state, in one `LockedValue`.
//
// Workers never touch these directly: each keeps a `ParameterReplica`, which copies the parameters in
// before a rollout and sends its gradients here after it. The global side only counts: every access
// that may write the parameters bumps a generation number, which is all a replica needs to know
// whether the copy it holds is still current.
import ThreadSafety

/// The global parameters as a worker's `ParameterReplica` sees them: it copies them in before a
/// rollout and sends its gradients after it. `SharedParameters` holds them in this process;
/// `RemoteParameters` (A3C) forwards both calls to the process that holds them (`--distributed`).
public protocol GlobalParameters: AnyObject, Sendable {
    /// Names and shapes of the tensors in the flat buffers.
    var layout: ParameterLayout { get }
    /// Copies the current global parameters into `destination` unless they are still at generation
    /// `heldGeneration` (the destination holds them); returns the generation `destination` now holds.
    func copyParameters(into destination: FloatBuffer, unlessGeneration heldGeneration: Int?) -> Int
    /// One update with `gradients` clipped to `maxGradientNorm`, the new parameters also written into
    /// `mirror` and `gradients` zeroed if `zeroingGradients`; nothing happens for a non-finite norm.
    func apply(gradients: FloatBuffer, maxGradientNorm: Float?, mirror: FloatBuffer?, zeroingGradients: Bool)
        -> SharedParameters.Update
}

/// Global parameters and optimizer state, safe to use from many threads.
public final class SharedParameters: GlobalParameters {
    /// What the lock guards.
    public struct State {
        /// The global parameters, (layout.totalCount).
        public let parameters: FloatBuffer
        /// The optimizer and its state buffers.
        public let optimizer: FlatOptimizer
        /// Number of updates applied so far (over the whole run, across resumes).
        public var updateCount: Int
        /// Bumped by every access that may write the parameters.
        public internal(set) var generation: Int
    }

    /// The outcome of `apply`.
    public struct Update: Sendable {
        /// The global L2 norm of the gradients before clipping (the seed's "Grad Norm").
        public let gradientNorm: Float
        /// The generation the global parameters have after the update, nil if it was not applied
        /// (a NaN or Inf in the gradients).
        public let generation: Int?

        public init(gradientNorm: Float, generation: Int?) {
            self.gradientNorm = gradientNorm
            self.generation = generation
        }
    }

    /// Names and shapes of the tensors in the flat buffers.
    public let layout: ParameterLayout
    private let state: LockedValue<State>

    /// Takes a copy of `initialParameters` (e.g. a freshly initialised network's `parameters`).
    public init(layout: ParameterLayout, initialParameters: FloatBuffer, optimizer: FlatOptimizer) {
        precondition(initialParameters.count == layout.totalCount && optimizer.parameterCount == layout.totalCount,
                     "SharedParameters: buffer sizes do not match the layout (\(layout.totalCount) floats)")
        _ensureSingleThreadedBLAS()
        self.layout = layout
        let parameters = FloatBuffer(count: layout.totalCount)
        parameters.copy(from: initialParameters)
        state = LockedValue(State(parameters: parameters, optimizer: optimizer, updateCount: 0, generation: 0))
    }

    /// Runs `body` with exclusive access to the state; counts as a write of the parameters. Keep it
    /// short: every worker waits on this lock.
    public func withLockedValue<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try state.withLockedValue { state in
            state.generation &+= 1
            return try body(&state)
        }
    }

    /// Runs `body` with the state under the lock, for reading only (a checkpoint's snapshot): replicas
    /// that hold the parameters keep them.
    public func withLockedReading<Result>(_ body: (State) throws -> Result) rethrows -> Result {
        try state.withLockedValue { try body($0) }
    }

    /// Sets the optimizer's step size (a learning-rate schedule). The parameters are not written:
    /// replicas that hold them keep them.
    public func setLearningRate(_ rate: Float) {
        precondition(rate >= 0 && rate.isFinite, "setLearningRate: \(rate) is not a step size")
        state.withLockedValue { $0.optimizer.learningRate = rate }
    }

    /// The optimizer's current step size.
    public var learningRate: Float { state.withLockedValue { $0.optimizer.learningRate } }

    /// One optimizer step with `gradients` (of the layout), clipped to `maxGradientNorm` (the seed
    /// clips at 40; nil for no clipping). If their norm is not finite (a NaN or Inf anywhere), nothing
    /// is applied and nothing is written.
    ///
    /// The norm is computed before taking the lock, and the optimizer applies g * min(1, max / norm) on
    /// the fly, so the lock is held for one pass over the buffers. That pass may also copy the new
    /// parameters into `mirror` (a worker's local copy) and zero `gradients` (`zeroingGradients`),
    /// sparing the worker two passes of its own; otherwise `gradients` is left unchanged.
    @discardableResult
    public func apply(gradients: FloatBuffer, maxGradientNorm: Float?, mirror: FloatBuffer? = nil,
                      zeroingGradients: Bool = false) -> Update {
        precondition(gradients.count == layout.totalCount, "apply: gradient buffer has \(gradients.count) floats, layout \(layout.totalCount)")
        precondition(mirror.map { $0.count == layout.totalCount } ?? true, "apply: mirror buffer does not match the layout")
        let norm = globalNorm(gradients)
        guard norm.isFinite else { return Update(gradientNorm: norm, generation: nil) }
        let scale = maxGradientNorm.map { clipScale(norm: norm, maxNorm: $0) } ?? 1
        let generation = withLockedValue { state -> Int in
            state.optimizer.step(parameters: state.parameters.pointer, gradients: gradients.pointer, gradientScale: scale,
                                 mirror: mirror?.pointer, zeroingGradients: zeroingGradients)
            state.updateCount += 1
            return state.generation
        }
        return Update(gradientNorm: norm, generation: generation)
    }

    /// Copies the global parameters into `destination` (one memcpy under the lock) and returns their
    /// generation. Copies nothing if they are still at generation `heldGeneration`, i.e. `destination`
    /// already holds them.
    @discardableResult
    public func copyParameters(into destination: FloatBuffer, unlessGeneration heldGeneration: Int? = nil) -> Int {
        precondition(destination.count == layout.totalCount, "copyParameters: destination has \(destination.count) floats, layout \(layout.totalCount)")
        return state.withLockedValue { state in
            if state.generation != heldGeneration { destination.copy(from: state.parameters) }
            return state.generation
        }
    }

    /// Number of global updates applied so far.
    public var updateCount: Int { state.withLockedValue { $0.updateCount } }
}
