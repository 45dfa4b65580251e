"""Image editing through the encoder (the paper's "image editing tool"): encode, interpolate, attribute
vectors, and generation guided by cross-attention to a reference.

Every edit encodes real images to the posterior mean, changes the latent, and decodes with the EMA
generator (no batch statistics: each image's decode is independent of its batch). Labels stay those
of the source image unless the caller passes others.
"""
from __future__ import annotations

import torch

from ..core.errors import InputError
from .networks import Networks
from .sampling import decode


def _require_encoder(nets: Networks) -> None:
    if nets.E is None:
        raise InputError("this model has no encoder (model.encoder=False); editing needs one: use attngan")


@torch.no_grad()
def encode(nets: Networks, x: torch.Tensor) -> torch.Tensor:
    """Posterior means (B, z_dim) of images in [-1, 1]."""
    _require_encoder(nets)
    nets.check_images(x)
    return nets.E(x)[0].float()


@torch.no_grad()
def interpolate(nets: Networks, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor | None, steps: int = 8
                ) -> torch.Tensor:
    """Decodes of the straight line from E(a) to E(b): (steps, 3, S, S); a, b are single images (1, 3, S, S)."""
    za, zb = encode(nets, torch.cat([a, b])).chunk(2)
    t = torch.linspace(0, 1, steps)[:, None]
    labels = None if y is None else y.expand(steps)
    return decode(nets, (1 - t) * za + t * zb, labels)


@torch.no_grad()
def attribute_vector(nets: Networks, with_attribute: torch.Tensor, without: torch.Tensor) -> torch.Tensor:
    """Mean latent of images with an attribute minus the mean of images without it: (z_dim,)."""
    return encode(nets, with_attribute).mean(0) - encode(nets, without).mean(0)


@torch.no_grad()
def apply_attribute(nets: Networks, x: torch.Tensor, y: torch.Tensor | None, vector: torch.Tensor,
                    strengths: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)) -> torch.Tensor:
    """For one image x (1, 3, S, S): decodes of E(x) + s * vector for each strength s: (len(strengths), 3, S, S)."""
    z = encode(nets, x) + torch.tensor(strengths)[:, None] * vector[None]
    return decode(nets, z, None if y is None else y.expand(len(strengths)))


@torch.no_grad()
def guided(nets: Networks, z: torch.Tensor, y: torch.Tensor | None, reference: torch.Tensor) -> torch.Tensor:
    """Generation from z whose cross-attention reads the encoder features of `reference` (one image per z):
    training's guided path, which it trains with the image itself as the reference."""
    _require_encoder(nets)
    if not nets.args.cross_attn_res:
        raise InputError("this model has no cross-attention (model.cross_attn_res=()); nothing can guide it")
    nets.check_images(reference)
    if len(reference) != len(z):
        raise InputError(f"{len(reference)} reference images for {len(z)} latents: give one reference per z "
                         "(repeat a single reference with reference.expand(len(z), -1, -1, -1))")
    return decode(nets, z, y, nets.E(reference)[2])


def self_guided(nets: Networks, x: torch.Tensor, y: torch.Tensor | None, seed: int = 0) -> torch.Tensor:
    """Guided generation from fresh (seeded) latents with each image as its own reference: training's
    guided path, so what comes back of x came through cross-attention alone."""
    z = torch.randn(len(x), nets.args.z_dim, generator=torch.Generator().manual_seed(seed))
    return guided(nets, z, y, x)


