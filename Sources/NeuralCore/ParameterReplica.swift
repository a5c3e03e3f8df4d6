/// A worker's copy of the global parameters (A3C's thread-specific theta', Mnih et al. 2016,
/// Algorithm S3: "synchronize thread-specific parameters theta' = theta") and the protocol that keeps
/// it in step with the global parameters (`GlobalParameters`). The network knows nothing of it: the replica alone remembers
/// which generation of the global parameters the network's buffer holds and whether its gradients are
/// known to be zero, so both shortcuts below are safe only because the replica is the one writer of
/// `network.parameters` (a worker never writes them by other means).
///
/// A worker's cycle: `synchronize()` -> act, recording -> `zeroGradients()` -> `backwardRecorded` ->
/// `applyGradients(maxGradientNorm:)`. The update is fused: the optimizer's one pass over the
/// buffers also writes the new parameters into the network and zeroes its gradients, so the next
/// `synchronize()` copies nothing unless another worker updated in between, and the next
/// `zeroGradients()` is free.
public final class ParameterReplica {
    /// The worker's local network: it acts and learns on theta'.
    public let network: ActorCriticNetwork
    /// The global parameters this replica follows (in this process, or in another one).
    public let global: GlobalParameters
    /// The generation of the global parameters that `network.parameters` holds (nil: unknown).
    private var heldGeneration: Int?
    /// Whether `network.gradients` is all zeros (the last fused update cleared it).
    private var gradientsAreZero = false

    public init(network: ActorCriticNetwork, global: GlobalParameters) {
        precondition(network.layout == global.layout, "ParameterReplica: the network's layout differs from the global one")
        self.network = network
        self.global = global
    }

    /// theta' = theta: copies the global parameters into the network, unless it holds them already
    /// (no update came in since its own). A copy discards any recording, which was made with the old ones.
    public func synchronize() {
        let generation = global.copyParameters(into: network.parameters, unlessGeneration: heldGeneration)
        if generation != heldGeneration { network.discardRecording() }
        heldGeneration = generation
    }

    /// Clears the network's gradients before a backward pass; free after `applyGradients`, which did it.
    public func zeroGradients() {
        if !gradientsAreZero { network.gradients.zero() }
        gradientsAreZero = false  // the caller's backward pass accumulates into them next
    }

    /// Applies the network's gradients to the global parameters (clipped to `maxGradientNorm`; the
    /// seed's 40), fused with the refresh of the network's parameters and the zeroing of its
    /// gradients. Returns the gradients' global norm before clipping and the parameters' generation
    /// after the update; nil means nothing was applied (a non-finite norm, or global parameters that
    /// are gone: a distributed job stopping) and the network is left as it was.
    @discardableResult
    public func applyGradients(maxGradientNorm: Float?) -> SharedParameters.Update {
        let update = global.apply(gradients: network.gradients, maxGradientNorm: maxGradientNorm,
                                  mirror: network.parameters, zeroingGradients: true)
        if let generation = update.generation {
            network.discardRecording()
            heldGeneration = generation
            gradientsAreZero = true
        }
        return update
    }
}
