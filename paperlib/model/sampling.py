"""Sampling from a trained model: the EMA generator, seeded, optionally for one class."""
from __future__ import annotations

import torch

from ..core.errors import InputError
from .networks import Networks


@torch.no_grad()
def generate(nets: Networks, n: int, labels: torch.Tensor | int | None = None, seed: int = 0,
             batch_size: int = 256) -> torch.Tensor:
    """n images (n, 3, S, S) in [-1, 1] from G_ema; labels: a class index, a tensor of n, or None (cycled)."""
    device = next(nets.G_ema.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, nets.args.z_dim, generator=gen)
    if nets.args.n_classes == 0:
        y = None
    elif labels is None:
        y = torch.arange(n) % nets.args.n_classes
    elif isinstance(labels, int):
        if not 0 <= labels < nets.args.n_classes:
            raise InputError(f"label {labels} out of range: the model has {nets.args.n_classes} classes")
        y = torch.full((n,), labels)
    else:
        y = labels
    out = [nets.G_ema(z[i:i + batch_size].to(device), None if y is None else y[i:i + batch_size].to(device))
           for i in range(0, n, batch_size)]
    return torch.cat(out).float().cpu()


def decode(nets: Networks, z: torch.Tensor, y: torch.Tensor | None,
           context: dict[int, torch.Tensor] | None = None, grad: bool = False) -> torch.Tensor:
    """G_ema(z), cross-attending to `context` when given; the same forward path as training's.

    G_ema runs in eval mode: its norms are per image, or batch norm's standing statistics (model.g_norm=batch),
    so each image's decode is independent of the rest of its batch. grad=True keeps the graph (attacks
    differentiate through it).
    """
    with torch.set_grad_enabled(grad):
        return nets.G_ema(z, y if nets.args.n_classes else None, context).float()


@torch.no_grad()
def reconstruct(nets: Networks, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Encode x (posterior mean) and decode from z alone, as training's reconstructions are drawn."""
    if nets.E is None:
        raise InputError("this model has no encoder (model.encoder=False); it cannot reconstruct images")
    nets.check_images(x)
    return decode(nets, nets.E(x)[0], y)
