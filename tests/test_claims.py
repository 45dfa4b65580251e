"""The claims table applies its rule: clear wins, clear losses and ties get the verdict they should."""
from __future__ import annotations

import pandas as pd

from paperlib.evaluation.claims import claims_table
from paperlib.evaluation.evaluate import summarize


def _runs(kids: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for model, values in kids.items():
        for seed, kid in enumerate(values):
            rows.append({"model": model, "seed": seed, "features": "domain", "fid": 10 * kid, "kid": kid,
                         "kid_subset_std": 0.001, "is": 1.0, "precision": 0.5, "recall": 0.5, "density": 0.5,
                         "coverage": 0.5, "n_real": 100, "n_fake": 50, "train_images_per_s": 10.0})
    return pd.DataFrame(rows)


def _cost(ours_speed: float) -> pd.DataFrame:
    rows = []
    for model, speeds in {"attngan": (ours_speed, ours_speed / 10), "dcgan": (100, 50), "vae": (50, 25)}.items():
        for size, s in zip((32, 64), speeds):
            rows.append({"model": model, "image_size": size, "train_images_per_s": s, "sample_images_per_s": s})
    return pd.DataFrame(rows)


def test_verdicts_follow_the_kid_rule_with_several_seeds():
    summary = summarize(_runs({"attngan": [0.010, 0.011, 0.012], "dcgan": [0.050, 0.052, 0.051],
                               "vae": [0.004, 0.005, 0.004], "noattn": [0.011, 0.013, 0.010]}))
    claims = claims_table(summary, _cost(200), 32).set_index("claim")
    assert claims.loc["better image quality than a plain GAN (equal images seen)", "verdict"] == "supported"
    assert claims.loc["better image quality than a VAE", "verdict"] == "not supported"
    assert claims.loc["attention improves quality (same model without attention)", "verdict"] == "mixed"
    assert "3 seeds" in claims.loc["better image quality than a plain GAN (equal images seen)", "reason"]
    assert claims.loc["the encoder and cross-attention add to a SAGAN", "verdict"] == "not measured"


def test_a_single_seed_verdict_is_marked_provisional():
    summary = summarize(_runs({"attngan": [0.010], "dcgan": [0.050]}))
    claims = claims_table(summary, _cost(200), 32).set_index("claim")
    assert claims.loc["better image quality than a plain GAN (equal images seen)", "verdict"] == "supported (one seed)"


def test_speed_and_scalability_verdicts():
    summary = summarize(_runs({"attngan": [0.01]}))
    fast = claims_table(summary, _cost(200), 32).set_index("claim")
    assert fast.loc["faster than VAEs and plain GANs", "verdict"] == "supported"
    assert fast.loc["scales better with image size than VAEs and plain GANs", "verdict"] == "not supported"
    slow = claims_table(summary, _cost(20), 32).set_index("claim")
    assert slow.loc["faster than VAEs and plain GANs", "verdict"] == "not supported"
