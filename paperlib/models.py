"""The attention model: Encoder, Generator (the decoder), Discriminator, built from one ModelConfig.

The full model is an autoencoding GAN. Generation: z ~ N(0, I) -> Generator. Reconstruction and
editing: Encoder(x) -> (mu, logvar) -> z, and the Encoder's feature maps of a *reference* image
feed the Generator's cross-attention ("generated state attends to real state"). Self-attention
sits at the feature-map sides in `attn_res`, in G and in D; cross-attention at `cross_attn_res`.

Widths: a feature map of side r has ch * min(ch_mult_max, image_size // r) channels, in every network.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import CrossAttention2d, SelfAttention2d
from .baselines import (DCGANDiscriminator, DCGANGenerator, ListingDiscriminator, ListingEncoder,
                        ListingGenerator)
from .blocks import ConditionalBatchNorm2d, DownBlock, UpBlock, init_weights, sn_conv, sn_linear
from .config import ModelConfig, feature_sides


@dataclass(frozen=True)
class ModelArgs:
    """Everything needed to rebuild the networks; stored in every checkpoint."""

    image_size: int
    n_classes: int          # 0 = unconditional
    z_dim: int
    ch: int
    ch_mult_max: int
    attn_res: tuple[int, ...]
    cross_attn_res: tuple[int, ...]
    attn_impl: str
    attn_value_half: bool
    encoder: bool
    arch: str = "resnet"
    discriminator: bool = True
    depth: int = 1          # residual blocks per side (the first changes the side, the others keep it)

    @classmethod
    def from_config(cls, model: ModelConfig, image_size: int, n_classes: int) -> "ModelArgs":
        return cls(image_size, n_classes if model.conditional else 0, model.z_dim, model.ch, model.ch_mult_max,
                   tuple(model.attn_res), tuple(model.cross_attn_res), model.attn_impl,
                   model.attn_value_half, model.encoder, model.arch, model.discriminator, model.depth)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelArgs":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def to_dict(self) -> dict:
        return asdict(self)

    def width(self, side: int) -> int:
        """Channels of a feature map of this side."""
        return self.ch * min(self.ch_mult_max, self.image_size // side)


# ----------------------------------------------------------------------------- Encoder
class Encoder(nn.Module):
    """Image -> posterior q(z|x) and feature maps for cross-attention.

    x (B, 3, S, S) -> mu (B, z_dim), logvar (B, z_dim), features {side: (B, width(side), side, side)}
    for each side in cross_attn_res. No spectral norm: the encoder is trained by reconstruction.
    """

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[::-1]               # S, S/2, ..., 4
        self.feature_sides = a.cross_attn_res
        self.stem = sn_conv(3, a.width(sides[0]), 3, use_sn=False)
        self.blocks = nn.ModuleList(DownBlock(a.width(r), a.width(r // 2), use_sn=False) for r in sides[:-1])
        self.extra = _extra_blocks(a, sides[1:], lambda c: DownBlock(c, c, use_sn=False, down=False))
        self.head = nn.Linear(a.width(4), 2 * a.z_dim)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[int, torch.Tensor]]:
        h = self.stem(x)                                        # (B, width(S), S, S)
        features = {h.shape[-1]: h} if h.shape[-1] in self.feature_sides else {}
        for block, extra in zip(self.blocks, self.extra):
            h = block(h)                                        # side halves
            for more in extra:
                h = more(h)
            if h.shape[-1] in self.feature_sides:
                features[h.shape[-1]] = h
        mu, logvar = self.head(F.relu(h).mean(dim=(2, 3))).chunk(2, dim=1)  # (B, z_dim) each
        return mu, logvar.clamp(-10, 10), features


# ----------------------------------------------------------------------------- Generator (decoder)
class Generator(nn.Module):
    """z (B, z_dim), labels (B,) or None, encoder features or None -> image (B, 3, S, S) in [-1, 1]."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)                     # 4, 8, ..., S
        self.z_dim, self.n_classes = a.z_dim, a.n_classes
        self.linear = sn_linear(a.z_dim, a.width(4) * 16)
        self.blocks = nn.ModuleList(UpBlock(a.width(r // 2), a.width(r), a.n_classes) for r in sides[1:])
        self.extra = _extra_blocks(a, sides[1:], lambda c: UpBlock(c, c, a.n_classes, up=False))
        self.self_attn = nn.ModuleDict({str(r): SelfAttention2d(a.width(r), a.attn_impl, a.attn_value_half)
                                        for r in a.attn_res})
        self.cross_attn = nn.ModuleDict({str(r): CrossAttention2d(a.width(r), a.width(r), a.attn_impl,
                                                                  a.attn_value_half) for r in a.cross_attn_res})
        self.bn = ConditionalBatchNorm2d(a.width(a.image_size), 0)
        self.to_rgb = sn_conv(a.width(a.image_size), 3, 3)
        init_weights(self)

    def batch_norms(self) -> list[nn.BatchNorm2d]:
        """The batch-norm layers, whose statistics sampling and reconstruction set explicitly."""
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]

    def _attend(self, h: torch.Tensor, context: dict[int, torch.Tensor] | None) -> torch.Tensor:
        side = str(h.shape[-1])
        if side in self.self_attn:
            h = self.self_attn[side](h)
        if side in self.cross_attn:
            h = self.cross_attn[side](h, None if context is None else context[h.shape[-1]])
        return h

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None,
                context: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        h = self._attend(self.linear(z).view(z.shape[0], -1, 4, 4), context)    # (B, width(4), 4, 4)
        for block, extra in zip(self.blocks, self.extra):
            h = block(h, y)                                                      # side doubles
            for more in extra:
                h = more(h, y)
            h = self._attend(h, context)
        return torch.tanh(self.to_rgb(F.relu(self.bn(h, None))))                 # (B, 3, S, S)


# ----------------------------------------------------------------------------- Discriminator
class Discriminator(nn.Module):
    """Image (B, 3, S, S), labels (B,) or None -> real/fake score (B,); projection D when conditional."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[::-1]               # S, S/2, ..., 4
        self.stem = sn_conv(3, a.width(sides[0]), 3)
        self.blocks = nn.ModuleList(DownBlock(a.width(r), a.width(r // 2)) for r in sides[:-1])
        self.extra = _extra_blocks(a, sides[1:], lambda c: DownBlock(c, c, down=False))
        self.self_attn = nn.ModuleDict({str(r): SelfAttention2d(a.width(r), a.attn_impl, a.attn_value_half)
                                        for r in a.attn_res})
        self.linear = sn_linear(a.width(4), 1)
        self.embed = nn.utils.parametrizations.spectral_norm(nn.Embedding(a.n_classes, a.width(4))) \
            if a.n_classes else None
        init_weights(self)

    def _attend(self, h: torch.Tensor) -> torch.Tensor:
        side = str(h.shape[-1])
        return self.self_attn[side](h) if side in self.self_attn else h

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self._attend(self.stem(x))                          # (B, width(S), S, S)
        for block, extra in zip(self.blocks, self.extra):
            h = block(h)                                        # side halves
            for more in extra:
                h = more(h)
            h = self._attend(h)
        pooled = F.relu(h).sum(dim=(2, 3))                      # (B, width(4))
        score = self.linear(pooled).squeeze(1)                  # (B,)
        if self.embed is not None:
            score = score + (self.embed(y) * pooled).sum(dim=1)
        return score


def _extra_blocks(a: ModelArgs, sides: tuple[int, ...], make: Callable[[int], nn.Module]) -> nn.ModuleList:
    """depth - 1 side-keeping blocks after each side-changing block (empty at depth 1: the same state dict)."""
    return nn.ModuleList(nn.ModuleList(make(a.width(r)) for _ in range(a.depth - 1)) for r in sides)


# ----------------------------------------------------------------------------- the full model
ARCHITECTURES = {  # arch -> (generator, discriminator, encoder)
    "resnet": (Generator, Discriminator, Encoder),
    "dcgan": (DCGANGenerator, DCGANDiscriminator, None),
    "mlp": (ListingGenerator, ListingDiscriminator, ListingEncoder),
}


class Networks(nn.Module):
    """G, its EMA copy, and (optionally) D and E, with the arguments that rebuild them."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        make_g, make_d, make_e = ARCHITECTURES[args.arch]
        self.G = make_g(args)
        self.G_ema = make_g(args)
        self.G_ema.load_state_dict(self.G.state_dict())
        self.G_ema.requires_grad_(False).eval()
        self.D = make_d(args) if args.discriminator else None
        self.E = make_e(args) if args.encoder and make_e is not None else None

    def attention_layers(self) -> dict[str, nn.Module]:
        """Every attention layer by a readable name, e.g. 'G.self16', 'G.cross8', 'D.self16'."""
        out = {f"G.self{r}": m for r, m in getattr(self.G, "self_attn", {}).items()}
        out.update({f"G.cross{r}": m for r, m in getattr(self.G, "cross_attn", {}).items()})
        out.update({f"D.self{r}": m for r, m in getattr(self.D, "self_attn", {}).items()})
        return out

    def check_images(self, x: torch.Tensor) -> None:
        """Raise a clear error unless x is a float batch (B, 3, S, S) at this model's image size."""
        s = self.args.image_size
        if x.dim() != 4 or x.shape[1:] != (3, s, s) or not x.is_floating_point():
            raise ValueError(f"expected float images of shape (B, 3, {s}, {s}) in [-1, 1], got {x.dtype} "
                             f"{tuple(x.shape)}: repeat a grey channel to 3 (or drop alpha), resize to {s} px, "
                             "and scale uint8 with x / 127.5 - 1 (ImageSet.batch does all three)")

    def parameter_counts(self) -> dict[str, int]:
        nets = {"G": self.G, "D": self.D, "E": self.E}
        return {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items() if net is not None}


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps (the VAE trick), differentiable in mu and logvar."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()
