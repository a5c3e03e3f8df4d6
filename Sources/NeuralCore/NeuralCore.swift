// NeuralCore: layers, the conv-LSTM actor-critic, optimizers, safetensors checkpoints.
