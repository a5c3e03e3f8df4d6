// Named views into the actor-critic's flat buffers (llm.c's ParameterTensors and ActivationTensors):
// the network's code reads `p.fcWeight` and `a.lstmGates`, never an offset looked up by name.
//
// Legend: S = slots (frames whose activations are kept), A = actions, H = 256, G = 4H = 1024,
// P1 = 20 * 20 = 400 and P2 = 9 * 9 = 81 output pixels of conv1 and conv2, K1 = 1 * 8 * 8 = 64 and
// K2 = 16 * 4 * 4 = 256 their patch sizes. Conv activations are "channel-major batch" (C, S, H, W)
// (see Conv2D.swift); dense and LSTM activations are (S, features).

/// The twelve parameter tensors as pointers into one flat buffer with `ActorCriticNetwork.parameterLayout`.
/// The gradients use the same struct over the gradient buffer, so `d.fcWeight` is dL/d`p.fcWeight`.
public struct ActorCriticTensors {
    public let conv1Weight: UnsafeMutablePointer<Float>   // (16, 1, 8, 8)
    public let conv1Bias: UnsafeMutablePointer<Float>     // (16)
    public let conv2Weight: UnsafeMutablePointer<Float>   // (32, 16, 4, 4)
    public let conv2Bias: UnsafeMutablePointer<Float>     // (32)
    public let fcWeight: UnsafeMutablePointer<Float>      // (256, 2592)
    public let fcBias: UnsafeMutablePointer<Float>        // (256)
    public let lstmWeightIH: UnsafeMutablePointer<Float>  // (1024, 256), gate rows i, f, g, o
    public let lstmWeightHH: UnsafeMutablePointer<Float>  // (1024, 256)
    public let lstmBiasIH: UnsafeMutablePointer<Float>    // (1024)
    public let lstmBiasHH: UnsafeMutablePointer<Float>    // (1024)
    public let policyWeight: UnsafeMutablePointer<Float>  // (A, 256)
    public let valueWeight: UnsafeMutablePointer<Float>   // (1, 256)

    /// The storage order of `ActorCriticNetwork.parameterLayout`, which these fields follow.
    static let names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias",
                        "lstm.weight_ih", "lstm.weight_hh", "lstm.bias_ih", "lstm.bias_hh", "policy.weight",
                        "value.weight"]

    /// Views of `base`, a buffer of `layout.totalCount` floats.
    init(base: UnsafeMutablePointer<Float>, layout: ParameterLayout) {
        precondition(layout.views.map(\.name) == Self.names, "ActorCriticTensors: the layout is not the actor-critic's")
        let o = layout.views.map { base + $0.offset }
        conv1Weight = o[0]; conv1Bias = o[1]; conv2Weight = o[2]; conv2Bias = o[3]; fcWeight = o[4]; fcBias = o[5]
        lstmWeightIH = o[6]; lstmWeightHH = o[7]; lstmBiasIH = o[8]; lstmBiasHH = o[9]
        policyWeight = o[10]; valueWeight = o[11]
    }
}

/// Every activation the backward pass needs, per slot, the gradients of the activations, and the
/// scratch of the convolutions: one allocation carved into named buffers.
///
/// No im2col matrix (the convolutions' inputs unrolled, 4 and 8 times larger than the activations
/// they come from) is kept: acting convolves directly, the weight gradients are computed directly from
/// dOut transposed (`nk_conv2d_weight_gradient`), and only conv2's input gradient goes through a
/// column matrix, `chunk` slots at a time. That keeps a rollout's memory at ~124 KB a slot instead of
/// ~370 KB: in training, engines and the other worker share the caches, and every byte a step writes
/// comes back from memory.
struct ActorCriticActivations {
    /// Q, the slots the convolution scratch holds (the backward pass's chunk).
    let chunk: Int

    // Forward, one row (or one column block of the conv buffers) per slot.
    let frames: UnsafeMutablePointer<Float>        // (S, 84, 84), the input frames
    let conv1Out: UnsafeMutablePointer<Float>      // (16, S, 20, 20), after ELU
    let conv2Out: UnsafeMutablePointer<Float>      // (32, S, 9, 9), after ELU
    let fcInput: UnsafeMutablePointer<Float>       // (S, 2592), conv2Out flattened per slot in C, H, W order
    let fcOut: UnsafeMutablePointer<Float>         // (S, H), after ELU = the LSTM input
    let lstmGates: UnsafeMutablePointer<Float>     // (S, G), activated gates i, f, g, o
    let lstmHPrev: UnsafeMutablePointer<Float>     // (S, H), h before the step
    let lstmCPrev: UnsafeMutablePointer<Float>     // (S, H), c before the step
    let lstmH: UnsafeMutablePointer<Float>         // (S, H)
    let lstmC: UnsafeMutablePointer<Float>         // (S, H)
    let lstmTanhC: UnsafeMutablePointer<Float>     // (S, H)
    let logits: UnsafeMutablePointer<Float>        // (S, A)
    let probs: UnsafeMutablePointer<Float>         // (S, A)
    let logProbs: UnsafeMutablePointer<Float>      // (S, A)
    let values: UnsafeMutablePointer<Float>        // (S)

