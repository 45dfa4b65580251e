"""Sample-quality metrics on precomputed features (features.py): FID, KID, IS (torchmetrics), PR and DC (prdc),
reconstruction PSNR and SSIM, and the spread of a metric over seeds.

Features are extracted once per image set; every metric then reads the same (N, d) matrix.
PSNR and SSIM are written out here (tests/test_metrics.py checks them against torchmetrics): importing
torchmetrics takes 2.6 s on 2 CPU cores, more than issue 13's whole 2-second budget for one `edit` command.
"""
from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# prdc and torchmetrics are imported inside the functions that use them, so that importing this module is fast

NEAREST_K = 5           # k of the k-NN manifolds (Kynkaanniemi et al. 2019; Naeem et al. 2020)
KID_SUBSETS = 100


class _Given(nn.Module):
    """Hands precomputed features to torchmetrics (its metrics call feature(imgs) in update)."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def sample_metrics(real: torch.Tensor, fake: torch.Tensor, fake_logits: torch.Tensor | None = None,
                   seed: int = 0) -> dict[str, float]:
    """FID, KID (mean, std over subsets), IS, precision, recall, density, coverage of fake against real.

    real, fake: (N, d) features. IS needs the fake images' class logits.
    """
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: real {real.shape[1]}, fake {fake.shape[1]}")
    n = min(len(real), len(fake))
    if n <= NEAREST_K + 1:
        raise ValueError(f"need more than {NEAREST_K + 1} images per set for the k-NN metrics, got {n}")
    with torch.random.fork_rng(), warnings.catch_warnings():      # seeds KID's subsets, leaves the caller's RNG
        torch.manual_seed(seed)
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")   # we pass features
        out = _torchmetrics(real, fake, fake_logits, n)
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):           # prdc prints the set sizes
        out.update(compute_prdc(real.numpy(), fake.numpy(), nearest_k=NEAREST_K))
    out.update({"n_real": len(real), "n_fake": len(fake)})
    return {k: float(v) if not isinstance(v, int) else v for k, v in out.items()}


def _torchmetrics(real: torch.Tensor, fake: torch.Tensor, fake_logits: torch.Tensor | None, n: int
                  ) -> dict[str, float]:
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.inception import InceptionScore
    from torchmetrics.image.kid import KernelInceptionDistance

    fid = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    fid.update(real, real=True)
    fid.update(fake, real=False)
    kid = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=KID_SUBSETS, subset_size=min(1000, n))
    kid.update(real, real=True)
    kid.update(fake, real=False)
    kid_mean, kid_std = kid.compute()
    out = {"fid": fid.compute().item(), "kid": kid_mean.item(), "kid_std": kid_std.item()}
    if fake_logits is not None:
        inception_score = InceptionScore(feature=_Given(fake_logits.shape[1]), splits=10)
        inception_score.update(fake_logits)
        is_mean, is_std = inception_score.compute()
        out.update({"is": is_mean.item(), "is_std": is_std.item()})
    return out


def reconstruction_metrics(x: torch.Tensor, x_rec: torch.Tensor) -> dict[str, float]:
    """MSE and PSNR (dB, per image then averaged) of images in [-1, 1], measured on the [0, 1] scale."""
    a, b = (x.float() + 1) / 2, (x_rec.float().clamp(-1, 1) + 1) / 2
    mse = (a - b).pow(2).mean(dim=(1, 2, 3))
    psnr = -10 * torch.log10(mse)                            # peak 1 on the [0, 1] scale
    return {"mse": mse.mean().item(), "psnr_db": psnr.mean().item(), "n_images": len(x)}


def ssim(x: torch.Tensor, x_rec: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """SSIM (Wang et al. 2004) per image of images in [-1, 1], on the [0, 1] scale: (B, C, H, W) x 2 -> (B,).

    torchmetrics' defaults: an 11-tap Gaussian window of sigma 1.5, K1 0.01, K2 0.03, and the map averaged
    over every pixel, the borders reflect-padded.
    """
    a, b = (x.float() + 1) / 2, (x_rec.float().clamp(-1, 1) + 1) / 2
    channels, pad = a.shape[1], (window - 1) // 2
    taps = torch.exp(-((torch.arange(window) - pad).float() ** 2) / (2 * sigma ** 2))
    taps = taps / taps.sum()
    kernel = (taps[:, None] * taps[None, :]).expand(channels, 1, window, window)
    stacked = F.pad(torch.cat([a, b, a * a, b * b, a * b]), (pad,) * 4, mode="reflect")
    mu_a, mu_b, aa, bb, ab = F.conv2d(stacked, kernel, groups=channels).split(len(a))
    var_a, var_b, cov = aa - mu_a ** 2, bb - mu_b ** 2, ab - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return index.flatten(1).mean(1)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2) with scipy's sqrtm: the reference the tests compare with."""
    from scipy.linalg import sqrtm

    covmean = sqrtm(sigma1 @ sigma2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1 + sigma2 - 2 * covmean))


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    mean = float(np.mean(values))
    return mean, float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def ci95_halfwidth(std: float, n: int) -> float:
    """Half-width of a t-based 95% confidence interval of a mean of n values (nan for n < 2)."""
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1) * std / math.sqrt(n)) if n > 1 else float("nan")
