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
from .core.config import Config, DataConfig, ModelConfig, TrainConfig
from .core.errors import CheckpointError, ConfigError, DataError, InputError, PaperlibError, TrainingDiverged
from .core.presets import PRESETS, get_config
from .data.datasets import ImageSet, load_dataset
from .model.args import ModelArgs
from .model.attention import CrossAttention2d, SelfAttention2d
from .model.attngan import Discriminator, Encoder, Generator
from .model.checkpoint import load_checkpoint, networks_from_checkpoint
from .model.networks import Networks
from .model.sampling import generate, reconstruct
from .training.augment import diff_augment
from .training.train import train

__all__ = ["CrossAttention2d", "SelfAttention2d", "diff_augment", "load_checkpoint", "networks_from_checkpoint",
           "PRESETS", "Config", "DataConfig", "ModelConfig", "TrainConfig", "get_config", "ImageSet",
           "load_dataset", "CheckpointError", "ConfigError", "DataError", "InputError", "PaperlibError", "TrainingDiverged",
           "Discriminator", "Encoder", "Generator", "ModelArgs", "Networks", "generate", "reconstruct", "train"]