    // Backward: gradients of the activations (the first R slots used), and BPTT scratch.
    let dLogits: UnsafeMutablePointer<Float>       // (S, A)
    let dValues: UnsafeMutablePointer<Float>       // (S)
    let dLstmH: UnsafeMutablePointer<Float>        // (S, H)
    let dLstmGates: UnsafeMutablePointer<Float>    // (S, G)
    let dLstmCarry: UnsafeMutablePointer<Float>    // (2, sequences, H): dh and dc carried per sequence
    let dLstmHPrevRows: UnsafeMutablePointer<Float> // (E, H)
    let dFcOut: UnsafeMutablePointer<Float>        // (S, H), after ELU
    let dFcPre: UnsafeMutablePointer<Float>        // (S, H), before ELU
    let dFcInput: UnsafeMutablePointer<Float>      // (S, 2592)
    let dConv2Out: UnsafeMutablePointer<Float>     // (32, S, 81), after ELU
    let dConv2Pre: UnsafeMutablePointer<Float>     // (32, S, 81), before ELU

    // Convolution scratch for Q slots.
    let transposedDConv1: UnsafeMutablePointer<Float> // (Q, 400, 16): dConv1Pre transposed, for conv1's weight gradient
    let transposedDConv2: UnsafeMutablePointer<Float> // (Q, 81, 32): dConv2Pre transposed, for conv2's weight gradient
    let dColumns2: UnsafeMutablePointer<Float>     // [K2, Q * P2]: conv2's input gradient before col2im
    let dConv1Out: UnsafeMutablePointer<Float>     // (16, Q, 400), after ELU
    let dConv1Pre: UnsafeMutablePointer<Float>     // (16, Q, 400), before ELU

    /// The one allocation behind every pointer above.
    let storage: FloatBuffer

    /// Buffers for `slots` slots (S), `rowsPerStep` rows of one acting step (E), `sequences` LSTM
    /// sequences of one rollout, `actionCount` actions (A) and convolution scratch for `chunk` slots.
    init(slots s: Int, rowsPerStep e: Int, sequences: Int, actionCount a: Int, chunk q: Int) {
        chunk = q
        let h = ActorCriticNetwork.hiddenSize, g = 4 * h, flat = ActorCriticNetwork.flattenedSize
        let c1 = ActorCriticNetwork.conv1, c2 = ActorCriticNetwork.conv2
        let conv2Size = c2.outChannels * s * c2.outPixels
        // Offsets first, each buffer starting on a 64-byte boundary like the parameter views; then one allocation.
        var total = 0
        func reserve(_ count: Int) -> Int { defer { total += (count + 15) / 16 * 16 }; return total }
        let oFrames = reserve(s * ActorCriticNetwork.frameSize), oConv1Out = reserve(c1.outChannels * s * c1.outPixels)
        let oConv2Out = reserve(conv2Size)
        let oFcInput = reserve(s * flat), oFcOut = reserve(s * h), oLstmGates = reserve(s * g)
        let oLstmHPrev = reserve(s * h), oLstmCPrev = reserve(s * h), oLstmH = reserve(s * h)
        let oLstmC = reserve(s * h), oLstmTanhC = reserve(s * h)
        let oLogits = reserve(s * a), oProbs = reserve(s * a), oLogProbs = reserve(s * a), oValues = reserve(s)
        let oDLogits = reserve(s * a), oDValues = reserve(s), oDLstmH = reserve(s * h), oDLstmGates = reserve(s * g)
        let oDLstmCarry = reserve(2 * sequences * h), oDLstmHPrevRows = reserve(e * h)
        let oDFcOut = reserve(s * h), oDFcPre = reserve(s * h), oDFcInput = reserve(s * flat)
        let oDConv2Out = reserve(conv2Size), oDConv2Pre = reserve(conv2Size)
        let oTransposed1 = reserve(c1.outChannels * q * c1.outPixels), oTransposed2 = reserve(c2.outChannels * q * c2.outPixels)
        let oDColumns2 = reserve(c2.patchSize * q * c2.outPixels)
        let oDConv1Out = reserve(c1.outChannels * q * c1.outPixels), oDConv1Pre = reserve(c1.outChannels * q * c1.outPixels)
        storage = FloatBuffer(count: total)
        let base = storage.pointer
        frames = base + oFrames; conv1Out = base + oConv1Out; conv2Out = base + oConv2Out
        fcInput = base + oFcInput; fcOut = base + oFcOut; lstmGates = base + oLstmGates
        lstmHPrev = base + oLstmHPrev; lstmCPrev = base + oLstmCPrev; lstmH = base + oLstmH
        lstmC = base + oLstmC; lstmTanhC = base + oLstmTanhC
        logits = base + oLogits; probs = base + oProbs; logProbs = base + oLogProbs; values = base + oValues
        dLogits = base + oDLogits; dValues = base + oDValues; dLstmH = base + oDLstmH; dLstmGates = base + oDLstmGates
        dLstmCarry = base + oDLstmCarry; dLstmHPrevRows = base + oDLstmHPrevRows
        dFcOut = base + oDFcOut; dFcPre = base + oDFcPre; dFcInput = base + oDFcInput
        dConv2Out = base + oDConv2Out; dConv2Pre = base + oDConv2Pre
        transposedDConv1 = base + oTransposed1; transposedDConv2 = base + oTransposed2; dColumns2 = base + oDColumns2
        dConv1Out = base + oDConv1Out; dConv1Pre = base + oDConv1Pre
    }
}
