// Seeded random numbers and the seed network's initialisers.
//
// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64; normals by Box-Muller in Double.
// Everything is integer arithmetic or IEEE double arithmetic in a fixed order, so one seed gives a
// bit-identical network on every machine.

/// xoshiro256** pseudo-random generator, seeded with SplitMix64 (the authors' recommendation).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = nextSplitMix(); s1 = nextSplitMix(); s2 = nextSplitMix(); s3 = nextSplitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform double in [low, high).
    public mutating func nextUniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUnitDouble() }

    /// Standard normal N(0, 1) by the Box-Muller transform (one of the pair is used, for simplicity).
    public mutating func nextNormal() -> Double {
        let u1 = 1.0 - nextUnitDouble() // (0, 1]: log is finite
        let u2 = nextUnitDouble()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }

/// Initialisers of the seed network (awjuliani's A3C-Doom, TensorFlow 1).
public enum Initializers {
    /// Glorot/Xavier uniform (Glorot & Bengio 2010), TensorFlow's `glorot_uniform_initializer`, the
    /// TF1 default for `slim.conv2d`, `slim.fully_connected` and `BasicLSTMCell`:
    /// w ~ U(-limit, limit), limit = sqrt(6 / (fanIn + fanOut)).
    /// For a conv kernel TF takes fanIn = inC*kh*kw and fanOut = outC*kh*kw.
    public static func glorotUniform(_ destination: UnsafeMutablePointer<Float>, count: Int,
                                     fanIn: Int, fanOut: Int, rng: inout Xoshiro256StarStar) {
        let limit = (6.0 / Double(fanIn + fanOut)).squareRoot()
        for index in 0..<count { destination[index] = Float(rng.nextUniform(-limit, limit)) }
    }

    /// The seed's `normalized_columns_initializer(std)`: draw N(0, 1) of TF shape [in, out], then scale
    /// each output column so that its L2 norm is `std`. Written in PyTorch's layout [out, in], so each
    /// *row* of the destination ends with norm `std`. Draw order is TF's (row-major [in, out]).
    public static func normalizedColumns(_ destination: UnsafeMutablePointer<Float>, outputs: Int, inputs: Int,
                                         std: Double, rng: inout Xoshiro256StarStar) {
        var values = [Double](repeating: 0, count: outputs * inputs)
        for i in 0..<inputs { for o in 0..<outputs { values[o * inputs + i] = rng.nextNormal() } }
        for o in 0..<outputs {
            var sumOfSquares = 0.0
            for i in 0..<inputs { sumOfSquares += values[o * inputs + i] * values[o * inputs + i] }
            let scale = std / sumOfSquares.squareRoot()
            for i in 0..<inputs { destination[o * inputs + i] = Float(values[o * inputs + i] * scale) }
        }
    }
}
