// Conv2D: VALID padding, square-or-not kernel, equal stride in both directions, weights in PyTorch's
// layout. The forward is a direct convolution (`nk_conv2d_forward`: it runs on an acting step's few
// frames, where unrolling the input costs more than the products). The backward, over the many frames
// of a rollout: the weight gradient directly too (`nk_conv2d_weight_gradient`, from dOut transposed),
// the input gradient as one sgemm into a column matrix and col2im (Darknet
// `backward_convolutional_layer`).
//
// Legend:
//   N = batch (frames), C = input channels, H, W = input height, width
//   O = output channels, KH, KW = kernel size, S = stride
//   OH = (H - KH) / S + 1, OW = (W - KW) / S + 1, P = OH * OW (output pixels per frame)
//   K = C * KH * KW (one patch, the length of one column of the im2col matrix)
//   weight is (O, C, KH, KW) = [O, K] row-major (PyTorch Conv2d.weight), bias is (O)
//
// Activation layout: "channel-major batch" (C, N, H, W). Within a channel the N frames are
// contiguous, and consecutive channels are `channelStride` floats apart (channelStride >= N*H*W, so
// a layer can work on frames n..<n+N of a larger buffer of capacity frames). With this layout the
// whole batch is ONE sgemm: out[O, N*P] = weight[O, K] * columns[K, N*P]. For N = 1 (or C = 1) it is
// exactly PyTorch's NCHW.

import _NeuralKernels

/// Geometry of a VALID 2-D convolution.
public struct Conv2DShape: Hashable, Sendable {
    public let inChannels: Int, inHeight: Int, inWidth: Int
    public let outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int

    public init(inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, stride: Int) {
        precondition(inChannels > 0 && outChannels > 0 && stride > 0, "Conv2DShape: channels and stride must be positive")
        precondition(kernelHeight > 0 && kernelWidth > 0 && kernelHeight <= inHeight && kernelWidth <= inWidth,
                     "Conv2DShape: kernel \(kernelHeight)x\(kernelWidth) does not fit input \(inHeight)x\(inWidth)")
        self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride
    }

    /// OH = (H - KH) / S + 1 (VALID padding: no output pixel reads outside the input).
    public var outHeight: Int { (inHeight - kernelHeight) / stride + 1 }
    /// OW = (W - KW) / S + 1.
    public var outWidth: Int { (inWidth - kernelWidth) / stride + 1 }
    /// P = OH * OW.
    public var outPixels: Int { outHeight * outWidth }
    /// H * W.
    public var inPixels: Int { inHeight * inWidth }
    /// K = C * KH * KW.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    /// Floats in the weight, O * K.
    public var weightCount: Int { outChannels * patchSize }
    /// Multiply-adds * 2 of the forward pass for one frame (the sgemm).
    public var forwardFlopsPerFrame: Double { 2 * Double(outChannels * patchSize * outPixels) }
}

/// im2col: columns[k, n*P + p] = input[c, n, oy*S + ky, ox*S + kx], k = (c*KH + ky)*KW + kx, p = oy*OW + ox.
///
/// - input: (C, N, H, W), channels `inputChannelStride` apart.
/// - columns: [K, N*P] row-major, rows `columnsStride` apart (>= N*P).
func _im2col(columns: UnsafeMutablePointer<Float>, columnsStride: Int,
             input: UnsafePointer<Float>, inputChannelStride: Int, batch: Int, shape: Conv2DShape) {
    nk_im2col(columns, columnsStride, input, inputChannelStride, batch, shape.inChannels, shape.inHeight,
              shape.inWidth, shape.kernelHeight, shape.kernelWidth, shape.stride)
}

