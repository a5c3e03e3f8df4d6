// NeuralCore: layers, the conv-LSTM actor-critic, optimizers, safetensors checkpoints.
// Matrix products go to OpenBLAS (_CBLAS); the element-wise loops that dominate the rest (Adam,
// RMSProp, ELU, the LSTM cell, sums) to _NeuralKernels, C with AVX-512/AVX2 variants chosen at run time.
//
// Files, bottom up:
//   FloatBuffer.swift            aligned Float storage owned by a final class
//   ParameterLayout.swift        one flat buffer for all parameters, named views (offset + count)
//   Random.swift                 seeded xoshiro256** + Box-Muller, Glorot and normalized-columns init
//   BLAS.swift                   single-threaded OpenBLAS, row-major sgemm / sgemv wrappers
//   Conv2D.swift                 conv2dForward / conv2dBackward (im2col + one sgemm)
//   Dense.swift                  denseForward / denseBackward
//   Activations.swift            ELU, softmax, log-softmax (forward and backward)
//   LSTM.swift                   LSTM cell over a sequence with BPTT (gate order i, f, g, o)
//   A3CLoss.swift                policy loss, value loss, entropy (Mnih et al. 2016)
//   ActorCriticNetwork.swift     the seed's conv-LSTM actor-critic: act, backwardRecorded, forwardBackwardRollout
//   Optimizers.swift             Adam, RMSProp, clipByGlobalNorm, globalNorm
//   SharedParameters.swift       global parameters + optimizer state behind a lock, for worker threads
//   SafeTensors.swift            atomic safetensors writer, validating reader, CRC32
//   Checkpoint.swift             network / optimizer state <-> safetensors with PyTorch names
//   NetworkBenchmark.swift       timing of the acting step and the rollout update
