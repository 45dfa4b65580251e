from __future__ import annotations

import pytest

from paperlib import PRESETS, Config, ConfigError, get_config


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_valid_and_round_trip(name):
    cfg = get_config(name)
    assert cfg.preset == name
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_overrides_parse_command_line_strings():
    cfg = get_config("quick", **{"train.steps": "123", "model.attn_res": "(8, 16)", "train.lr_d": "2e-4",
                                 "model.cross_attn_res": "()", "data.skin_tones": "false"})
    assert (cfg.train.steps, cfg.model.attn_res, cfg.train.lr_d) == (123, (8, 16), 2e-4)
    assert cfg.model.cross_attn_res == () and cfg.data.skin_tones is False


@pytest.mark.parametrize("overrides, message", [
    ({"train.lr_g": 3.0}, "learning rate in (0, 1)"),
    ({"train.steps": 0}, "positive integer"),
    ({"model.attn_res": (12,)}, "not a feature-map side"),
    ({"model.attn_res": (32,)}, "choose from (4, 8, 16)"),
    ({"data.name": "imagenet"}, "choose one of openmoji"),
    ({"data.image_size": 48}, "power of two"),
    ({"train.diffaug": "color,flip"}, "unknown"),
    ({"train.batch": 3}, "unknown config field 'train.batch'"),
    ({"train.steps": "many"}, "could not parse"),
    ({"train.steps": 1.5}, "expected int"),
    ({"model.encoder": False}, "cross_attn_res needs model.encoder=True"),
    ({"train.guide_fraction": 0.0}, "leaves cross-attention untrained"),
    ({"model.cross_locality": -1.0}, "width in cells >= 0"),
    ({"model.self_locality": float("nan")}, "width in cells >= 0"),
    ({"model.cross_window": 4}, "odd number of cells"),
    ({"data.fraction": 0.0}, "share of the training split in (0, 1]"),
    ({"data.fraction": 1.5}, "share of the training split in (0, 1]"),
    ({"model.depth": 0}, "positive integer"),
    ({"train.init_from": "runs/attngan"}, "give a checkpoint file (.pt)"),
    ({"train.edit_weight": 1.0}, "set model.d_classifier=true"),
    ({"train.edit_cycle_weight": 10.0}, "set train.edit_weight > 0"),
    ({"train.edit_weight": 1.0, "model.d_classifier": True, "model.conditional": False},
     "set model.d_classifier=true (a model with an encoder and classes)"),
    ({"model.d_classifier": True, "model.arch": "dcgan", "model.encoder": False, "model.attn_res": (),
      "model.cross_attn_res": (), "model.conditional": False}, "head of the conv architecture's D"),
])
def test_bad_values_get_a_message_that_names_the_fix(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_config("quick", **overrides)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'fast'.*smoke, quick, full, photos, paper"):
        get_config("fast")


def test_from_dict_rejects_unknown_fields():
    d = get_config("smoke").to_dict()
    d["model"]["n_heads"] = 4
    with pytest.raises(ConfigError, match="unknown field.*n_heads"):
        Config.from_dict(d)


def test_depth_belongs_to_the_conv_architecture():
    with pytest.raises(ConfigError, match="conv architecture only"):
        get_config("quick", **{"model.arch": "dcgan", "model.encoder": False, "model.attn_res": (),
                               "model.cross_attn_res": (), "model.conditional": False, "model.depth": 2})
