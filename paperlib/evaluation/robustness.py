"""Adversarial inputs to the editing path (the paper's §5.3 "security hardening"), and input filters.

The encoder is the part of the model a user feeds images to. `attack` perturbs an image within an
L-infinity ball to make its reconstruction as wrong as possible (FGSM: one step; PGD: Madry et al.
2018, several projected steps from a random start). `FILTERS` are the input filters the paper
suggests (blur, JPEG re-encoding, median). A filter is judged two ways: against the attacker who
ignores it, and against an adaptive attacker who differentiates through it (straight-through for
JPEG and median, BPDA: Athalye et al. 2018); only the second says whether the filter protects.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.functional import gaussian_blur

from .metrics import reconstruction_metrics
from ..model.networks import Networks
from ..model.sampling import decode

ATTACKS = ("fgsm", "pgd")
OBJECTIVES = ("reconstruction", "latent")    # what the attacker maximises


def blur(x: torch.Tensor) -> torch.Tensor:
    """Gaussian blur, 3x3, sigma 0.8 (differentiable)."""
    return gaussian_blur(x, [3, 3], [0.8, 0.8])


def median(x: torch.Tensor) -> torch.Tensor:
    """3x3 median filter per channel, reflect-padded."""
    b, c, h, w = x.shape
    patches = F.unfold(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3)          # (B, C*9, H*W)
    return patches.view(b, c, 9, h * w).median(dim=2).values.view(b, c, h, w)


def jpeg(x: torch.Tensor, quality: int = 75) -> torch.Tensor:
    """JPEG re-encoding at `quality` through Pillow (what an upload pipeline does)."""
    out = []
    for img in ((x.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy():
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(buf).convert("RGB")))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(x.device)


FILTERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"blur": blur, "jpeg": jpeg, "median": median}
DIFFERENTIABLE = ("blur",)


def _through(name: str, x: torch.Tensor) -> torch.Tensor:
    """The filter in the forward pass; its gradient exact (blur) or the identity (BPDA) for the others."""
    if name == "none":
        return x
    if name in DIFFERENTIABLE:
        return FILTERS[name](x)
    return x + (FILTERS[name](x) - x).detach()


def _reconstruct(nets: Networks, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Posterior mean -> decoder without a reference (as `sampling.reconstruct` and the evaluation do)."""
    return decode(nets, nets.E(x)[0], y, None, grad=torch.is_grad_enabled())


def attack(nets: Networks, x: torch.Tensor, y: torch.Tensor | None, eps: float, kind: str = "pgd",
           steps: int = 10, through: str = "none", objective: str = "reconstruction", seed: int = 0) -> torch.Tensor:
    """x + delta with |delta|_inf <= eps (eps on the [0, 1] pixel scale) maximising, for filter(x + delta), the
    L1 distance of its reconstruction to x (objective 'reconstruction') or the distance of its latent mean to
    x's ('latent'); `through` names the filter the attacker differentiates through."""
    if kind not in ATTACKS:
        raise ValueError(f"unknown attack {kind!r}: use one of {', '.join(ATTACKS)}")
    if through != "none" and through not in FILTERS:
        raise ValueError(f"unknown filter {through!r}: use none or one of {', '.join(FILTERS)}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}: use one of {', '.join(OBJECTIVES)}")
    nets.check_images(x)
    radius = 2 * eps                                    # images live in [-1, 1]
    gen = torch.Generator().manual_seed(seed)
    start = (torch.rand(x.shape, generator=gen) * 2 - 1).to(x) * radius
    if kind == "fgsm":      # R+FGSM (Tramer et al. 2018): a random half-radius start, then one step (at delta = 0
        steps, step_size, delta = 1, radius, start / 2   # the latent objective's gradient vanishes)
    else:
        steps, step_size, delta = steps, 2.5 * radius / steps, start     # Madry et al.'s step rule
    for p in nets.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        mu_clean = nets.E(x)[0]
    for _ in range(steps):
        delta.requires_grad_(True)
        x_in = _through(through, (x + delta).clamp(-1, 1))
        loss = ((_reconstruct(nets, x_in, y) - x).abs().mean() if objective == "reconstruction"
                else (nets.E(x_in)[0] - mu_clean).pow(2).sum(dim=1).mean())
        grad, = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-radius, radius)
    return (x + delta).clamp(-1, 1).detach()


