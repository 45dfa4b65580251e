"""The named presets, each one object: its training config, its evaluation plan (02-06) and its study plan (07).

`get_preset(name)` is the one lookup, so an unknown name fails once, with the list of names. The
command line and the notebooks start from `get_config(name)` and change fields with dotted overrides.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .config import Config, DataConfig, ModelConfig, TrainConfig
from .errors import ConfigError
from .recipes import ABLATIONS, MAIN


@dataclass(frozen=True)
class Plan:
    """What a preset trains and measures beyond its config (notebooks 01-06)."""

    seeds: tuple[int, ...]            # seeds of the main model and every baseline
    ablations: tuple[str, ...]        # trained with the first seed
    classifier_steps: int             # training steps of the domain-feature classifier
    draws: int                        # fake sets per run for the quality metrics
    cost_sizes: tuple[int, ...]       # image sizes of the speed and scalability table
    attention_sides: tuple[int, ...]  # feature-map sides of the attention cost table (01)


@dataclass(frozen=True)
class StudyPlan:
    """What a preset trains and measures for §4.2 and §5 (notebook 07)."""

    steps: int                          # generator steps of every study run
    batch_size: int
    datasets: tuple[str, ...]           # §4.2: data sets besides OpenMoji (skipped, with the reason, when absent)
    dataset_models: tuple[str, ...]     # models trained on each of them (recipes.MODELS)
    variants: tuple[str, ...]           # §5.1: studies.section5.VARIANTS of our model on OpenMoji
    fractions: tuple[float, ...]        # §5.2: shares of the OpenMoji training split
    classifier_steps: int               # domain classifier of each extra data set
    eval_images: int                    # fakes per draw (= held-out images used); the real reference holds 4x
    draws: int
    attack_eps: tuple[float, ...]       # §5.3: L-inf radii on the [0, 1] scale
    pgd_steps: int
    attack_images: int


@dataclass(frozen=True)
class Preset:
    config: Config
    plan: Plan
    study: StudyPlan


def _config(name: str, data: dict[str, Any], model: dict[str, Any], train: dict[str, Any]) -> Config:
    return Config(preset=name, data=replace(DataConfig(), **data), model=replace(ModelConfig(), **model),
                  train=replace(TrainConfig(), **train))


QUICK_STEPS = 2500   # quick preset's steps: about 5 minutes of our model on 2 CPU cores, so that the chain with
                     # its baselines, the equal-wall-clock DCGAN and 07's studies fits 45 minutes
# the encoder path on every 2nd G step (lazy, as StyleGAN2's regularisers): our images/s 0.47 -> 0.60 of the DCGAN's
# (benchmarks/train_speed.py, README). D's head stays ProGAN's 3x3 convolution at 4x4: moving the minibatch std before
# the last strided convolution (d_head=down) saved 4% of the step but cost KID at full (0.133 against 0.079 on seed 2;
# the design with it 0.159 +- 0.036 over three seeds, against 0.090 +- 0.003 without either change: README)
# E hides the class from its latent (a latent classifier, Fader networks), so G takes the class from its code: over
# three seeds KID 0.095 +- 0.030 against 0.140 +- 0.015 and a class edit moves an encoded image 0.082 against 0.057,
# for 0.8 dB of PSNR from z (model_experiments.csv: lazy2, lazy2_fader and their seeds).
# smoke, quick (so full) and paper share this design; photos has not measured it
_DESIGN_MODEL, _DESIGN_TRAIN = dict(latent_classifier=True), dict(enc_every=2)
_QUICK = _config("quick", dict(image_size=32), dict(ch=16, attn_res=(8,), cross_attn_res=(8, 16), **_DESIGN_MODEL),
                 dict(steps=QUICK_STEPS, batch_size=32, sample_every=1000, ckpt_every=1000, log_every=100,
                      **_DESIGN_TRAIN))
_QUICK_STUDY = StudyPlan(1000, 32, ("cifar10",), (MAIN, "dcgan"), ("attn_none",), (0.3, 1.0), 600, 1000, 2,
                         (2 / 255, 8 / 255), 10, 64)
_FULL_VARIANTS = ("ch8", "ch32", "depth2", "size64", "lr_low", "lr_high", "attn4", "attn16", "attn_none")
_FULL_MODELS = (MAIN, "noattn", "sagan", "vae", "dcgan")

PRESETS: dict[str, Preset] = {
    # seconds on a CPU: CI and nbval run the notebooks with it
    "smoke": Preset(
        _config("smoke", dict(image_size=16, skin_tones=False),
                dict(ch=16, z_dim=32, attn_res=(8,), cross_attn_res=(4, 8), **_DESIGN_MODEL),
                dict(steps=4, batch_size=16, log_every=2, sample_every=4, ckpt_every=2, **_DESIGN_TRAIN)),
        Plan((0,), (), 10, 1, (16, 32), (8, 16)),
        StudyPlan(4, 16, ("fashion_mnist", "cifar10"), (MAIN, "dcgan"), ("ch8", "depth2"), (0.3, 1.0),
                  10, 48, 1, (8 / 255,), 2, 8)),
    # the default of `make reproduce`: 32 px people and animals in at most 10 minutes of training on 2 CPU cores;
    # 32 -> 64 px in the cost table keeps the chain within 45 min; the studies take about a quarter of an hour:
    # fewer variants than `full`, each run long enough to compare (250 steps of 16 images left every run at recall 0)
    "quick": Preset(_QUICK, Plan((0,), (), 600, 3, (32, 64), (16, 32, 64)), _QUICK_STUDY),
    # the committed reference results: the quick recipe, longer, with seeds 0, 1, 2 for every model; on 2 CPU
    # cores three seeds of seven runs and 07's whole plan leave room for 1.2x quick's steps in about 2 hours;
    # the attention-placement ablations are 07's §5.1 study at this size
    "full": Preset(
        replace(_QUICK.override(**{"train.steps": QUICK_STEPS * 6 // 5}), preset="full"),
        Plan((0, 1, 2), (), 600, 3, (32, 64, 128), (16, 32, 64, 128)),
        StudyPlan(1000, 32, ("fashion_mnist", "cifar10"), _FULL_MODELS, _FULL_VARIANTS, (0.1, 0.3, 1.0), 600, 2000,
                  3, (2 / 255, 4 / 255, 8 / 255), 20, 128)),
    # your photos (`--data folder --root DIR`, or 08's `folder`): the paper design at 64 px and CPU width, measured
    # on pets (README, "The photos preset"): the x4 rates chosen at 32 px on OpenMoji left a spectrally normalised
    # D at chance and let a plain one win, so D is plain and the rates are DCGAN's 2e-4 with TTUR; cross-attention
    # at 32x32 cost 35% of the step with its dense 1024 x 1024 position bias, so it sits at 16x16 only (through 3 x 3
    # windows, model.cross_window, 16+32 cost 7% more and lifted face guidance to 0.96 at a KID cost: README).
    # 5,000 steps of 32 took 1,487 s on 2,000 faces and 1,496 s on pets, 2 CPU cores (README). quick's lazy
    # encoder path and latent classifier are not measured on photos yet: the path runs on every step, without it.
    # Its studies are quick's.
    "photos": Preset(
        _config("photos", dict(image_size=64), dict(ch=16, attn_res=(16,), cross_attn_res=(16,), d_spectral_norm=False),
                dict(steps=5000, batch_size=32, lr_g=2e-4, lr_d=4e-4, sample_every=1000, ckpt_every=500,
                     log_every=100)),
        Plan((0,), (), 600, 3, (64,), (16, 32, 64)),
        _QUICK_STUDY),
    # GPU scale: 64 px, wider networks, quick's design (its lazy encoder path and latent classifier not measured here)
    "paper": Preset(
        _config("paper", dict(image_size=64),
                dict(ch=64, attn_res=(16,), cross_attn_res=(16, 32), **_DESIGN_MODEL),
                dict(steps=50000, batch_size=64, sample_every=2000, ckpt_every=2000, **_DESIGN_TRAIN)),
        Plan((0, 1, 2), ABLATIONS, 3000, 5, (64, 128, 256), (16, 32, 64, 128)),
        StudyPlan(20000, 64, ("fashion_mnist", "cifar10"), _FULL_MODELS, _FULL_VARIANTS, (0.1, 0.3, 1.0), 3000, 5000,
                  5, (2 / 255, 4 / 255, 8 / 255), 40, 256)),
}


def get_preset(name: str) -> Preset:
    """The named preset; anything else is one clear error."""
    if not isinstance(name, str):          # e.g. `papermill -p preset 3` injects an int
        raise ConfigError(f"preset={name!r} has type {type(name).__name__}; give a preset name as a string: "
                          f"one of {', '.join(PRESETS)} (papermill: -p preset quick)")
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def get_config(preset: str = "quick", **overrides: Any) -> Config:
    """The named preset's config with dotted overrides applied, validated."""
    config = get_preset(preset).config
    return config.override(**overrides) if overrides else config
