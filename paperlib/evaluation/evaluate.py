"""Evaluation of trained runs: sample quality against the real data, the real-data floor, reconstruction.

Every fake set has as many images as the held-out split, so the floor (held-out against train)
and the models are measured at the same sample size: FID and the k-NN metrics depend on it.
A model's numbers are the mean over `draws` independent fake sets of that size.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..model.checkpoint import latest_checkpoint, networks_from_checkpoint
from ..core.config import Config
from ..data.datasets import ImageSet, load_dataset, to_uint8
from ..model.editing import guided, self_guided
from ..core.recipes import MODELS
from .features import FeatureSpace
from .metrics import ci95_halfwidth, reconstruction_metrics, sample_metrics, spread
from ..model.networks import Networks
from ..model.sampling import generate, reconstruct
from ..training.run import BUDGET_COLUMNS, run_stats

FLOOR = "real (held-out)"   # the model name of the real-data floor's row in every quality table
QUALITY = ("fid", "kid", "is", "precision", "recall", "density", "coverage")


def eval_labels(train: ImageSet, n: int, seed: int) -> torch.Tensor:
    """n class labels drawn with the training split's class frequencies (what the real reference holds)."""
    freq = train.labels.bincount(minlength=train.num_classes).double()
    return torch.multinomial(freq, n, replacement=True, generator=torch.Generator().manual_seed(seed))


def evaluate_run(run_dir: Path, space: FeatureSpace, real_features: torch.Tensor, train: ImageSet,
                 holdout: ImageSet, draws: int, seed: int = 0, ckpt: Path | None = None) -> dict[str, Any]:
    """Quality metrics (mean over draws), and reconstruction of the held-out split for models with an encoder.

    ckpt: the checkpoint to score (default: the run's newest)."""
    ckpt = ckpt or latest_checkpoint(run_dir)
    if ckpt is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint: train it first (03_baselines)")
    nets = networks_from_checkpoint(ckpt).eval()
    n = len(holdout)
    per_draw = []
    for d in range(draws):
        labels = eval_labels(train, n, seed=1000 * seed + d)
        fake = torch.from_numpy(to_uint8(generate(nets, n, labels, seed=1000 * seed + d)))
        feats, logits = space.extract(fake)
        per_draw.append(sample_metrics(real_features, feats, logits, seed=d))
    row: dict[str, Any] = {k: float(np.mean([m[k] for m in per_draw])) for k in QUALITY}
    row["kid_subset_std"] = float(np.mean([m["kid_std"] for m in per_draw]))
    row["kid_draw_std"] = float(np.std([m["kid"] for m in per_draw], ddof=1)) if draws > 1 else float("nan")
    row.update({"n_real": per_draw[0]["n_real"], "n_fake": n, "draws": draws})
    if nets.E is not None:
        row.update(reconstruction_row(nets, holdout, seed))
    if nets.E is not None and nets.args.cross_attn_res:
        row.update(guidance_match(nets, space, holdout, seed=seed))
    return {"run": run_dir.name, "features": space.name, **row, **run_stats(run_dir), "checkpoint": ckpt.name}


def evaluate_runs(runs: list[tuple[str, Path]], space: FeatureSpace, real_features: torch.Tensor, train: ImageSet,
                  holdout: ImageSet, draws: int) -> pd.DataFrame:
    """The real-data floor, then one row per (model, run folder), each evaluated with its own training seed.

    A run trained at another image size than `holdout` is reconstructed on the same held-out images at its size.
    """
    rows = [floor_row(space, real_features, holdout)]
    for model, folder in runs:
        cfg = Config.from_dict(json.loads((folder / "config.json").read_text())["config"])
        held = holdout
        if cfg.data.image_size != held.images.shape[-1]:
            other = load_dataset(cfg.data, "holdout")
            where = {id_: k for k, id_ in enumerate(other.ids)}
            held = other.subset([where[i] for i in holdout.ids])
        rows.append({"model": model, "seed": cfg.train.seed,
                     **evaluate_run(folder, space, real_features, train, held, draws, cfg.train.seed)})
    return pd.DataFrame(rows)


def reconstruction_row(nets: Networks, holdout: ImageSet, seed: int = 0) -> dict[str, float]:
    """Held-out reconstruction from z alone, and (with cross-attention) guided generation from a fresh z
    with the image itself as the reference: how much content cross-attention alone carries."""
    x, y = holdout.batch(slice(None))
    rec = reconstruction_metrics(x, reconstruct(nets, x, y))
    row = {"rec_mse": rec["mse"], "rec_psnr_db": rec["psnr_db"]}
    if nets.args.cross_attn_res:
        row["rec_guided_psnr_db"] = reconstruction_metrics(x, self_guided(nets, x, y, seed))["psnr_db"]
    return row


