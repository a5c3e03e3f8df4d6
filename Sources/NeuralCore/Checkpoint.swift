// Checkpoints: flat parameter buffers and optimizer state <-> safetensors, by tensor name.
//
// Model file: the tensors of `ActorCriticNetwork.parameterLayout` with PyTorch's names and layouts, so
//   model.load_state_dict(safetensors.torch.load_file(path), strict=True)
// loads it into the equivalent PyTorch module:
//   conv1 = Conv2d(1, 16, 8, 4); conv2 = Conv2d(16, 32, 4, 2); fc = Linear(2592, 256)
//   lstm = LSTMCell(256, 256); policy = Linear(256, A, bias=False); value = Linear(256, 1, bias=False)
// Optimizer file: one tensor per state buffer and parameter tensor, named "<kind>.<buffer>.<parameter>"
// (e.g. adam.m.conv1.weight, adam.v.fc.bias), scalars (step count, hyperparameters) in the metadata.
import Foundation

extension ParameterLayout {
    /// The tensors of `buffer` (which has this layout) as named tensors, each name prefixed by `prefix`.
    public func tensors(from buffer: FloatBuffer, prefix: String = "") -> [NamedTensor] {
        precondition(buffer.count == totalCount, "buffer has \(buffer.count) floats, layout \(totalCount)")
        return views.map { view in
            NamedTensor(name: prefix + view.name, shape: view.shape,
                        values: Array(UnsafeBufferPointer(start: buffer.pointer + view.offset, count: view.count)))
        }
    }

    /// Copies the tensors named `prefix + view.name` into `buffer`, strictly: every tensor of the layout
    /// must be present with the same shape, and no other tensor with that prefix may be. Checks everything
    /// before writing, so `buffer` is unchanged when this throws.
    public func load(_ tensors: [NamedTensor], into buffer: FloatBuffer, prefix: String = "") throws {
        precondition(buffer.count == totalCount, "buffer has \(buffer.count) floats, layout \(totalCount)")
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors where tensor.name.hasPrefix(prefix) { byName[tensor.name] = tensor }
        for view in views {
            guard let tensor = byName[prefix + view.name] else {
                throw SafeTensorsError("checkpoint has no tensor \(prefix + view.name)")
            }
            guard tensor.shape == view.shape else {
                throw SafeTensorsError("tensor \(prefix + view.name) has shape \(tensor.shape) in the checkpoint but \(view.shape) in the model")
            }
        }
        let expected = Set(views.map { prefix + $0.name })
        if let unexpected = byName.keys.sorted().first(where: { !expected.contains($0) }) {
            throw SafeTensorsError("checkpoint has an unexpected tensor \(unexpected)")
        }
        for view in views {
            byName[prefix + view.name]!.values.withUnsafeBufferPointer {
                (buffer.pointer + view.offset).update(from: $0.baseAddress!, count: view.count)
            }
        }
    }
}

extension FlatOptimizer {
    /// The optimizer state as named tensors (one per state buffer and parameter tensor) and metadata.
    public func stateTensors(layout: ParameterLayout) -> (tensors: [NamedTensor], metadata: [String: String]) {
        var tensors: [NamedTensor] = []
        for (name, buffer) in stateBuffers { tensors += layout.tensors(from: buffer, prefix: "\(kind).\(name).") }
        var metadata = stateMetadata
        metadata["a3c.optimizer"] = kind
        return (tensors, metadata)
    }

