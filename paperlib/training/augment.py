"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

Applied to every discriminator input, real and generated, in both D and G steps, so the
discriminator cannot memorise a few thousand images while gradients still reach G. Follows the
authors' reference code: colour (brightness, saturation, contrast), translation by up to 1/8 of
the side with zero padding, and cutout of a square half the side. Randomness comes from torch's
global generator, so it is seeded and checkpointed with the run.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..core.config import DIFFAUG_OPS
from ..core.errors import ConfigError


def parse_policy(policy: str) -> tuple[str, ...]:
    """Validate a comma-separated policy such as "color,translation,cutout" ("" = no augmentation)."""
    ops = tuple(op.strip() for op in policy.split(",") if op.strip())
    for op in ops:
        if op not in DIFFAUG_OPS:
            raise ConfigError(f"DiffAugment policy {policy!r}: unknown operation {op!r}; "
                              f"use a comma-separated list of {', '.join(DIFFAUG_OPS)}")
    return ops


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Augment a batch (B, C, H, W) in [-1, 1] differentiably; the same policy for reals and fakes."""
    for op in parse_policy(policy):
        x = _OPS[op](x)
    return x


def _color(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)                       # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean          # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean     # contrast


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    ty = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])                       # (B, C, H+2, W+2)
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}
