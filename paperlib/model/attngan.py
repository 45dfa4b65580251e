"""The attention model: Encoder, Generator (the decoder), Discriminator, built from one ModelArgs.

The full model is an autoencoding GAN at DCGAN cost. Generation: z ~ N(0, I) -> Generator.
Reconstruction and editing: Encoder(x) -> (mu, logvar) -> z, and the Encoder's feature maps of a
real image feed the Generator's cross-attention ("the generated state attends to the real state").
Self-attention sits at the feature-map sides in `attn_res`, in G and in D; cross-attention at
`cross_attn_res`.

The backbone is DCGAN's (strided and transposed 4x4 convolutions, one per side) with three changes
that issue 12 measured to matter: no batch statistics in G (PixelNorm, and FiLM from the latent, so
sampling, reconstruction and guidance of one image never depend on the rest of its batch), a
minibatch standard deviation in D (a batch statistic that lets D see collapse), and spectral norm
in D. Widths: a feature map of side r has ch * min(ch_mult_max, image_size // r) channels.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..core.config import feature_sides
from .args import ModelArgs
from .attention import MultiHeadCrossAttention2d, MultiHeadSelfAttention2d
from .layers import sn_conv, sn_linear

LEAK = 0.2  # LeakyReLU slope everywhere in the model's networks


# ----------------------------------------------------------------------------- shared layers
class PixelNorm(nn.Module):
    """Normalise each position's feature vector to unit mean square (ProGAN): a per-image, batch-free norm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class InstanceNorm(nn.Module):
    """Normalise each channel of each image over its positions (with FiLM after it: StyleGAN's AdaIN)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x)


class FiLM(nn.Module):
    """Per-channel scale and shift from the latent: h * (1 + s(w)) + b(w); starts as the identity."""

    def __init__(self, w_dim: int, channels: int):
        super().__init__()
        self.affine = nn.Linear(w_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """h (B, C, H, W), w (B, w_dim) -> (B, C, H, W)."""
        scale, shift = self.affine(w)[:, :, None, None].chunk(2, dim=1)     # (B, C, 1, 1) each
        return h * (1 + scale) + shift


class IgnoreLatent(nn.Module):
    """FiLM's place when model.g_film is off: h passes unchanged, the latent is not read."""

    def forward(self, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return h


def minibatch_std(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append one channel: the feature std within groups of `group` consecutive images (ProGAN).

    Groups are consecutive, so a batch of [reals, fakes] with len(reals) divisible by the group
    never mixes the two. x (B, C, H, W) -> (B, C + 1, H, W).
    """
    b, c, h, w = x.shape
    g = max(k for k in range(1, min(group, b) + 1) if b % k == 0)
    v = x.float().view(b // g, g, c, h, w)
    # the variance written out: torch's var(dim=1) here is 7x slower (forward + backward, 2 CPU threads)
    std = (v - v.mean(dim=1, keepdim=True)).pow(2).mean(dim=1).add(1e-8).sqrt()          # (B/g, C, H, W)
    stat = std.mean(dim=(1, 2, 3)).to(x.dtype)                                            # (B/g,)
    return torch.cat([x, stat.repeat_interleave(g)[:, None, None, None].expand(b, 1, h, w)], dim=1)


def _init(module: nn.Module, scheme: str) -> None:
    """Start weights by model.init (kaiming: for the LeakyReLU slope; normal: DCGAN's N(0, 0.02)), zero biases.

    FiLM and attention outputs keep their zeros. Under Adam a weight moves about lr per step whatever its
    size, so the start's scale is also the learning rate relative to the weights.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            if weight.abs().sum() == 0:          # zero-initialised on purpose (FiLM, attention output)
                continue
            if scheme == "kaiming":
                nn.init.kaiming_normal_(weight, a=LEAK)
            else:
                nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    with torch.no_grad():  # refresh spectral norm's power-iteration vectors for the new weights
        for m in module.modules():
            if hasattr(m, "parametrizations"):
                for _ in range(15):
                    m.parametrizations.weight[0](m.parametrizations.weight.original)


def _down(cin: int, cout: int, use_sn: bool) -> nn.Module:
    """A strided 4x4 convolution: side / 2 (DCGAN's D)."""
    conv = nn.Conv2d(cin, cout, 4, 2, 1)
    return nn.utils.parametrizations.spectral_norm(conv) if use_sn else conv


def _extra(a: ModelArgs, sides: tuple[int, ...], make: Callable[[int], nn.Module]) -> nn.ModuleList:
    """depth - 1 side-keeping layers at each side (empty at depth 1)."""
    return nn.ModuleList(nn.ModuleList(make(a.width(r)) for _ in range(a.depth - 1)) for r in sides)


# ----------------------------------------------------------------------------- Encoder
class Encoder(nn.Module):
    """Image -> posterior q(z|x) and feature maps for cross-attention.

    x (B, 3, S, S) -> mu (B, z_dim), logvar (B, z_dim), features {side: (B, width(side), side, side)}
    for each side in cross_attn_res. DCGAN's D trunk without spectral norm (it is trained by reconstruction).
    """

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[::-1][1:]           # S/2, S/4, ..., 4
        self.feature_sides = a.cross_attn_res
        self.stem = _down(3, a.width(sides[0]), use_sn=False)
        self.downs = nn.ModuleList(_down(a.width(r), a.width(r // 2), use_sn=False) for r in sides[:-1])
        self.extra = _extra(a, sides, lambda c: nn.Conv2d(c, c, 3, padding=1))
        self.head = nn.Linear(a.width(4) * 16, 2 * a.z_dim)
        # Kaiming whatever model.init says: E has no spectral norm and no adversary, and its feature maps are
        # cross-attention's keys and values. Under N(0, 0.02) they started at RMS 0.05 (16x16) and 0.016 (8x8)
        # against 0.56 and 0.53, and guidance fell from 0.89 to 0.48-0.65 (issue 12's experiments, @enc_normal)
        _init(self, "kaiming")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[int, torch.Tensor]]:
        h = F.leaky_relu(self.stem(x), LEAK)                   # (B, width(S/2), S/2, S/2)
        features = {}
        for i, extra in enumerate(self.extra):
            for conv in extra:
                h = F.leaky_relu(conv(h), LEAK)
            if h.shape[-1] in self.feature_sides:
                features[h.shape[-1]] = h
            if i < len(self.downs):
                h = F.leaky_relu(self.downs[i](h), LEAK)         # side halves
        mu, logvar = self.head(h.flatten(1)).chunk(2, dim=1)    # (B, z_dim) each
        return mu, logvar.clamp(-10, 10), features


class LatentClassifier(nn.Module):
    """The class from E's posterior mean (B, z_dim) -> logits (B, n_classes), which E learns to fool.

    Fader networks' latent discriminator (Lample et al., 2017). Without it E's latent carries the class and G
    reads it from there: switching the class code moved a decode of an encoded image 0.061 against 0.154 from a
    prior latent (README, issue 12's experiments). frozen=True scores with detached weights, so that E's loss
    (a uniform guess) does not train the classifier the wrong way.
    """

    def __init__(self, a: ModelArgs, hidden: int = 256):
        super().__init__()
        self.hidden = nn.Linear(a.z_dim, hidden)
        self.out = nn.Linear(hidden, a.n_classes)

    def forward(self, mu: torch.Tensor, frozen: bool = False) -> torch.Tensor:
        def linear(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
            return F.linear(x, layer.weight.detach(), layer.bias.detach()) if frozen else layer(x)
        return linear(self.out, F.leaky_relu(linear(self.hidden, mu), LEAK))


# ----------------------------------------------------------------------------- Generator (decoder)
class Generator(nn.Module):
    """z (B, z_dim), labels (B,) or None, encoder features or None -> image (B, 3, S, S) in [-1, 1].

    w = [PixelNorm(z), class embedding] drives a FiLM after every PixelNorm, so the latent acts at
    every side (a DCGAN's z acts only through its first layer and fades).
    """

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[:-1]                # 4, 8, ..., S/2
        self.z_dim, self.n_classes = a.z_dim, a.n_classes
        self.embed = nn.Embedding(a.n_classes, a.z_dim) if a.n_classes else None
        w_dim = a.z_dim * (2 if a.n_classes else 1)
        self.norm = PixelNorm()                                 # of z
        make_norm = {"pixel": lambda c: PixelNorm(), "instance": lambda c: InstanceNorm(),
                     "batch": lambda c: nn.BatchNorm2d(c, affine=not a.g_film)}[a.g_norm]   # FiLM is its affine
        self.norms = nn.ModuleList(make_norm(a.width(r)) for r in sides)
        self.extra_norms = _extra(a, sides, make_norm)
        self.input = nn.Linear(w_dim, a.width(4) * 16)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(a.width(r // 2), a.width(r), 4, 2, 1) for r in sides[1:])
        make_film = (lambda c: FiLM(w_dim, c)) if a.g_film else (lambda c: IgnoreLatent())
        self.films = nn.ModuleList(make_film(a.width(r)) for r in sides)
        self.extra = _extra(a, sides, lambda c: nn.Conv2d(c, c, 3, padding=1))
        self.extra_films = _extra(a, sides, make_film)
        self.self_attn = nn.ModuleDict({str(r): MultiHeadSelfAttention2d(a.width(r), r, heads=a.heads,
                                                                         locality=a.self_locality)
                                        for r in a.attn_res})
        self.cross_attn = nn.ModuleDict({str(r): MultiHeadCrossAttention2d(a.width(r), r, heads=a.heads,
                                                                           locality=a.cross_locality,
                                                                           window=a.cross_window)
                                         for r in a.cross_attn_res})
        self.to_rgb = nn.ConvTranspose2d(a.width(sides[-1]), 3, 4, 2, 1)
        _init(self, a.init)
        # DCGAN's N(0, 0.02) for the output layer: nothing normalises it, and a Kaiming start (std ~2 before tanh)
        # saturates tanh into pixel noise that its vanishing gradient then keeps (issue 12's experiments)
        nn.init.normal_(self.to_rgb.weight, 0.0, 0.02)

    def batch_norms(self) -> list[nn.BatchNorm2d]:
        """The feature norms that keep batch statistics (model.g_norm=batch); none otherwise."""
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]

    def latent(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """w (B, w_dim): the normalised latent and, when conditional, the class embedding."""
        w = self.norm(z[:, :, None, None]).flatten(1)
        return torch.cat([w, self.embed(y)], dim=1) if self.embed is not None else w

    def _attend(self, h: torch.Tensor, context: dict[int, torch.Tensor] | None) -> torch.Tensor:
        side = str(h.shape[-1])
        if side in self.self_attn:
            h = self.self_attn[side](h)
        if side in self.cross_attn:
            h = self.cross_attn[side](h, None if context is None else context[h.shape[-1]])
        return h

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None,
                context: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        return self.synthesize(self.latent(z, y), context)

    def synthesize(self, w: torch.Tensor, context: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        """The image from w (B, w_dim), the latent every FiLM reads: attribute edits move w, class code included."""
        h = self.input(w).view(w.shape[0], -1, 4, 4)                             # (B, width(4), 4, 4)
        for i, (norm, film, extra, extra_norms, extra_films) in enumerate(
                zip(self.norms, self.films, self.extra, self.extra_norms, self.extra_films)):
            if i > 0:
                h = self.ups[i - 1](h)                                           # side doubles
            h = F.leaky_relu(film(norm(h), w), LEAK)
            for conv, n, f in zip(extra, extra_norms, extra_films):
                h = F.leaky_relu(f(n(conv(h)), w), LEAK)
            h = self._attend(h, context)
        return torch.tanh(self.to_rgb(h))                                        # (B, 3, S, S)


# ----------------------------------------------------------------------------- Discriminator
class Discriminator(nn.Module):
    """Image (B, 3, S, S), labels (B,) or None -> real/fake score (B,); projection D when conditional.

    DCGAN's strided convolutions with spectral norm, a minibatch-std channel (at 4x4 followed by a 3x3
    convolution, or with d_head="down" before the last strided convolution), and a linear score; with
    d_batch_norm, DCGAN's batch norm after each strided convolution but the first. With d_classifier, a
    linear class head on the same 4x4 features (AC-GAN), which judges class edits (train.edit_weight).
    """

    def __init__(self, a: ModelArgs):
        super().__init__()
        sides = feature_sides(a.image_size)[::-1][1:]           # S/2, S/4, ..., 4
        sn = a.d_spectral_norm
        self.std_side = 4 if a.d_head == "conv" else 8         # the side whose map gets the minibatch-std channel
        self.stem = _down(3, a.width(sides[0]), use_sn=sn)
        self.downs = nn.ModuleList(_down(a.width(r) + int(r == self.std_side), a.width(r // 2), use_sn=sn)
                                   for r in sides[:-1])                 # + the std channel where it joins
        self.down_norms = nn.ModuleList(nn.BatchNorm2d(a.width(r // 2)) if a.d_batch_norm else nn.Identity()
                                        for r in sides[:-1])
        self.extra = _extra(a, sides, lambda c: sn_conv(c, c, 3, use_sn=sn))
        self.self_attn = nn.ModuleDict({str(r): MultiHeadSelfAttention2d(a.width(r), r, heads=a.heads)
                                        for r in (a.attn_res if a.d_attention else ())})
        self.final = sn_conv(a.width(4) + 1, a.width(4), 3, use_sn=sn) if a.d_head == "conv" else None
        self.linear = sn_linear(a.width(4) * 16, 1, use_sn=sn)
        self.embed = (nn.utils.parametrizations.spectral_norm(nn.Embedding(a.n_classes, a.width(4))) if sn else
                      nn.Embedding(a.n_classes, a.width(4))) if a.n_classes else None
        self.classes = sn_linear(a.width(4) * 16, a.n_classes, use_sn=sn) if a.d_classifier and a.n_classes > 1 \
            else None
        _init(self, a.init)
        if self.embed is not None and not sn:
            # the projection is a second linear score: start it at the linear head's scale per weight (its class
            # term, a sum over D's 16 positions, then starts about 4x the image term), not at nn.Embedding's
            # N(0, 1), whose class term outweighed the image term 28x (Kaiming) to 50x (normal) in a fresh plain D
            nn.init.normal_(self.embed.weight, 0.0, float(self.linear.weight.detach().std()))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, classify: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """-> scores (B,); with classify=True (a D built with model.d_classifier), (scores, class logits (B, K))."""
        h = F.leaky_relu(self.stem(x), LEAK)                    # (B, width(S/2), S/2, S/2)
        for i, extra in enumerate(self.extra):
            for conv in extra:
                h = F.leaky_relu(conv(h), LEAK)
            side = str(h.shape[-1])
            if side in self.self_attn:
                h = self.self_attn[side](h)
            if i < len(self.downs):
                if h.shape[-1] == self.std_side:
                    h = minibatch_std(h)
                h = F.leaky_relu(self.down_norms[i](self.downs[i](h)), LEAK)   # side halves
        if self.final is not None:
            h = F.leaky_relu(self.final(minibatch_std(h)), LEAK)   # (B, width(4), 4, 4)
        score = self.linear(h.flatten(1)).squeeze(1)            # (B,)
        if self.embed is not None:
            score = score + (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1)
        return (score, self.classes(h.flatten(1))) if classify else score


