// NeuralCore: layers, the conv-LSTM actor-critic, optimizers, safetensors checkpoints. The losses
// and the returns they learn from are the algorithm layer's (module Algorithms).
// The acting step's products (a few rows: direct convolutions, `nk_dense_rows`), the convolutions'
// weight gradients and the element-wise loops (Adam, RMSProp, ELU, sigmoid, tanh, the LSTM cell,
// sums) go to _NeuralKernels, C with AVX-512, AVX2 (+FMA) and scalar variants chosen at run time; the
// backward pass's other matrix products over a whole rollout go to oneDNN's sgemm (through
// _NeuralKernels' nk_sgemm; docs/network-kernels.md has the measurements).
//
// Files, bottom up:
//   FloatBuffer.swift            aligned Float storage owned by a final class
//   ParameterLayout.swift        one flat buffer for all parameters, named views (offset + count)
//   Random.swift                 seeded xoshiro256** + Box-Muller, Glorot and normalized-columns init
//   BLAS.swift                   row-major sgemm on one thread (oneDNN); OpenBLAS set to one thread
//   InstructionSet.swift         the kernels' instruction set (scalar, AVX2, AVX-512): in use, lowering, peak
//   Conv2D.swift                 conv2dForward (direct, nk_conv2d_forward) / conv2dBackward (direct weight gradient, sgemm + col2im)
//   Dense.swift                  denseForward (nk_dense_rows up to denseFewRows rows) / denseBackward (sgemm)
//   Activations.swift            ELU, softmax, log-softmax (forward and backward), sigmoid, tanh (forward)
//   LSTM.swift                   LSTM cell over a batch of sequences with BPTT (gate order i, f, g, o)
//   LSTMStates.swift             LSTMStates (per-sequence h, c) and ActingBatch (one acting step's pi, V)
//   ActorCriticTensors.swift     named views of the parameters, gradients and activations
//   RecordedHeads.swift          what a loss reads of a recorded rollout (pi, log pi, V) and writes (dLogits, dValues)
//   ActorCriticNetwork.swift     the seed's conv-LSTM actor-critic: act (recording), backwardRecorded(loss:)
//   Optimizers.swift             Adam, RMSProp, clipByGlobalNorm, globalNorm
//   SharedParameters.swift       GlobalParameters; global parameters + optimizer state behind a lock
//   ParameterReplica.swift       a worker's copy of the global parameters (the one writer of its network's)
//   CRC32.swift                  CRC-32 (IEEE, zlib's) of checkpoint data and parameter vectors
//   SafeTensors.swift            the safetensors format: encoder, validating reader (writing files is
//                                the caller's: A3C's CheckpointStore, atomically)
//   Checkpoint.swift             network / optimizer state <-> safetensors with PyTorch names
