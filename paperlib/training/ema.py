"""The generator's exponential moving average, and batch-norm statistics recomputed for it."""
from __future__ import annotations

import torch

from ..model.attngan import Generator
from ..model.checkpoint import BN_BUFFERS


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema = decay * ema + (1 - decay) * model for parameters; spectral-norm vectors copied.

    Batch-norm statistics (the DCGAN baseline's G) are not copied: the EMA generator gets its own from
    `standing_stats` before it is sampled or saved.
    """
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for (name, b_ema), b in zip(ema.named_buffers(), model.buffers()):
        if not name.endswith(BN_BUFFERS):
            b_ema.copy_(b)


@torch.no_grad()
def standing_stats(G: Generator, batches: int = 8, batch_size: int = 64, seed: int = 0) -> None:
    """Recompute G's batch-norm statistics from z ~ N(0, I) alone (BigGAN's "standing statistics").

    Uses its own seeded generator, so it leaves the training RNG (and an exact resume) untouched.
    """
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    norms = G.batch_norms()
    if not norms:
        return
    G.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                                        # cumulative average over the batches
        m.train()
    for _ in range(batches):
        z = torch.randn(batch_size, G.z_dim, generator=gen).to(device)
        y = (torch.arange(batch_size) % G.n_classes).to(device) if G.n_classes else None
        G(z, y)
    for m in norms:
        m.momentum = 0.1
        m.eval()
