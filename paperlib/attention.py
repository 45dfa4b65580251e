"""Self- and cross-attention over 2-D feature maps, with SAGAN semantics.

Both layers compute, for every query position i of a (B, C, H, W) map,

    o_i = sum_j softmax_j(q_i . k_j) v_j,      y = x + gamma * o,

with q, k = 1x1 convs to C/8 channels, v = a 1x1 conv to C channels (or C/2 followed by an output
1x1 conv, BigGAN's variant), no 1/sqrt(d) scale, and gamma a learnable scalar that starts at 0 so
the layer starts as the identity. Self-attention takes k and v from the same map; cross-attention
(the paper's "generated state attends to real state") takes them from another map, here the
encoder's features of a real image.

Two implementations give the same numbers: `explicit` builds the (N, M) energy matrix (and can
return it for figures); `sdpa` calls `scaled_dot_product_attention` on contiguous
(B, 1, N, d) tensors with q and k zero-padded to v's width, which leaves q.k unchanged and lets
PyTorch pick its fused (flash / memory-efficient) kernels instead of the math fallback.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import sn_conv


class Attention2d(nn.Module):
    """Queries from a (B, C, H, W) map, keys and values from a (B, Cc, Hc, Wc) context map."""

    def __init__(self, channels: int, context_channels: int, impl: str = "sdpa", value_half: bool = False):
        super().__init__()
        if impl not in ("sdpa", "explicit"):
            raise ValueError(f"attention impl {impl!r}: use 'sdpa' or 'explicit'")
        self.impl = impl
        self.qk_dim = max(channels // 8, 1)
        value_dim = channels // 2 if value_half else channels
        self.query = sn_conv(channels, self.qk_dim, 1, bias=False)
        self.key = sn_conv(context_channels, self.qk_dim, 1, bias=False)
        self.value = sn_conv(context_channels, value_dim, 1, bias=False)
        self.out = sn_conv(value_dim, channels, 1, bias=False) if value_half else nn.Identity()
        self.gamma = nn.Parameter(torch.zeros(()))

    def attend(self, x: torch.Tensor, context: torch.Tensor,
               return_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (y, attention): y (B, C, H, W); attention (B, N, M) if asked for, else None."""
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)           # (B, N, dq), N = H*W
        k = self.key(context).flatten(2).transpose(1, 2)       # (B, M, dq), M = Hc*Wc
        v = self.value(context).flatten(2).transpose(1, 2)     # (B, M, dv)
        attention = None
        if self.impl == "explicit" or return_attention:
            attention = torch.softmax(q @ k.transpose(1, 2), dim=-1)   # (B, N, M)
            o = attention @ v                                          # (B, N, dv)
        else:
            pad = v.shape[-1] - q.shape[-1]                    # zero-pad q, k to dv: q.k unchanged
            q = F.pad(q, (0, pad)).unsqueeze(1)                # (B, 1, N, dv), contiguous
            k = F.pad(k, (0, pad)).unsqueeze(1)                # (B, 1, M, dv), contiguous
            o = F.scaled_dot_product_attention(q, k, v.unsqueeze(1).contiguous(), scale=1.0).squeeze(1)
        o = o.transpose(1, 2).reshape(b, -1, h, w)             # (B, dv, H, W)
        return x + self.gamma * self.out(o), attention


class SelfAttention2d(Attention2d):
    """SAGAN self-attention: each position of a map attends over all positions of the same map."""

    def __init__(self, channels: int, impl: str = "sdpa", value_half: bool = False):
        super().__init__(channels, channels, impl, value_half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) -> (B, C, H, W)."""
        return self.attend(x, x)[0]


class CrossAttention2d(Attention2d):
    """Decoder features (queries) attend to a real image's encoder features (keys, values).

    With no context (generation from z alone) the layer is the identity.
    """

    def forward(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, H, W), context (B, Cc, Hc, Wc) or None -> (B, C, H, W)."""
        return x if context is None else self.attend(x, context)[0]
