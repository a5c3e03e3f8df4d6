// The seed's conv-LSTM actor-critic (awjuliani's A3C-Doom, after Mnih et al. 2016, Section 5.1/8):
//
//   frame (1, 84, 84) in [0, 1]
//   conv1  16 filters 8x8 stride 4, bias, ELU   -> (16, 20, 20)
//   conv2  32 filters 4x4 stride 2, bias, ELU   -> (32, 9, 9), flattened C,H,W -> 2592
//   fc     2592 -> 256, bias, ELU
//   lstm   LSTMCell(256, 256), gate order i, f, g, o
//   policy 256 -> A, no bias, softmax           value 256 -> 1, no bias
//
// Legend: T = rollout steps, A = actions, S = slots = maxRolloutLength + 1 (the last slot is the
// scratch slot of an acting step that is not recorded), H = 256 hidden units, G = 4H gates.
// Conv activations are "channel-major batch" (C, S, H, W) (see Conv2D.swift): for one slot it is
// NCHW, and for T slots each conv layer is one sgemm. Dense/LSTM activations are (S, features).
//
// Acting records every activation of step t into slot t; the rollout update then runs only the
// backward pass on them. That is exact for A3C, which acts and learns with the same local
// parameters within a rollout. `forwardBackwardRollout` recomputes the forward over T frames at once
// into the same slots and runs the same backward code.

/// The recurrent state (h, c) of the actor-critic's LSTM, 256 floats each.
public struct LSTMState: Hashable, Sendable {
    /// h, (hiddenSize).
    public var hidden: [Float]
    /// c, (hiddenSize).
    public var cell: [Float]

    /// The zero state, the state at the start of an episode.
    public init(hiddenSize: Int = ActorCriticNetwork.hiddenSize) {
        hidden = [Float](repeating: 0, count: hiddenSize)
        cell = [Float](repeating: 0, count: hiddenSize)
    }

    /// Resets to the zero state without reallocating.
    public mutating func reset() {
        for i in hidden.indices { hidden[i] = 0 }
        for i in cell.indices { cell[i] = 0 }
    }
}

/// What one acting step produces.
public struct ActingStep {
    /// V(s_t), the critic's estimate of the return.
    public var value: Float
    /// pi(. | s_t), A probabilities. Points into the network: valid until the next acting step that
    /// writes the same slot (the scratch slot for an unrecorded step), or the next rollout forward.
    public var probabilities: UnsafeBufferPointer<Float>

    /// Samples an action from `probabilities` by inverting the CDF with `uniform` in [0, 1).
    /// Returns the last action with non-zero probability if rounding leaves `uniform` above the total.
    public func sampleAction(uniform: Float) -> Int {
        var cumulative: Float = 0
        var last = 0
        for (action, p) in probabilities.enumerated() {
            cumulative += p
            if p > 0 { last = action }
            if uniform < cumulative { return action }
        }
        return last
    }
}

/// The seed's actor-critic network on one thread: parameters, gradients and activations in flat
/// buffers. Not thread-safe: each worker owns one (see `SharedParameters` for the global copy).
public final class ActorCriticNetwork {
    // MARK: Architecture (the seed's)
    public static let frameHeight = 84, frameWidth = 84
    /// Floats per frame, 84 * 84.
    public static let frameSize = frameHeight * frameWidth
    public static let conv1 = Conv2DShape(inChannels: 1, inHeight: 84, inWidth: 84, outChannels: 16,
                                          kernelHeight: 8, kernelWidth: 8, stride: 4)
    public static let conv2 = Conv2DShape(inChannels: 16, inHeight: 20, inWidth: 20, outChannels: 32,
                                          kernelHeight: 4, kernelWidth: 4, stride: 2)
    /// conv2's output flattened in C, H, W order (PyTorch's `flatten`): 32 * 9 * 9 = 2592.
    public static let flattenedSize = 2592
    /// Width of the fc layer and of the LSTM (both 256 in the seed).
    public static let hiddenSize = 256
    static let lstmShape = LSTMShape(inputSize: hiddenSize, hiddenSize: hiddenSize)

