"""Frozen run configuration: every default of a training run is declared here once.

A `Config` holds a `DataConfig`, a `ModelConfig` and a `TrainConfig`. The command line and the
notebooks start from a preset (presets.py) and change fields with dotted overrides
(`train.steps=500`); every value is validated when the config is built, so a bad value fails
before any data is loaded.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import ConfigError

DATASETS = ("openmoji", "cifar10", "mnist", "fashion_mnist", "celeba", "folder")
OPENMOJI_SUBSETS = ("faces", "people", "animals", "people_animals", "all")
DIFFAUG_OPS = ("color", "translation", "cutout")
DEVICES = ("auto", "cpu", "cuda")
ARCHS = ("conv", "dcgan", "mlp")
GAN_LOSSES = ("hinge", "nonsaturating")


@dataclass(frozen=True)
class DataConfig:
    name: str = "openmoji"          # openmoji | cifar10 | mnist | fashion_mnist | celeba | folder
    subset: str = "people_animals"  # OpenMoji only: faces | people | animals | people_animals | all
    skin_tones: bool = True         # OpenMoji only: keep skin-tone variants (near-duplicates of a base glyph)
    root: str = ""                  # torchvision sets, folders: data root (relative: to the project); "" = data/raw/<name>
    image_size: int = 32            # side of the square images, pixels (a power of two, 16..256)
    holdout_fraction: float = 0.1   # OpenMoji/folder: share held out for evaluation (torchvision sets use their test split)
    download: bool = False          # torchvision sets: allow a download (needs internet)
    fraction: float = 1.0           # share of the training split used, per class; smaller shares are nested subsets

    def validate(self) -> None:
        _choice("data.name", self.name, DATASETS)
        _choice("data.subset", self.subset, OPENMOJI_SUBSETS)
        if self.image_size not in (16, 32, 64, 128, 256):
            raise ConfigError(f"data.image_size={self.image_size}: use a power of two from 16 to 256")
        if not 0.0 < self.holdout_fraction < 0.5:
            raise ConfigError(f"data.holdout_fraction={self.holdout_fraction}: use a value in (0, 0.5)")
        if not 0.0 < self.fraction <= 1.0:
            raise ConfigError(f"data.fraction={self.fraction}: use a share of the training split in (0, 1]")
        if self.name == "folder" and not self.root:
            raise ConfigError("data.name='folder' needs data.root=<folder of images>")


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "conv"                     # conv (ours: DCGAN-cost backbone with attention) | dcgan (baseline) | mlp (the repaired listing)
    z_dim: int = 128                       # latent size
    ch: int = 32                           # width: a block at side r has ch * min(ch_mult_max, image_size // r) channels
    ch_mult_max: int = 8                   # cap on the width multiplier at coarse resolutions
    attn_res: tuple[int, ...] = (8,)       # feature-map sides with self-attention in G (and D with d_attention); () = none
    d_attention: bool = False              # D gets self-attention at attn_res too; off: at 32 px it cost 18% of the
                                           # step and did not help (model_experiments.csv: base@d_attention)
    cross_attn_res: tuple[int, ...] = (8, 16)  # sides where G cross-attends to a reference image's encoder
                                           # features; at 32 px 8 alone left guidance blurred (match 0.46), 16
                                           # alone lost the layout (0.18), both: 0.79 (model_experiments.csv)
    heads: int = 2                         # attention heads (each of width C / heads); on a CPU 4 heads of width
                                           # 8 cost 3x 2 heads of 16 at 16x16, for the same scores
    cross_locality: float = 0.5            # cross-attention's learned position bias starts as a Gaussian of this
                                           # width (in cells) around the query's own place; 0 = no bias
    self_locality: float = 0.0             # the same learned position bias on G's self-attention: each position
                                           # starts by reading its neighbours and learns how far to look; 0 = none
                                           # (content alone decides where a query reads)
    cross_window: int = 0                  # > 0 (odd): each cross-attention query reads only this many cells square
                                           # around its own place in the reference, at a cost linear in the map;
                                           # 0 = the whole map (the dense bias's cost grows with its square)
    d_spectral_norm: bool = True           # spectral norm on D's layers (SAGAN); False: plain layers (DCGAN)
    d_batch_norm: bool = False             # batch norm after each strided convolution of D but the first (DCGAN's
                                           # D); real and fake batches then pass D separately
    d_classifier: bool = False             # D also classifies each image (AC-GAN's auxiliary head, trained on the
                                           # real images' labels), so that train.edit_weight can ask G for a class
                                           # edit D recognises (AttGAN); needs classes
    d_head: str = "conv"                   # where D's minibatch-std channel joins: conv = at 4x4, then a 3x3
                                           # convolution (ProGAN; a third of D's FLOPs at 32 px) | down = before
                                           # the last strided convolution, no extra layer (DCGAN's cost)
    g_norm: str = "pixel"                  # G's feature norm before each FiLM: pixel (ProGAN's PixelNorm, per image)
                                           # | instance (per channel over the map: with FiLM, StyleGAN's AdaIN) |
                                           # batch (DCGAN's; the EMA G samples with standing statistics; guidance
                                           # fell to 0.37 at quick: model_experiments.csv dl2_gbn)
    g_film: bool = True                    # w (z and the class) scales and shifts every side of G (FiLM); False:
                                           # it enters through G's first layer only, as a DCGAN's z
    init: str = "kaiming"                  # G's and D's starting weights: kaiming (for LeakyReLU) | normal (DCGAN's
                                           # N(0, 0.02)): with a plain D it closed most of the backbone's KID gap
                                           # (issue 12's experiments: backbone_dcrecipe_init). E always starts at
                                           # Kaiming: its features are cross-attention's keys and values
    encoder: bool = True                   # autoencoding GAN: encoder, reconstruction and KL losses
    latent_classifier: bool = False        # a classifier of the class from E's posterior mean, which E learns to
                                           # fool (Fader networks, Lample et al. 2017), so that G must take the
                                           # class from its class code: class edits of encoded images (issue 13);
                                           # a model without classes or E has nothing to hide and builds none
    conditional: bool = True               # a class embedding in G's FiLM latent and a projection D (needs labels)
    discriminator: bool = True             # False: no D and no adversarial loss (the VAE baseline)
    depth: int = 1                         # convolutions per feature-map side in G, D and E ("hidden layers")

    def validate(self, image_size: int) -> None:
        _choice("model.arch", self.arch, ARCHS)
        if self.arch != "conv" and (self.attn_res or self.cross_attn_res or self.conditional):
            raise ConfigError(f"model.arch={self.arch!r} has no attention and no class conditioning: set "
                              "model.attn_res=(), model.cross_attn_res=() and model.conditional=false")
        if self.arch != "conv" and self.depth != 1:
            raise ConfigError(f"model.depth={self.depth} applies to the conv architecture only: set model.depth=1")
        if self.arch != "conv" and self.d_classifier:
            raise ConfigError(f"model.d_classifier=true is a head of the conv architecture's D: set "
                              f"model.d_classifier=false for model.arch={self.arch!r}")
        if self.arch == "dcgan" and self.encoder:
            raise ConfigError("model.arch='dcgan' is a plain GAN without encoder: set model.encoder=false")
        if not self.discriminator and not self.encoder:
            raise ConfigError("model.discriminator=false leaves nothing to train without model.encoder=true")
        sides = feature_sides(image_size)[:-1]             # attention runs on hidden maps, not on the image
        for name in ("attn_res", "cross_attn_res"):
            for r in getattr(self, name):
                if r not in sides:
                    raise ConfigError(f"model.{name} contains {r}, which is not a feature-map side of a "
                                      f"{image_size} px network: choose from {sides}")
        if self.cross_attn_res and not self.encoder:
            raise ConfigError("model.cross_attn_res needs model.encoder=True (it attends to encoder features); "
                              "set model.cross_attn_res=() for a GAN without encoder")
        _choice("model.g_norm", self.g_norm, ("pixel", "instance", "batch"))
        _choice("model.d_head", self.d_head, ("conv", "down"))
        _choice("model.init", self.init, ("kaiming", "normal"))
        for name in ("z_dim", "ch", "ch_mult_max", "depth", "heads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name}={getattr(self, name)}: must be a positive integer")
        if self.ch % self.heads:
            raise ConfigError(f"model.ch={self.ch}: use a multiple of model.heads={self.heads} (each head gets C / heads)")
        for name in ("cross_locality", "self_locality"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ConfigError(f"model.{name}={getattr(self, name)}: use a width in cells >= 0, e.g. 0.5 (0: none)")
        if self.cross_window < 0 or (self.cross_window and self.cross_window % 2 == 0):
            raise ConfigError(f"model.cross_window={self.cross_window}: use an odd number of cells, e.g. 5 (0: the "
                              "whole map)")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000                   # generator steps
    batch_size: int = 64                # images per step, per process
    lr_g: float = 8e-4                  # generator (and encoder) learning rate; 4x DCGAN's 2e-4, which is slow at
                                        # a few thousand steps: KID 0.235 -> 0.056 at quick, the DCGAN's 0.376 ->
                                        # 0.057 (model_experiments.csv: lr_x4, dcgan_lr_x4)
    lr_d: float = 1.6e-3                # discriminator learning rate (twice G's, TTUR)
    beta1: float = 0.5                  # Adam beta1 (DCGAN, FastGAN: 0.5; SAGAN's 0 suits a million steps)
    beta2: float = 0.999                # Adam beta2
    n_dis: int = 1                      # discriminator steps per generator step
    loss: str = "hinge"                 # adversarial loss: hinge (SAGAN/BigGAN) | nonsaturating (DCGAN, the original GAN)
    class_balance: float = 0.5          # class c drawn with probability ~ n_c^(1 - class_balance): 0 natural mix,
                                        # 0.5 square-root balanced, 1 every class equally (collapses small classes)
    ema_decay: float = 0.999            # EMA of G's weights, used for every sample and metric; ramped in as
                                        # min(ema_decay, (1 + step) / (10 + step)) so early steps are not averaged in
    diffaug: str = "color,translation"  # DiffAugment policy on every D input; "" = none
    rec_weight: float = 40.0            # reconstruction loss weight (encoder path)
    rec_loss: str = "mse"               # mse | l1; MSE at 40 lifts held-out PSNR from z 18.5 -> 20.7 dB for KID
                                        # 0.056 -> 0.091 (L1 at 10; at 40: 20.1 dB, KID 0.157; MSE at 80: 21.2 dB,
                                        # 0.117; model_experiments.csv: lr_x4, rec40, rec_mse40, rec_mse80)
    kl_weight: float = 1e-4             # KL(q(z|x) || N(0, I)) weight: small, so z can carry an image's content
    enc_fraction: float = 0.5           # share of a GAN's batch that goes through the encoder path (the VAE: all)
    enc_every: int = 1                  # a GAN's encoder path runs on the last of every k generator steps, its
                                        # losses weighted by k (lazy, as StyleGAN2's regularisers): the other
                                        # steps cost a DCGAN's. Weights that only the path reaches (E, cross-
                                        # attention) take 1/k as many Adam steps; log ticks on the other steps
                                        # record its losses as 0
    guide_fraction: float = 0.5         # share of the encoded images drawn by guided generation (a fresh z, their
                                        # own encoder features as context) instead of reconstructed from z; > 0
                                        # with cross-attention (it is its only training signal)
    guide_weight: float = 10.0          # L1 between guided images and their references (the content loss)
    guide_pool: int = 1                 # average-pooling factor before that L1 (1: pixels)
    latent_adv_weight: float = 0.1      # weight of E's loss for the latent classifier's uniform guess
                                        # (model.latent_classifier; the classifier's own loss has weight 1). At
                                        # quick: 0.01 / 0.1 / 1 moved an encoded image's class by 0.067 / 0.087 /
                                        # 0.123 (0.061 without) for PSNR from z 19.4 / 19.0 / 15.4 dB (19.7)
    lecam_weight: float = 0.0           # LeCam regularisation of D (losses.LeCam; its authors use 0.3 with
                                        # DiffAugment on 10-20% of CIFAR-10); 0 = none
    edit_weight: float = 0.0            # class edits as a training path (AttGAN, He et al. 2019): each encoder-path
                                        # step also decodes the reconstructed images' latents with another class,
                                        # and G is asked, at this weight, for D to judge them real and classify
                                        # them as that class (needs model.d_classifier); 0 = none
    edit_cycle_weight: float = 0.0      # StarGAN's cycle on the class edits: each edit, encoded again and decoded
                                        # with its image's own class, must give the image back (train.rec_loss at
                                        # this weight), so an edit has to keep what it does not change; 0 = none
    edit_context: bool = False          # class edits decode with the image's own encoder features as the cross-
                                        # attention context, as guided generation does: the context can carry who
                                        # is in the picture while the class code changes what it is
    enc_adv_weight: float = 0.0         # adversarial loss on the encoder path's images (reconstructed and guided),
                                        # as in VAE-GAN; 0 = none (measured at 1: guidance match 0.46 -> 0.24,
                                        # model_experiments.csv: enc_adv)
    seed: int = 0                       # seeds torch, numpy, Python and the data order
    log_every: int = 50                 # steps between stats.jsonl lines
    sample_every: int = 500             # steps between sample grids (fixed z)
    ckpt_every: int = 500               # steps between checkpoints (always one at the end)
    device: str = "auto"                # auto (CUDA if present) | cpu | cuda
    init_from: str = ""                 # checkpoint (relative to the project root, or absolute) whose weights
                                        # start the run (transfer learning); "" = fresh initialisation

    def images_per_step(self, world_size: int = 1) -> int:
        """Real images D draws per generator step, over all processes (E's, for the VAE without D)."""
        return self.batch_size * world_size * self.n_dis

    def validate(self) -> None:
        for name in ("steps", "batch_size", "n_dis", "log_every", "sample_every", "ckpt_every", "guide_pool",
                     "enc_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name}={getattr(self, name)}: must be a positive integer")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value < 1):
                raise ConfigError(f"train.{name}={value}: use a learning rate in (0, 1), e.g. 1e-4")
        if not 0.0 < self.enc_fraction <= 1.0:
            raise ConfigError(f"train.enc_fraction={self.enc_fraction}: use a share of the batch in (0, 1]")
        for name in ("class_balance", "guide_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"train.{name}={getattr(self, name)}: use a value in [0, 1]")
        for name in ("beta1", "beta2", "ema_decay"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"train.{name}={getattr(self, name)}: use a value in [0, 1)")
        for name in ("rec_weight", "kl_weight", "guide_weight", "enc_adv_weight", "lecam_weight",
                     "latent_adv_weight", "edit_weight", "edit_cycle_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name}={getattr(self, name)}: must be non-negative")
        _choice("train.rec_loss", self.rec_loss, ("mse", "l1"))
        _choice("train.loss", self.loss, GAN_LOSSES)
        _choice("train.device", self.device, DEVICES)
        if self.init_from and not self.init_from.endswith(".pt"):
            raise ConfigError(f"train.init_from={self.init_from!r}: give a checkpoint file (.pt) of a trained run")
        for op in filter(None, self.diffaug.split(",")):
            _choice("train.diffaug operation", op, DIFFAUG_OPS)


@dataclass(frozen=True)
class Config:
    preset: str = "custom"                                # name of the preset this config started from
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        self.data.validate()
        self.model.validate(self.data.image_size)
        self.train.validate()
        if self.train.edit_weight and not (self.model.d_classifier and self.model.encoder and self.model.conditional):
            raise ConfigError(f"train.edit_weight={self.train.edit_weight} asks D to classify class edits of encoded "
                              "images: set model.d_classifier=true (a model with an encoder and classes), or "
                              "train.edit_weight=0")
        if self.train.edit_cycle_weight and not self.train.edit_weight:
            raise ConfigError(f"train.edit_cycle_weight={self.train.edit_cycle_weight} cycles the class edits: set "
                              "train.edit_weight > 0 (with model.d_classifier=true), or train.edit_cycle_weight=0")
        if self.train.edit_context and not (self.train.edit_weight and self.model.cross_attn_res):
            raise ConfigError("train.edit_context=true decodes class edits with cross-attention context: it needs "
                              "train.edit_weight > 0 and model.cross_attn_res; or set train.edit_context=false")
        if self.model.cross_attn_res and self.model.encoder and self.train.guide_fraction == 0:
            raise ConfigError("train.guide_fraction=0 leaves cross-attention untrained (guided generation is its only "
                              "training path); use a share in (0, 1], e.g. 0.5, or model.cross_attn_res=()")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Config":
        """Rebuild from plain data (config.json, a checkpoint); unknown keys are an error."""
        parts = {}
        for f in fields(cls):
            if f.name == "preset":
                continue
            sub_cls = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}[f.name]
            parts[f.name] = _build(sub_cls, d.get(f.name, {}), f.name)
        return cls(preset=d.get("preset", "custom"), **parts)

    def override(self, **dotted: Any) -> "Config":
        """Return a copy with `section.field=value` changes, e.g. override(**{"train.steps": 10})."""
        d = self.to_dict()
        for key, value in dotted.items():
            section, _, name = key.partition(".")
            if section not in ("data", "model", "train") or name not in d[section]:
                raise ConfigError(f"unknown config field {key!r}: use section.field with a section of "
                                  f"data, model, train (fields: {', '.join(d.get(section, d['train']))})")
            d[section][name] = _coerce(key, value, d[section][name])
        return Config.from_dict(d)


