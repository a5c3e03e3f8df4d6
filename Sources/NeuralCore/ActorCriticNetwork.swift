// The seed's conv-LSTM actor-critic (awjuliani's A3C-Doom, after Mnih et al. 2016, Section 5.1/8),
// acting on a batch of environments at once:
//
//   frame (1, 84, 84) in [0, 1]
//   conv1  16 filters 8x8 stride 4, bias, ELU   -> (16, 20, 20)
//   conv2  32 filters 4x4 stride 2, bias, ELU   -> (32, 9, 9), flattened C,H,W -> 2592
//   fc     2592 -> 256, bias, ELU
//   lstm   LSTMCell(256, 256), gate order i, f, g, o
//   policy 256 -> A, no bias, softmax           value 256 -> 1, no bias
//
// Legend: E = sequences (a worker's environments) acted on together, N <= E rows of one acting step,
// T = recorded steps (at most maxSteps), A = actions, H = 256, G = 4H; a slot holds every activation
// of one frame, S = maxSteps * E + E slots.
//
// Recording: acting step k records its N rows into slots first_k ..< first_k + N, right after the
// rows recorded before it, so a rollout's R recorded slots are 0..<R and every layer's backward runs
// over all of them at once: one matrix product per product of the dense layers, the convolutions in
// chunks of `backwardChunk` slots, and the LSTM steps back through the recorded steps. The last E
// slots are the scratch block of unrecorded steps (the bootstrap value at a rollout's cut).
//
// Sequences: each recorded slot belongs to one LSTM sequence, along which BPTT carries dh and dc. A
// state row's steps form one sequence, unless `beginSequence(row:)` marks a reset in the middle of the
// rollout (a new episode, where rollouts cross episode ends): its later steps then form a new
// sequence, and no gradient flows from the new episode into the one that ended. A rollout has at
// most E * (maxSteps + 1) sequences (E at its start, at most one new one per row and step).
//
// That is exact for A3C, which acts and learns with the same local parameters within a rollout: the
// backward pass reuses the activations of acting, so learning costs no second forward pass.