@torch.no_grad()
def damage(nets: Networks, x: torch.Tensor, x_in: torch.Tensor, y: torch.Tensor | None) -> dict[str, float]:
    """Reconstruction of x_in judged against the clean x, and how far the latent moved from x's."""
    rec = _reconstruct(nets, x_in, y)
    mu_clean, mu_in = nets.E(x)[0], nets.E(x_in)[0]
    shift = ((mu_in - mu_clean).norm(dim=1) / mu_clean.norm(dim=1).clamp_min(1e-8)).mean().item()
    m = reconstruction_metrics(x, rec)
    return {"rec_psnr_db": m["psnr_db"], "rec_mse": m["mse"], "latent_shift": shift,
            "input_psnr_db": reconstruction_metrics(x, x_in)["psnr_db"]}


def robustness_table(nets: Networks, x: torch.Tensor, y: torch.Tensor | None, eps_values: tuple[float, ...],
                     pgd_steps: int, seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, torch.Tensor]]:
    """Every (attack, eps, filter, attacker) cell of the §5.3 table, and example images for the figure.

    Rows: clean inputs through each filter (the filter's cost), then for each attack and eps the attacked
    input unfiltered, filtered against an attacker unaware of the filter, and filtered against an adaptive one.
    """
    nets.eval()
    y = y if nets.args.n_classes else None
    rows: list[dict[str, Any]] = []
    with torch.no_grad():
        examples: dict[str, torch.Tensor] = {"clean": x, "clean_rec": _reconstruct(nets, x, y)}
    for name in ("none", *FILTERS):
        rows.append({"objective": "-", "attack": "none", "eps": 0.0, "filter": name, "attacker": "-",
                     **damage(nets, x, _through(name, x), y)})
    for objective in OBJECTIVES:
        for kind in ATTACKS:
            for eps in eps_values:
                cell = {"objective": objective, "attack": kind, "eps": eps}
                x_adv = attack(nets, x, y, eps, kind, pgd_steps, objective=objective, seed=seed)
                rows.append({**cell, "filter": "none", "attacker": "unaware", **damage(nets, x, x_adv, y)})
                shown = objective == "latent" and kind == "pgd" and eps == max(eps_values)
                if shown:
                    with torch.no_grad():
                        examples.update({"attacked": x_adv, "attacked_rec": _reconstruct(nets, x_adv, y)})
                for name, fn in FILTERS.items():
                    rows.append({**cell, "filter": name, "attacker": "unaware", **damage(nets, x, fn(x_adv), y)})
                    adaptive = fn(attack(nets, x, y, eps, kind, pgd_steps, name, objective, seed))
                    rows.append({**cell, "filter": name, "attacker": "adaptive", **damage(nets, x, adaptive, y)})
                    if shown:
                        with torch.no_grad():
                            examples.update({name: adaptive, f"{name}_rec": _reconstruct(nets, adaptive, y)})
    return rows, examples


ROBUSTNESS_COLUMNS = {
    "objective": "what the attacker maximises: reconstruction (L1 error against the clean image) or latent "
                 "(squared distance of the posterior mean from the clean one); '-' for clean inputs",
    "attack": "none, fgsm (R+FGSM: one step from a random half-radius start) or pgd (projected gradient ascent "
              "from a random start)",
    "eps": "L-infinity radius of the perturbation on the [0, 1] pixel scale (8/255 ~ 0.031)",
    "filter": "input filter applied before the encoder: none, blur (3x3 Gaussian), jpeg (quality 75), median (3x3)",
    "attacker": "unaware: attack made without the filter; adaptive: attack through the filter (exact gradient "
                "for blur, straight-through for jpeg and median); '-' for clean inputs",
    "rec_psnr_db": "PSNR of the reconstruction against the CLEAN image, dB (higher is better)",
    "rec_mse": "MSE of the reconstruction against the clean image, [0, 1] scale",
    "latent_shift": "mean ||mu(input) - mu(clean)|| / ||mu(clean)||: how far the latent moved",
    "input_psnr_db": "PSNR of the (attacked, filtered) input against the clean image, dB",
}