def assignments(items: list[str]) -> dict[str, str]:
    """`--set section.field=value` arguments as Config.override's keywords; one without `=` is a clear error."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: use section.field=value, e.g. --set train.steps=500")
        out[key] = value
    return out


def feature_sides(image_size: int) -> tuple[int, ...]:
    """Feature-map sides of the networks, coarse to fine: 4, 8, ..., image_size."""
    return tuple(4 * 2**i for i in range(int(math.log2(image_size // 4)) + 1))


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is unknown: choose one of {', '.join(allowed)}")


def _build(cls: type, d: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(known)
    if unknown:
        raise ConfigError(f"unknown field(s) in {section}: {', '.join(sorted(unknown))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _coerce(key: str, value: Any, current: Any) -> Any:
    """Parse command-line strings and check types against the field's current value."""
    if isinstance(value, str) and not isinstance(current, str):
        try:
            value = json.loads(value.replace("(", "[").replace(")", "]")) if value.strip() else value
        except json.JSONDecodeError:
            raise ConfigError(f"{key}={value!r}: could not parse; give a {type(current).__name__}") from None
    if isinstance(current, tuple):
        value = (value,) if isinstance(value, int) else tuple(value) if isinstance(value, (list, tuple)) else value
    expected = type(current)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{key}={value!r} has type {type(value).__name__}; expected {expected.__name__}")
    return value
