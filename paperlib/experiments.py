"""The models the evaluation compares, as named config changes, and which runs each preset trains.

Every model is trained on the same data, at the same image size, for the same number of steps and
batch size as our model (so the same images seen), with the same EMA and DiffAugment where they
apply. Unconditional models are trained on the natural class mix (they model p(x)); conditional
ones draw classes equally often and are sampled with the training split's class frequencies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config
from .errors import ConfigError

_NO_ATTENTION = {"model.attn_res": (), "model.cross_attn_res": ()}
_UNCONDITIONAL = {"model.conditional": False, "train.class_balance": 0.0}
# the DCGAN keeps its own recipe: the paper's losses and Adam settings, and the EMA and augmentation that gave
# it diverse samples at a few thousand CPU steps (FACTS.md: translation only, EMA 0.99)
_DCGAN = {**_NO_ATTENTION, **_UNCONDITIONAL, "model.arch": "dcgan", "model.encoder": False,
          "train.loss": "nonsaturating", "train.beta1": 0.5, "train.beta2": 0.999, "train.lr_g": 2e-4, "train.lr_d": 2e-4,
          "train.ema_decay": 0.99, "train.diffaug": "translation"}


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    attention: str = "none"          # what attention it has: none, self, cross, self+cross, listing
    encoder: bool = False
    adversarial: bool = True
    equal_time: bool = False         # trained for our model's wall-clock (measured) instead of its steps


MODELS: dict[str, Model] = {m.name: m for m in [
    Model("attngan", "ours: autoencoding GAN, self-attention in G, cross-attention to a real image",
          {}, "self+cross", True),
    Model("noattn", "ours with every attention layer removed (isolates what attention adds)",
          _NO_ATTENTION, "none", True),
    Model("sagan", "SAGAN-style GAN on our backbone: self-attention in G and D, projection D, hinge loss, no encoder",
          {"model.encoder": False, "model.cross_attn_res": (), "model.d_attention": True}, "self"),
    Model("vae", "conditional VAE: our encoder and decoder without attention, no discriminator",
          {**_NO_ATTENTION, "model.discriminator": False}, "none", True, False),
    Model("dcgan", "DCGAN: transposed-conv G, strided-conv D, non-saturating loss, Adam(0.5, 0.999)", _DCGAN),
    # steps = our model's training wall-clock / the DCGAN's seconds per step, both measured in the same chain run
    Model("dcgan_long", "DCGAN trained for our model's measured wall-clock (more steps)", _DCGAN, equal_time=True),
    Model("listing", "the paper's printed listing, repaired to run: MLP encoder, sum-normalised "
          "'attention', MLP decoder, MLP discriminator, MSE (repairs in paperlib/baselines.py)",
          {**_NO_ATTENTION, **_UNCONDITIONAL, "model.arch": "mlp", "train.loss": "nonsaturating",
           "train.rec_loss": "mse", "train.beta1": 0.5, "train.beta2": 0.999}, "listing", True),
    # ablations of our model: attention placement and kind
    Model("attn4", "ablation: our model, self-attention at 4x4 instead of 8x8",
          {"model.attn_res": (4,)}, "self+cross", True),
    Model("attn16", "ablation: our model, self-attention at 16x16 instead of 8x8",
          {"model.attn_res": (16,)}, "self+cross", True),
    Model("selfonly", "ablation: our model with self-attention only (no cross-attention)",
          {"model.cross_attn_res": ()}, "self", True),
    Model("crossonly", "ablation: our model with cross-attention only (no self-attention)",
          {"model.attn_res": ()}, "cross", True),
]}

BASELINES = ("noattn", "sagan", "vae", "dcgan", "listing")
EQUAL_TIME = ("dcgan_long",)          # trained with the first seed only
ABLATIONS = ("attn4", "attn16", "selfonly", "crossonly")


@dataclass(frozen=True)
class Plan:
    """What a preset trains and measures beyond its config."""

    seeds: tuple[int, ...]            # seeds of the main model and every baseline
    ablations: tuple[str, ...]        # trained with the first seed
    classifier_steps: int             # training steps of the domain-feature classifier
    draws: int                        # fake sets per run for the quality metrics
    cost_sizes: tuple[int, ...]       # image sizes of the speed and scalability table
    attention_sides: tuple[int, ...]  # feature-map sides of the attention cost table (01)


PLANS: dict[str, Plan] = {
    "smoke": Plan((0,), (), 10, 1, (16, 32), (8, 16)),
    "quick": Plan((0,), (), 600, 3, (32, 64), (16, 32, 64)),          # 32 -> 64 px keeps the chain within 45 min
    # three seeds of every model; the attention-placement ablations are 07_section5's §5.1 study at this size
    "full": Plan((0, 1, 2), (), 600, 3, (32, 64, 128), (16, 32, 64, 128)),
    "paper": Plan((0, 1, 2), ABLATIONS, 3000, 5, (64, 128, 256), (16, 32, 64, 128)),
}


def plan(preset: str) -> Plan:
    """The preset's plan (a custom config gets the quick plan)."""
    return PLANS.get(preset, PLANS["quick"])


