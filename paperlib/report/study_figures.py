"""The figures of the §4.2 and §5 studies (07_section5), drawn from result files only, like figures.py."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core import paths
from ..evaluation.evaluate import FLOOR
from .drawing import grids, image_grid, save_fig

ATTACK_ROWS = (("clean", "clean input"), ("clean_rec", "its reconstruction"), ("attacked", "PGD (latent), no filter"),
               ("attacked_rec", "reconstruction"), ("blur", "adaptive PGD, then blur"), ("blur_rec", "reconstruction"),
               ("jpeg", "adaptive PGD, then JPEG"), ("jpeg_rec", "reconstruction"),
               ("median", "adaptive PGD, then median"), ("median_rec", "reconstruction"))


def _table(preset: str, name: str) -> pd.DataFrame:
    return pd.read_csv(paths.tables_dir(preset) / f"{name}.csv")


def _kid_bars(ax, df: pd.DataFrame, label: str, title: str) -> None:  # noqa: ANN001 (matplotlib Axes)
    """KID per run (with the subset spread) against the data set's real-data floor."""
    floor = df[df["name"] == FLOOR]
    runs = df[df["name"] != FLOOR]
    ax.bar(runs[label].astype(str), runs["kid"], yerr=runs["kid_subset_std"], capsize=3, color="tab:blue")
    if len(floor):
        ax.axhline(floor["kid"].iloc[0], color="k", ls="--", lw=1, label="real held-out (floor)")
        ax.legend(fontsize=7)
    ax.set(title=title, ylabel="KID (domain features, lower is better)")
    ax.tick_params(axis="x", rotation=45, labelsize=8)


def dataset_samples(preset: str) -> Path:
    """Real images and our model's samples on every extra data set (§4.2)."""
    return grids(preset, "dataset_samples.npz", "dataset_samples", "§4.2: real images and samples of our model "
                  "(four per class, in the order of the class list)", vertical=True)


def dataset_quality(preset: str) -> Path:
    """KID of every model on every extra data set, each on its own domain classifier (§4.2)."""
    df = _table(preset, "datasets_quality")
    sets = list(dict.fromkeys(df["dataset"]))
    fig = Figure(figsize=(4.2 * len(sets), 3.4))
    for i, name in enumerate(sets):
        _kid_bars(fig.add_subplot(1, len(sets), i + 1), df[df["dataset"] == name], "model", name)
    return save_fig(fig, preset, "dataset_quality")


def sensitivity(preset: str) -> Path:
    """§5.1: quality and training cost of one change at a time to our model."""
    df = _table(preset, "sensitivity")
    fig = Figure(figsize=(11, 3.6))
    _kid_bars(fig.add_subplot(1, 2, 1), df, "variant", "quality per change (one seed)")
    ax = fig.add_subplot(1, 2, 2)
    runs = df[df["name"] != FLOOR]
    ax.scatter(runs["train_images_per_s"], runs["kid"])
    for _, r in runs.iterrows():
        ax.annotate(r["variant"], (r["train_images_per_s"], r["kid"]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set(xscale="log", xlabel="training images/s (this machine)", ylabel="KID", title="quality against cost")
    return save_fig(fig, preset, "sensitivity")


def scaling(preset: str) -> Path:
    """§5.2: quality against the number of training images, with and without DiffAugment; and the cost of
    one attention layer against the feature-map side (01_attention's benchmark)."""
    df = _table(preset, "scaling")
    floor = df[df["name"] == FLOOR]
    fig = Figure(figsize=(11, 3.6))
    ax = fig.add_subplot(1, 2, 1)
    for aug, group in df[df["name"] != FLOOR].groupby("diffaug"):
        group = group.sort_values("n_train")
        ax.errorbar(group["n_train"], group["kid"], yerr=group["kid_subset_std"], marker="o", capsize=3,
                    label=f"DiffAugment: {aug}")
    if len(floor):
        ax.axhline(floor["kid"].iloc[0], color="k", ls="--", lw=1, label="real held-out (floor)")
    ax.set(xscale="log", xlabel="training images", ylabel="KID (lower is better)", title="quality against data")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 2, 2)
    cost_file = paths.tables_dir(preset) / "attention_cost.csv"
    if cost_file.is_file():
        cost = pd.read_csv(cost_file).dropna(subset=["ms"])
        for impl, group in cost.groupby("impl"):
            ax.plot(group["side"] ** 2, group["ms"], marker="o", label=impl)
        ax.set(xscale="log", yscale="log", xlabel="feature-map positions (side^2)", ylabel="ms per forward",
               title="one self-attention layer (01_attention)")
        ax.legend(fontsize=7)
    return save_fig(fig, preset, "scaling")


def transfer(preset: str) -> Path:
    """§5.3: samples of the model trained from scratch and of the one fine-tuned from OpenMoji, same steps."""
    return grids(preset, "transfer_samples.npz", "transfer", "§5.3 transfer learning, same steps (four "
                  "per class, in the order of the class list)")


def attacks(preset: str) -> Path:
    """§5.3: attacked, filtered and reconstructed inputs, and the damage against the attack radius."""
    with np.load(paths.arrays_dir(preset) / "attack_examples.npz") as z:
        rows = [(key, label, z[key]) for key, label in ATTACK_ROWS if key in z.files]
    df = _table(preset, "attacks")
    fig = Figure(figsize=(12, 0.75 * len(rows) + 0.8))
    grid = fig.add_gridspec(1, 2, width_ratios=(1.1, 1))
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(image_grid(np.concatenate([r[2] for r in rows]), nrow=len(rows[0][2])), interpolation="nearest")
    side = rows[0][2].shape[-1] + 1
    ax.set_yticks([side * (i + 0.5) for i in range(len(rows))], [r[1] for r in rows], fontsize=7)
    ax.set_xticks([])
    ax.set_title("held-out images under the strongest latent PGD", fontsize=8)
    ax = fig.add_subplot(grid[0, 1])
    pgd = df[(df["attack"] == "pgd") & (df["objective"] == "latent")]
    for (name, attacker), group in pgd.groupby(["filter", "attacker"]):
        ax.plot(group["eps"] * 255, group["latent_shift"], marker="o", ls="-" if attacker != "unaware" or
                name == "none" else ":", label=f"{name} ({attacker})")
    clean = df[df["attack"] == "none"].set_index("filter")["latent_shift"]
    for i, (name, shift) in enumerate(clean.items()):
        if name != "none":
            ax.axhline(shift, color=f"C{i}", lw=0.6, ls="--")
    ax.set(xlabel="attack radius eps (x/255)", ylabel="latent shift ||mu - mu_clean|| / ||mu_clean||",
           title="PGD on the latent (dashed: a filter's shift on clean inputs)")
    ax.legend(fontsize=6, ncol=2)
    return save_fig(fig, preset, "attacks")


FIGURES: dict[str, Callable[[str], Path]] = {f.__name__: f for f in (
    dataset_samples, dataset_quality, sensitivity, scaling, transfer, attacks)}
