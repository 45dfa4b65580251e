"""The compared models: each builds, trains and samples; the listing's repairs hold; configs are checked."""
from __future__ import annotations

import json

import pytest
import torch

from paperlib import ConfigError, get_config
from paperlib.core.recipes import ABLATIONS
from paperlib.core.recipes import BASELINES, EQUAL_TIME, MODELS, model_config
from paperlib.studies.comparison import planned_runs
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks
from paperlib.training.train import train


@pytest.mark.parametrize("name", [m for m in MODELS if m != "attn16"])
def test_every_model_trains_two_steps_and_generates_images(name, smoke_cfg, smoke_data, tmp_path):
    cfg = model_config(smoke_cfg, name).override(**{"train.steps": 2, "train.log_every": 1})
    summary = train(cfg, tmp_path / name, progress=False, data=smoke_data)
    rows = [json.loads(line) for line in (tmp_path / name / "stats.jsonl").read_text().splitlines()]
    m = MODELS[name]
    assert ("D" in summary["parameters"]) == m.adversarial and ("E" in summary["parameters"]) == m.encoder
    assert (rows[-1]["loss_d"] is None) == (not m.adversarial)       # the VAE logs no D loss
    assert (rows[-1]["loss_rec"] > 0) == m.encoder
    ours = name == "noattn" or name not in (*BASELINES, *EQUAL_TIME)  # the latent classifier is our design's:
    assert ("C" in summary["parameters"]) == ours                     # the baselines keep their own recipes
    nets = Networks(ModelArgs.from_config(cfg.model, 16, smoke_data.num_classes)).eval()
    images = nets.G_ema(torch.randn(4, cfg.model.z_dim), torch.zeros(4, dtype=torch.long))
    assert images.shape == (4, 3, 16, 16) and images.abs().max() <= 1


@pytest.mark.parametrize("size", [32, 64])
def test_dcgan_shapes_and_widths_follow_the_shared_rule(size):
    cfg = model_config(get_config("quick"), "dcgan").override(**{"data.image_size": size})
    args = ModelArgs.from_config(cfg.model, size, 3)
    nets = Networks(args)
    x = nets.G(torch.randn(2, args.z_dim))
    assert x.shape == (2, 3, size, size) and nets.D(x).shape == (2,)
    assert nets.G.net[0].out_channels == args.width(4)


def test_listing_attention_is_normalised_per_sample_so_images_do_not_interact():
    args = ModelArgs.from_config(model_config(get_config("smoke"), "listing").model, 16, 0)
    g = Networks(args).G.eval()
    z = torch.randn(2, args.z_dim)
    alone = g(z[:1])
    other = g(torch.cat([z[:1], 100 * torch.randn(1, args.z_dim)]))[:1]
    assert torch.allclose(alone, other, atol=1e-6)


def test_model_configs_are_validated_with_a_message():
    base = get_config("quick")
    with pytest.raises(ConfigError, match="no attention"):
        base.override(**{"model.arch": "dcgan", "model.encoder": False})          # attention still on
    with pytest.raises(ConfigError, match="nothing to train"):
        base.override(**{"model.discriminator": False, "model.encoder": False, "model.cross_attn_res": ()})
    with pytest.raises(ConfigError, match="unknown model"):
        model_config(base, "stylegan")
    with pytest.raises(ConfigError, match="train.loss"):
        base.override(**{"train.loss": "wasserstein"})


def test_presets_plan_seeds_and_ablations():
    quick = planned_runs(get_config("quick"))
    assert quick == [(m, 0) for m in ("attngan", *BASELINES, "dcgan_long")]
    full = planned_runs(get_config("full"))
    assert {s for _, s in full} == {0, 1, 2} and not any(m in ABLATIONS for m, _ in full)
    assert all((a, 0) in planned_runs(get_config("paper")) for a in ABLATIONS)
    assert ("attn16", 0) not in planned_runs(get_config("smoke"))               # a 16 px G has no 16x16 hidden map


def test_equal_time_dcgan_steps_come_from_the_measured_wall_clock_ratio(tmp_path):
    from paperlib.studies.comparison import equal_time_steps

    base = get_config("quick")
    for name, seconds in (("attngan", 600.0), ("dcgan", 150.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"config": base.to_dict()}))
        (tmp_path / name / "stats.jsonl").write_text(json.dumps({"step": 100, "elapsed_s": seconds}) + "\n")
    assert equal_time_steps(base, tmp_path, 0) == 4 * base.train.steps
    long = model_config(base, "dcgan_long", steps=4 * base.train.steps)
    assert long.train.steps == 4 * base.train.steps and long.model.arch == "dcgan"
