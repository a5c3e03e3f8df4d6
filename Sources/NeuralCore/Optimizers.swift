// Optimizers over flat buffers: every parameter tensor of a model is one loop over `count` floats
// (the layout's padding stays zero and never moves). Optimizer state buffers share the layout.
//
// Legend: theta = parameters, g = gradients (count,), scale = a factor applied to g on the fly, so
// that clipping by global norm costs no extra pass over the gradients.
//
// The loops are `_NeuralKernels`' nk_adam_step / nk_rmsprop_step (AVX-512 or AVX2 when the CPU has
// it, otherwise scalar; the same float operations in every variant). They are memory-bound on
// 4 buffers of count floats, so the fused form `step(..., mirror:, zeroingGradients:)` also writes
// the new parameters into a worker's local copy and clears the gradients in the same pass.
import _CBLAS
import _NeuralKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An optimizer that updates a flat parameter buffer from a flat gradient buffer of the same layout.
public protocol FlatOptimizer: AnyObject {
    /// Step size eta.
    var learningRate: Float { get set }
    /// Floats per buffer (the layout's totalCount).
    var parameterCount: Int { get }
    /// One update of `parameters` with the gradient `gradientScale * gradients`.
    func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, gradientScale: Float)
    /// The same update in one pass that ALSO copies the new parameters into `mirror` (if not nil, a
    /// buffer of parameterCount floats distinct from `parameters`) and, if `zeroingGradients`, sets every
    /// gradient to 0 after reading it. Counts as one step, like `step(parameters:gradients:gradientScale:)`.
    func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, gradientScale: Float,
              mirror: UnsafeMutablePointer<Float>?, zeroingGradients: Bool)

    /// Short name used in checkpoint tensor names and metadata, e.g. "adam".
    var kind: String { get }
    /// The state buffers with their names ("m", "v", ...), in the parameter layout.
    var stateBuffers: [(name: String, buffer: FloatBuffer)] { get }
    /// Scalars of the state and the hyperparameters, as strings (checkpoint metadata).
    var stateMetadata: [String: String] { get }
    /// Restores the scalars written by `stateMetadata`; throws on a missing or malformed value.
    func restoreMetadata(_ metadata: [String: String]) throws
}

extension FlatOptimizer {
    /// The plain update: the fused one with no mirror and the gradients left as they are.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, gradientScale: Float = 1) {
        // With zeroingGradients false the kernels only read the gradients.
        step(parameters: parameters, gradients: UnsafeMutablePointer(mutating: gradients), gradientScale: gradientScale,
             mirror: nil, zeroingGradients: false)
    }
}

/// Adam (Kingma & Ba 2015) with bias correction, written as TensorFlow 1's `tf.train.AdamOptimizer`
/// that the seed used (so epsilon is TF's "epsilon hat", added after the bias correction of the step size):
///
///   t += 1
///   m = beta1 * m + (1 - beta1) * g
///   v = beta2 * v + (1 - beta2) * g^2
///   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
///   theta -= lr_t * m / (sqrt(v) + epsilon)
///
/// Defaults: lr 1e-4 (the seed's), beta1 0.9, beta2 0.999, epsilon 1e-8 (TF1's and the paper's defaults).
/// (PyTorch's Adam puts epsilon after correcting v: theta -= lr * m_hat / (sqrt(v_hat) + eps); the two
/// differ only while sqrt(v) is near epsilon.)
public final class Adam: FlatOptimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    /// First-moment estimate m, (parameterCount).
    public let m: FloatBuffer
    /// Second-moment estimate v, (parameterCount).
    public let v: FloatBuffer
    /// Number of steps taken (t).
    public private(set) var stepCount: Int = 0
    public var parameterCount: Int { m.count }

    public init(parameterCount: Int, learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8) {
        precondition(learningRate >= 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0,
                     "Adam: invalid hyperparameters lr \(learningRate), beta1 \(beta1), beta2 \(beta2), epsilon \(epsilon)")
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        m = FloatBuffer(count: parameterCount)
        v = FloatBuffer(count: parameterCount)
    }

    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, gradientScale: Float,
                     mirror: UnsafeMutablePointer<Float>?, zeroingGradients: Bool) {
        precondition(mirror != parameters, "Adam.step: mirror must be a different buffer from parameters")
        stepCount += 1
        let t = Double(stepCount)
        let correctedRate = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        let constants = nk_adam_constants(rate: correctedRate, beta1: beta1, beta2: beta2, one_minus_beta1: 1 - beta1,
                                          one_minus_beta2: 1 - beta2, epsilon: epsilon, gradient_scale: gradientScale)
        nk_adam_step(parameters, m.pointer, v.pointer, gradients, m.count, constants, mirror, zeroingGradients)
    }

    public var kind: String { "adam" }
    public var stateBuffers: [(name: String, buffer: FloatBuffer)] { [("m", m), ("v", v)] }
    public var stateMetadata: [String: String] {
        ["adam.step": String(stepCount), "adam.learning_rate": "\(learningRate)", "adam.beta1": "\(beta1)",
         "adam.beta2": "\(beta2)", "adam.epsilon": "\(epsilon)"]
    }
    public func restoreMetadata(_ metadata: [String: String]) throws {
        guard let text = metadata["adam.step"], let steps = Int(text), steps >= 0 else {
            throw SafeTensorsError("optimizer state has no valid adam.step in its metadata (got \(metadata["adam.step"] ?? "nothing"))")
        }
        stepCount = steps
    }
}

