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


class WindowDot(torch.autograd.Function):
    """q (B, heads, d, H, W), k_pad (B, heads, d, H + 2r, W + 2r) -> logits (B, heads, window^2, H, W)."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, k_pad: torch.Tensor, window: int) -> torch.Tensor:
        h, w = q.shape[-2:]
        ctx.save_for_backward(q, k_pad)
        ctx.window = window
        return torch.stack([(q * k_pad[..., dy:dy + h, dx:dx + w]).sum(2) for dy, dx in shifts(window)], 2)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        q, k_pad = ctx.saved_tensors
        h, w = q.shape[-2:]
        grad_q, grad_k = torch.zeros_like(q), torch.zeros_like(k_pad)
        for i, (dy, dx) in enumerate(shifts(ctx.window)):
            g = grad[:, :, i, None]
            grad_q.addcmul_(g, k_pad[..., dy:dy + h, dx:dx + w])
            grad_k[..., dy:dy + h, dx:dx + w].addcmul_(g, q)
        return grad_q, grad_k, None


class WindowSum(torch.autograd.Function):
    """weights (B, heads, window^2, H, W), v_pad (B, heads, d, H + 2r, W + 2r) -> o (B, heads, d, H, W)."""

    @staticmethod
    def forward(ctx, weights: torch.Tensor, v_pad: torch.Tensor, window: int) -> torch.Tensor:
        b, heads, _, h, w = weights.shape
        ctx.save_for_backward(weights, v_pad)
        ctx.window = window
        o = v_pad.new_zeros(b, heads, v_pad.shape[2], h, w)
        for i, (dy, dx) in enumerate(shifts(window)):
            o.addcmul_(weights[:, :, i, None], v_pad[..., dy:dy + h, dx:dx + w])
        return o

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        weights, v_pad = ctx.saved_tensors
        h, w = weights.shape[-2:]
        grad_v = torch.zeros_like(v_pad)
        grad_w = torch.stack([(grad * v_pad[..., dy:dy + h, dx:dx + w]).sum(2) for dy, dx in shifts(ctx.window)], 2)
        for i, (dy, dx) in enumerate(shifts(ctx.window)):
            grad_v[..., dy:dy + h, dx:dx + w].addcmul_(weights[:, :, i, None], grad)
        return grad_w, grad_v, None


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
