// LSTM cell (Hochreiter & Schmidhuber 1997) stepped over a sequence, with backpropagation through
// time. PyTorch's LSTMCell conventions: gate order i, f, g, o in weight rows and gate vectors.
//
// Legend: T = time steps, I = input size, H = hidden size, G = 4H (gates i, f, g, o stacked)
//   weightIH (G, I), weightHH (G, H), biasIH (G), biasHH (G)   -- PyTorch LSTMCell parameters
//   input x (T, I); per step t the state (hPrev_t, cPrev_t) -> (h_t, c_t)
//   gates (T, G): pre-activations z while computing, then the activations [i, f, g, o]
//
// One step:
//   z = W_ih x_t + b_ih + W_hh hPrev + b_hh           (T steps of W_ih x_t are ONE sgemm, done first)
//   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//   c_t = f * cPrev + i * g
//   h_t = o * tanh(c_t)
import _NeuralKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sizes of an LSTM cell.
public struct LSTMShape: Hashable, Sendable {
    public let inputSize: Int, hiddenSize: Int
    public init(inputSize: Int, hiddenSize: Int) {
        precondition(inputSize > 0 && hiddenSize > 0, "LSTMShape: sizes must be positive")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize
    }
    /// G = 4H.
    public var gateCount: Int { 4 * hiddenSize }
}

/// The input part of the gate pre-activations for all T steps at once:
/// gates[t, :] = x_t W_ih^T + b_ih + b_hh (one sgemm for T > 1).
/// - gates: (T, G), rows `gatesStride` apart; input: (T, I), rows `inputStride` apart.
public func lstmInputProjectionForward(gates: UnsafeMutablePointer<Float>, gatesStride: Int? = nil,
                                       input: UnsafePointer<Float>, inputStride: Int? = nil,
                                       weightIH: UnsafePointer<Float>, biasIH: UnsafePointer<Float>,
                                       biasHH: UnsafePointer<Float>, steps: Int, shape: LSTMShape) {
    let g = shape.gateCount, ldg = gatesStride ?? g
    denseForward(out: gates, outStride: ldg, input: input, inputStride: inputStride, weight: weightIH, bias: biasIH,
                 batch: steps, inFeatures: shape.inputSize, outFeatures: g)
    for t in 0..<steps {
        let row = gates + t * ldg
        for j in 0..<g { row[j] += biasHH[j] }
    }
}

/// One recurrent step, after `lstmInputProjectionForward` filled `gates` with W_ih x_t + b_ih + b_hh:
/// adds W_hh hPrev, applies the gate nonlinearities IN PLACE (gates becomes [i, f, g, o]) and writes
/// c = f * cPrev + i * g, tanhC = tanh(c), h = o * tanhC.
/// - gates: (G); hPrev, cPrev, h, c, tanhC: (H). h and c must not alias hPrev and cPrev.
public func lstmCellForward(h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                            tanhC: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>,
                            hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                            weightHH: UnsafePointer<Float>, shape: LSTMShape) {
    let hs = shape.hiddenSize
    _sgemv(transpose: false, m: shape.gateCount, n: hs, a: weightHH, lda: hs, x: hPrev, beta: 1, y: gates)
    // The element-wise rest (sigmoid, tanh as in `sigmoidForward`, `tanhForward`), 16 lanes at a time.
    nk_lstm_cell_forward(h, c, tanhC, gates, cPrev, hs)
}

/// The whole sequence forward: steps t = 0..<T, with (hPrev_0, cPrev_0) = (h0, c0) and
/// (hPrev_t, cPrev_t) = (h_{t-1}, c_{t-1}). Records hPrev and cPrev per step for the backward pass.
/// - h, c, tanhC, hPrev, cPrev: (T, H); gates: (T, G); input: (T, I); h0, c0: (H).
public func lstmForward(h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                        tanhC: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>,
                        hPrev: UnsafeMutablePointer<Float>, cPrev: UnsafeMutablePointer<Float>,
                        input: UnsafePointer<Float>, h0: UnsafePointer<Float>, c0: UnsafePointer<Float>,
                        weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                        biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>,
                        steps: Int, shape: LSTMShape) {
    let hs = shape.hiddenSize, g = shape.gateCount
    lstmInputProjectionForward(gates: gates, input: input, weightIH: weightIH, biasIH: biasIH, biasHH: biasHH,
                               steps: steps, shape: shape)
    for t in 0..<steps {
        (hPrev + t * hs).update(from: t == 0 ? h0 : UnsafePointer(h + (t - 1) * hs), count: hs)
        (cPrev + t * hs).update(from: t == 0 ? c0 : UnsafePointer(c + (t - 1) * hs), count: hs)
        lstmCellForward(h: h + t * hs, c: c + t * hs, tanhC: tanhC + t * hs, gates: gates + t * g,
                        hPrev: hPrev + t * hs, cPrev: cPrev + t * hs, weightHH: weightHH, shape: shape)
    }
}

