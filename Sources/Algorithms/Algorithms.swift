// Algorithms: what an actor-critic learns from, beside the network it learns with (NeuralCore) and
// the loops that play and update (the Training module's workers). Each computation cites its paper's
// equation in its doc comment.
//
//   Returns.swift           RolloutEnd (terminal or time-limit ends, Pardo et al. 2018), n-step returns
//                           and GAE (Mnih et al. 2016; Schulman et al. 2016), V-trace (Espeholt et al. 2018)
//   A3CLoss.swift           A3C's loss (a sum over the rollout), forward and gradient; the network's
//                           backwardRecorded(actions:returns:advantages:) through it
//   PPOLoss.swift           PPO's clipped surrogate, clipped value loss and entropy (means), forward and gradient
//   NetworkBenchmark.swift  the network's acting step and A3C's learning step, timed (`a3c bench nn`)
