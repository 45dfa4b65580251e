"""Which images each training or classifier batch draws: a function of (seed, draw) only, so a resume
sees the same data, with optional class-balancing weights."""
from __future__ import annotations

import torch


def class_weights(labels: torch.Tensor, balance: float) -> torch.Tensor | None:
    """Per-image sampling weights n_c^-balance (class c then drawn ~ n_c^(1 - balance)); None = natural mix."""
    if balance == 0:
        return None
    return labels.bincount()[labels].double().pow(-balance)


def batch_indices(draw: int, n: int, batch_size: int, seed: int, weights: torch.Tensor | None = None
                  ) -> torch.Tensor:
    """Indices of the draw-th batch, a function of (seed, draw) only, so a resumed run sees the same data.

    Without weights: epochs of seeded permutations. With per-image weights: drawn with replacement.
    """
    if weights is not None:
        return torch.multinomial(weights, batch_size, replacement=True,
                                 generator=torch.Generator().manual_seed(seed * 100_003 + draw))
    start = draw * batch_size
    out = []
    while len(out) < batch_size:
        epoch, offset = divmod(start + len(out), n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        out.extend(perm[offset:offset + batch_size - len(out)].tolist())
    return torch.tensor(out)