@torch.no_grad()
def guidance_match(nets: Networks, space: FeatureSpace, holdout: ImageSet, group: int = 16, seed: int = 0
                   ) -> dict[str, float]:
    """Does guidance carry content? For groups of `group` held-out references of one class, one guided
    sample per reference (a fresh z each); the share of samples whose nearest reference in the feature
    space is their own (chance: 1 / group), and the same share in pixels after 4x4 pooling.
    """
    gen = torch.Generator().manual_seed(seed)
    hits, pixel_hits, total = 0, 0, 0
    for c in range(holdout.num_classes):
        members = (holdout.labels == c).nonzero().squeeze(1)
        members = members[torch.randperm(len(members), generator=gen)]
        for start in range(0, len(members) - group + 1, group):
            x, y = holdout.batch(members[start:start + group])
            z = torch.randn(group, nets.args.z_dim, generator=gen)
            out = guided(nets, z, y, x)
            f_out, _ = space.extract(torch.from_numpy(to_uint8(out)))
            f_ref, _ = space.extract(holdout.images[members[start:start + group]])
            own = torch.arange(group)
            hits += int((torch.cdist(f_out, f_ref).argmin(dim=1) == own).sum())
            pooled = [torch.nn.functional.adaptive_avg_pool2d(t, 4).flatten(1) for t in (out, x)]
            pixel_hits += int((torch.cdist(*pooled).argmin(dim=1) == own).sum())
            total += group
    return {"guide_match": hits / max(total, 1), "guide_match_pixels": pixel_hits / max(total, 1),
            "guide_n": total, "guide_chance": 1.0 / group}


def floor_row(space: FeatureSpace, real_features: torch.Tensor, holdout: ImageSet) -> dict[str, Any]:
    """The same metrics for the real held-out split against the real training split: what real data scores."""
    feats, logits = space.extract(holdout.images)
    m = sample_metrics(real_features, feats, logits, seed=0)
    return {"model": FLOOR, "seed": None, "run": "", "features": space.name,
            **{k: m[k] for k in QUALITY}, "kid_subset_std": m["kid_std"],
            "n_real": m["n_real"], "n_fake": m["n_fake"], "draws": 1}


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per model: mean and standard deviation over seeds, a 95% interval and the counts."""
    rows = []
    for model, group in runs.groupby("model", sort=False):
        row: dict[str, Any] = {"model": model, "features": group["features"].iloc[0],
                               "seeds": int(group["seed"].notna().sum()) or 1}
        for metric in (*QUALITY, "kid_subset_std", "kid_draw_std", "rec_mse", "rec_psnr_db", "rec_guided_psnr_db", "guide_match",
                       "guide_match_pixels", "train_images_per_s"):
            if metric not in group or group[metric].isna().all():
                continue
            mean, std = spread(group[metric].dropna().tolist())
            row.update({metric: mean, f"{metric}_std": std,
                        f"{metric}_ci95": ci95_halfwidth(std, int(group[metric].notna().sum()))})
        row.update({"n_real": int(group["n_real"].iloc[0]), "n_fake": int(group["n_fake"].iloc[0]),
                    "description": MODELS[model].description if model in MODELS else
                    "real held-out images against the real training images (the floor)"})
        rows.append(row)
    return pd.DataFrame(rows)


RUN_COLUMNS = {
    "model": "model name (paperlib.core.recipes.MODELS), or 'real (held-out)' for the floor",
    "seed": "training seed", "run": "run folder under runs/",
    "features": "feature space of every metric in the row: domain (the project's classifier; not comparable "
                "with Inception FID) or inception",
    "fid": "Frechet distance on the table's feature space (lower is better; biased at small n)",
    "kid": "kernel distance, unbiased (lower is better; the primary metric for small sets)",
    "kid_subset_std": "standard deviation of KID over 100 subsets (within one fake set; not seed-to-seed)",
    "kid_draw_std": "standard deviation of KID between the independent fake sets (draws) of one run: the sampling "
                    "noise of the fakes, which the subset spread misses when every subset holds all the fakes",
    "is": "Inception-style score exp(E KL(p(y|x) || p(y))) from the feature network's classifier head",
    "precision": "k-NN precision (Kynkaanniemi et al. 2019, k=5): share of fakes inside the real manifold",
    "recall": "k-NN recall (k=5): share of reals inside the fake manifold",
    "density": "density (Naeem et al. 2020, k=5): like precision, robust to real outliers; ~1 for real data",
    "coverage": "coverage (Naeem et al. 2020, k=5): share of real neighbourhoods holding a fake",
    "n_real": "real training images in the reference set", "n_fake": "images per fake set (= held-out size)",
    "draws": "independent fake sets averaged", "rec_mse": "held-out reconstruction MSE on the [0, 1] scale",
    "rec_psnr_db": "held-out reconstruction PSNR from z alone (no context), dB (per image, averaged)",
    "rec_guided_psnr_db": "held-out PSNR of guided generation from a fresh z with the image itself as the "
                          "reference (content through cross-attention alone), dB",
    "guide_match": "share of guided samples whose nearest of 16 same-class references (feature space) is their own",
    "guide_match_pixels": "the same share measured on 4x4-pooled pixels",
    "guide_n": "guided samples scored", "guide_chance": "the share by chance (1/16)", **BUDGET_COLUMNS,
    "checkpoint": "the checkpoint evaluated",
}


def summary_columns(columns: list[str]) -> dict[str, str]:
    """Descriptions of summarize()'s columns: each metric, its std over seeds and its 95% half-width."""
    out = {"model": RUN_COLUMNS["model"], "features": RUN_COLUMNS["features"],
           "seeds": "training seeds averaged (quick: 1, so std is 0 and ci95 nan)",
           "n_real": RUN_COLUMNS["n_real"], "n_fake": RUN_COLUMNS["n_fake"], "description": "what the model is"}
    for c in columns:
        base = c.removesuffix("_std").removesuffix("_ci95")
        if c.endswith("_std") and base in RUN_COLUMNS:
            out[c] = f"standard deviation of {base} over seeds"
        elif c.endswith("_ci95"):
            out[c] = f"half-width of the 95% t-interval of the mean {base} over seeds (nan for one seed)"
        elif c in RUN_COLUMNS:
            out[c] = f"mean over seeds: {RUN_COLUMNS[c]}"
    return out
