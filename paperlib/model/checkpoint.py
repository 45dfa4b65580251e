"""Checkpoints: written atomically, loaded safely (weights_only), rebuildable from the file alone; a run's latest
one, and another run's weights as the start of a new one (transfer learning).

A checkpoint is a dict of plain data and tensors: `config` (the run's Config as a dict),
`model_args`, `step`, the state dicts of G, G_ema, D, E (and E's latent classifier C) and the optimizers, and
the RNG states.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ..core.atomic import atomic_path
from ..core.errors import CheckpointError, ConfigError
from .args import ModelArgs
from .networks import Networks

CHECKPOINT_FORMAT = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves a half-written checkpoint."""
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load with weights_only=True; a clear error for a missing, truncated or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train first (python -m paperlib train) "
                              "or pass the path of a .pt file from a run's checkpoints/ folder")
    try:   # weights_only=True spelt out: torch < 2.6 (which the project allows) defaults to full unpickling
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        raise CheckpointError(f"checkpoint {path} holds Python objects beyond tensors and plain data"
                              f"{f' ({found.group(1)})' if found else ''}; paperlib refuses to unpickle them "
                              "(weights_only=True). Load only checkpoints that paperlib wrote") from None
    except Exception as e:  # torch raises several types for a bad file
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); it may be "
                              "truncated or not a paperlib checkpoint: use an earlier one from the run") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT \
            or not {"model_args", "classifier"} & state.keys():
        raise CheckpointError(f"{path} is not a paperlib checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def networks_from_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> Networks:
    """Rebuild G, G_ema, D, E and C from a checkpoint alone."""
    return networks_from_state(load_checkpoint(path, map_location), path, map_location)


def networks_from_state(state: dict[str, Any], path: Path | str, map_location: str | torch.device = "cpu"
                        ) -> Networks:
    """The networks of a checkpoint already loaded (`load_checkpoint`), so that a caller that also reads its
    class names reads the file once (a 64 px photo checkpoint takes a third of a second to load)."""
    if "model_args" not in state:
        raise CheckpointError(f"{path} holds a domain classifier, not a generative model")
    if state["model_args"].get("arch", "resnet") == "resnet":
        raise CheckpointError(f"{path} holds the residual SAGAN-style model that issue 12 replaced; paperlib no "
                              "longer builds it: retrain the run with this version (or check out an older commit)")
    nets = Networks(ModelArgs.from_dict(state["model_args"]))
    try:
        nets.load_state_dict(state["networks"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the architecture its model_args describe: {e}") from None
    return nets.to(map_location)


BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def transfer_weights(nets: Networks, path: Path) -> list[str]:
    """Start from another run's weights (transfer learning): every tensor whose name and shape match is copied.

    Returns the names left at their fresh initialisation, e.g. the class embeddings when the new data set has
    another number of classes. Optimiser states are not carried over: the fine-tuning run starts its own.
    """
    if not path.is_file():
        raise FileNotFoundError(f"train.init_from={path}: no such checkpoint; train the source run first or fix the path")
    source = load_checkpoint(path, next(nets.parameters()).device)
    if "networks" not in source:
        raise CheckpointError(f"train.init_from={path} is not a model checkpoint (no 'networks'); give a "
                              "checkpoints/step_*.pt file of a trained run")
    if source.get("model_args", {}).get("arch", "resnet") != nets.args.arch:
        raise ConfigError(f"train.init_from={path} holds a {source['model_args'].get('arch')!r} model; this run "
                          f"is {nets.args.arch!r}")
    own = nets.state_dict()
    matched = {k: v for k, v in source["networks"].items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ConfigError(f"train.init_from={path}: no weight matches this model's names and shapes; fine-tune "
                          "from a run of the same architecture, width and image size")
    nets.load_state_dict(matched, strict=False)
    return sorted(k for k in own if k not in matched and not k.endswith(BN_BUFFERS))


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted((Path(run_dir) / "checkpoints").glob("step_*.pt"))
    return found[-1] if found else None
