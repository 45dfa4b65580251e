"""Editing through the encoder and the copying check's nearest neighbours."""
from __future__ import annotations

import pytest
import torch

from paperlib import InputError, get_config
from paperlib.model.editing import apply_attribute, attribute_vector, best_labels, encode, guided, interpolate
from paperlib.model.sampling import decode
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
    v = attribute_vector(nets, x[:2], y[:2], x[2:], y[2:])
    assert v.shape == (2 * nets.args.z_dim,)      # w = [PixelNorm(z), class code]
    assert apply_attribute(nets, x[:1], y[:1], v, (0.0, 1.0)).shape == (2, 3, 16, 16)
    assert guided(nets, torch.randn(3, nets.args.z_dim), y, x).shape == (3, 3, 16, 16)


def test_an_attribute_between_two_classes_moves_the_class_code_and_strength_0_is_the_reconstruction():
    nets, x = _nets(), torch.rand(4, 3, 16, 16) * 2 - 1
    cats, dogs = torch.tensor([0, 0]), torch.tensor([1, 1])
    v = attribute_vector(nets, x[2:], dogs, x[:2], cats)
    code = nets.G_ema.embed.weight
    assert torch.allclose(v[nets.args.z_dim:], code[1] - code[0], atol=1e-6)

    def pixel_norm(z: torch.Tensor) -> torch.Tensor:      # G's PixelNorm of z, written out
        return z / z.pow(2).mean(1, keepdim=True).add(1e-8).sqrt()

    z_part = pixel_norm(encode(nets, x[2:])).mean(0) - pixel_norm(encode(nets, x[:2])).mean(0)
    assert torch.allclose(v[:nets.args.z_dim], z_part, atol=1e-5)
    rec = decode(nets, encode(nets, x[:1]), cats[:1])
    edits = apply_attribute(nets, x[:1], cats[:1], v, (0.0, 1.0))
    assert torch.allclose(edits[0], rec[0], atol=1e-5)
    # strength 1 from a cat: the dogs' class code, the cat's z moved by the folders' difference of z
    w = torch.cat([nets.G_ema.latent(encode(nets, x[:1]), cats[:1])[:, :nets.args.z_dim] + v[:nets.args.z_dim],
                   code[1:2]], dim=1)
    assert torch.allclose(edits[1], nets.G_ema.synthesize(w)[0], atol=1e-5)


def test_best_labels_picks_the_class_whose_decode_reconstructs_each_image():
    nets = _nets()
    level = torch.tensor([-0.5, 0.0, 0.5])          # a generator that draws a flat image of its class's level
    nets.G_ema.forward = lambda z, y, context=None: level[y][:, None, None, None].expand(len(z), 3, 16, 16)
    x = torch.stack([torch.full((3, 16, 16), v) for v in (0.45, -0.9, 0.1, -0.2)])
    assert best_labels(nets, x).tolist() == [2, 0, 1, 1]


def test_edits_need_an_encoder_and_guidance_needs_cross_attention():
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(InputError, match="no encoder"):
        encode(_nets("sagan"), x)
    with pytest.raises(InputError, match="no cross-attention"):
        guided(_nets("selfonly"), torch.randn(1, 32), torch.tensor([0]), x)
    with pytest.raises(InputError, match="one reference per z"):
        guided(_nets(), torch.randn(3, 32), torch.tensor([0, 0, 0]), x)
    with pytest.raises(InputError, match="no latent w to move"):      # the listing's MLP generator
        attribute_vector(_nets("listing"), x, None, x, None)


def test_nearest_neighbours_finds_the_exact_copy_first():
    pool = torch.randn(50, 8)
    idx, dist = nearest_neighbours(pool[[7, 21]] + 1e-9, pool, k=3)
    assert idx[:, 0].tolist() == [7, 21] and torch.all(dist[:, 0] < 1e-6) and torch.all(dist[:, 1] > 0)