def model_config(base: Config, name: str, seed: int | None = None, steps: int | None = None) -> Config:
    """base with the named model's changes (and a seed, and a step count) applied; an ablation the image size
    lacks is an error. Checkpoint and sample intervals scale with the steps."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    changes = dict(MODELS[name].overrides)
    if steps is not None and steps != base.train.steps:
        factor = steps / base.train.steps
        changes.update({"train.steps": steps, "train.ckpt_every": max(1, round(base.train.ckpt_every * factor)),
                        "train.sample_every": max(1, round(base.train.sample_every * factor))})
    if seed is not None:
        changes["train.seed"] = seed
    return base.override(**changes) if changes else base


def run_name(name: str, seed: int) -> str:
    """The run folder of a model and seed: 'attngan' for seed 0 (the run 02_train makes), else 'attngan_s1'."""
    return name if seed == 0 else f"{name}_s{seed}"


def planned_runs(base: Config) -> list[tuple[str, int]]:
    """(model, seed) pairs the preset trains: main and baselines per seed, then the equal-time DCGAN and the
    ablations the image size allows, with the first seed."""
    p = plan(base.preset)
    runs = [(m, s) for s in p.seeds for m in ("attngan", *BASELINES)]
    for m in (*EQUAL_TIME, *p.ablations):
        try:
            model_config(base, m)
        except ConfigError:
            continue                    # e.g. attn32 at 16 px
        runs.append((m, p.seeds[0]))
    return runs


def train_planned(base: Config, runs_dir: Path, progress: bool = False) -> pd.DataFrame:
    """Train (or resume, or skip when complete) every planned run; one row per run with its budget."""
    from .evaluate import run_stats
    from .train import train

    rows = []
    for model, seed in planned_runs(base):
        run_dir = runs_dir / run_name(model, seed)
        steps = equal_time_steps(base, runs_dir, seed) if MODELS[model].equal_time else None
        summary = train(model_config(base, model, seed, steps), run_dir, progress=progress)
        rows.append({"model": model, "seed": seed, "run": run_dir.name, **run_stats(run_dir),
                     **{f"params_{k}": v for k, v in summary["parameters"].items()}})
    return pd.DataFrame(rows)


def equal_time_steps(base: Config, runs_dir: Path, seed: int) -> int:
    """DCGAN steps that take our model's training wall-clock: base steps x (our wall-clock / the DCGAN's),
    both read from runs of this seed trained earlier in the same chain run (so on the same machine)."""
    from .evaluate import run_stats

    ours, dcgan = (run_stats(runs_dir / run_name(m, seed)) for m in ("attngan", "dcgan"))
    ratio = (ours["train_wall_clock_s"] / ours["steps"]) / (dcgan["train_wall_clock_s"] / dcgan["steps"])
    return max(1, round(base.train.steps * ratio))


TRAINING_COLUMNS = {
    "model": "model name (MODELS)", "seed": "training seed", "run": "run folder under runs/",
    "steps": "generator steps", "images_seen": "real images drawn by D (by E for the VAE) over training",
    "train_wall_clock_s": "training wall-clock of the run, seconds (stats.jsonl elapsed_s; a resumed run's clock "
                          "continues from its checkpoint's)",
    "train_images_per_s": "training images per second", "params_G": "generator parameters",
    "params_D": "discriminator parameters (empty: no D)", "params_E": "encoder parameters (empty: no encoder)",
}
