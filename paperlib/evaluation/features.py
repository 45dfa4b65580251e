"""The feature spaces every sample-quality metric is computed in.

- "domain": the penultimate layer of `DomainClassifier`, a small CNN trained in the project on the
  data set's own labels (OpenMoji: the Unicode group of every glyph), or, for a set of one class (a
  flat folder of face photos), on predicting which of four rotations an image was given (RotNet,
  Gidaris et al. 2018; the self-supervision of SS-GAN): a face's layout, eyes above mouth, is what
  that task learns. Offline, fast, and sensitive to what the images depict; its numbers are NOT
  comparable with Inception FIDs in the literature.
- "inception": the standard FID InceptionV3 (torch-fidelity's weights through torchmetrics). It needs
  the weights file: fetched once on a machine with internet, or read from `weights_path`.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..core.config import DataConfig
from ..core.errors import CheckpointError, WeightsUnavailable
from ..data.batches import batch_indices
from ..data.datasets import load_dataset
from ..model.checkpoint import load_checkpoint, save_checkpoint
from ..training.augment import diff_augment


# ----------------------------------------------------------------------------- domain classifier
class DomainClassifier(nn.Module):
    """Images in [-1, 1] (B, 3, S, S) -> logits (B, n_classes); `features` gives the (B, 128) embedding."""

    num_features = 128

    def __init__(self, n_classes: int):
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
                                 nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))

        self.body = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),
                                  nn.MaxPool2d(2), block(32, 64), nn.MaxPool2d(2), block(64, 128))
        self.head = nn.Linear(self.num_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.dropout(self.features(x), 0.2, self.training))


def classifier_data(data: DataConfig) -> DataConfig:
    """The labels the domain classifier learns: OpenMoji's Unicode groups (subset 'all'), else the set's own;
    always the whole training split (data.fraction is what a model trains on, not what it is judged against)."""
    return DataConfig(**{**data.__dict__, "fraction": 1.0, **({"subset": "all"} if data.name == "openmoji" else {})})


def train_domain_classifier(data: DataConfig, path: Path, steps: int, seed: int = 0, batch_size: int = 128
                            ) -> dict[str, Any]:
    """Train on the training split (translation augmentation, one-cycle learning rate), save to path.

    Returns the saved metadata: held-out accuracy (plain and class-balanced), class names, steps.
    Seeded by `seed` alone, in a forked RNG: the caller's random stream is left as it was.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return _train_domain_classifier(data, path, steps, seed, batch_size)


ROTATIONS = ("upright", "rotated 90", "rotated 180", "rotated 270")   # the task's classes for a one-class set


