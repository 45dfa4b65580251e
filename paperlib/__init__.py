"""paperlib: the attention-based image-generation model, its baselines, metrics, studies and figures.

Subpackages in the order data flows; each imports only from those above it in this list
(tests/test_layout.py fails on an import that climbs back up, and on any cycle):

  core/          errors, atomic writes, paths, the machine, Config, the compared models (recipes), presets
  data/          data sets as uint8 ImageSets (OpenMoji, torchvision sets, photo folders), batch draws
  model/         ModelArgs, attention, our networks (attngan), the baselines', checkpoints, sampling, editing
  training/      the training loop and its steps, losses, DiffAugment, EMA, torchrun
  evaluation/    feature spaces, metrics, evaluation of runs, the claims table, cost, copying, attacks
  applications/  editing your own photos (the `edit` command) and the notebook explorer
  studies/       the comparison 03 trains, and the §4.2 and §5 studies 07 runs
  report/        figure data, figures, `make figures`, and the notebook chain
"""
from __future__ import annotations

import importlib
from typing import Any

# public name -> the module that defines it, imported on first use (PEP 562): `python -m paperlib edit` then loads
# the model and the photo code only, not training, torchvision and the metrics
_EXPORTS = {
    "Config": "core.config", "DataConfig": "core.config", "ModelConfig": "core.config", "TrainConfig": "core.config",
    "CheckpointError": "core.errors", "ConfigError": "core.errors", "DataError": "core.errors",
    "InputError": "core.errors", "PaperlibError": "core.errors", "TrainingDiverged": "core.errors",
    "PRESETS": "core.presets", "get_config": "core.presets",
    "ImageSet": "data.datasets", "load_dataset": "data.datasets",
    "ModelArgs": "model.args",
    "CrossAttention2d": "model.attention", "SelfAttention2d": "model.attention",
    "Discriminator": "model.attngan", "Encoder": "model.attngan", "Generator": "model.attngan",
    "load_checkpoint": "model.checkpoint", "networks_from_checkpoint": "model.checkpoint",
    "networks_from_state": "model.checkpoint",
    "Networks": "model.networks",
    "generate": "model.sampling", "reconstruct": "model.sampling",
    "diff_augment": "training.augment",
    "train": "training.train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'paperlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value          # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