    /// The parameter tensors in storage order, with PyTorch names and shapes.
    public static func parameterLayout(actionCount: Int) -> ParameterLayout {
        precondition(actionCount >= 1, "actionCount must be at least 1, got \(actionCount)")
        let h = hiddenSize
        return ParameterLayout(tensors: [
            ("conv1.weight", [16, 1, 8, 8]), ("conv1.bias", [16]),
            ("conv2.weight", [32, 16, 4, 4]), ("conv2.bias", [32]),
            ("fc.weight", [h, flattenedSize]), ("fc.bias", [h]),
            ("lstm.weight_ih", [4 * h, h]), ("lstm.weight_hh", [4 * h, h]),
            ("lstm.bias_ih", [4 * h]), ("lstm.bias_hh", [4 * h]),
            ("policy.weight", [actionCount, h]), ("value.weight", [1, h]),
        ])
    }

    /// A, the number of actions.
    public let actionCount: Int
    /// The most steps a rollout may have (slots 0..<maxRolloutLength can be recorded).
    public let maxRolloutLength: Int
    /// Names, shapes and offsets of the parameter tensors in `parameters` and `gradients`.
    public let layout: ParameterLayout
    /// All parameters, (layout.totalCount). Written by the network's own methods and by
    /// `SharedParameters` (which may skip a copy into a network it wrote last: see `copyParameters(into:)`).
    public let parameters: FloatBuffer
    /// All gradients, same layout; backward passes ACCUMULATE here, `zeroGradients()` clears
    /// (skipping the work when they are known zeros, after `SharedParameters.apply(gradientsOf:)`).
    public let gradients: FloatBuffer

    // Offsets of the tensors in the flat buffers.
    private let oConv1W: Int, oConv1B: Int, oConv2W: Int, oConv2B: Int, oFcW: Int, oFcB: Int
    private let oWih: Int, oWhh: Int, oBih: Int, oBhh: Int, oPolicy: Int, oValue: Int

    // MARK: Activations, one row/column block per slot
    private let slots: Int                 // S = maxRolloutLength + 1
    private var scratchSlot: Int { slots - 1 }
    private let conv1Columns: FloatBuffer  // [K1 = 64, S * P1 = S * 400]
    private let conv1Out: FloatBuffer      // (16, S, 20, 20), after ELU
    private let conv2Columns: FloatBuffer  // [K2 = 256, S * P2 = S * 81]
    private let conv2Out: FloatBuffer      // (32, S, 9, 9), after ELU
    private let fcInput: FloatBuffer       // (S, 2592), conv2Out flattened per slot in C, H, W order
    private let fcOut: FloatBuffer         // (S, 256), after ELU = the LSTM input
    private let lstmGates: FloatBuffer     // (S, 1024), activated gates i, f, g, o
    private let lstmHPrev: FloatBuffer     // (S, 256), h before the step
    private let lstmCPrev: FloatBuffer     // (S, 256), c before the step
    private let lstmH: FloatBuffer         // (S, 256)
    private let lstmC: FloatBuffer         // (S, 256)
    private let lstmTanhC: FloatBuffer     // (S, 256)
    private let logits: FloatBuffer        // (S, A)
    private let probs: FloatBuffer         // (S, A)
    private let logProbs: FloatBuffer      // (S, A)
    private let values: FloatBuffer        // (S)
    private var slotIsRecorded: [Bool]     // (maxRolloutLength)

    // MARK: Gradients of activations (rows 0..<T used)
    private let dLogits: FloatBuffer       // (S, A)
    private let dValues: FloatBuffer       // (S)
    private let dLstmH: FloatBuffer        // (S, 256)
    private let dLstmGates: FloatBuffer    // (S, 1024)
    private let dLstmCarry: FloatBuffer    // (2 * 256)
    private let dFcOut: FloatBuffer        // (S, 256), after ELU
    private let dFcPre: FloatBuffer        // (S, 256), before ELU
    private let dFcInput: FloatBuffer      // (S, 2592)
    private let dConv2Out: FloatBuffer     // (32, S, 81), after ELU
    private let dConv2Pre: FloatBuffer     // (32, S, 81), before ELU
    private let dConv2Columns: FloatBuffer // [256, S * 81]
    private let dConv1Out: FloatBuffer     // (16, S, 400), after ELU
    private let dConv1Pre: FloatBuffer     // (16, S, 400), before ELU
    private let actionBuffer: UnsafeMutablePointer<Int32> // (maxRolloutLength)

