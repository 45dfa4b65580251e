"""Networks: the generator, its EMA copy, the discriminator and the encoder of one architecture.

`ARCHITECTURES` maps model.arch to its three classes: ours (attngan.py) and the baselines that differ
from it (baselines.py); every other compared model is ours with parts switched off (core/recipes.py).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..core.errors import InputError
from .args import ModelArgs
from .attngan import Discriminator, Encoder, Generator, LatentClassifier
from .baselines import (DCGANDiscriminator, DCGANGenerator, ListingDiscriminator, ListingEncoder,
                        ListingGenerator)

# ----------------------------------------------------------------------------- the full model
ARCHITECTURES = {  # arch -> (generator, discriminator, encoder)
    "conv": (Generator, Discriminator, Encoder),
    "dcgan": (DCGANGenerator, DCGANDiscriminator, None),
    "mlp": (ListingGenerator, ListingDiscriminator, ListingEncoder),
}


class Networks(nn.Module):
    """G, its EMA copy, and (optionally) D, E and E's latent classifier C, with the arguments that rebuild them."""

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
        self.C = LatentClassifier(args) if args.latent_classifier and self.E is not None and args.n_classes > 1 \
            else None

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
            raise InputError(f"expected float images of shape (B, 3, {s}, {s}) in [-1, 1], got {x.dtype} "
                             f"{tuple(x.shape)}: repeat a grey channel to 3 (or drop alpha), resize to {s} px, "
                             "and scale uint8 with x / 127.5 - 1 (ImageSet.batch does all three)")

    def parameter_counts(self) -> dict[str, int]:
        nets = {"G": self.G, "D": self.D, "E": self.E, "C": self.C}
        return {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items() if net is not None}


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps (the VAE trick), differentiable in mu and logvar."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()
