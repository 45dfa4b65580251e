"""Editing through the encoder and the copying check's nearest neighbours."""
from __future__ import annotations

import pytest
import torch

from paperlib import InputError, get_config
from paperlib.model.editing import apply_attribute, attribute_vector, encode, guided, interpolate
from paperlib.evaluation.copying import nearest_neighbours
from paperlib.core.recipes import model_config
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks


def _nets(name: str = "attngan") -> Networks:
    cfg = model_config(get_config("smoke"), name)
    return Networks(ModelArgs.from_config(cfg.model, 16, 3)).eval()


def test_edits_return_one_decoded_image_per_step_or_strength():
    nets, x, y = _nets(), torch.rand(3, 3, 16, 16) * 2 - 1, torch.tensor([0, 1, 2])
    assert interpolate(nets, x[:1], x[1:2], y[:1], steps=5).shape == (5, 3, 16, 16)
    v = attribute_vector(nets, x[:2], x[2:])
    assert v.shape == (nets.args.z_dim,)
    assert torch.allclose(v, encode(nets, x[:2]).mean(0) - encode(nets, x[2:]).mean(0))
    assert apply_attribute(nets, x[:1], y[:1], v, (0.0, 1.0)).shape == (2, 3, 16, 16)
    assert guided(nets, torch.randn(3, nets.args.z_dim), y, x).shape == (3, 3, 16, 16)


def test_edits_need_an_encoder_and_guidance_needs_cross_attention():
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(InputError, match="no encoder"):
        encode(_nets("sagan"), x)
    with pytest.raises(InputError, match="no cross-attention"):
        guided(_nets("selfonly"), torch.randn(1, 32), torch.tensor([0]), x)
    with pytest.raises(InputError, match="one reference per z"):
        guided(_nets(), torch.randn(3, 32), torch.tensor([0, 0, 0]), x)


def test_nearest_neighbours_finds_the_exact_copy_first():
    pool = torch.randn(50, 8)
    idx, dist = nearest_neighbours(pool[[7, 21]] + 1e-9, pool, k=3)
    assert idx[:, 0].tolist() == [7, 21] and torch.all(dist[:, 0] < 1e-6) and torch.all(dist[:, 1] > 0)