def rotated(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """A one-class set's task: image i turned by turns[i] quarter turns (0..3), counter-clockwise."""
    return torch.stack([torch.rot90(img, int(k), dims=(1, 2)) for img, k in zip(x, turns)])


def _train_domain_classifier(data: DataConfig, path: Path, steps: int, seed: int, batch_size: int) -> dict[str, Any]:
    cfg = classifier_data(data)
    train, held = load_dataset(cfg, "train"), load_dataset(cfg, "holdout")
    by_rotation = train.num_classes == 1              # no labels to learn: learn the image's orientation instead
    class_names = list(ROTATIONS if by_rotation else train.class_names)
    net = DomainClassifier(len(class_names))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    net.train()
    for step in range(steps):
        idx = batch_indices(step, len(train), batch_size, seed)
        x, y = train.batch(idx)
        if by_rotation:
            y = torch.randint(len(ROTATIONS), (len(x),))
            x = rotated(x, y)
        loss = F.cross_entropy(net(diff_augment(x, "translation")), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    net.eval()
    x_held, y_held = held.batch(slice(None))
    if by_rotation:                                   # every held-out image in each of the four orientations
        y_held = torch.arange(len(ROTATIONS)).repeat_interleave(len(x_held))
        x_held = rotated(x_held.repeat(len(ROTATIONS), 1, 1, 1), y_held)
    with torch.no_grad():
        pred = torch.cat([net(x_held[i:i + 512]).argmax(1) for i in range(0, len(x_held), 512)])
    correct = (pred == y_held).float()
    per_class = [correct[y_held == k].mean().item() for k in range(len(class_names)) if (y_held == k).any()]
    meta = {"data": cfg.__dict__, "task": "rotation" if by_rotation else "labels", "class_names": class_names,
            "steps": steps, "seed": seed, "n_train": len(train), "n_holdout": len(held),
            "holdout_accuracy": correct.mean().item(), "holdout_balanced_accuracy": float(np.mean(per_class)),
            "final_loss": loss.item()}
    save_checkpoint(path, {"classifier": net.state_dict(), "meta": meta})
    return meta


def load_domain_classifier(path: Path) -> tuple[DomainClassifier, dict[str, Any]]:
    """The classifier saved by `train_domain_classifier`, in eval mode, and its metadata."""
    state = load_checkpoint(path)
    if "classifier" not in state:
        raise CheckpointError(f"{path} is a model checkpoint, not a domain classifier; train one with "
                              "features.train_domain_classifier (04_evaluation does)")
    net = DomainClassifier(len(state["meta"]["class_names"]))
    net.load_state_dict(state["classifier"])
    return net.eval(), state["meta"]


def domain_classifier(data: DataConfig, path: Path, steps: int, seed: int = 0) -> dict[str, Any]:
    """The classifier's metadata, training it first unless path holds one for the same data, steps and seed."""
    if path.is_file():
        _, meta = load_domain_classifier(path)
        if DataConfig(**meta["data"]) == classifier_data(data) and meta["steps"] == steps and meta["seed"] == seed:
            return meta
    return train_domain_classifier(data, path, steps, seed)


def classifier_table(meta: dict[str, Any]) -> pd.DataFrame:
    """A domain classifier's metadata as its one-row table (CLASSIFIER_COLUMNS)."""
    return pd.DataFrame([{"n_train": meta["n_train"], "n_holdout": meta["n_holdout"],
                          "classes": len(meta["class_names"]), "steps": meta["steps"], "holdout_accuracy": meta["holdout_accuracy"],
                          "holdout_balanced_accuracy": meta["holdout_balanced_accuracy"]}])


CLASSIFIER_COLUMNS = {
    "n_train": "training images (the data set's training split; OpenMoji: all glyphs)",
    "n_holdout": "held-out images", "classes": "number of classes (OpenMoji: Unicode groups)",
    "steps": "training steps (batch 128)", "holdout_accuracy": "held-out accuracy",
    "holdout_balanced_accuracy": "held-out accuracy averaged over classes",
}


# ----------------------------------------------------------------------------- feature spaces
@dataclass
class FeatureSpace:
    """A named feature extractor: uint8 images (N, 3, H, W) -> (features (N, d), logits (N, k))."""

    name: str
    net: nn.Module
    note: str
    size: int | None = None      # images of another side are resized to it first (the domain classifier's size)
    class_names: tuple[str, ...] = ()   # what its logits stand for (the domain classifier's classes)

    @torch.no_grad()
    def extract(self, images: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"extract expects uint8 images (N, 3, H, W), got {images.dtype} {tuple(images.shape)}")
        feats, logits = [], []
        for i in range(0, len(images), batch_size):
            f, lg = self._forward(images[i:i + batch_size])
            feats.append(f.double())
            logits.append(lg.double())
        return torch.cat(feats), torch.cat(logits)

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.size is not None and x.shape[-1] != self.size:
            x = F.interpolate(x.float(), size=(self.size, self.size), mode="area").round().clamp(0, 255).to(torch.uint8)
        if isinstance(self.net, DomainClassifier):
            h = self.net.features(x.float().div(127.5).sub(1.0))
            return h, self.net.head(h)
        return self.net(x)


def domain_space(path: Path) -> FeatureSpace:
    net, meta = load_domain_classifier(path)
    task = "rotation task" if meta.get("task") == "rotation" else f"{len(meta['class_names'])} classes"
    return FeatureSpace("domain", net, f"domain classifier ({task}, held-out accuracy "
                                       f"{meta['holdout_accuracy']:.3f}); not comparable with Inception FID",
                       meta["data"]["image_size"], tuple(meta["class_names"]))


def inception_space(weights_path: str | None = None) -> FeatureSpace:
    """The standard FID InceptionV3; a clear error when its weights are neither cached nor given."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    if weights_path is not None and not Path(weights_path).is_file():
        raise WeightsUnavailable(f"Inception weights {weights_path} do not exist: give the path of "
                                 "pt_inception-2015-12-05-6726825d.pth (torch-fidelity's FID weights)")
    try:
        net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048", "logits_unbiased"],
                                 feature_extractor_weights_path=weights_path)
    except (OSError, RuntimeError, pickle.UnpicklingError) as e:   # offline: URLError, HTTPError (OSErrors);
                                                                  # a damaged file: RuntimeError, UnpicklingError
        raise WeightsUnavailable(
            f"the FID InceptionV3 weights could not be loaded ({type(e).__name__}: {e}). Offline, download "
            "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/pt_inception-2015-12-05-6726825d.pth "
            "on a machine with internet and pass its path (weights_path=...), or put it in "
            "$TORCH_HOME/hub/checkpoints/; or use the offline 'domain' feature space") from None
    return FeatureSpace("inception", net, "InceptionV3 pool3 (2048-d), the standard FID network")