    // MARK: Bookkeeping of the fused update (SharedParameters.apply(gradientsOf:))
    /// The global parameters `parameters` was last written from, and their generation then: lets
    /// `SharedParameters.copyParameters(into:)` skip a copy of what is already here.
    private weak var _sharedSource: SharedParameters?
    private var _sharedGeneration = 0
    /// True when `gradients` is known to be all zeros (the fused update cleared it): zeroGradients() is free.
    var _gradientsAreZero = false

    /// A network with the seed's initialisation drawn from `seed` (see `initializeParameters(seed:)`).
    /// - maxRolloutLength: rollout slots; default 30, the seed's rollout length (`train` every 30 steps).
    public init(actionCount: Int, maxRolloutLength: Int = 30, seed: UInt64) {
        precondition(maxRolloutLength >= 1, "maxRolloutLength must be at least 1, got \(maxRolloutLength)")
        _ensureSingleThreadedBLAS()
        self.actionCount = actionCount
        self.maxRolloutLength = maxRolloutLength
        layout = Self.parameterLayout(actionCount: actionCount)
        parameters = FloatBuffer(count: layout.totalCount)
        gradients = FloatBuffer(count: layout.totalCount)
        oConv1W = layout["conv1.weight"].offset; oConv1B = layout["conv1.bias"].offset
        oConv2W = layout["conv2.weight"].offset; oConv2B = layout["conv2.bias"].offset
        oFcW = layout["fc.weight"].offset; oFcB = layout["fc.bias"].offset
        oWih = layout["lstm.weight_ih"].offset; oWhh = layout["lstm.weight_hh"].offset
        oBih = layout["lstm.bias_ih"].offset; oBhh = layout["lstm.bias_hh"].offset
        oPolicy = layout["policy.weight"].offset; oValue = layout["value.weight"].offset

        let s = maxRolloutLength + 1, h = Self.hiddenSize
        let c1 = Self.conv1, c2 = Self.conv2
        slots = s
        conv1Columns = FloatBuffer(count: c1.patchSize * s * c1.outPixels)
        conv1Out = FloatBuffer(count: c1.outChannels * s * c1.outPixels)
        conv2Columns = FloatBuffer(count: c2.patchSize * s * c2.outPixels)
        conv2Out = FloatBuffer(count: c2.outChannels * s * c2.outPixels)
        fcInput = FloatBuffer(count: s * Self.flattenedSize)
        fcOut = FloatBuffer(count: s * h)
        lstmGates = FloatBuffer(count: s * 4 * h)
        lstmHPrev = FloatBuffer(count: s * h); lstmCPrev = FloatBuffer(count: s * h)
        lstmH = FloatBuffer(count: s * h); lstmC = FloatBuffer(count: s * h); lstmTanhC = FloatBuffer(count: s * h)
        logits = FloatBuffer(count: s * actionCount); probs = FloatBuffer(count: s * actionCount)
        logProbs = FloatBuffer(count: s * actionCount); values = FloatBuffer(count: s)
        slotIsRecorded = [Bool](repeating: false, count: maxRolloutLength)
        dLogits = FloatBuffer(count: s * actionCount); dValues = FloatBuffer(count: s)
        dLstmH = FloatBuffer(count: s * h); dLstmGates = FloatBuffer(count: s * 4 * h)
        dLstmCarry = FloatBuffer(count: 2 * h)
        dFcOut = FloatBuffer(count: s * h); dFcPre = FloatBuffer(count: s * h)
        dFcInput = FloatBuffer(count: s * Self.flattenedSize)
        dConv2Out = FloatBuffer(count: conv2Out.count); dConv2Pre = FloatBuffer(count: conv2Out.count)
        dConv2Columns = FloatBuffer(count: conv2Columns.count)
        dConv1Out = FloatBuffer(count: conv1Out.count); dConv1Pre = FloatBuffer(count: conv1Out.count)
        actionBuffer = .allocate(capacity: maxRolloutLength)
        actionBuffer.initialize(repeating: 0, count: maxRolloutLength)
        initializeParameters(seed: seed)
    }

    deinit { actionBuffer.deallocate() }

    /// Pointer to the parameter tensor `name` (for tests and tools; the layout is fixed).
    /// (The caller may write through it, so the network no longer counts as holding the global parameters.)
    public func parameterPointer(_ name: String) -> UnsafeMutablePointer<Float> {
        _sharedSource = nil
        return parameters.pointer + layout[name].offset
    }
    /// Pointer to the gradient of the parameter tensor `name` (the gradients no longer count as known zeros).
    public func gradientPointer(_ name: String) -> UnsafeMutablePointer<Float> {
        _gradientsAreZero = false
        return gradients.pointer + layout[name].offset
    }