/// The seed's actor-critic network on one thread: parameters, gradients and activations in flat
/// buffers with named views. Not thread-safe: each worker owns one (its `ParameterReplica`).
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
        let shapes: [[Int]] = [[16, 1, 8, 8], [16], [32, 16, 4, 4], [32], [h, flattenedSize], [h],
                               [4 * h, h], [4 * h, h], [4 * h], [4 * h], [actionCount, h], [1, h]]
        return ParameterLayout(tensors: Array(zip(ActorCriticTensors.names, shapes)))
    }

    /// A, the number of actions.
    public let actionCount: Int
    /// The most acting steps one rollout may record (T at most).
    public let maxSteps: Int
    /// E, the most rows (sequences) one acting step may have; at most `maxRowsLimit`.
    public let maxRows: Int
    /// The largest `maxRows` a network may be built with: `denseFewRows` (64), so that every acting
    /// step's dense layers run in `nk_dense_rows` (each row computed exactly as it would be alone) and
    /// never in `denseForward`'s sgemm fallback. Callers that size E (the trainer's
    /// `--envs-per-worker`, `bench nn --batch`) can check against it.
    public static let maxRowsLimit = denseFewRows
    /// Names, shapes and offsets of the parameter tensors in `parameters` and `gradients`.
    public let layout: ParameterLayout
    /// All parameters, (layout.totalCount).
    ///
    /// A network that has a `ParameterReplica` must be written only through the replica
    /// (`synchronize()`, `applyGradients(maxGradientNorm:)`): the replica remembers which generation of
    /// the global parameters this buffer holds, so a write by any other means (through this buffer or
    /// `parameterPointer(_:)`, by `initializeParameters(seed:)` or `loadCheckpoint(from:)`) goes
    /// unnoticed: the next `synchronize()` skips its copy (unless another update came in meanwhile),
    /// and the network acts and learns on parameters the global ones do not have.
    public let parameters: FloatBuffer
    /// All gradients, same layout; backward passes ACCUMULATE here, `gradients.zero()` clears.
    public let gradients: FloatBuffer
    /// Named views of `parameters` (p) and `gradients` (d).
    private let p: ActorCriticTensors, d: ActorCriticTensors
    private let a: ActorCriticActivations

    // MARK: The recording
    /// Recorded acting steps, and recorded slots (= rows of all recorded steps, R).
    public private(set) var recordedSteps = 0
    public private(set) var recordedSlots = 0
    private var stepFirstSlot: [Int]   // (maxSteps)
    private var stepRowCount: [Int]    // (maxSteps)
    private var slotSequence: [Int]    // (maxSteps * E): the sequence each recorded slot belongs to
    private var lastRecordedStep: [Int] // (E): per state row, the last step that recorded it (-1: none)
    private var rowSequence: [Int]     // (E): the sequence a state row's next recorded step belongs to
    private var rowStartsSequence: [Bool] // (E): the row's next recorded step starts a sequence (beginSequence)
    /// Sequences numbered so far in this rollout (E at its start; one more per `beginSequence(row:)`
    /// of a row already recorded).
    private(set) var sequenceCount = 0
    private var scratchFirstSlot: Int { maxSteps * maxRows }

    /// A network with the seed's initialisation drawn from `seed` (see `initializeParameters(seed:)`).
    /// - maxSteps: acting steps one rollout may record; default 30, the seed's rollout length.
    /// - maxRows: environments acted on together (E), in 1...`maxRowsLimit`; default 1, the seed's one
    ///   environment per worker.
    public init(actionCount: Int, maxSteps: Int = 30, maxRows: Int = 1, seed: UInt64) {
        precondition(maxSteps >= 1, "maxSteps must be at least 1, got \(maxSteps)")
        precondition(maxRows >= 1, "maxRows must be at least 1, got \(maxRows)")
        precondition(maxRows <= Self.maxRowsLimit,
                     "maxRows must be at most \(Self.maxRowsLimit) (ActorCriticNetwork.maxRowsLimit = denseFewRows, the most rows the acting step's dense kernel takes), got \(maxRows)")
        _ensureSingleThreadedBLAS()
        self.actionCount = actionCount
        self.maxSteps = maxSteps
        self.maxRows = maxRows
        layout = Self.parameterLayout(actionCount: actionCount)
        parameters = FloatBuffer(count: layout.totalCount)
        gradients = FloatBuffer(count: layout.totalCount)
        p = ActorCriticTensors(base: parameters.pointer, layout: layout)
        d = ActorCriticTensors(base: gradients.pointer, layout: layout)
        a = ActorCriticActivations(slots: maxSteps * maxRows + maxRows, rowsPerStep: maxRows,
                                   sequences: maxRows * (maxSteps + 1), actionCount: actionCount,
                                   chunk: Self.backwardChunk)
        stepFirstSlot = [Int](repeating: 0, count: maxSteps)
        stepRowCount = [Int](repeating: 0, count: maxSteps)
        slotSequence = [Int](repeating: 0, count: maxSteps * maxRows)
        lastRecordedStep = [Int](repeating: -1, count: maxRows)
        rowSequence = Array(0..<maxRows)
        rowStartsSequence = [Bool](repeating: false, count: maxRows)
        initializeParameters(seed: seed)
    }

    /// Slots whose convolutions the backward pass runs at a time: the scratch of 32 frames (conv1's
    /// input gradient and transposed output gradient, 1.6 MB; conv2's column matrix, 2.7 MB) stays in
    /// the cache from one kernel to the next.
    static let backwardChunk = 32

    /// S, the slots of the activation buffers.
    private var slots: Int { maxSteps * maxRows + maxRows }

    /// Pointer to the parameter tensor `name` (for tests and tools; the layout is fixed).
    /// A network that has a `ParameterReplica` must be written only through the replica: a write
    /// through this pointer goes unnoticed and makes the replica's next `synchronize()` skip its copy
    /// (see `parameters`).
    public func parameterPointer(_ name: String) -> UnsafeMutablePointer<Float> { parameters.pointer + layout[name].offset }
    /// Pointer to the gradient of the parameter tensor `name`.
    public func gradientPointer(_ name: String) -> UnsafeMutablePointer<Float> { gradients.pointer + layout[name].offset }

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
    ///
    /// A network that has a `ParameterReplica` must be written only through the replica: calling this
    /// on it goes unnoticed and makes the replica's next `synchronize()` skip its copy (see `parameters`).
    public func initializeParameters(seed: UInt64) {
        var rng = Xoshiro256StarStar(seed: seed)
        parameters.zero()
        let h = Self.hiddenSize, c1 = Self.conv1, c2 = Self.conv2
        let kernel1 = c1.kernelHeight * c1.kernelWidth, kernel2 = c2.kernelHeight * c2.kernelWidth
        Initializers.glorotUniform(p.conv1Weight, count: c1.weightCount, fanIn: c1.patchSize,
                                   fanOut: c1.outChannels * kernel1, rng: &rng)
        Initializers.glorotUniform(p.conv2Weight, count: c2.weightCount, fanIn: c2.patchSize,
                                   fanOut: c2.outChannels * kernel2, rng: &rng)
        Initializers.glorotUniform(p.fcWeight, count: h * Self.flattenedSize, fanIn: Self.flattenedSize, fanOut: h, rng: &rng)
        Initializers.glorotUniform(p.lstmWeightIH, count: 4 * h * h, fanIn: 2 * h, fanOut: 4 * h, rng: &rng)
        Initializers.glorotUniform(p.lstmWeightHH, count: 4 * h * h, fanIn: 2 * h, fanOut: 4 * h, rng: &rng)
        (p.lstmBiasIH + h).update(repeating: 1, count: h)
        Initializers.normalizedColumns(p.policyWeight, outputs: actionCount, inputs: h, std: 0.01, rng: &rng)
        Initializers.normalizedColumns(p.valueWeight, outputs: 1, inputs: h, std: 1.0, rng: &rng)
        discardRecording()
    }

    /// Forgets the recorded acting steps (a rollout that will not be learned from, or parameters that
    /// changed in the middle of one).
    public func discardRecording() {
        for row in lastRecordedStep.indices {
            lastRecordedStep[row] = -1
            rowSequence[row] = row
            rowStartsSequence[row] = false
        }
        sequenceCount = maxRows
        recordedSteps = 0
        recordedSlots = 0
    }

    /// Marks state row `row` as reset in the middle of the rollout being recorded (a new episode, its
    /// state zeroed by the caller): its next recorded step, at any later step of the rollout, starts
    /// a new LSTM sequence. BPTT then stops there, as at the rollout's start, so the new episode's
    /// gradient never reaches the steps of the one before. A row not yet recorded in this rollout
    /// keeps its sequence but may start at any step.
    public func beginSequence(row: Int) {
        precondition(row >= 0 && row < maxRows, "beginSequence: state row \(row) not in 0..<\(maxRows) (maxRows)")
        // A fresh number unless the row's current sequence has no recorded step yet (a second call
        // before the next step): at most E + E * maxSteps sequences, the carry's size.
        if lastRecordedStep[row] >= 0 && !rowStartsSequence[row] {
            rowSequence[row] = sequenceCount
            sequenceCount += 1
        }
        rowStartsSequence[row] = true
    }

    // MARK: - Acting

    /// One acting step for N sequences at once: pi(. | s), V(s) and the next LSTM state of each.
    ///
    /// - frames: (N, 84, 84) floats in [0, 1], row-major, one frame per row.
    /// - states: the sequences' LSTM states; row j of this step is sequence `rows[j]`, whose state
    ///   (h, c) is read before the step and replaced by the state after it.
    /// - rows: N distinct rows of `states`, N in 1...maxRows.
    /// - record: true records the step's activations for `backwardRecorded` (slots R ..< R + N); a
    ///   sequence recorded at step k > 0 must have been recorded at step k - 1 with its state left as
    ///   this method wrote it, unless `beginSequence(row:)` started a new one for its row. False acts
    ///   in the scratch slots (a bootstrap value), recording nothing.
    /// Cost: the convolutions are direct (`nk_conv2d_forward`, no unrolled copy of the frames), and fc,
    /// the LSTM and the heads stream each weight row once for all N rows (`nk_dense_rows`). A step is
    /// memory-bound on the ~4.7 MB of fc and LSTM weights, so batching rows shares that traffic.
    @discardableResult
    public func act(frames: UnsafePointer<Float>, states: LSTMStates, rows: [Int], record: Bool) -> ActingBatch {
        let n = rows.count, h = Self.hiddenSize
        precondition(n >= 1 && n <= maxRows, "act: \(n) rows, expected 1...\(maxRows) (maxRows)")
        precondition(states.hiddenSize == h, "act: LSTMStates must have \(h) hidden units")
        let first: Int
        if record {
            precondition(recordedSteps < maxSteps, "act: a rollout records at most \(maxSteps) steps (maxSteps)")
            first = recordedSlots
            for (j, row) in rows.enumerated() {
                states._check(row)
                precondition(row < maxRows, "act: state row \(row) not in 0..<\(maxRows) (maxRows)")
                precondition(lastRecordedStep[row] < recordedSteps,
                             "act: state row \(row) is repeated in rows")
                precondition(rowStartsSequence[row] || lastRecordedStep[row] == recordedSteps - 1,
                             "act: state row \(row) was not recorded at the previous step (a sequence only starts at the rollout's start or after beginSequence(row:))")
                rowStartsSequence[row] = false
                lastRecordedStep[row] = recordedSteps
                slotSequence[first + j] = rowSequence[row]
            }
            stepFirstSlot[recordedSteps] = first
            stepRowCount[recordedSteps] = n
            recordedSteps += 1
            recordedSlots += n
        } else {
            first = scratchFirstSlot
            for row in rows { states._check(row) }
        }
        for (j, row) in rows.enumerated() {
            (a.lstmHPrev + (first + j) * h).update(from: states.hidden.pointer + row * h, count: h)
            (a.lstmCPrev + (first + j) * h).update(from: states.cell.pointer + row * h, count: h)
        }
        _forward(frames: frames, firstSlot: first, count: n)
        for (j, row) in rows.enumerated() {
            (states.hidden.pointer + row * h).update(from: a.lstmH + (first + j) * h, count: h)
            (states.cell.pointer + row * h).update(from: a.lstmC + (first + j) * h, count: h)
        }
        return ActingBatch(rowCount: n, actionCount: actionCount, values: a.values + first,
                           probabilities: a.probs + first * actionCount, firstSlot: first)
    }

    /// One acting step of one sequence (row 0 of `states`): `act(frames:states:rows: [0], record:)`.
    @discardableResult
    public func act(frame: UnsafePointer<Float>, states: LSTMStates, record: Bool = false) -> ActingBatch {
        act(frames: frame, states: states, rows: [0], record: record)
    }

    /// Forward of the N frames into slots firstSlot ..< firstSlot + N, N parallel sequences whose LSTM
    /// states before the step are in lstmHPrev/lstmCPrev of those slots.
    private func _forward(frames: UnsafePointer<Float>, firstSlot: Int, count n: Int) {
        let s = slots, h = Self.hiddenSize, actions = actionCount
        let c1 = Self.conv1, c2 = Self.conv2, p1 = c1.outPixels, p2 = c2.outPixels, frameSize = Self.frameSize
        // The frames are kept: the backward pass reads them for conv1's weight gradient.
        let slotFrames = a.frames + firstSlot * frameSize
        slotFrames.update(from: frames, count: n * frameSize)
        // conv1 + ELU: (1, N, 84, 84) -> (16, N, 20, 20)
        let conv1Block = a.conv1Out + firstSlot * p1
        conv2dForward(out: conv1Block, outputChannelStride: s * p1, input: slotFrames, inputChannelStride: c1.inPixels * n,
                      weight: p.conv1Weight, bias: p.conv1Bias, batch: n, shape: c1)
        for o in 0..<c1.outChannels {
            let row = conv1Block + o * s * p1
            eluForward(out: row, input: row, count: n * p1)
        }
        // conv2 + ELU: (16, N, 20, 20) -> (32, N, 9, 9)
        let conv2Block = a.conv2Out + firstSlot * p2
        conv2dForward(out: conv2Block, outputChannelStride: s * p2, input: conv1Block, inputChannelStride: s * p1,
                      weight: p.conv2Weight, bias: p.conv2Bias, batch: n, shape: c2)
        for o in 0..<c2.outChannels {
            let row = conv2Block + o * s * p2
            eluForward(out: row, input: row, count: n * p2)
        }
        // flatten: fcInput[j, c*81 + q] = conv2Out[c, j, q]  (PyTorch's C, H, W order)
        let flat = Self.flattenedSize
        for j in 0..<n {
            let row = a.fcInput + (firstSlot + j) * flat
            for c in 0..<c2.outChannels {
                (row + c * p2).update(from: conv2Block + c * s * p2 + j * p2, count: p2)
            }
        }
        // fc + ELU: (N, 2592) -> (N, 256)
        let fcRows = a.fcOut + firstSlot * h
        denseForward(out: fcRows, input: a.fcInput + firstSlot * flat, weight: p.fcWeight, bias: p.fcBias,
                     batch: n, inFeatures: flat, outFeatures: h)
        eluForward(out: fcRows, input: fcRows, count: n * h)
        // LSTM: one step of N sequences.
        let g = Self.lstmShape.gateCount
        lstmStepForward(h: a.lstmH + firstSlot * h, c: a.lstmC + firstSlot * h, tanhC: a.lstmTanhC + firstSlot * h,
                        gates: a.lstmGates + firstSlot * g, input: fcRows, hPrev: a.lstmHPrev + firstSlot * h,
                        cPrev: a.lstmCPrev + firstSlot * h, weightIH: p.lstmWeightIH, weightHH: p.lstmWeightHH,
                        biasIH: p.lstmBiasIH, biasHH: p.lstmBiasHH, rows: n, shape: Self.lstmShape)
        // Heads: logits = h Wp^T, value = h wv^T; then softmax and log-softmax.
        let hRows = a.lstmH + firstSlot * h
        denseForward(out: a.logits + firstSlot * actions, input: hRows, weight: p.policyWeight, bias: nil,
                     batch: n, inFeatures: h, outFeatures: actions)
        denseForward(out: a.values + firstSlot, input: hRows, weight: p.valueWeight, bias: nil,
                     batch: n, inFeatures: h, outFeatures: 1)
        softmaxForward(probs: a.probs + firstSlot * actions, logits: a.logits + firstSlot * actions, rows: n, cols: actions)
        logSoftmaxForward(logProbs: a.logProbs + firstSlot * actions, logits: a.logits + firstSlot * actions,
                          rows: n, cols: actions)
    }

    // MARK: - Rollout update

    /// The backward pass of a loss over the recorded rollout: `loss` reads the heads' outputs and
    /// writes the loss's gradient with respect to the logits and the values (`RecordedHeads`); the
    /// pass then carries it through every layer, ACCUMULATING into `gradients` (zero them first).
    /// Backward only: it reuses the activations recorded by `act(..., record: true)`. Consumes the
    /// recording. Returns what `loss` returns (its terms, for the logs).
    ///
    /// Slot order: acting row j of a step is slot `firstSlot + j` of its `ActingBatch`, R =
    /// `recordedSlots` slots in all. The LSTM gradient is truncated at the rollout's start (BPTT over
    /// the recorded steps only), as in the seed, and where `beginSequence(row:)` started a new
    /// sequence. The losses themselves (A3C's, PPO's) are the algorithm layer's (module Algorithms):
    /// this network knows layers, not objectives.
    @discardableResult
    public func backwardRecorded<Terms>(loss: (RecordedHeads) -> Terms) -> Terms {
        precondition(recordedSlots >= 1, "no recorded acting steps: record a rollout with act(..., record: true) first")
        defer { discardRecording() }
        let total = recordedSlots
        a.dLogits.update(repeating: 0, count: total * actionCount)
        a.dValues.update(repeating: 0, count: total)
        let terms = loss(recordedHeads)
        _backwardFromHeads()
        return terms
    }

    /// The heads' outputs of the recorded rollout, to compute a loss without a backward pass (keeps
    /// the recording; for gradient checks). Its dLogits and dValues are scratch, overwritten by the
    /// next `backwardRecorded`.
    public func withRecordedHeads<Result>(_ body: (RecordedHeads) -> Result) -> Result {
        precondition(recordedSlots >= 1, "no recorded acting steps: record a rollout with act(..., record: true) first")
        return body(recordedHeads)
    }

    private var recordedHeads: RecordedHeads {
        RecordedHeads(slots: recordedSlots, actionCount: actionCount, logits: a.logits, logProbs: a.logProbs,
                      probs: a.probs, values: a.values, dLogits: a.dLogits, dValues: a.dValues)
    }

    /// The backward pass through every layer from dLogits and dValues of the R recorded slots,
    /// accumulating into `gradients`.
    private func _backwardFromHeads() {
        let total = recordedSlots, s = slots, h = Self.hiddenSize, actions = actionCount
        let c1 = Self.conv1, c2 = Self.conv2, p1 = c1.outPixels, p2 = c2.outPixels, flat = Self.flattenedSize
        // Heads: forward was logits = h Wp^T, value = h wv^T.
        a.dLstmH.update(repeating: 0, count: total * h)
        denseBackward(dInput: a.dLstmH, dWeight: d.policyWeight, dBias: nil, dOut: a.dLogits, input: a.lstmH,
                      weight: p.policyWeight, batch: total, inFeatures: h, outFeatures: actions)
        denseBackward(dInput: a.dLstmH, dWeight: d.valueWeight, dBias: nil, dOut: a.dValues, input: a.lstmH,
                      weight: p.valueWeight, batch: total, inFeatures: h, outFeatures: 1)
        // LSTM, BPTT over the recorded steps (truncated at the rollout's start and where a sequence begins).
        a.dFcOut.update(repeating: 0, count: total * h)
        stepFirstSlot.withUnsafeBufferPointer { firstSlots in
            stepRowCount.withUnsafeBufferPointer { rowCounts in
                slotSequence.withUnsafeBufferPointer { sequences in
                    let schedule = LSTMSchedule(steps: recordedSteps, sequenceCount: sequenceCount,
                                                stepFirstRow: firstSlots.baseAddress!, stepRowCount: rowCounts.baseAddress!,
                                                rowSequence: sequences.baseAddress!)
                    lstmBackward(dInput: a.dFcOut, dWeightIH: d.lstmWeightIH, dWeightHH: d.lstmWeightHH,
                                 dBiasIH: d.lstmBiasIH, dBiasHH: d.lstmBiasHH, dInitialHidden: nil, dInitialCell: nil,
                                 dH: a.dLstmH, input: a.fcOut, hPrev: a.lstmHPrev, cPrev: a.lstmCPrev, gates: a.lstmGates,
                                 tanhC: a.lstmTanhC, weightIH: p.lstmWeightIH, weightHH: p.lstmWeightHH,
                                 dGates: a.dLstmGates, carry: a.dLstmCarry, dhPrevRows: a.dLstmHPrevRows,
                                 schedule: schedule, shape: Self.lstmShape)
                }
            }
        }
        // fc: forward was fcOut = elu(fcInput Wfc^T + b).
        a.dFcPre.update(repeating: 0, count: total * h)
        eluBackward(dInput: a.dFcPre, dOut: a.dFcOut, out: a.fcOut, count: total * h)
        a.dFcInput.update(repeating: 0, count: total * flat)
        denseBackward(dInput: a.dFcInput, dWeight: d.fcWeight, dBias: d.fcBias, dOut: a.dFcPre, input: a.fcInput,
                      weight: p.fcWeight, batch: total, inFeatures: flat, outFeatures: h)
        // flatten: forward was fcInput[n, c*81 + q] = conv2Out[c, n, q], a permutation, so its adjoint is the inverse one.
        for c in 0..<c2.outChannels {
            for n in 0..<total {
                (a.dConv2Out + c * s * p2 + n * p2).update(from: a.dFcInput + n * flat + c * p2, count: p2)
            }
        }
        // conv2: forward was conv2Out = elu(conv2(conv1Out)).
        for o in 0..<c2.outChannels {
            let offset = o * s * p2
            (a.dConv2Pre + offset).update(repeating: 0, count: total * p2)
            eluBackward(dInput: a.dConv2Pre + offset, dOut: a.dConv2Out + offset, out: a.conv2Out + offset, count: total * p2)
        }
        // The convolutions, `chunk` slots at a time, through scratch that stays in the cache between
        // the kernels (no unrolled copy of any input is kept per slot).
        let q = a.chunk
        for first in stride(from: 0, to: total, by: q) {
            let n = min(q, total - first)
            // conv2: forward was conv2Out = elu(conv2(conv1Out)).
            for o in 0..<c1.outChannels { (a.dConv1Out + o * q * p1).update(repeating: 0, count: n * p1) }
            conv2dBackward(dInput: a.dConv1Out, dInputChannelStride: q * p1, dWeight: d.conv2Weight, dBias: d.conv2Bias,
                           dOut: a.dConv2Pre + first * p2, outputChannelStride: s * p2,
                           input: a.conv1Out + first * p1, inputChannelStride: s * p1, transposeScratch: a.transposedDConv2,
                           dColumns: a.dColumns2, columnsStride: q * p2, weight: p.conv2Weight, batch: n, shape: c2)
            // conv1: forward was conv1Out = elu(conv1(frames)); the frames need no gradient.
            for o in 0..<c1.outChannels {
                let dPre = a.dConv1Pre + o * q * p1
                dPre.update(repeating: 0, count: n * p1)
                eluBackward(dInput: dPre, dOut: a.dConv1Out + o * q * p1, out: a.conv1Out + o * s * p1 + first * p1,
                            count: n * p1)
            }
            conv2dBackward(dInput: nil, dInputChannelStride: 0, dWeight: d.conv1Weight, dBias: d.conv1Bias,
                           dOut: a.dConv1Pre, outputChannelStride: q * p1,
                           input: a.frames + first * Self.frameSize, inputChannelStride: c1.inPixels * n,
                           transposeScratch: a.transposedDConv1, dColumns: nil, columnsStride: 0, weight: p.conv1Weight,
                           batch: n, shape: c1)
        }
    }

    // MARK: - Cost model (for the benchmark's GFLOP/s)

    /// Floating-point operations (2 per multiply-add) of one acting step of one row.
    public var actingStepFlops: Double {
        let h = Double(Self.hiddenSize)
        return Self.conv1.forwardFlopsPerFrame + Self.conv2.forwardFlopsPerFrame
            + 2 * Double(Self.flattenedSize) * h + 2 * 2 * 4 * h * h + 2 * h * Double(actionCount + 1)
    }

    /// Floating-point operations of the backward pass over R recorded slots: two products per layer
    /// (weight gradient and input gradient), except conv1 whose input needs no gradient.
    public func backwardFlops(slots: Int) -> Double {
        let h = Double(Self.hiddenSize)
        let perSlot = Self.conv1.forwardFlopsPerFrame + 2 * Self.conv2.forwardFlopsPerFrame
            + 2 * 2 * Double(Self.flattenedSize) * h + 2 * 2 * 2 * 4 * h * h + 2 * 2 * h * Double(actionCount + 1)
        return perSlot * Double(slots)
    }
}
