from __future__ import annotations

import pytest
import torch

from paperlib import ConfigError, diff_augment
from paperlib.training.augment import parse_policy


def test_policy_is_validated():
    assert parse_policy(" color, cutout ") == ("color", "cutout")
    assert parse_policy("") == ()
    with pytest.raises(ConfigError, match="unknown operation 'flip'"):
        parse_policy("color,flip")


def test_empty_policy_is_identity_and_shapes_are_kept():
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    assert torch.equal(diff_augment(x, ""), x)
    assert diff_augment(x, "color,translation,cutout").shape == x.shape


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_gradients_flow_through_every_operation(policy):
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    diff_augment(x, policy).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_moves_content_and_pads_with_zeros():
    torch.manual_seed(0)
    x = torch.ones(64, 3, 16, 16)
    out = diff_augment(x, "translation")
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    shifted = (out == 0).flatten(1).any(1).float().mean()
    assert 0.5 < shifted < 1.0      # most, not all, images were moved (a shift of 0 is allowed)


def test_cutout_zeroes_a_square_of_half_the_side():
    torch.manual_seed(0)
    out = diff_augment(torch.ones(32, 3, 16, 16), "cutout")
    zero_fraction = (out[:, 0] == 0).flatten(1).float().mean(1)
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25 + 1e-6).all()
