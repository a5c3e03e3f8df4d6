// ParameterLayout: every parameter tensor of a model as a named view (offset + count) into one
// flat Float buffer (llm.c `ParameterTensors`). The gradient buffer and each optimizer state buffer
// use the same layout, so an optimizer is one loop over `totalCount` floats.
//
// Each view starts at a multiple of `ParameterLayout.alignment` floats (64 bytes); the few floats of
// padding between views stay zero in parameters and gradients, so they change no norm and no step.

/// A named tensor inside a flat buffer.
public struct ParameterView: Hashable, Sendable {
    /// PyTorch state-dict name, e.g. `conv1.weight`.
    public let name: String
    /// Shape in PyTorch's layout, row-major, e.g. `[16, 1, 8, 8]`.
    public let shape: [Int]
    /// First float of the tensor in the flat buffer.
    public let offset: Int
    /// Number of floats (product of `shape`).
    public var count: Int { shape.reduce(1, *) }
}

/// The named views of a model's flat parameter buffer.
public struct ParameterLayout: Hashable, Sendable {
    /// Views start on multiples of this many floats (16 floats = 64 bytes, one cache line).
    public static let alignment = 16

    /// The views in storage order.
    public let views: [ParameterView]
    /// Floats in the flat buffer, padding included.
    public let totalCount: Int

    /// Lays out tensors in the given order, each aligned to `alignment` floats.
    public init(tensors: [(name: String, shape: [Int])]) {
        var offset = 0
        var views: [ParameterView] = []
        for (name, shape) in tensors {
            precondition(shape.allSatisfy { $0 > 0 }, "tensor \(name) has a non-positive dimension: \(shape)")
            precondition(!views.contains { $0.name == name }, "duplicate tensor name \(name)")
            let view = ParameterView(name: name, shape: shape, offset: offset)
            views.append(view)
            offset += (view.count + Self.alignment - 1) / Self.alignment * Self.alignment
        }
        self.views = views
        self.totalCount = offset
    }

    /// Number of real parameters (padding excluded).
    public var parameterCount: Int { views.reduce(0) { $0 + $1.count } }

    /// The view called `name`; a programmer error if there is none.
    public subscript(name: String) -> ParameterView {
        guard let view = views.first(where: { $0.name == name }) else {
            preconditionFailure("no parameter tensor named \(name)")
        }
        return view
    }
}
