// Helpers shared by the NeuralCore and Algorithms tests: random buffers and a finite-difference gradient checker.
import NeuralCore

/// A buffer of `count` uniform values in [low, high) from `rng`.
public func randomBuffer(_ count: Int, _ low: Float = -1, _ high: Float = 1, rng: inout Xoshiro256StarStar) -> FloatBuffer {
    let buffer = FloatBuffer(count: count)
    for i in 0..<count { buffer.pointer[i] = Float(rng.nextUniform(Double(low), Double(high))) }
    return buffer
}

/// Compares `analytic[i]` with the central difference (L(x + eps) - L(x - eps)) / (2 eps) for each index,
/// perturbing `values[i]` in place (restored afterwards). Returns the largest error, measured as
/// |fd - analytic| / max(1, |fd|, |analytic|) (absolute for small gradients, relative for large ones).
public func maxGradientError(_ name: String, values: UnsafeMutablePointer<Float>, analytic: UnsafePointer<Float>,
                      indices: [Int], epsilon: Float = 1e-2, loss: () -> Double) -> Double {
    var worst = 0.0
    for i in indices {
        let saved = values[i]
        values[i] = saved + epsilon
        let plus = loss()
        values[i] = saved - epsilon
        let minus = loss()
        values[i] = saved
        let numeric = (plus - minus) / (Double(saved + epsilon) - Double(saved - epsilon))
        let exact = Double(analytic[i])
        worst = max(worst, abs(numeric - exact) / max(1, abs(numeric), abs(exact)))
    }
    print("gradient check \(name): max error \(worst) over \(indices.count) entries")
    return worst
}

/// sum_i weights[i] * values[i] in double precision: the scalar loss whose gradient w.r.t. values is weights.
public func weightedSum(_ values: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, count: Int) -> Double {
    var sum = 0.0
    for i in 0..<count { sum += Double(values[i]) * Double(weights[i]) }
    return sum
}
