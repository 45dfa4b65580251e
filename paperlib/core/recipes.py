"""The models the evaluation compares, each a recipe: a name and the config changes that make it from ours.

Every model is trained on the same data, at the same image size, for the same number of steps and
batch size as our model (so the same images seen), with the same EMA and DiffAugment where they
apply. Unconditional models are trained on the natural class mix (they model p(x)); conditional
ones draw classes equally often and are sampled with the training split's class frequencies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .errors import ConfigError

MAIN = "attngan"   # our model: its recipe name, and the run folder 02_train makes
_NO_ATTENTION = {"model.attn_res": (), "model.cross_attn_res": ()}
_UNCONDITIONAL = {"model.conditional": False, "train.class_balance": 0.0, "model.latent_classifier": False}


# the DCGAN keeps its own recipe: the paper's losses and Adam betas, and the EMA and augmentation that gave it
# diverse samples at a few thousand CPU steps (FACTS.md: translation only, EMA 0.99). Its learning rates are the
# shared defaults: the paper's 2e-4 is slow at these budgets for it as for us (model_experiments.csv:
# dcgan_lr_x4, KID 0.376 -> 0.057), and a baseline left at a slow rate would flatter our model.
_DCGAN = {**_NO_ATTENTION, **_UNCONDITIONAL, "model.arch": "dcgan", "model.encoder": False,
          "train.loss": "nonsaturating", "train.beta1": 0.5, "train.beta2": 0.999,
          "train.ema_decay": 0.99, "train.diffaug": "translation"}


@dataclass(frozen=True)
class Recipe:
    """A compared model: what it is, and the config changes that make it from our model."""

    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    attention: str = "none"          # what attention it has: none, self, cross, self+cross, listing
    encoder: bool = False
    adversarial: bool = True
    equal_time: bool = False         # trained for our model's wall-clock (measured) instead of its steps


MODELS: dict[str, Recipe] = {m.name: m for m in [
    Recipe("attngan", "ours: autoencoding GAN, self-attention in G, cross-attention to a real image",
          {}, "self+cross", True),
    Recipe("noattn", "ours with every attention layer removed (isolates what attention adds)",
          _NO_ATTENTION, "none", True),
    Recipe("sagan", "SAGAN-style GAN on our backbone: self-attention in G and D, projection D, hinge loss, no encoder",
          {"model.encoder": False, "model.cross_attn_res": (), "model.d_attention": True,
           "model.latent_classifier": False}, "self"),
    # a plain conditional VAE: the latent classifier's adversarial loss is part of our design, not the VAE's
    Recipe("vae", "conditional VAE: our encoder and decoder without attention, no discriminator",
          {**_NO_ATTENTION, "model.discriminator": False, "model.latent_classifier": False}, "none", True, False),
    Recipe("dcgan", "DCGAN: transposed-conv G, strided-conv D, non-saturating loss, Adam(0.5, 0.999)", _DCGAN),
    # steps = our model's training wall-clock / the DCGAN's seconds per step, both measured in the same chain run
    Recipe("dcgan_long", "DCGAN trained for our model's measured wall-clock (more steps)", _DCGAN, equal_time=True),
    Recipe("listing", "the paper's printed listing, repaired to run: MLP encoder, sum-normalised "
          "'attention', MLP decoder, MLP discriminator, MSE (repairs in paperlib/model/baselines.py)",
          {**_NO_ATTENTION, **_UNCONDITIONAL, "model.arch": "mlp", "train.loss": "nonsaturating",
           "train.rec_loss": "mse", "train.beta1": 0.5, "train.beta2": 0.999, "train.enc_every": 1}, "listing", True),
    # ablations of our model: attention placement and kind
    Recipe("attn4", "ablation: our model, self-attention at 4x4 instead of 8x8",
          {"model.attn_res": (4,)}, "self+cross", True),
    Recipe("attn16", "ablation: our model, self-attention at 16x16 instead of 8x8",
          {"model.attn_res": (16,)}, "self+cross", True),
    Recipe("selfonly", "ablation: our model with self-attention only (no cross-attention)",
          {"model.cross_attn_res": ()}, "self", True),
    Recipe("crossonly", "ablation: our model with cross-attention only (no self-attention)",
          {"model.attn_res": ()}, "cross", True),
]}


BASELINES = ("noattn", "sagan", "vae", "dcgan", "listing")


EQUAL_TIME = ("dcgan_long",)          # trained with the first seed only


ABLATIONS = ("attn4", "attn16", "selfonly", "crossonly")


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
