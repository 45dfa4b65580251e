"""ModelArgs: a ModelConfig resolved for one data set, stored in every checkpoint to rebuild its networks."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.config import ModelConfig

# fields added after checkpoints were first written, with the value a file written before them meant
LEGACY_DEFAULTS = {"cross_locality": 0.0, "d_attention": True, "d_head": "conv", "d_classifier": False,
                   "self_locality": 0.0}


@dataclass(frozen=True)
class ModelArgs(ModelConfig):
    """ModelConfig's fields, plus what the data set fixes: the image side and the number of classes."""

    image_size: int = field(kw_only=True)
    n_classes: int = field(kw_only=True)     # 0 = unconditional; the authority over `conditional`

    @classmethod
    def from_config(cls, model: ModelConfig, image_size: int, n_classes: int) -> "ModelArgs":
        n = n_classes if model.conditional else 0
        return cls(**{**asdict(model), "conditional": n > 0}, image_size=image_size, n_classes=n)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelArgs":
        d = {**LEGACY_DEFAULTS, "conditional": d.get("n_classes", 0) > 0, **d}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def width(self, side: int) -> int:
        """Channels of a feature map of this side."""
        return self.ch * min(self.ch_mult_max, self.image_size // side)
