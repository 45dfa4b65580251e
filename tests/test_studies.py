"""The §4.2 and §5 studies: data fractions, sources, plans and the per-data-set claims table."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from paperlib import get_config, load_dataset
from paperlib.core.config import DataConfig
from paperlib.data.datasets import ImageSet, fraction_of
from paperlib.evaluation.features import FeatureSpace
from paperlib.core.presets import PRESETS
from paperlib.studies.section5 import VARIANTS, claims_by_dataset, find_source, study_config


def _set(n_per_class: tuple[int, ...]) -> ImageSet:
    labels = torch.cat([torch.full((n,), k) for k, n in enumerate(n_per_class)])
    return ImageSet(torch.zeros(len(labels), 3, 4, 4, dtype=torch.uint8), labels,
                    [f"c{k}" for k in range(len(n_per_class))], [f"img{i}" for i in range(len(labels))], "toy")


def test_fractions_are_nested_and_keep_every_class():
    data = _set((50, 10, 3))
    small, large = fraction_of(data, 0.1), fraction_of(data, 0.3)
    assert small.labels.bincount().tolist() == [5, 1, 1] and large.labels.bincount().tolist() == [15, 3, 1]
    assert set(small.ids) <= set(large.ids)


def test_the_training_split_honours_data_fraction_and_the_holdout_does_not():
    cfg = get_config("smoke")
    full, part = load_dataset(cfg.data, "train"), load_dataset(cfg.override(**{"data.fraction": 0.25}).data, "train")
    assert 0.2 * len(full) < len(part) < 0.35 * len(full)
    assert len(load_dataset(cfg.override(**{"data.fraction": 0.25}).data, "holdout")) == \
        len(load_dataset(cfg.data, "holdout"))


def test_a_missing_data_set_is_reported_with_every_reason(tmp_path, monkeypatch):
    import paperlib.data.datasets as data

    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "none")
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))          # no data/raw left by other tests
    source, line = find_source("cifar10", 32)
    assert source is None and "cifar-10-batches-py" in line and "cifar10-folder" in line
    source, line = find_source("fashion_mnist", 32)
    assert source is None and "dataset-fashion-mnist" in line


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_study_config_of_every_plan_is_valid(preset):
    plan = PRESETS[preset].study
    for variant in ("base", *plan.variants):
        cfg = study_config(preset, DataConfig(), "attngan", **VARIANTS[variant][1])
        assert cfg.train.steps == plan.steps and cfg.train.batch_size == plan.batch_size
    for model in plan.dataset_models:
        assert study_config(preset, DataConfig(name="fashion_mnist"), model).data.name == "fashion_mnist"


def test_claims_by_dataset_has_a_column_per_data_set():
    long = pd.DataFrame([{"dataset": "openmoji", "claim": "a", "verdict": "supported"},
                         {"dataset": "openmoji", "claim": "b", "verdict": "mixed"},
                         {"dataset": "fashion_mnist", "claim": "a", "verdict": "not supported"}])
    wide = claims_by_dataset(long)
    assert list(wide.columns) == ["claim", "openmoji", "fashion_mnist"]
    assert wide.set_index("claim").loc["b", "fashion_mnist"] == "not measured"


def test_a_feature_space_resizes_images_of_another_side():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))

    class Two(torch.nn.Module):
        def forward(self, x):
            h = net(x.float())
            return h, h

    space = FeatureSpace("toy", Two(), "", size=8)
    small = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    large = small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    torch.testing.assert_close(space.extract(large)[0], space.extract(small)[0])


def test_section5_verdicts_apply_the_two_sigma_rule_and_judge_filters_against_adaptive_attacks():
    from paperlib.studies.section5 import section5_verdicts

    def runs(**kid):
        return pd.DataFrame([{"name": n, "kid": k, "kid_subset_std": 0.01, "precision": 0.5, "recall": 0.5}
                             for n, k in kid.items()])

    sensitivity = runs(**{"openmoji-base": 0.30, "openmoji-ch8": 0.50, "openmoji-depth2": 0.31})
    scaling = runs(**{"openmoji-base": 0.30, "openmoji-frac30-aug": 0.60, "openmoji-frac30-noaug": 0.40,
                      "openmoji-frac100-noaug": 0.30})
    transfer = runs(**{"fashion_mnist-attngan": 0.2, "transfer-fashion_mnist": 0.1}).assign(dataset="fashion_mnist")
    cells = [("none", "none", "-", 0.0, 0.0), ("none", "blur", "-", 0.0, 0.05), ("none", "jpeg", "-", 0.0, 0.5),
             ("pgd", "none", "unaware", 0.03, 0.3), ("pgd", "blur", "unaware", 0.03, 0.06),
             ("pgd", "blur", "adaptive", 0.03, 0.1), ("pgd", "jpeg", "unaware", 0.03, 0.5),
             ("pgd", "jpeg", "adaptive", 0.03, 0.6)]
    attacks = pd.DataFrame([{"attack": a, "filter": f, "attacker": w, "eps": e, "latent_shift": s,
                             "objective": "-" if a == "none" else "latent"} for a, f, w, e, s in cells])
    v = section5_verdicts("smoke", sensitivity, scaling, transfer, attacks).set_index("ours")["verdict"]
    assert v["openmoji-ch8"] == "not supported (one seed)" and v["openmoji-depth2"] == "mixed (one seed)"
    assert v["openmoji-frac30-aug"] == "not supported (one seed)"         # DiffAugment at 30%: worse here
    assert v["transfer-fashion_mnist"] == "supported (one seed)"
    assert v["blur"] == "supported" and v["jpeg"] == "not supported"       # jpeg alone moves the latent more