    /// Restores the state written by `stateTensors(layout:)`; throws if the file is for another
    /// optimizer or another layout.
    public func loadState(_ file: SafeTensorsFile, layout: ParameterLayout) throws {
        guard file.metadata["a3c.optimizer"] == kind else {
            throw SafeTensorsError("optimizer state is for \"\(file.metadata["a3c.optimizer"] ?? "unknown")\", not \(kind)")
        }
        let expected = Set(stateBuffers.flatMap { buffer in layout.views.map { "\(kind).\(buffer.name).\($0.name)" } })
        if let unexpected = file.tensors.first(where: { !expected.contains($0.name) }) {
            throw SafeTensorsError("optimizer state has an unexpected tensor \(unexpected.name)")
        }
        // Validate everything into scratch buffers first, so a bad file leaves the optimizer unchanged.
        var loaded: [(FloatBuffer, FloatBuffer)] = []
        for (name, buffer) in stateBuffers {
            let scratch = FloatBuffer(count: buffer.count)
            try layout.load(file.tensors, into: scratch, prefix: "\(kind).\(name).")
            loaded.append((buffer, scratch))
        }
        try restoreMetadata(file.metadata)
        for (buffer, scratch) in loaded { buffer.copy(from: scratch) }
    }
}

extension ActorCriticNetwork {
    /// The parameters as named tensors with PyTorch names and shapes.
    public func parameterTensors() -> [NamedTensor] { layout.tensors(from: parameters) }

    /// The parameters as the bytes of a safetensors file loadable by PyTorch (see Checkpoint.swift).
    /// Adds "format": "pt" and "a3c.action_count" to `metadata`.
    public func checkpointBytes(metadata: [String: String] = [:]) -> [UInt8] {
        var all = metadata
        all["format"] = "pt"
        all["a3c.action_count"] = String(actionCount)
        return SafeTensors.encode(tensors: parameterTensors(), metadata: all)
    }

    /// Loads parameters saved by `checkpointBytes` (or by PyTorch's safetensors with the same names);
    /// returns the file's metadata. Throws, naming the tensor and both shapes, when a shape differs
    /// (e.g. a checkpoint for another action count). Forgets recorded acting steps. A network that
    /// has a `ParameterReplica` must be written only through the replica: loading into it goes
    /// unnoticed, and the replica's next `synchronize()` would skip its copy.
    @discardableResult
    public func loadCheckpoint(from url: URL) throws -> [String: String] {
        let file = try SafeTensors.read(from: url)
        try layout.load(file.tensors, into: parameters)
        discardRecording()
        return file.metadata
    }
}

extension SharedParameters {
    /// A consistent snapshot of the global parameters (the model file's bytes, PyTorch names) and of
    /// the optimizer state (the second file's), copied under the lock and encoded after releasing it.
    public func checkpointBytes(metadata: [String: String] = [:]) -> (model: [UInt8], optimizer: [UInt8]) {
        let (parameterTensors, optimizerState, updates) = withLockedReading { state in
            (layout.tensors(from: state.parameters), state.optimizer.stateTensors(layout: layout), state.updateCount)
        }
        var modelMetadata = metadata
        modelMetadata["format"] = "pt"
        modelMetadata["a3c.update_count"] = String(updates)
        if let policy = layout.views.first(where: { $0.name == "policy.weight" }) {
            modelMetadata["a3c.action_count"] = String(policy.shape[0])
        }
        var optimizerMetadata = optimizerState.metadata
        optimizerMetadata["a3c.update_count"] = String(updates)
        return (SafeTensors.encode(tensors: parameterTensors, metadata: modelMetadata),
                SafeTensors.encode(tensors: optimizerState.tensors, metadata: optimizerMetadata))
    }

    /// Restores parameters and optimizer state saved from `checkpointBytes`, so that a resumed run continues
    /// exactly. Both files are read and validated before anything is changed. Returns the model file's metadata.
    @discardableResult
    public func loadCheckpoint(parametersFrom parametersURL: URL, optimizerStateFrom optimizerURL: URL) throws -> [String: String] {
        let model = try SafeTensors.read(from: parametersURL)
        let optimizerFile = try SafeTensors.read(from: optimizerURL)
        let parameters = FloatBuffer(count: layout.totalCount)
        try layout.load(model.tensors, into: parameters)
        let updates = Int(model.metadata["a3c.update_count"] ?? "0") ?? 0
        try withLockedValue { state in
            try state.optimizer.loadState(optimizerFile, layout: layout)
            state.parameters.copy(from: parameters)
            state.updateCount = updates
        }
        return model.metadata
    }
}
