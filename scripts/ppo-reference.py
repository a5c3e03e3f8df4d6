#!/usr/bin/env python3
"""PPO's loss and its gradients computed once with PyTorch, in CleanRL's ppo_atari_lstm formulation,
for the fixed case of Tests/AlgorithmsTests/LossTests.swift ("PPO loss against PyTorch").

Run it with any Python that has torch (`pip install torch`); it prints the Swift literals the test
holds. Not part of the test suite: the values are constants of the test, and this script is how
they were obtained (torch 2.15.0 on 2026-12-07).
"""
import torch

torch.set_default_dtype(torch.float64)
logits = torch.tensor([[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [-0.25, 0.75, 0.1], [0.0, 0.3, -1.2]], requires_grad=True)
values = torch.tensor([0.8, -0.4, 1.9, 0.1], requires_grad=True)
actions = torch.tensor([0, 2, 1, 1])
behaviour_log_probs = torch.tensor([-0.7429, -2.0832, -0.8189, -0.3183])   # ratios about 1.05 (inside), 0.8, 1.2, 0.7
behaviour_values = torch.tensor([0.7, 0.1, 1.2, 0.15])
returns = torch.tensor([1.5, -1.0, 0.5, 0.4])
advantages = torch.tensor([0.6, -1.2, 0.9, 0.3])
clip, value_clip, vf_coef, ent_coef = 0.1, 0.2, 0.5, 0.01

log_probs = torch.log_softmax(logits, dim=1)
new_log_prob = log_probs.gather(1, actions[:, None])[:, 0]
entropy = -(log_probs.exp() * log_probs).sum(1)
log_ratio = new_log_prob - behaviour_log_probs
ratio = log_ratio.exp()
pg_loss = torch.max(-advantages * ratio, -advantages * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
v_clipped = behaviour_values + torch.clamp(values - behaviour_values, -value_clip, value_clip)
v_loss = 0.5 * torch.max((values - returns) ** 2, (v_clipped - returns) ** 2).mean()
loss = pg_loss - ent_coef * entropy.mean() + vf_coef * v_loss
loss.backward()

def swift(tensor):
    return "[" + ", ".join(f"{x:.9g}" for x in tensor.detach().flatten().tolist()) + "]"

print(f"policy {pg_loss.item():.9g}, value {v_loss.item():.9g}, entropy {entropy.mean().item():.9g}, total {loss.item():.9g}")
print(f"clip fraction {((ratio - 1).abs() > clip).double().mean().item():.9g}, approx KL {((ratio - 1) - log_ratio).mean().item():.9g}")
print("dLogits", swift(logits.grad))
print("dValues", swift(values.grad))