/// RMSProp as the A3C paper's shared RMSProp (Mnih et al. 2016, Section 4, "Optimization"):
///
///   ms = decay * ms + (1 - decay) * g^2
///   theta -= lr * g / sqrt(ms + epsilon)
///
/// Note epsilon is INSIDE the square root, as in the paper's equation. Defaults: decay alpha = 0.99 and
/// epsilon = 0.1, the paper's values; lr 7e-4, a common A3C/A2C choice (the paper sampled lr from
/// LogUniform(1e-4, 1e-2) per run).
public final class RMSProp: FlatOptimizer {
    public var learningRate: Float
    public let decay: Float, epsilon: Float
    /// Running mean of squared gradients (g in the paper), (parameterCount).
    public let meanSquare: FloatBuffer
    public private(set) var stepCount: Int = 0
    public var parameterCount: Int { meanSquare.count }

    public init(parameterCount: Int, learningRate: Float = 7e-4, decay: Float = 0.99, epsilon: Float = 0.1) {
        precondition(learningRate >= 0 && decay >= 0 && decay < 1 && epsilon > 0,
                     "RMSProp: invalid hyperparameters lr \(learningRate), decay \(decay), epsilon \(epsilon)")
        self.learningRate = learningRate; self.decay = decay; self.epsilon = epsilon
        meanSquare = FloatBuffer(count: parameterCount)
    }

    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, gradientScale: Float,
                     mirror: UnsafeMutablePointer<Float>?, zeroingGradients: Bool) {
        precondition(mirror != parameters, "RMSProp.step: mirror must be a different buffer from parameters")
        stepCount += 1
        let constants = nk_rmsprop_constants(rate: learningRate, decay: decay, one_minus_decay: 1 - decay,
                                             epsilon: epsilon, gradient_scale: gradientScale)
        nk_rmsprop_step(parameters, meanSquare.pointer, gradients, meanSquare.count, constants, mirror, zeroingGradients)
    }

    public var kind: String { "rmsprop" }
    public var stateBuffers: [(name: String, buffer: FloatBuffer)] { [("ms", meanSquare)] }
    public var stateMetadata: [String: String] {
        ["rmsprop.step": String(stepCount), "rmsprop.learning_rate": "\(learningRate)", "rmsprop.decay": "\(decay)",
         "rmsprop.epsilon": "\(epsilon)"]
    }
    public func restoreMetadata(_ metadata: [String: String]) throws {
        guard let text = metadata["rmsprop.step"], let steps = Int(text), steps >= 0 else {
            throw SafeTensorsError("optimizer state has no valid rmsprop.step in its metadata")
        }
        stepCount = steps
    }
}

/// The global L2 norm sqrt(sum_i x_i^2) of a flat buffer (TF's `tf.global_norm` over all tensors:
/// the seed's "Grad Norm" and "Var Norm"). Accumulated in double precision.
public func globalNorm(_ values: UnsafePointer<Float>, count: Int) -> Float {
    Float(cblas_dsdot(Int32(count), values, 1, values, 1).squareRoot())
}

/// The global L2 norm of a buffer.
public func globalNorm(_ buffer: FloatBuffer) -> Float { globalNorm(buffer.pointer, count: buffer.count) }

/// The factor that `clipByGlobalNorm` multiplies by: maxNorm / max(norm, maxNorm) (1 when norm <= maxNorm),
/// as TF's `tf.clip_by_global_norm`.
public func clipScale(norm: Float, maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "maxNorm must be positive, got \(maxNorm)")
    return norm > maxNorm ? maxNorm / norm : 1
}

/// Clips by global norm in place (TF's `tf.clip_by_global_norm`, the seed clips at 40):
/// if ||g|| > maxNorm then g *= maxNorm / ||g||. Returns ||g|| BEFORE clipping (the seed's "Grad Norm").
@discardableResult
public func clipByGlobalNorm(_ gradients: FloatBuffer, maxNorm: Float) -> Float {
    let norm = globalNorm(gradients)
    let scale = clipScale(norm: norm, maxNorm: maxNorm)
    if scale != 1 { cblas_sscal(Int32(gradients.count), scale, gradients.pointer, 1) }
    return norm
}
