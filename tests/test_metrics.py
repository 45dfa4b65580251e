"""Metrics: torchmetrics' FID equals a direct scipy computation; the k-NN metrics and KID behave; errors are clear."""
from __future__ import annotations

import urllib.error

import numpy as np
import pytest
import torch

from paperlib import CheckpointError
from paperlib.core.errors import WeightsUnavailable
from paperlib.evaluation.features import (ROTATIONS, domain_space, inception_space, load_domain_classifier, rotated,
                                         train_domain_classifier)
from paperlib.evaluation.metrics import frechet_distance, reconstruction_metrics, sample_metrics, ssim


def _gauss(n, d, mean=0.0, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (mean + scale * torch.randn(n, d, generator=g)).double()


def test_fid_matches_scipy_on_the_same_features_and_the_closed_form_on_known_gaussians():
    real, fake = _gauss(4000, 8), _gauss(4000, 8, mean=0.5, scale=1.5, seed=1)
    got = sample_metrics(real, fake)["fid"]
    r, f = real.numpy(), fake.numpy()
    direct = frechet_distance(r.mean(0), np.cov(r, rowvar=False), f.mean(0), np.cov(f, rowvar=False))
    assert got == pytest.approx(direct, rel=1e-6)
    # N(0, I) against N(0.5, 1.5^2 I) in 8 dimensions: 8 * 0.25 + 8 * (1.5 - 1)^2 = 4
    assert got == pytest.approx(4.0, rel=0.1)


def test_same_distribution_scores_near_the_floor_and_a_shifted_one_does_not():
    real = _gauss(600, 16)
    same = sample_metrics(real, _gauss(300, 16, seed=2))
    far = sample_metrics(real, _gauss(300, 16, mean=3.0, seed=3))
    assert abs(same["kid"]) < 0.02 < far["kid"]
    assert same["precision"] > 0.8 and same["recall"] > 0.8 and same["coverage"] > 0.5
    assert far["precision"] < 0.05 and far["coverage"] < 0.05
    assert same["n_real"] == 600 and same["n_fake"] == 300


def test_metric_inputs_are_checked():
    with pytest.raises(ValueError, match="feature sizes differ"):
        sample_metrics(_gauss(50, 4), _gauss(50, 5))
    with pytest.raises(ValueError, match="need more than"):
        sample_metrics(_gauss(50, 4), _gauss(3, 4))


def test_reconstruction_metrics_on_the_unit_scale():
    x = torch.rand(4, 3, 8, 8) * 1.4 - 0.8            # in [-0.8, 0.6], so x + 0.2 needs no clipping
    m = reconstruction_metrics(x, x + 0.2)            # 0.1 on the [0, 1] scale: MSE 0.01, PSNR 20 dB
    assert m["mse"] == pytest.approx(0.01, rel=1e-4) and m["psnr_db"] == pytest.approx(20, abs=1e-3)
    assert m["n_images"] == 4


def test_psnr_and_ssim_match_torchmetrics():
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    x = torch.rand(3, 3, 32, 32) * 2 - 1
    x_rec = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    a, b = (x + 1) / 2, (x_rec + 1) / 2
    ours = reconstruction_metrics(x, x_rec)["psnr_db"]
    assert ours == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1.0, reduction="none", dim=(1, 2, 3))
                                 .mean().item(), abs=1e-4)
    reference = structural_similarity_index_measure(b, a, data_range=1.0, reduction="none")
    assert torch.allclose(ssim(x, x_rec), reference, atol=1e-5)
    assert ssim(x, x).sub(1).abs().max() < 1e-5


def test_domain_classifier_trains_saves_and_extracts_features(project_root, smoke_cfg, smoke_data, tmp_path):
    meta = train_domain_classifier(smoke_cfg.data, tmp_path / "clf.pt", steps=3)
    assert 0 <= meta["holdout_accuracy"] <= 1 and len(meta["class_names"]) > 3      # Unicode groups
    space = domain_space(tmp_path / "clf.pt")
    feats, logits = space.extract(smoke_data.images[:10])
    assert feats.shape == (10, 128) and logits.shape == (10, len(meta["class_names"]))
    with pytest.raises(ValueError, match="uint8"):
        space.extract(smoke_data.images[:10].float())


def test_a_model_checkpoint_is_not_a_classifier(smoke_cfg, smoke_data, tmp_path):
    from paperlib.training.train import train

    summary = train(smoke_cfg.override(**{"train.steps": 1}), tmp_path / "run", progress=False, data=smoke_data)
    with pytest.raises(CheckpointError, match="not a domain classifier"):
        load_domain_classifier(summary["checkpoint"])


def test_inception_without_weights_offline_says_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(WeightsUnavailable, match="do not exist"):
        inception_space(str(tmp_path / "missing.pth"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(WeightsUnavailable, match="domain' feature space"):
        inception_space()


def test_an_inception_api_break_is_not_reported_as_missing_weights(monkeypatch):
    import torchmetrics.image.fid as fid

    def changed_signature(*args, **kwargs):
        raise TypeError("unexpected keyword argument 'features_list'")

    monkeypatch.setattr(fid, "NoTrainInceptionV3", changed_signature)
    with pytest.raises(TypeError, match="features_list"):
        inception_space()


def test_a_one_class_folder_gets_a_classifier_of_quarter_turns(tmp_path):
    """A flat folder has no labels: the domain classifier learns which way up an image is, which it can only do
    from what the images show (here a bright bar along each photo's top edge)."""
    from PIL import Image

    from paperlib import get_config
    rng = np.random.default_rng(0)
    (tmp_path / "photos").mkdir()
    for i in range(40):
        pixels = rng.integers(0, 120, (20, 20, 3), dtype=np.uint8)
        pixels[:4] = 255
        Image.fromarray(pixels).save(tmp_path / "photos" / f"{i:02d}.png")
    data = get_config("smoke", **{"data.name": "folder", "data.root": str(tmp_path / "photos"),
                                  "data.holdout_fraction": 0.3}).data
    meta = train_domain_classifier(data, tmp_path / "clf.pt", steps=60, batch_size=32)
    assert meta["task"] == "rotation" and meta["class_names"] == list(ROTATIONS)
    assert meta["holdout_accuracy"] > 0.9                     # chance: 0.25
    assert "rotation task" in domain_space(tmp_path / "clf.pt").note
    x = torch.arange(4.0).view(1, 1, 2, 2).repeat(2, 3, 1, 1)
    turned = rotated(x, torch.tensor([0, 1]))
    assert torch.equal(turned[0], x[0]) and turned[1, 0].tolist() == [[1.0, 3.0], [0.0, 2.0]]   # a quarter turn
