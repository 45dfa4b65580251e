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
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from .layers import sn_conv
from .window import WindowDot, WindowSum, window_index, window_outside, window_prior


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


class MultiHeadAttention2d(nn.Module):
    """The model's attention: multi-head, 2-D positional codes, 1/sqrt(d) scale, zero-initialised output.

    y = x + W_o · MHA(q = W_q(x + P_x), k = W_k(c + P_c), v = W_v(c)),   c = x (self) or a context map (cross).

    Why not SAGAN's layer: its scalar gamma starts at 0 and Adam moves it by about lr per step, so at
    a few thousand steps it stays near 0 (issue 12 measured 0.02-0.04). A zero-initialised output
    projection also starts the layer as the identity, but every one of its C x C weights learns at once.
    Learned positional codes let a query find "the same place" in another image, which is what
    copying a reference's content through cross-attention needs. The projections are linear layers on
    (B, N, C) tokens (cheaper on a CPU than 1x1 convolutions on small maps), and q, k, v share one
    width, so `scaled_dot_product_attention` takes its fused kernel without padding.

    A context of zeros gives a branch of exactly zero (no biases in W_v and W_o), the same as no context,
    which is what generation from z alone passes.

    locality > 0 adds a learned per-head bias B[n, m] to the attention logits, initialised to the
    locality prior -d(n, m)^2 / (2 locality^2) (d in query cells): each query starts by reading the
    same place of the context map, and learns where else to look (T5 / Swin-style position bias).
    Cross-attention uses it: without it a query must first learn, from random positional codes, to
    find its own place in the reference (measured: guided images did not carry their reference).

    window > 0 (cross-attention, model.cross_window) lets each query read only the window x window cells around
    its own place in the context, with a learned per-head bias over the window's offsets that starts as the same
    prior. Its cost is linear in the map, where the dense (heads, N, M) bias, passed to SDPA as a mask whose gradient
    is summed over the batch, grows with its square: a photos step with cross-attention at 16 and 32 took 0.91 s
    dense and 0.61 s through 3 x 3 windows, against 0.58 s with the preset's dense 16x16 layer alone (README, "The
    model").
    """

    def __init__(self, channels: int, side: int, context_channels: int | None = None, context_side: int | None = None,
                 heads: int = 4, locality: float = 0.0, window: int = 0):
        super().__init__()
        context_channels = context_channels or channels
        context_side = context_side or side
        if window and (window % 2 == 0 or context_side != side):
            raise ValueError(f"window={window}: use an odd window over a context map of the query map's side")
        self.window = window
        self.heads = heads if channels % heads == 0 else 1
        self.pos_q = nn.Parameter(0.02 * torch.randn(side * side, channels))                   # (N, C)
        self.pos_k = nn.Parameter(0.02 * torch.randn(context_side * context_side, context_channels))  # (M, Cc)
        self.query = nn.Linear(channels, channels, bias=False)
        self.key = nn.Linear(context_channels, channels, bias=False)
        self.value = nn.Linear(context_channels, channels, bias=False)
        self.out = nn.Linear(channels, channels, bias=False)
        nn.init.zeros_(self.out.weight)
        if window:   # a per-head bias over the window's offsets: (heads, window^2), the same prior
            self.bias = nn.Parameter(window_prior(window, locality).repeat(self.heads, 1))
            self.register_buffer("outside", window_outside(side, window), persistent=False)   # (N, window^2)
        else:
            self.bias = nn.Parameter(locality_prior(side, context_side, locality).repeat(self.heads, 1, 1)) \
                if locality > 0 else None                                                     # (heads, N, M)
        self.last_ratio = torch.zeros(())     # |branch| / |x| of the latest forward, logged as attn_ratio/<layer>

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, heads, N, C / heads)."""
        b, n, c = t.shape
        return t.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def _project(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, C, H, W), context (B, Cc, Hc, Wc) -> q (B, heads, N, d), k and v (B, heads, M, d)."""
        tokens = x.flatten(2).transpose(1, 2)                  # (B, N, C)
        ctx = context.flatten(2).transpose(1, 2)               # (B, M, Cc)
        q = self._heads(self.query(tokens + self.pos_q))
        k = self._heads(self.key(ctx + self.pos_k))
        return q, k, self._heads(self.value(ctx))

    def _weights(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Dense softmax weights (B, heads, N, M), scale 1/sqrt(d), plus the position bias when there is one."""
        logits = q @ k.transpose(2, 3) / q.shape[-1] ** 0.5
        return torch.softmax(logits if self.bias is None else logits + self.bias.to(logits.dtype), dim=-1)

    @torch.no_grad()
    def head_weights(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Each head's weights (B, heads, N, M) of a dense layer: attend(return_attention=True) averages them."""
        if self.window:
            raise ValueError("a windowed layer reads only its window: use attend(..., return_attention=True)")
        q, k, _ = self._project(x, context)
        return self._weights(q, k)

    def attend(self, x: torch.Tensor, context: torch.Tensor,
               return_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, C, H, W), context (B, Cc, Hc, Wc) -> (y (B, C, H, W), attention (B, N, M) averaged over heads or None)."""
        b, c, h, w = x.shape
        q, k, v = self._project(x, context)
        attention = None
        if self.window:
            o, attention = self._windowed(q, k, v, h, w, return_attention)
        elif return_attention:
            weights = self._weights(q, k)
            o, attention = weights @ v, weights.mean(1)
        else:                                                  # (B, heads, N, d), scale 1/sqrt(d)
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=None if self.bias is None else self.bias.to(q.dtype))
        branch = self.out(o.transpose(1, 2).reshape(b, h * w, c)).transpose(1, 2).reshape(b, c, h, w)
        self.last_ratio = branch.detach().float().norm() / x.detach().float().norm().clamp_min(1e-12)
        return x + branch, attention

    def _windowed(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, h: int, w: int, return_attention: bool
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each query reads the window x window cells around its own place in the context (zero padding masked
        out): q, k, v (B, heads, N, d) -> (o (B, heads, N, d), attention (B, N, M) averaged over heads or None).

        The products run per window offset on (B, heads, d, H, W) planes (model/window.py): no matmul of
        B * heads * N tiny matrices, and no window^2 copies of the keys and values."""
        b, heads, n, d = q.shape
        r, cells = self.window // 2, self.window ** 2

        def planes(t: torch.Tensor) -> torch.Tensor:           # (B, heads, N, d) -> (B, heads, d, H, W)
            return t.transpose(2, 3).reshape(b, heads, d, h, w)

        k_pad, v_pad = (F.pad(planes(t), (r, r, r, r)) for t in (k, v))
        logits = WindowDot.apply(planes(q) / d ** 0.5, k_pad, self.window)               # (B, heads, cells, H, W)
        bias = self.bias[:, :, None] + self.outside.t()                                  # (heads, cells, N)
        weights = torch.softmax(logits + bias.view(heads, cells, h, w).to(logits.dtype), dim=2)
        o = WindowSum.apply(weights, v_pad, self.window).flatten(3).transpose(2, 3)      # (B, heads, N, d)
        if not return_attention:
            return o, None
        index = window_index(h, self.window).to(q.device)                             # (N, cells), -1 outside
        mean = weights.mean(1).flatten(2).transpose(1, 2)                              # (B, N, cells)
        dense = mean.new_zeros(b, n, n).scatter_add_(2, index.clamp_min(0).expand(b, n, cells),
                                                    mean * (index >= 0).to(mean.dtype))
        return o, dense


def locality_prior(side: int, context_side: int, width: float) -> torch.Tensor:
    """(N, M) logits -d^2 / (2 width^2), d the distance between query cell n and context cell m in query cells."""
    def centres(n: int) -> torch.Tensor:                  # (n * n, 2) cell centres, in query cells
        cells = torch.stack(torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij"), -1).reshape(-1, 2)
        return (cells.float() + 0.5) * (side / n)

    return -torch.cdist(centres(side), centres(context_side)).pow(2) / (2 * width ** 2)


class MultiHeadSelfAttention2d(MultiHeadAttention2d):
    """Self-attention of the model: every position of a map attends over the same map. x (B, C, H, W) -> same."""

    forward = SelfAttention2d.forward


class MultiHeadCrossAttention2d(MultiHeadAttention2d):
    """The generated image's state (queries) attends to a real image's encoder state (keys, values).

    With no context (generation from z alone) the layer is the identity. A context of n < B images
    belongs to the last n images of x, and the others pass unchanged: training puts its guided images
    last, so the layer's cost is paid only for them. x, context -> (B, C, H, W).
    """

    def forward(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        if context is None:
            return x
        n = len(context)
        if n == len(x):
            return self.attend(x, context)[0]
        return torch.cat([x[:len(x) - n], self.attend(x[len(x) - n:], context)[0]])


@contextmanager
def recording_attention(layers: dict[str, nn.Module]) -> Iterator[dict[str, torch.Tensor]]:
    """While open, every forward of a named attention layer records its weights (B, N, M), averaged over heads,
    under its name: self-attention over its own input, cross-attention over its context."""
    captured: dict[str, torch.Tensor] = {}

    def record(name: str, module: nn.Module, inputs: tuple, _: torch.Tensor) -> None:
        context = inputs[1] if len(inputs) > 1 else inputs[0]
        if context is not None:           # a cross-attention layer called without context did not attend
            captured[name] = module.attend(inputs[0], context, return_attention=True)[1]

    hooks = [m.register_forward_hook(partial(record, name)) for name, m in layers.items()]
    try:
        yield captured
    finally:
        for hook in hooks:
            hook.remove()