/// Forward: out[o, n, oy, ox] = bias[o] + sum_{c,ky,kx} weight[o, c, ky, kx] * input[c, n, oy*S+ky, ox*S+kx].
///
/// Computed directly (`nk_conv2d_forward`: every output one chain of multiply-adds, independent of the
/// batch), without an unrolled copy of the input.
/// - out: (O, N, OH, OW), channels `outputChannelStride` apart (>= N*P).
/// - input: (C, N, H, W), channels `inputChannelStride` apart (>= N*H*W; any value when C = 1).
/// - weight: (O, C, KH, KW); bias: (O) or nil.
public func conv2dForward(out: UnsafeMutablePointer<Float>, outputChannelStride: Int,
                          input: UnsafePointer<Float>, inputChannelStride: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          batch: Int, shape: Conv2DShape) {
    precondition(outputChannelStride >= batch * shape.outPixels, "conv2dForward: output stride too small for batch \(batch)")
    nk_conv2d_forward(out, outputChannelStride, input, inputChannelStride, weight, bias, batch, shape.inChannels,
                      shape.inHeight, shape.inWidth, shape.outChannels, shape.kernelHeight, shape.kernelWidth, shape.stride)
}

/// Backward of `conv2dForward`; ACCUMULATES into dWeight, dBias and dInput.
///
/// Forward was out[O, N*P] = weight[O, K] * columns[K, N*P] + bias, columns = im2col(input), so
///   dBias[o]        += sum_{n,p} dOut[o, n*P + p]
///   dWeight[O, K]   += dOut[O, N*P] * columns[K, N*P]^T    (computed directly, without im2col)
///   dColumns[K, N*P] = weight[O, K]^T * dOut[O, N*P],  dInput += col2im(dColumns)
/// Pass dInput = nil when the input needs no gradient (the first layer), saving an sgemm and col2im.
/// - input: the forward's input, (C, N, H, W), channels `inputChannelStride` apart.
/// - dOut: (O, N, OH, OW), channels `outputChannelStride` apart.
/// - transposeScratch: scratch of N*P*O floats, for dOut transposed (the weight gradient's input).
/// - dColumns: scratch [K, N*P], rows `columnsStride` apart (>= N*P), needed when dInput != nil.
///   dInput shares the input's channel stride `dInputChannelStride`.
public func conv2dBackward(dInput: UnsafeMutablePointer<Float>?, dInputChannelStride: Int,
                           dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                           dOut: UnsafePointer<Float>, outputChannelStride: Int,
                           input: UnsafePointer<Float>, inputChannelStride: Int,
                           transposeScratch: UnsafeMutablePointer<Float>, dColumns: UnsafeMutablePointer<Float>?,
                           columnsStride: Int,
                           weight: UnsafePointer<Float>, batch: Int, shape: Conv2DShape) {
    let np = batch * shape.outPixels
    precondition(dInput == nil || columnsStride >= np, "conv2dBackward: columns stride too small for batch \(batch)")
    if let dBias {
        for o in 0..<shape.outChannels {
            // 64 partial sums (nk_sum): a single running sum was one dependent add per element.
            dBias[o] += nk_sum(dOut + o * outputChannelStride, np)
        }
    }
    // dWeight directly from dOut and the input (`nk_conv2d_weight_gradient`): 2.4-3.2x faster than
    // im2col + one sgemm (docs/network-kernels.md).
    nk_conv2d_weight_gradient(dWeight, dOut, outputChannelStride, input, inputChannelStride, transposeScratch, batch,
                              shape.inChannels, shape.inHeight, shape.inWidth, shape.outChannels,
                              shape.kernelHeight, shape.kernelWidth, shape.stride)
    if let dInput {
        guard let dColumns else { preconditionFailure("conv2dBackward: dColumns scratch is required for dInput") }
        _sgemm(transposeA: true, transposeB: false, m: shape.patchSize, n: np, k: shape.outChannels,
               a: weight, lda: shape.patchSize, b: dOut, ldb: outputChannelStride,
               beta: 0, c: dColumns, ldc: columnsStride)
        nk_col2im_accumulate(dInput, dInputChannelStride, dColumns, columnsStride, batch, shape.inChannels,
                             shape.inHeight, shape.inWidth, shape.kernelHeight, shape.kernelWidth, shape.stride)
    }
}
