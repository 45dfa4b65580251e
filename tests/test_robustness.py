"""Attacks on the encoder input and the input filters of §5.3."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import median_filter

from paperlib import InputError, get_config
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks
from paperlib.evaluation.robustness import FILTERS, attack, damage, median, robustness_table


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    cfg = get_config("smoke")
    return Networks(ModelArgs.from_config(cfg.model, 16, 3)).eval()


def test_median_filter_matches_scipy():
    x = torch.randn(2, 3, 9, 7)
    ref = median_filter(x.numpy(), size=(1, 1, 3, 3), mode="mirror")      # torch's 'reflect' is scipy's 'mirror'
    np.testing.assert_allclose(median(x).numpy(), ref, rtol=0, atol=0)


def test_filters_keep_shape_and_range():
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    for name, fn in FILTERS.items():
        out = fn(x)
        assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1, name
    assert (FILTERS["jpeg"](x) - x).abs().mean() > 0                      # JPEG is lossy


@pytest.mark.parametrize("kind", ["fgsm", "pgd"])
@pytest.mark.parametrize("objective", ["reconstruction", "latent"])
def test_attacks_stay_in_the_ball_and_beat_random_noise_of_the_same_size(nets, kind, objective):
    torch.manual_seed(1)
    x, y = torch.rand(8, 3, 16, 16) * 1.6 - 0.8, torch.arange(8) % 3
    eps = 8 / 255
    adv = attack(nets, x, y, eps, kind, steps=5, objective=objective)
    assert (adv - x).abs().max() <= 2 * eps + 1e-6
    noise = (x + 2 * eps * torch.randint(0, 2, x.shape).float().mul(2).sub(1)).clamp(-1, 1)
    key = "latent_shift" if objective == "latent" else "rec_mse"
    assert damage(nets, x, adv, y)[key] > damage(nets, x, noise, y)[key]


def test_bad_attack_names_are_refused(nets):
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(ValueError, match="unknown attack"):
        attack(nets, x, None, 0.1, "cw")
    with pytest.raises(ValueError, match="unknown filter"):
        attack(nets, x, None, 0.1, through="sharpen")
    with pytest.raises(InputError, match="expected float images"):
        attack(nets, torch.zeros(1, 3, 8, 8), None, 0.1)


def test_the_table_has_clean_unaware_and_adaptive_rows(nets):
    x, y = torch.rand(4, 3, 16, 16) * 2 - 1, torch.arange(4) % 3
    rows, examples = robustness_table(nets, x, y, (4 / 255,), pgd_steps=2)
    cells = {(r["objective"], r["attack"], r["filter"], r["attacker"]) for r in rows}
    assert ("-", "none", "none", "-") in cells and ("latent", "pgd", "jpeg", "adaptive") in cells
    assert len(rows) == 4 + 2 * 2 * (1 + 2 * len(FILTERS))
    clean = next(r for r in rows if r["attack"] == "none" and r["filter"] == "none")
    assert clean["latent_shift"] == 0 and clean["input_psnr_db"] == float("inf")
    assert {"clean", "attacked", "jpeg_rec"} <= set(examples)
