"""The claims table: each claim of the paper, the measured numbers, a verdict and its reason.

Quality verdicts compare KID (unbiased, the primary metric here) of our model and a baseline:
"supported" when ours is lower by more than twice the combined uncertainty, "not supported" when
it is higher by that much, "mixed" in between. The uncertainty is the seed-to-seed standard error
when there are several seeds, else the spread of KID between the run's independent fake sets and
over KID's subsets combined (which ignores seed-to-seed variation; the verdict says so). Speed and scalability verdicts compare measured costs.
"""
from __future__ import annotations

import math

import pandas as pd

from ..core.recipes import MAIN
from .evaluate import FLOOR


def kid_rule(diff: float, sigma: float) -> str:
    """The verdict on KID(baseline) - KID(ours) = diff with uncertainty sigma (the module's 2-sigma rule)."""
    return "supported" if diff > 2 * sigma else "not supported" if diff < -2 * sigma else "mixed"


def kid_verdict(ours: pd.Series, other: pd.Series) -> tuple[str, str]:
    """The module's rule on two rows with KID and its spreads (a summarize() row, or one run's row as one seed):
    the verdict and the reason, which states the difference, 2 sigma and how sigma was measured."""
    seeds = int(min(ours.get("seeds", 1), other.get("seeds", 1)))
    if seeds > 1:
        sigma = math.sqrt(ours["kid_std"] ** 2 / ours["seeds"] + other["kid_std"] ** 2 / other["seeds"])
        basis = f"{seeds} seeds, seed-to-seed standard error"
    else:
        sigma = math.sqrt(sum(r.get(k, 0.0) ** 2 for r in (ours, other) for k in ("kid_subset_std", "kid_draw_std")
                              if r.get(k) == r.get(k)))      # NaN (one draw) counts as unmeasured
        basis = "one seed: spread between fake sets and over KID subsets, seed-to-seed variation not measured"
    diff = other["kid"] - ours["kid"]
    verdict = kid_rule(diff, sigma)
    if seeds == 1:
        verdict += " (one seed)"        # seed-to-seed spread can exceed the subset spread: read as provisional
    return verdict, f"KID difference {diff:+.4f} against 2 sigma = {2 * sigma:.4f} ({basis})"


def quality_claim(summary: pd.DataFrame, claim: str, baseline: str) -> dict[str, str]:
    """One quality row of the claims table: our model against `baseline` in a summarize() table."""
    rows = summary.set_index("model")
    if MAIN not in rows.index or baseline not in rows.index:
        return {"claim": claim, "ours": MAIN, "baseline": baseline, "measured": "not measured",
                "verdict": "not measured", "reason": f"no evaluated run of {MAIN} or {baseline}"}
    a, b = rows.loc[MAIN], rows.loc[baseline]
    verdict, reason = kid_verdict(a, b)
    measured = (f"KID {a['kid']:.4f} vs {b['kid']:.4f}; FID {a['fid']:.2f} vs {b['fid']:.2f}; precision "
                f"{a['precision']:.2f} vs {b['precision']:.2f}; recall {a['recall']:.2f} vs {b['recall']:.2f}")
    floor = rows.loc[FLOOR] if FLOOR in rows.index else None
    if floor is not None:
        reason += f"; real held-out images score KID {floor['kid']:.4f}"
    return {"claim": claim, "ours": MAIN, "baseline": baseline, "measured": measured, "verdict": verdict,
            "reason": reason}


def _speed(cost: pd.DataFrame, size: int) -> dict[str, str]:
    at = cost[cost["image_size"] == size].set_index("model")
    ours = at.loc[MAIN]
    others = at[at.index.isin(["dcgan", "vae"])]
    faster = [m for m in others.index if ours["train_images_per_s"] > others.loc[m, "train_images_per_s"]]
    measured = "; ".join(f"{m}: train {r['train_images_per_s']:.0f} img/s, sample {r['sample_images_per_s']:.0f} img/s"
                         for m, r in at.loc[[MAIN, *others.index]].iterrows())
    verdict = "supported" if len(faster) == len(others) else "not supported" if not faster else "mixed"
    return {"claim": "faster than VAEs and plain GANs", "ours": MAIN, "baseline": ", ".join(others.index),
            "measured": measured + f" ({size} px, this machine)", "verdict": verdict,
            "reason": f"ours trains faster than {faster or 'none'} of {list(others.index)} in images/s"}


def _scalability(cost: pd.DataFrame) -> dict[str, str]:
    sizes = sorted(cost["image_size"].unique())
    lo, hi = sizes[0], sizes[-1]
    growth = {}
    for model, group in cost.groupby("model"):
        g = group.set_index("image_size")["train_images_per_s"]
        growth[model] = g[lo] / g[hi]                  # how many times slower per image at the larger size
    others = {m: v for m, v in growth.items() if m in ("dcgan", "vae")}
    better = [m for m, v in others.items() if growth[MAIN] < v]
    verdict = "supported" if len(better) == len(others) else "not supported" if not better else "mixed"
    measured = "; ".join(f"{m}: {v:.1f}x" for m, v in growth.items())
    return {"claim": "scales better with image size than VAEs and plain GANs", "ours": MAIN,
            "baseline": ", ".join(others), "measured": f"slow-down per training image from {lo} to {hi} px: {measured}",
            "verdict": verdict, "reason": f"ours grows less than {better or 'none'} of {list(others)}; attention "
                                          "cost grows with the square of the feature-map positions"}


QUALITY_CLAIMS = (   # (claim, the baseline it is tested against)
    ("better image quality than a plain GAN (equal images seen)", "dcgan"),
    ("better image quality than a plain GAN (equal wall-clock)", "dcgan_long"),
    ("better image quality than a VAE", "vae"),
    ("attention improves quality (same model without attention)", "noattn"),
    ("the encoder and cross-attention add to a SAGAN", "sagan"),
)


def claims_table(summary: pd.DataFrame, cost: pd.DataFrame, size: int) -> pd.DataFrame:
    """One row per claim; `size` is the training image size of the quality runs."""
    return pd.DataFrame([
        *(quality_claim(summary, claim, baseline) for claim, baseline in QUALITY_CLAIMS),
        _speed(cost, size),
        _scalability(cost),
    ])


CLAIMS_COLUMNS = {
    "claim": "what the paper claims (it prints no number for any of them)",
    "ours": "our model's run name", "baseline": "what it is compared with",
    "measured": "the numbers behind the verdict (ours vs baseline)",
    "verdict": "supported, not supported or mixed (see the reason); not measured when a run is missing",
    "reason": "the rule applied and its inputs",
}
