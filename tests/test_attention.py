from __future__ import annotations

import math

import pytest
import torch

from paperlib import CrossAttention2d, SelfAttention2d, get_config
from paperlib.evaluation.attention_stats import scaled_self_attention, self_attention_stats
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks
from paperlib.model.attention import MultiHeadCrossAttention2d, MultiHeadSelfAttention2d
from paperlib.model.window import WindowDot, WindowSum, window_index


def _pair(channels, value_half=False, context_channels=None):
    torch.manual_seed(0)
    if context_channels is None:
        slow = SelfAttention2d(channels, "explicit", value_half)
        fast = SelfAttention2d(channels, "sdpa", value_half)
    else:
        slow = CrossAttention2d(channels, context_channels, "explicit", value_half)
        fast = CrossAttention2d(channels, context_channels, "sdpa", value_half)
    fast.load_state_dict(slow.state_dict())
    for m in (slow, fast):
        m.eval()
        with torch.no_grad():
            m.gamma.fill_(0.7)
    return slow, fast


@pytest.mark.parametrize("channels, side, value_half", [(16, 8, False), (32, 16, False), (64, 8, True)])
def test_sdpa_equals_explicit_in_outputs_and_gradients(channels, side, value_half):
    slow, fast = _pair(channels, value_half)
    x1 = torch.randn(3, channels, side, side, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    y1, y2 = slow(x1), fast(x2)
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-4)
    y1.square().sum().backward()
    y2.square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, atol=1e-4, rtol=1e-4)


def test_cross_attention_sdpa_equals_explicit_with_a_different_context_size():
    slow, fast = _pair(32, context_channels=64)
    x, ctx = torch.randn(2, 32, 16, 16), torch.randn(2, 64, 8, 8)
    torch.testing.assert_close(slow(x, ctx), fast(x, ctx), atol=1e-5, rtol=1e-4)


def test_gamma_zero_at_init_makes_the_layer_the_identity():
    layer = SelfAttention2d(16)
    x = torch.randn(2, 16, 8, 8)
    assert layer.gamma.item() == 0.0
    assert torch.equal(layer(x), x)


def test_cross_attention_without_context_is_the_identity():
    layer = CrossAttention2d(16, 16)
    with torch.no_grad():
        layer.gamma.fill_(1.0)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(layer(x, None), x)


def test_attention_rows_are_distributions_over_the_context():
    layer = CrossAttention2d(16, 24, "explicit")
    _, attention = layer.attend(torch.randn(2, 16, 8, 8), torch.randn(2, 24, 4, 4), return_attention=True)
    assert attention.shape == (2, 64, 16)
    torch.testing.assert_close(attention.sum(-1), torch.ones(2, 64))


def test_self_attention_mixes_information_across_positions():
    layer = SelfAttention2d(16, "sdpa")
    with torch.no_grad():
        layer.gamma.fill_(1.0)
    x = torch.zeros(1, 16, 8, 8, requires_grad=True)
    layer(x + torch.randn(1, 16, 8, 8))[0, :, 0, 0].sum().backward()
    assert (x.grad[0, :, 7, 7] != 0).any()   # the corner output depends on the far corner input


# ----------------------------------------------------------------------------- the model's multi-head attention
def _model_layer(cls, channels=16, side=8, trained=True, **kwargs):
    torch.manual_seed(0)
    layer = cls(channels, side, heads=4, **kwargs)
    if trained:                                  # a zero output projection makes every layer the identity
        torch.nn.init.normal_(layer.out.weight, std=0.5)
    return layer


def test_multihead_attention_starts_as_the_identity_and_learns_through_every_output_weight():
    layer = _model_layer(MultiHeadSelfAttention2d, trained=False)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(layer(x), x)
    layer(x).square().sum().backward()
    assert layer.out.weight.grad.abs().gt(0).float().mean() > 0.9     # not one scalar gamma: C x C weights move


@pytest.mark.parametrize("locality", [0.0, 0.5])
def test_multihead_fused_path_equals_the_explicit_path_and_rows_are_distributions(locality):
    layer = _model_layer(MultiHeadCrossAttention2d, locality=locality)
    x, ctx = torch.randn(2, 16, 8, 8), torch.randn(2, 16, 8, 8)
    fused = layer(x, ctx)
    explicit, attention = layer.attend(x, ctx, return_attention=True)
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-4)
    assert attention.shape == (2, 64, 64)
    torch.testing.assert_close(attention.sum(-1), torch.ones(2, 64))


def test_a_zero_context_is_exactly_no_context():
    """A zero context adds nothing: guidance by a blank reference equals generation from z alone."""
    layer = _model_layer(MultiHeadCrossAttention2d, locality=0.5)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(layer(x, torch.zeros(2, 16, 8, 8)), x) and torch.equal(layer(x, None), x)
    assert not torch.allclose(layer(x, torch.randn(2, 16, 8, 8)), x)


def test_a_shorter_context_guides_the_last_rows_only_and_each_query_starts_at_its_own_place():
    layer = _model_layer(MultiHeadCrossAttention2d, locality=0.5)
    x, ctx = torch.randn(5, 16, 8, 8), torch.randn(2, 16, 8, 8)
    out = layer(x, ctx)
    assert torch.equal(out[:3], x[:3])
    torch.testing.assert_close(out[3:], layer(x[3:], ctx))
    _, attention = _model_layer(MultiHeadCrossAttention2d, trained=False, locality=0.5).attend(
        0.01 * x[:1], 0.01 * ctx[:1], return_attention=True)   # faint content: the locality prior decides
    assert torch.equal(attention[0].argmax(-1), torch.arange(64))


