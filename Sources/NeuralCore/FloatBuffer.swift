// FloatBuffer: a fixed-size, 64-byte aligned, zero-initialised array of Float owned by a class.
//
// Hot loops take `pointer` directly: no bounds checks, no copy-on-write, no retain/release per
// element. The buffer never moves and never grows, so pointers into it stay valid for its lifetime.

/// Fixed-size Float storage, aligned to 64 bytes (one cache line, one AVX-512 vector).
///
/// Not thread-safe by itself: a buffer belongs to one thread, or is guarded by a lock
/// (see `SharedParameters`).
public final class FloatBuffer {
    /// Number of Floats.
    public let count: Int
    /// Start of the storage; valid until the buffer is deinitialised.
    public let pointer: UnsafeMutablePointer<Float>

    /// A buffer of `count` zeros.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative, got \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// The storage as a buffer pointer (for `for` loops and `Array(_:)`).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy of the contents.
    public var array: [Float] { Array(buffer) }

    /// Element access (bounds-checked; for tests and setup, not for hot loops).
    public subscript(index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "FloatBuffer index \(index) out of range 0..<\(count)")
            return pointer[index]
        }
        set {
            precondition(index >= 0 && index < count, "FloatBuffer index \(index) out of range 0..<\(count)")
            pointer[index] = newValue
        }
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies all of `other` into this buffer (one memcpy). Counts must match.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: count \(other.count) != \(count)")
        pointer.update(from: other.pointer, count: count)
    }
}
