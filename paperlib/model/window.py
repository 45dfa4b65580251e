"""Windowed attention's parts: each query reads only the window x window context cells around its own place.

The two products of attention, logits = q . k and o = sum weights * v, are computed as one product per window
offset between (B, heads, d, H, W) planes and the zero-padded context shifted by that offset. Their gradients
accumulate in place into one buffer per input (custom autograd functions): autograd's own backward of a slice
fills a zero tensor of the whole padded map for every offset, which cost 40% of the layer's time (torch.profiler,
16x16, 25 offsets). Offsets run in F.unfold's order, row by row.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def shifts(window: int) -> list[tuple[int, int]]:
    """The window's offsets (dy, dx) into a map padded by window // 2, in F.unfold's order."""
    return [(dy, dx) for dy in range(window) for dx in range(window)]


def _shifted(padded: torch.Tensor, dy: int, dx: int, h: int, w: int) -> torch.Tensor:
    return padded[..., dy:dy + h, dx:dx + w]


def _dots(a: torch.Tensor, padded: torch.Tensor, window: int) -> torch.Tensor:
    """(B, heads, d, H, W) . each shift of the padded map over d -> (B, heads, window^2, H, W)."""
    h, w = a.shape[-2:]
    return torch.stack([(a * _shifted(padded, dy, dx, h, w)).sum(2) for dy, dx in shifts(window)], 2)


def _gather(weights: torch.Tensor, padded: torch.Tensor, window: int) -> torch.Tensor:
    """sum over offsets of weights (B, heads, window^2, H, W) times the shifted map -> (B, heads, d, H, W)."""
    b, heads, _, h, w = weights.shape
    out = padded.new_zeros(b, heads, padded.shape[2], h, w)
    for i, (dy, dx) in enumerate(shifts(window)):
        out.addcmul_(weights[:, :, i, None], _shifted(padded, dy, dx, h, w))
    return out


def _spread(weights: torch.Tensor, a: torch.Tensor, padded: torch.Tensor, window: int) -> torch.Tensor:
    """The adjoint of shifting: weights_i * a added into each offset's place of a map shaped like `padded`."""
    h, w = a.shape[-2:]
    out = torch.zeros_like(padded)
    for i, (dy, dx) in enumerate(shifts(window)):
        _shifted(out, dy, dx, h, w).addcmul_(weights[:, :, i, None], a)
    return out


class WindowDot(torch.autograd.Function):
    """q (B, heads, d, H, W), k_pad (B, heads, d, H + 2r, W + 2r) -> logits (B, heads, window^2, H, W)."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, k_pad: torch.Tensor, window: int) -> torch.Tensor:
        ctx.save_for_backward(q, k_pad)
        ctx.window = window
        return _dots(q, k_pad, window)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        q, k_pad = ctx.saved_tensors
        return _gather(grad, k_pad, ctx.window), _spread(grad, q, k_pad, ctx.window), None


class WindowSum(torch.autograd.Function):
    """weights (B, heads, window^2, H, W), v_pad (B, heads, d, H + 2r, W + 2r) -> o (B, heads, d, H, W)."""

    @staticmethod
    def forward(ctx, weights: torch.Tensor, v_pad: torch.Tensor, window: int) -> torch.Tensor:
        ctx.save_for_backward(weights, v_pad)
        ctx.window = window
        return _gather(weights, v_pad, window)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        weights, v_pad = ctx.saved_tensors
        return _dots(grad, v_pad, ctx.window), _spread(weights, grad, v_pad, ctx.window), None


def window_prior(window: int, width: float) -> torch.Tensor:
    """(window^2,) logits -d^2 / (2 width^2) over a window's offsets, d in cells from its centre; zeros for width 0."""
    offsets = torch.arange(window, dtype=torch.float) - window // 2
    d2 = (offsets[:, None] ** 2 + offsets[None, :] ** 2).flatten()
    return -d2 / (2 * width ** 2) if width > 0 else torch.zeros_like(d2)


def window_index(side: int, window: int) -> torch.Tensor:
    """(N, window^2): the context cell each query's window position reads, in F.unfold's order; -1 off the map."""
    cells = torch.arange(side * side, dtype=torch.float).view(1, 1, side, side) + 1       # 0 marks padding
    return F.unfold(cells, window, padding=window // 2)[0].t().long() - 1


def window_outside(side: int, window: int) -> torch.Tensor:
    """(N, window^2) additive mask: -inf where a query's window reaches past the map's edge, else 0."""
    return torch.zeros(side * side, window ** 2).masked_fill(window_index(side, window) < 0, float("-inf"))