    // MARK: - Initialisation

    /// The seed's initialisation, drawn in tensor order from xoshiro256**(seed), so a seed gives a
    /// bit-identical network:
    /// - conv1, conv2, fc weights: Glorot uniform with TF's fans (conv: fanIn = inC*kh*kw, fanOut = outC*kh*kw).
    /// - LSTM weight_ih and weight_hh: Glorot uniform with the fans of TF's BasicLSTMCell, which the seed
    ///   uses and which holds both in ONE kernel [I + H, 4H]: fanIn = 512, fanOut = 1024.
    /// - all biases zero except the LSTM forget gate's: the seed's BasicLSTMCell adds a constant
    ///   forget_bias = 1 inside the cell; PyTorch's LSTMCell has no such constant, so the equivalent
    ///   here is lstm.bias_ih's f rows (H..<2H) starting at 1. The dynamics are then identical to the
    ///   seed's (a trainable bias b starting at 0 plus a constant 1 is a trainable bias starting at 1).
    /// - policy and value heads: the seed's normalized-columns init with std 0.01 and 1.0: each output
    ///   unit's weight vector has L2 norm std, so initial logits are near 0 (a near-uniform policy).
    public func initializeParameters(seed: UInt64) {
        _sharedSource = nil
        var rng = Xoshiro256StarStar(seed: seed)
        parameters.zero()
        let p = parameters.pointer, h = Self.hiddenSize
        let c1 = Self.conv1, c2 = Self.conv2
        let kernel1 = c1.kernelHeight * c1.kernelWidth, kernel2 = c2.kernelHeight * c2.kernelWidth
        Initializers.glorotUniform(p + oConv1W, count: c1.weightCount, fanIn: c1.patchSize,
                                   fanOut: c1.outChannels * kernel1, rng: &rng)
        Initializers.glorotUniform(p + oConv2W, count: c2.weightCount, fanIn: c2.patchSize,
                                   fanOut: c2.outChannels * kernel2, rng: &rng)
        Initializers.glorotUniform(p + oFcW, count: h * Self.flattenedSize, fanIn: Self.flattenedSize, fanOut: h, rng: &rng)
        Initializers.glorotUniform(p + oWih, count: 4 * h * h, fanIn: 2 * h, fanOut: 4 * h, rng: &rng)
        Initializers.glorotUniform(p + oWhh, count: 4 * h * h, fanIn: 2 * h, fanOut: 4 * h, rng: &rng)
        (p + oBih + h).update(repeating: 1, count: h)
        Initializers.normalizedColumns(p + oPolicy, outputs: actionCount, inputs: h, std: 0.01, rng: &rng)
        Initializers.normalizedColumns(p + oValue, outputs: 1, inputs: h, std: 1.0, rng: &rng)
        invalidateRecordedSteps()
    }

    /// Sets every gradient to zero (call before each rollout's backward pass). Free after
    /// `SharedParameters.apply(gradientsOf:)`, which already zeroed them.
    public func zeroGradients() {
        if !_gradientsAreZero { gradients.zero() }
        _gradientsAreZero = true
    }

    /// Whether `parameters` holds generation `generation` of `source`'s global parameters.
    func _holds(_ source: SharedParameters, generation: Int) -> Bool {
        _sharedSource === source && _sharedGeneration == generation
    }

    /// Records that `parameters` was written by other means (a checkpoint load, say): the next
    /// `SharedParameters.copyParameters(into:)` copies for real.
    func _forgetSharedSource() { _sharedSource = nil }

    /// Records that `parameters` now holds generation `generation` of `source`'s global parameters.
    func _markHolding(_ source: SharedParameters, generation: Int) {
        _sharedSource = source
        _sharedGeneration = generation
    }

    /// Forgets the steps recorded by `act(frame:state:recordSlot:)`. Call this when the parameters
    /// change in the middle of a rollout (copying in new parameters does not know about recordings).
    public func invalidateRecordedSteps() {
        for i in slotIsRecorded.indices { slotIsRecorded[i] = false }
    }

    // MARK: - Acting

