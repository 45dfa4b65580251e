"""Baseline networks the evaluation compares against: a DCGAN, and the paper's printed listing repaired.

The VAE, the no-attention model and the SAGAN-style GAN reuse the networks of `attngan.py` with
parts switched off (see `core/recipes.py`); only architectures that differ live here.

DCGAN (Radford et al. 2016): transposed convolutions with batch norm in G, strided convolutions
with leaky ReLU and batch norm in D, no spectral norm, no attention, no encoder, unconditional.
Widths follow the same `ModelArgs.width(side)` rule as our model, so the sizes are comparable.

The listing (MLP encoder, an "attention" that divides a linear layer by its sum, MLP decoder,
MSE and Adam) does not run as printed. Repairs, and nothing else:
  1. undefined names (layer sizes, image size) are defined from the config: hidden width ch * 32;
  2. the images are flattened for the MLPs and reshaped back, with tanh on the output ([-1, 1]);
  3. the attention weights pass through softplus before the division by their sum, and the sum is
     taken per sample: a raw linear layer's sum can be 0 or negative (inf/NaN), and a sum over the
     whole batch would make each image depend on the others;
  4. the discriminator the text describes but the listing lacks: an MLP with the original GAN's
     (non-saturating) loss;
  5. generation from noise: the listing only reconstructs, so a KL term on the encoder and the
     adversarial loss on decoder(z ~ N(0, I)) are added (our training loop's encoder path), or the
     model could not generate at all.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..core.config import feature_sides
from .args import ModelArgs


def _dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) weights, BN gains N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z (B, z_dim) -> image (B, 3, S, S); labels and context are accepted and ignored (unconditional)."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)                     # 4, 8, ..., S
        self.z_dim, self.n_classes = a.z_dim, 0
        layers: list[nn.Module] = [nn.ConvTranspose2d(a.z_dim, a.width(4), 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(a.width(4)), nn.ReLU(True)]
        for r in sides[1:-1]:
            layers += [nn.ConvTranspose2d(a.width(r // 2), a.width(r), 4, 2, 1, bias=False),
                       nn.BatchNorm2d(a.width(r)), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(a.width(sides[-2]), 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _dcgan_init(self)

    def batch_norms(self) -> list[nn.BatchNorm2d]:
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, context: dict | None = None) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """Image (B, 3, S, S) -> logit (B,); labels accepted and ignored."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[::-1]               # S, S/2, ..., 4
        layers: list[nn.Module] = [nn.Conv2d(3, a.width(sides[1]), 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for r in sides[1:-1]:
            layers += [nn.Conv2d(a.width(r), a.width(r // 2), 4, 2, 1, bias=False),
                       nn.BatchNorm2d(a.width(r // 2)), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(a.width(4), 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).flatten()


class ListingEncoder(nn.Module):
    """The listing's MLP encoder: image -> hidden -> (mu, logvar); no feature maps (no cross-attention)."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        hidden = a.ch * 32
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * a.image_size**2, hidden), nn.ReLU(True),
                                 nn.Linear(hidden, 2 * a.z_dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict]:
        mu, logvar = self.net(x).chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10), {}


class ListingGenerator(nn.Module):
    """The listing's "attention" over the hidden state, then its MLP decoder: (B, z_dim) -> (B, 3, S, S)."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        hidden = a.ch * 32
        self.z_dim, self.n_classes, self.size = a.z_dim, 0, a.image_size
        self.attention = nn.Linear(a.z_dim, a.z_dim)
        self.decoder = nn.Sequential(nn.Linear(a.z_dim, hidden), nn.ReLU(True),
                                     nn.Linear(hidden, 3 * a.image_size**2), nn.Tanh())

    def batch_norms(self) -> list[nn.BatchNorm2d]:
        return []

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, context: dict | None = None) -> torch.Tensor:
        weights = F.softplus(self.attention(z))                        # repair 3: positive ...
        h = z * weights / weights.sum(dim=1, keepdim=True)              # ... and normalised per sample
        return self.decoder(h).view(-1, 3, self.size, self.size)


class ListingDiscriminator(nn.Module):
    """Repair 4: the MLP discriminator the paper's text describes. Image -> logit (B,)."""

    def __init__(self, a: ModelArgs):
        super().__init__()
        hidden = a.ch * 32
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * a.image_size**2, hidden), nn.LeakyReLU(0.2, True),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).flatten()
