// The instruction set of the network's kernels (`_NeuralKernels`) and of oneDNN's matrix products.
import _NeuralKernels

/// Vector instruction sets the kernels have variants for, in increasing order. The best one the CPU
/// supports is used unless `limit(to:)` lowered it.
public enum InstructionSet: String, CaseIterable, Sendable, Comparable {
    case scalar, avx2, avx512

    /// The set in use by the kernels now.
    public static var current: InstructionSet { InstructionSet(nk_current_level()) }
    /// The best set this CPU (and OS) supports.
    public static var supported: InstructionSet { InstructionSet(nk_supported_level()) }

    /// Lowers the kernels and oneDNN's products to `set` (or to the supported set, if lower), for a
    /// benchmark that compares the paths on one machine. Returns the set now in use by the kernels,
    /// and whether oneDNN took the limit: it does only before its first product in the process
    /// (`nk_sgemm_limit_level`), so call this first.
    @discardableResult
    public static func limit(to set: InstructionSet) -> (kernels: InstructionSet, matrixProductsLimited: Bool) {
        let limited = nk_sgemm_limit_level(set.level) == 0
        return (InstructionSet(nk_set_level(set.level)), limited)
    }

    /// The core's fused multiply-add peak at this set, GFLOP/s, measured over about `seconds`
    /// (`nk_fma_peak_gflops`).
    public func measuredPeakGFlops(seconds: Double = 0.2) -> Double { nk_fma_peak_gflops(level, seconds) }

    var level: nk_level {
        switch self {
        case .scalar: return NK_LEVEL_SCALAR
        case .avx2: return NK_LEVEL_AVX2
        case .avx512: return NK_LEVEL_AVX512
        }
    }

    init(_ level: nk_level) {
        switch level {
        case NK_LEVEL_AVX512: self = .avx512
        case NK_LEVEL_AVX2: self = .avx2
        default: self = .scalar
        }
    }

    public static func < (lhs: InstructionSet, rhs: InstructionSet) -> Bool { lhs.level.rawValue < rhs.level.rawValue }
}