/// Backpropagation through time over the T steps of `lstmForward`; ACCUMULATES into every d-buffer.
///
/// dH (T, H) is the loss gradient reaching each h_t from above (not through the recurrence). Going
/// back from t = T-1, with carries dhNext = dL/dh_t and dcNext = dL/dc_t through later steps:
///   forward h = o * tanh(c):           dh = dH[t] + dhNext;  do = dh * tanh(c);  dc = dcNext + dh * o * (1 - tanh(c)^2)
///   forward c = f * cPrev + i * g:     di = dc * g;  df = dc * cPrev;  dg = dc * i;  dcPrev = dc * f
///   forward i,f,o = sigmoid(z), g = tanh(z):  dz = di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)
///   forward z = W_ih x + b_ih + W_hh hPrev + b_hh:  dhPrev = W_hh^T dz, and after the loop, for all T at once,
///     dW_ih += dZ^T x,  dW_hh += dZ^T hPrev,  db_ih += sum_t dz,  db_hh += sum_t dz,  dInput += dZ W_ih.
/// dH0, dC0 (H), if given, receive the gradient with respect to the initial state.
/// - dGates: scratch (T, G); carry: scratch (2H).
public func lstmBackward(dInput: UnsafeMutablePointer<Float>?, dWeightIH: UnsafeMutablePointer<Float>,
                         dWeightHH: UnsafeMutablePointer<Float>, dBiasIH: UnsafeMutablePointer<Float>,
                         dBiasHH: UnsafeMutablePointer<Float>, dH0: UnsafeMutablePointer<Float>?,
                         dC0: UnsafeMutablePointer<Float>?, dH: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                         gates: UnsafePointer<Float>, tanhC: UnsafePointer<Float>,
                         weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>,
                         dGates: UnsafeMutablePointer<Float>, carry: UnsafeMutablePointer<Float>,
                         steps: Int, shape: LSTMShape) {
    let hs = shape.hiddenSize, gc = shape.gateCount
    let dhNext = carry, dcNext = carry + hs
    dhNext.update(repeating: 0, count: 2 * hs)
    for t in stride(from: steps - 1, through: 0, by: -1) {
        let dz = dGates + t * gc
        // dh, dc, the four dz and the new dcNext as in the comment above, element-wise (`nk_lstm_cell_backward`).
        nk_lstm_cell_backward(dz, dcNext, dhNext, dH + t * hs, gates + t * gc, tanhC + t * hs, cPrev + t * hs, hs)
        // dhPrev = W_hh^T dz (W_hh is (G, H), so this is a transposed gemv).
        _sgemv(transpose: true, m: gc, n: hs, a: weightHH, lda: hs, x: dz, beta: 0, y: dhNext)
    }
    if let dH0 { for j in 0..<hs { dH0[j] += dhNext[j] } }
    if let dC0 { for j in 0..<hs { dC0[j] += dcNext[j] } }
    // The T-step sums, one sgemm each.
    denseBackward(dInput: dInput, dWeight: dWeightIH, dBias: dBiasIH, dOut: dGates, input: input, weight: weightIH,
                  batch: steps, inFeatures: shape.inputSize, outFeatures: gc)
    _sgemm(transposeA: true, transposeB: false, m: gc, n: hs, k: steps,
           a: dGates, lda: gc, b: hPrev, ldb: hs, beta: 1, c: dWeightHH, ldc: hs)
    for t in 0..<steps {
        let dz = dGates + t * gc
        for j in 0..<gc { dBiasHH[j] += dz[j] }
    }
}