def test_cross_attention_output_depends_on_the_context_image():
    layer = _model_layer(MultiHeadCrossAttention2d)
    x = torch.randn(1, 16, 8, 8)
    ctx = torch.randn(1, 16, 8, 8, requires_grad=True)
    layer(x, ctx).sum().backward()
    assert ctx.grad.abs().sum() > 0


@pytest.mark.parametrize("side, window", [(6, 11), (5, 3)])   # 11 = 2 * 6 - 1: every window covers the map
def test_windowed_attention_equals_dense_attention_masked_to_the_window(side, window):
    """The windowed path computes the dense path's attention with the bias -inf outside each query's window."""
    local = _model_layer(MultiHeadCrossAttention2d, side=side, locality=0.7, window=window)
    dense = _model_layer(MultiHeadCrossAttention2d, side=side, locality=0.7)
    dense.load_state_dict({k: v for k, v in local.state_dict().items() if k != "bias"}, strict=False)
    index = window_index(side, window)                     # the window bias, written out as a dense one
    with torch.no_grad():
        local.bias.normal_()                               # asymmetric: a flipped or transposed offset shows
        dense.bias.fill_(float("-inf"))
        for n, m in zip(*(index >= 0).nonzero(as_tuple=True)):
            dense.bias[:, n, index[n, m]] = local.bias[:, m]
    x, ctx = torch.randn(2, 16, side, side), torch.randn(2, 16, side, side)
    (y_local, a_local), (y_dense, a_dense) = (layer.attend(x, ctx, return_attention=True) for layer in (local, dense))
    torch.testing.assert_close(y_local, y_dense, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(a_local, a_dense, atol=1e-6, rtol=1e-4)
    torch.testing.assert_close(local(x, ctx), y_local)     # the training path returns the same


def test_a_small_window_reads_only_the_cells_around_its_own_place():
    layer = _model_layer(MultiHeadCrossAttention2d, side=8, locality=0.5, window=3)
    x, ctx = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8, requires_grad=True)
    layer(x, ctx)[0, :, 0, 0].sum().backward()             # the top-left query
    touched = ctx.grad[0].abs().sum(0).nonzero().tolist()
    assert touched and all(r <= 1 and c <= 1 for r, c in touched)   # its 3 x 3 window, cut by the edge
    _, attention = layer.attend(x, ctx.detach(), return_attention=True)
    torch.testing.assert_close(attention.sum(-1), torch.ones(1, 64))


@pytest.mark.parametrize("function", [WindowDot, WindowSum])
def test_the_window_products_hand_written_gradients_match_numerical_ones(function):
    """The windowed path's two products accumulate their own gradients (model/window.py); gradcheck holds them."""
    torch.manual_seed(0)
    first = torch.randn(2, 2, 3 if function is WindowDot else 9, 4, 5, dtype=torch.double, requires_grad=True)
    padded = torch.randn(2, 2, 3, 6, 7, dtype=torch.double, requires_grad=True)     # 4 x 5 padded by 1: window 3
    assert torch.autograd.gradcheck(lambda a, b: function.apply(a, b, 3), (first, padded))


def test_self_attention_stats_read_uniform_weights_as_maximum_entropy_and_scale_zero_removes_the_branch():
    torch.manual_seed(0)
    nets = Networks(ModelArgs.from_config(get_config("smoke").model, 16, n_classes=3)).eval()
    layer = nets.G_ema.self_attn["8"]
    with torch.no_grad():
        layer.out.weight.normal_(0, 0.5)                  # a live branch (it starts at zero)
        z, y = torch.randn(4, nets.args.z_dim), torch.arange(4) % 3
        trained = nets.G_ema(z, y)
        with scaled_self_attention(nets.G_ema, 1.0):
            torch.testing.assert_close(nets.G_ema(z, y), trained)
        with scaled_self_attention(nets.G_ema, 0.0):
            without = nets.G_ema(z, y)
        assert not layer._forward_hooks and torch.equal(nets.G_ema(z, y), trained)   # the hooks are gone
        out_weight = layer.out.weight.clone()
        layer.out.weight.zero_()
        torch.testing.assert_close(without, nets.G_ema(z, y))
        layer.out.weight.copy_(out_weight)
        layer.query.weight.zero_()                        # q = 0: every query weighs all 64 positions alike
        seen = []
        layer.register_forward_hook(lambda m, i, o: seen.append((o - i[0]).norm() / i[0].norm()))
        stats = self_attention_stats(nets, n=4)["G.self8"]
    assert stats["max_entropy"] == pytest.approx(math.log(64))
    assert stats["entropy"] == pytest.approx(stats["max_entropy"], abs=1e-4)
    assert stats["max_weight"] == pytest.approx(1 / 64, abs=1e-6)
    assert stats["branch_ratio"] == pytest.approx(seen[0].item()) and seen[0] > 0


def test_head_weights_are_what_attend_averages_over_heads():
    layer = _model_layer(MultiHeadCrossAttention2d, locality=0.5)
    x, ctx = torch.randn(2, 16, 8, 8), torch.randn(2, 16, 8, 8)
    weights = layer.head_weights(x, ctx)
    assert weights.shape == (2, layer.heads, 64, 64)
    torch.testing.assert_close(weights.mean(1), layer.attend(x, ctx, return_attention=True)[1])
