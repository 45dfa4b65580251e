"""paperlib: the attention-based image-generation model, its baselines, metrics and figures."""
from .attention import CrossAttention2d, SelfAttention2d
from .augment import diff_augment
from .checkpoint import load_checkpoint, networks_from_checkpoint
from .config import PRESETS, Config, DataConfig, ModelConfig, TrainConfig, get_config
from .data import ImageSet, load_dataset
from .errors import CheckpointError, ConfigError, DataError, InputError, PaperlibError, TrainingDiverged
from .models import Discriminator, Encoder, Generator, ModelArgs, Networks
from .sampling import generate, reconstruct
from .train import train

__all__ = ["CrossAttention2d", "SelfAttention2d", "diff_augment", "load_checkpoint", "networks_from_checkpoint",
           "PRESETS", "Config", "DataConfig", "ModelConfig", "TrainConfig", "get_config", "ImageSet",
           "load_dataset", "CheckpointError", "ConfigError", "DataError", "InputError", "PaperlibError", "TrainingDiverged",
           "Discriminator", "Encoder", "Generator", "ModelArgs", "Networks", "generate", "reconstruct", "train"]