    /// One acting step: pi(. | s_t), V(s_t) and the next LSTM state from one frame.
    ///
    /// - frame: (84, 84) floats in [0, 1], row-major.
    /// - state: (h, c) before the step; replaced by the state after it.
    /// - recordSlot: if given (t in 0..<maxRolloutLength), every activation of this step is kept in slot t
    ///   for `backwardRecorded`. Record steps 0..<T of a rollout in order, with unchanged parameters.
    /// Cost: three small sgemm/im2col for the convs, sgemv for fc, LSTM and heads (memory-bound on ~4.7 MB of weights).
    @discardableResult
    public func act(frame: UnsafePointer<Float>, state: inout LSTMState, recordSlot: Int? = nil) -> ActingStep {
        let h = Self.hiddenSize
        precondition(state.hidden.count == h && state.cell.count == h, "LSTMState must have \(h) hidden and cell values")
        let slot: Int
        if let recordSlot {
            precondition(recordSlot >= 0 && recordSlot < maxRolloutLength,
                         "recordSlot \(recordSlot) not in 0..<\(maxRolloutLength) (maxRolloutLength)")
            slot = recordSlot
            slotIsRecorded[recordSlot] = true
        } else {
            slot = scratchSlot
        }
        let hp = lstmHPrev.pointer + slot * h, cp = lstmCPrev.pointer + slot * h
        state.hidden.withUnsafeBufferPointer { hp.update(from: $0.baseAddress!, count: h) }
        state.cell.withUnsafeBufferPointer { cp.update(from: $0.baseAddress!, count: h) }
        _forward(frames: frame, firstSlot: slot, count: 1)
        state.hidden.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: lstmH.pointer + slot * h, count: h) }
        state.cell.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: lstmC.pointer + slot * h, count: h) }
        return ActingStep(value: values.pointer[slot],
                          probabilities: UnsafeBufferPointer(start: probs.pointer + slot * actionCount, count: actionCount))
    }

    // MARK: - Rollout update

    /// The A3C loss of a rollout recorded by `act(..., recordSlot: t)` for t = 0..<T, and its gradient
    /// ACCUMULATED into `gradients` (call `zeroGradients()` first). Backward pass only: reuses the
    /// recorded activations. Consumes the recording (slots must be recorded again for the next rollout).
    ///
    /// - actions: a_t, (T), each in 0..<A.  returns: R_t, (T).  advantages: A_t, (T), treated as constants.
    /// The LSTM gradient is truncated at the rollout's start (BPTT over these T steps only), as in the seed.
    /// Reference: Mnih et al. 2016, Algorithm S3; loss as in `A3CLoss.swift`.
    @discardableResult
    public func backwardRecorded(actions: [Int], returns: [Float], advantages: [Float],
                                 coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
        let steps = _checkRollout(actions: actions, returns: returns, advantages: advantages)
        for t in 0..<steps {
            precondition(slotIsRecorded[t], "backwardRecorded: slot \(t) was not recorded by act(frame:state:recordSlot:)")
        }
        invalidateRecordedSteps()
        return returns.withUnsafeBufferPointer { r in
            advantages.withUnsafeBufferPointer { a in
                _lossAndBackward(steps: steps, returns: r.baseAddress!, advantages: a.baseAddress!, coefficients: coefficients)
            }
        }
    }

    /// The same loss and gradient as `backwardRecorded`, but recomputing the forward pass from the frames,
    /// batched over the T steps (each conv and the fc layer one sgemm; the LSTM stepped).
    ///
    /// - frames: (T, 84, 84), the frames s_0..s_{T-1}.  initialState: (h, c) before s_0.
    /// Overwrites slots 0..<T (any recording there is lost).
    @discardableResult
    public func forwardBackwardRollout(frames: UnsafePointer<Float>, initialState: LSTMState, actions: [Int],
                                       returns: [Float], advantages: [Float],
                                       coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
        let steps = _checkRollout(actions: actions, returns: returns, advantages: advantages)
        _forwardRollout(frames: frames, initialState: initialState, steps: steps)
        invalidateRecordedSteps()
        return returns.withUnsafeBufferPointer { r in
            advantages.withUnsafeBufferPointer { a in
                _lossAndBackward(steps: steps, returns: r.baseAddress!, advantages: a.baseAddress!, coefficients: coefficients)
            }
        }
    }

    /// The A3C loss of a rollout without any gradient (forward only; used by gradient checks).
    public func rolloutLoss(frames: UnsafePointer<Float>, initialState: LSTMState, actions: [Int],
                            returns: [Float], advantages: [Float],
                            coefficients: A3CLossCoefficients = A3CLossCoefficients()) -> A3CLossTerms {
        let steps = _checkRollout(actions: actions, returns: returns, advantages: advantages)
        _forwardRollout(frames: frames, initialState: initialState, steps: steps)
        invalidateRecordedSteps()
        return returns.withUnsafeBufferPointer { r in
            advantages.withUnsafeBufferPointer { a in
                a3cLossForward(logProbs: logProbs.pointer, probs: probs.pointer, values: values.pointer,
                               actions: actionBuffer, returns: r.baseAddress!, advantages: a.baseAddress!,
                               steps: steps, actionCount: actionCount, coefficients: coefficients)
            }
        }
    }

    // MARK: - Internals

    private func _checkRollout(actions: [Int], returns: [Float], advantages: [Float]) -> Int {
        let steps = actions.count
        precondition(steps >= 1 && steps <= maxRolloutLength, "rollout length \(steps) not in 1...\(maxRolloutLength)")
        precondition(returns.count == steps && advantages.count == steps,
                     "rollout arrays differ in length: actions \(steps), returns \(returns.count), advantages \(advantages.count)")
        for (t, action) in actions.enumerated() {
            precondition(action >= 0 && action < actionCount, "action \(action) at step \(t) not in 0..<\(actionCount)")
            actionBuffer[t] = Int32(action)
        }
        return steps
    }

    /// Batched forward of T frames into slots 0..<T, starting from `initialState`.
    private func _forwardRollout(frames: UnsafePointer<Float>, initialState: LSTMState, steps: Int) {
        let h = Self.hiddenSize
        precondition(initialState.hidden.count == h && initialState.cell.count == h, "LSTMState must have \(h) values")
        initialState.hidden.withUnsafeBufferPointer { lstmHPrev.pointer.update(from: $0.baseAddress!, count: h) }
        initialState.cell.withUnsafeBufferPointer { lstmCPrev.pointer.update(from: $0.baseAddress!, count: h) }
        _forward(frames: frames, firstSlot: 0, count: steps)
    }

    /// Forward of `count` consecutive frames into slots firstSlot..<firstSlot+count. The LSTM state before
    /// the first of them must be in lstmHPrev/lstmCPrev[firstSlot]; later steps chain h and c.
    /// count = 1 uses sgemv for the dense layers (the acting step); count > 1 uses sgemm.
    private func _forward(frames: UnsafePointer<Float>, firstSlot: Int, count: Int) {
        let p = parameters.pointer, s = slots, h = Self.hiddenSize, a = actionCount
        let c1 = Self.conv1, c2 = Self.conv2
        let p1 = c1.outPixels, p2 = c2.outPixels
        // conv1 + ELU: (1, N, 84, 84) -> (16, N, 20, 20)
        let conv1Block = conv1Out.pointer + firstSlot * p1
        conv2dForward(out: conv1Block, outputChannelStride: s * p1, input: frames, inputChannelStride: c1.inPixels * count,
                      weight: p + oConv1W, bias: p + oConv1B, columns: conv1Columns.pointer + firstSlot * p1,
                      columnsStride: s * p1, batch: count, shape: c1)
        for o in 0..<c1.outChannels {
            let row = conv1Block + o * s * p1
            eluForward(out: row, input: row, count: count * p1)
        }
        // conv2 + ELU: (16, N, 20, 20) -> (32, N, 9, 9)
        let conv2Block = conv2Out.pointer + firstSlot * p2
        conv2dForward(out: conv2Block, outputChannelStride: s * p2, input: conv1Block, inputChannelStride: s * p1,
                      weight: p + oConv2W, bias: p + oConv2B, columns: conv2Columns.pointer + firstSlot * p2,
                      columnsStride: s * p2, batch: count, shape: c2)
        for o in 0..<c2.outChannels {
            let row = conv2Block + o * s * p2
            eluForward(out: row, input: row, count: count * p2)
        }
        // flatten: fcInput[n, c*81 + p] = conv2Out[c, n, p]  (PyTorch's C, H, W order)
        let flat = Self.flattenedSize
        for n in 0..<count {
            let row = fcInput.pointer + (firstSlot + n) * flat
            for c in 0..<c2.outChannels {
                (row + c * p2).update(from: conv2Block + c * s * p2 + n * p2, count: p2)
            }
        }
        // fc + ELU: (N, 2592) -> (N, 256)
        let fcRows = fcOut.pointer + firstSlot * h
        denseForward(out: fcRows, input: fcInput.pointer + firstSlot * flat, weight: p + oFcW, bias: p + oFcB,
                     batch: count, inFeatures: flat, outFeatures: h)
        eluForward(out: fcRows, input: fcRows, count: count * h)
        // LSTM: input projection for all N steps at once, then the recurrence.
        let shape = Self.lstmShape, g = shape.gateCount
        lstmInputProjectionForward(gates: lstmGates.pointer + firstSlot * g, input: fcRows, weightIH: p + oWih,
                                   biasIH: p + oBih, biasHH: p + oBhh, steps: count, shape: shape)
        for t in firstSlot..<(firstSlot + count) {
            if t > firstSlot {
                (lstmHPrev.pointer + t * h).update(from: lstmH.pointer + (t - 1) * h, count: h)
                (lstmCPrev.pointer + t * h).update(from: lstmC.pointer + (t - 1) * h, count: h)
            }
            lstmCellForward(h: lstmH.pointer + t * h, c: lstmC.pointer + t * h, tanhC: lstmTanhC.pointer + t * h,
                            gates: lstmGates.pointer + t * g, hPrev: lstmHPrev.pointer + t * h,
                            cPrev: lstmCPrev.pointer + t * h, weightHH: p + oWhh, shape: shape)
        }
        // Heads: logits = h Wp^T, value = h wv^T; then softmax and log-softmax.
        let hRows = lstmH.pointer + firstSlot * h
        denseForward(out: logits.pointer + firstSlot * a, input: hRows, weight: p + oPolicy, bias: nil,
                     batch: count, inFeatures: h, outFeatures: a)
        denseForward(out: values.pointer + firstSlot, input: hRows, weight: p + oValue, bias: nil,
                     batch: count, inFeatures: h, outFeatures: 1)
        softmaxForward(probs: probs.pointer + firstSlot * a, logits: logits.pointer + firstSlot * a, rows: count, cols: a)
        logSoftmaxForward(logProbs: logProbs.pointer + firstSlot * a, logits: logits.pointer + firstSlot * a,
                          rows: count, cols: a)
    }

    /// Loss over slots 0..<T and the backward pass through every layer, accumulating into `gradients`.
    private func _lossAndBackward(steps: Int, returns: UnsafePointer<Float>, advantages: UnsafePointer<Float>,
                                  coefficients: A3CLossCoefficients) -> A3CLossTerms {
        _gradientsAreZero = false
        let p = parameters.pointer, d = gradients.pointer, s = slots, h = Self.hiddenSize, a = actionCount
        let c1 = Self.conv1, c2 = Self.conv2, p1 = c1.outPixels, p2 = c2.outPixels, flat = Self.flattenedSize
        let shape = Self.lstmShape
        let terms = a3cLossForward(logProbs: logProbs.pointer, probs: probs.pointer, values: values.pointer,
                                   actions: actionBuffer, returns: returns, advantages: advantages,
                                   steps: steps, actionCount: a, coefficients: coefficients)
        // Loss -> logits, values.
        dLogits.pointer.update(repeating: 0, count: steps * a)
        dValues.pointer.update(repeating: 0, count: steps)
        a3cLossBackward(dLogits: dLogits.pointer, dValues: dValues.pointer, logProbs: logProbs.pointer,
                        probs: probs.pointer, values: values.pointer, actions: actionBuffer, returns: returns,
                        advantages: advantages, steps: steps, actionCount: a, coefficients: coefficients)
        // Heads: forward was logits = h Wp^T, value = h wv^T.
        dLstmH.pointer.update(repeating: 0, count: steps * h)
        denseBackward(dInput: dLstmH.pointer, dWeight: d + oPolicy, dBias: nil, dOut: dLogits.pointer,
                      input: lstmH.pointer, weight: p + oPolicy, batch: steps, inFeatures: h, outFeatures: a)
        denseBackward(dInput: dLstmH.pointer, dWeight: d + oValue, dBias: nil, dOut: dValues.pointer,
                      input: lstmH.pointer, weight: p + oValue, batch: steps, inFeatures: h, outFeatures: 1)
        // LSTM, BPTT over the T steps (truncated at the rollout's start).
        dFcOut.pointer.update(repeating: 0, count: steps * h)
        lstmBackward(dInput: dFcOut.pointer, dWeightIH: d + oWih, dWeightHH: d + oWhh, dBiasIH: d + oBih,
                     dBiasHH: d + oBhh, dH0: nil, dC0: nil, dH: dLstmH.pointer, input: fcOut.pointer,
                     hPrev: lstmHPrev.pointer, cPrev: lstmCPrev.pointer, gates: lstmGates.pointer,
                     tanhC: lstmTanhC.pointer, weightIH: p + oWih, weightHH: p + oWhh,
                     dGates: dLstmGates.pointer, carry: dLstmCarry.pointer, steps: steps, shape: shape)
        // fc: forward was fcOut = elu(fcInput Wfc^T + b).
        dFcPre.pointer.update(repeating: 0, count: steps * h)
        eluBackward(dInput: dFcPre.pointer, dOut: dFcOut.pointer, out: fcOut.pointer, count: steps * h)
        dFcInput.pointer.update(repeating: 0, count: steps * flat)
        denseBackward(dInput: dFcInput.pointer, dWeight: d + oFcW, dBias: d + oFcB, dOut: dFcPre.pointer,
                      input: fcInput.pointer, weight: p + oFcW, batch: steps, inFeatures: flat, outFeatures: h)
        // flatten: forward was fcInput[n, c*81 + p] = conv2Out[c, n, p], a permutation, so its adjoint is the inverse one.
        for c in 0..<c2.outChannels {
            for n in 0..<steps {
                (dConv2Out.pointer + c * s * p2 + n * p2).update(from: dFcInput.pointer + n * flat + c * p2, count: p2)
            }
        }
        // conv2: forward was conv2Out = elu(conv2(conv1Out)).
        for o in 0..<c2.outChannels {
            let offset = o * s * p2
            (dConv2Pre.pointer + offset).update(repeating: 0, count: steps * p2)
            eluBackward(dInput: dConv2Pre.pointer + offset, dOut: dConv2Out.pointer + offset,
                        out: conv2Out.pointer + offset, count: steps * p2)
        }
        for o in 0..<c1.outChannels { (dConv1Out.pointer + o * s * p1).update(repeating: 0, count: steps * p1) }
        conv2dBackward(dInput: dConv1Out.pointer, inputChannelStride: s * p1, dWeight: d + oConv2W, dBias: d + oConv2B,
                       dOut: dConv2Pre.pointer, outputChannelStride: s * p2, columns: conv2Columns.pointer,
                       dColumns: dConv2Columns.pointer, columnsStride: s * p2, weight: p + oConv2W,
                       batch: steps, shape: c2)
        // conv1: forward was conv1Out = elu(conv1(frames)); the frames need no gradient.
        for o in 0..<c1.outChannels {
            let offset = o * s * p1
            (dConv1Pre.pointer + offset).update(repeating: 0, count: steps * p1)
            eluBackward(dInput: dConv1Pre.pointer + offset, dOut: dConv1Out.pointer + offset,
                        out: conv1Out.pointer + offset, count: steps * p1)
        }
        conv2dBackward(dInput: nil, inputChannelStride: 0, dWeight: d + oConv1W, dBias: d + oConv1B,
                       dOut: dConv1Pre.pointer, outputChannelStride: s * p1, columns: conv1Columns.pointer,
                       dColumns: nil, columnsStride: s * p1, weight: p + oConv1W, batch: steps, shape: c1)
        return terms
    }

    // MARK: - Cost model (for the benchmark's GFLOP/s)

    /// Floating-point operations (2 per multiply-add) of one acting step.
    public var actingStepFlops: Double {
        let h = Double(Self.hiddenSize)
        return Self.conv1.forwardFlopsPerFrame + Self.conv2.forwardFlopsPerFrame
            + 2 * Double(Self.flattenedSize) * h + 2 * 2 * 4 * h * h + 2 * h * Double(actionCount + 1)
    }

    /// Floating-point operations of the backward pass over T steps: two products per layer
    /// (weight gradient and input gradient), except conv1 whose input needs no gradient.
    public func backwardFlops(steps: Int) -> Double {
        let h = Double(Self.hiddenSize)
        let perStep = Self.conv1.forwardFlopsPerFrame + 2 * Self.conv2.forwardFlopsPerFrame
            + 2 * 2 * Double(Self.flattenedSize) * h + 2 * 2 * 2 * 4 * h * h + 2 * 2 * h * Double(actionCount + 1)
        return perStep * Double(steps)
    }
}
