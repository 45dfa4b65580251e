"""Image editing through the encoder (the paper's "image editing tool"): encode, interpolate, attribute
vectors, and generation guided by cross-attention to a reference.

Every edit encodes real images to the posterior mean, changes the latent, and decodes with the EMA
generator (no batch statistics: each image's decode is independent of its batch). Interpolation and
guidance keep the source image's label unless the caller passes another. Attribute edits move G's latent
w = [PixelNorm(z), class code], as StyleGAN's edits move its W: in a conditional model the class code is
most of what tells two folders apart (cats and dogs), and moving z alone against a fixed class changed
1.5% of the pixels and no judged class (README, the photos preset).
"""
from __future__ import annotations

import torch

from ..core.errors import InputError
from .networks import Networks
from .sampling import decode

CHUNK = 256   # images per encoder or generator call on a folder of photos


def _require_encoder(nets: Networks) -> None:
    if nets.E is None:
        raise InputError("this model has no encoder (model.encoder=False); editing needs one: use attngan")


@torch.no_grad()
def encode(nets: Networks, x: torch.Tensor) -> torch.Tensor:
    """Posterior means (B, z_dim) of images in [-1, 1], CHUNK at a time: a photo folder may hold thousands."""
    _require_encoder(nets)
    nets.check_images(x)
    return torch.cat([nets.E(part)[0].float() for part in x.split(CHUNK)])


@torch.no_grad()
def decode_as(nets: Networks, z: torch.Tensor, k: int) -> torch.Tensor:
    """Decodes (B, 3, S, S) of latents z, every one with class k, CHUNK at a time."""
    return torch.cat([decode(nets, part, torch.full((len(part),), k)) for part in z.split(CHUNK)])


@torch.no_grad()
def interpolate(nets: Networks, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor | None, steps: int = 8
                ) -> torch.Tensor:
    """Decodes of the straight line from E(a) to E(b): (steps, 3, S, S); a, b are single images (1, 3, S, S)."""
    za, zb = encode(nets, torch.cat([a, b])).chunk(2)
    t = torch.linspace(0, 1, steps)[:, None]
    labels = None if y is None else y.expand(steps)
    return decode(nets, (1 - t) * za + t * zb, labels)


def _require_latent(nets: Networks) -> None:
    if not hasattr(nets.G_ema, "synthesize"):
        raise InputError(f"this model's generator ({nets.args.arch}) has no latent w to move; attribute edits "
                         "need ours (attngan) or the VAE")


@torch.no_grad()
def latent(nets: Networks, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """G's latents w (B, w_dim) of images x with classes y (ignored by an unconditional model)."""
    _require_latent(nets)
    return nets.G_ema.latent(encode(nets, x), y if nets.args.n_classes else None).float()


@torch.no_grad()
def best_labels(nets: Networks, x: torch.Tensor) -> torch.Tensor | None:
    """For each image, the class whose decode of E(x) reconstructs it best (B,): a photo carries no label,
    and a conditional generator needs one. None for an unconditional model."""
    n = nets.args.n_classes
    if n == 0:
        return None
    z = encode(nets, x)
    errors = torch.stack([(decode_as(nets, z, k) - x).pow(2).flatten(1).mean(1) for k in range(n)], dim=1)  # (B, n)
    return errors.argmin(1)


@torch.no_grad()
def attribute_vector(nets: Networks, with_attribute: torch.Tensor, with_labels: torch.Tensor | None,
                     without: torch.Tensor, without_labels: torch.Tensor | None) -> torch.Tensor:
    """Mean latent w of images with an attribute minus the mean of images without it: (w_dim,)."""
    return latent(nets, with_attribute, with_labels).mean(0) - latent(nets, without, without_labels).mean(0)


@torch.no_grad()
def apply_attribute(nets: Networks, x: torch.Tensor, y: torch.Tensor | None, vector: torch.Tensor,
                    strengths: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)) -> torch.Tensor:
    """Decodes of w(x) + s * vector for each strength s, x one or more images: (len(x) * len(strengths), 3, S, S),
    image-major (x[0]'s strengths first)."""
    w = latent(nets, x, y)[:, None] + torch.tensor(strengths)[None, :, None] * vector   # (B, strengths, w_dim)
    return synthesize(nets, w.flatten(0, 1))


@torch.no_grad()
def own_context(nets: Networks, x: torch.Tensor) -> dict[int, torch.Tensor]:
    """E's feature maps of the images x, the cross-attention context of decodes that keep each image's own content
    (training's guided path, and class edits trained with train.edit_context), CHUNK at a time."""
    _require_encoder(nets)
    nets.check_images(x)
    parts = [nets.E(part)[2] for part in x.split(CHUNK)]
    return {side: torch.cat([p[side] for p in parts]) for side in parts[0]}


@torch.no_grad()
def synthesize(nets: Networks, w: torch.Tensor, context: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
    """The EMA generator's images (B, 3, S, S) from latents w (B, w_dim), CHUNK at a time; context: one feature map
    per side for each latent (own_context), or None."""
    _require_latent(nets)
    return torch.cat([nets.G_ema.synthesize(w[i:i + CHUNK], None if context is None else
                                            {side: f[i:i + CHUNK] for side, f in context.items()}).float()
                      for i in range(0, len(w), CHUNK)])


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


