// NeuralCore: layers, the conv-LSTM actor-critic, optimizers, safetensors checkpoints.
// The acting step's products (a few rows: direct convolutions, `nk_dense_rows`) and the element-wise
// loops (Adam, RMSProp, ELU, sigmoid, tanh, the LSTM cell, sums) go to _NeuralKernels, C with AVX2
// (+FMA) and, for the element-wise loops, AVX-512 variants chosen at run time; the backward pass's
// matrix products over a whole rollout go to OpenBLAS (_CBLAS).
//
// Files, bottom up:
//   FloatBuffer.swift            aligned Float storage owned by a final class
//   ParameterLayout.swift        one flat buffer for all parameters, named views (offset + count)
//   Random.swift                 seeded xoshiro256** + Box-Muller, Glorot and normalized-columns init
//   BLAS.swift                   single-threaded OpenBLAS, row-major sgemm / sgemv wrappers
//   Conv2D.swift                 conv2dForward (direct, nk_conv2d_forward) / conv2dBackward (im2col + sgemm)
//   Dense.swift                  denseForward (nk_dense_rows up to denseFewRows rows) / denseBackward (sgemm)
//   Activations.swift            ELU, softmax, log-softmax (forward and backward), sigmoid, tanh (forward)
//   LSTM.swift                   LSTM cell over a batch of sequences with BPTT (gate order i, f, g, o)
//   LSTMStates.swift             LSTMStates (per-sequence h, c) and ActingBatch (one acting step's pi, V)
//   A3CLoss.swift                policy loss, value loss, entropy (Mnih et al. 2016)
//   ActorCriticTensors.swift     named views of the parameters, gradients and activations
//   ActorCriticNetwork.swift     the seed's conv-LSTM actor-critic: act (recording), backwardRecorded
//   Optimizers.swift             Adam, RMSProp, clipByGlobalNorm, globalNorm
//   SharedParameters.swift       GlobalParameters; global parameters + optimizer state behind a lock
//   ParameterReplica.swift       a worker's copy of the global parameters (the one writer of its network's)
//   CRC32.swift                  CRC-32 (IEEE, zlib's) of checkpoint data and parameter vectors
//   SafeTensors.swift            the safetensors format: encoder, validating reader (writing files is
//                                the caller's: A3C's CheckpointStore, atomically)
//   Checkpoint.swift             network / optimizer state <-> safetensors with PyTorch names
//   NetworkBenchmark.swift       timing of the acting step and the rollout update
