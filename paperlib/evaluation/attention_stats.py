"""What G's self-attention does in a trained model: how spread its weights are, how large its branch is.

A near-uniform layer adds one per-image average to every position (a global pooling); a near-one-hot layer
copies single cells. Both can look like "attention works" in a ratio alone, so the two are read together.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import torch
from torch import nn

from ..model.networks import Networks
from ..model.sampling import generate


@torch.no_grad()
def self_attention_stats(nets: Networks, n: int = 32, seed: int = 0) -> dict[str, dict[str, float]]:
    """For each self-attention layer of G_ema, over n generated images (classes cycled): the mean entropy of
    one head's weights for one query (nats), its maximum log(N), the mean largest weight, and the branch's
    size relative to the layer's input (|branch| / |x|, over the n images)."""
    layers = {f"G.self{r}": m for r, m in getattr(nets.G_ema, "self_attn", {}).items()}
    out: dict[str, dict[str, float]] = {}

    def measure(name: str, layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        w = layer.head_weights(inputs[0], inputs[0]).float()          # (n, heads, N, N), rows summing to 1
        entropy = -(w * w.clamp_min(1e-12).log()).sum(-1)
        out[name] = {"entropy": float(entropy.mean()), "max_entropy": math.log(w.shape[-1]),
                     "max_weight": float(w.amax(-1).mean()),
                     "branch_ratio": float((output - inputs[0]).norm() / inputs[0].norm())}

    hooks = [m.register_forward_hook(partial(measure, name)) for name, m in layers.items()]
    try:
        generate(nets, n, seed=seed, batch_size=n)                    # one batch: one measurement per layer
    finally:
        for hook in hooks:
            hook.remove()
    return out


@contextmanager
def scaled_self_attention(G: nn.Module, scale: float) -> Iterator[None]:
    """While open, each self-attention layer of G adds scale x its branch (1: as trained, 0: the layer is the
    identity): does a sample's structure come from the branch at sampling time, or from the layers around it?"""
    hooks = [m.register_forward_hook(lambda m, i, o: i[0] + scale * (o - i[0])) for m in G.self_attn.values()]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()
