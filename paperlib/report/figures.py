"""The figures of notebooks 00-06 and 08, drawn only from result files under results/<preset>/, so
`make figures` never trains (the §4.2 and §5 figures are in study_figures.py).

Each figure function takes the preset, reads its inputs (arrays/*.npz, tables/*.csv,
runs/*/stats.jsonl) and writes figures/<name>.png; `FIGURES` lists them by name. Figures use
matplotlib's object API (no pyplot state) and are byte-identical for identical inputs and library versions.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core import paths
from ..core.recipes import MAIN
from ..evaluation.evaluate import FLOOR
from .drawing import grids, image_grid, save_fig



def data_grid(preset: str) -> Path:
    """Real training images per subset (rows cycle through the classes)."""
    return grids(preset, "data_examples.npz", "data_grid", "OpenMoji training images\n(rendered, CC BY-SA 4.0)",
                  vertical=True)


def samples(preset: str) -> Path:
    """Samples of the trained model's EMA generator per class."""
    with np.load(paths.arrays_dir(preset) / "samples.npz") as z:     # runs from before issue 12 have no guided panel
        guided = any(k.startswith("heldout_guided_by_itself__") for k in z.files)
    title = ("samples from z; held-out images, their reconstructions from z, and guided by themselves" if guided else
             "samples from z; held-out images and their reconstructions")
    return grids(preset, "samples.npz", "samples", f"Attention model (EMA generator):\n{title}", vertical=True)


def training_curves(preset: str) -> Path:
    """Losses and each attention layer's |branch| / |input| against the step, from the main run's stats.jsonl."""
    stats = pd.DataFrame(json.loads(line) for line in
                         (paths.runs_dir(preset) / MAIN / "stats.jsonl").read_text().splitlines())
    stats = stats.drop_duplicates("step", keep="last").sort_values("step")   # a resumed run repeats steps
    fig = Figure(figsize=(12, 3.2))
    ax1, ax2, ax3 = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    for col in ("loss_d", "loss_g_adv"):
        ax1.plot(stats["step"], stats[col], label=col)
    ax1.set(title="adversarial losses (hinge)", xlabel="step")
    ax1.legend(fontsize=8)
    for col in [c for c in ("loss_rec", "loss_kl", "loss_guide") if c in stats]:
        ax2.plot(stats["step"], stats[col], label=col)
    ax2.set(title="encoder path and guidance" if "loss_guide" in stats else "encoder path", xlabel="step",
            yscale="log")
    ax2.legend(fontsize=8)
    # runs from before issue 12 logged SAGAN's gamma instead of the branch ratio (results/full still holds one)
    kind = "attn_ratio/" if any(c.startswith("attn_ratio/") for c in stats.columns) else "gamma/"
    for col in [c for c in stats.columns if c.startswith(kind)]:
        ax3.plot(stats["step"], stats[col], label=col.split("/", 1)[1])
    ax3.set(title="attention |branch| / |input| per layer" if kind == "attn_ratio/" else "attention gamma per layer",
            xlabel="step")
    ax3.legend(fontsize=8)
    return save_fig(fig, preset, "training_curves")


def attention_maps(preset: str) -> Path:
    """For query points on generated images: the attention distribution of each layer, overlaid."""
    with np.load(paths.arrays_dir(preset) / "attention_maps.npz") as z:
        images, queries, layers = z["images"], z["queries"], [str(s) for s in z["layers"]]
        maps = {layer: z[f"map__{layer}"] for layer in layers}    # (n_images, n_queries, side, side)
    n_img, n_q = len(images), queries.shape[0]
    fig = Figure(figsize=(1.6 * (1 + len(layers) * n_q), 1.7 * n_img))
    for i in range(n_img):
        img = image_grid(images[i:i + 1], 1)
        ax = fig.add_subplot(n_img, 1 + len(layers) * n_q, i * (1 + len(layers) * n_q) + 1)
        ax.imshow(img)
        ax.scatter(queries[:, 1] * img.shape[1], queries[:, 0] * img.shape[0], c="red", s=14, marker="x")
        ax.axis("off")
        for j, layer in enumerate(layers):
            for q in range(n_q):
                ax = fig.add_subplot(n_img, 1 + len(layers) * n_q, i * (1 + len(layers) * n_q) + 2 + j * n_q + q)
                ax.imshow(img, alpha=0.5)
                ax.imshow(maps[layer][i, q], cmap="magma", alpha=0.6, interpolation="bilinear",
                          extent=(0, img.shape[1], img.shape[0], 0))
                ax.scatter([queries[q, 1] * img.shape[1]], [queries[q, 0] * img.shape[0]], c="cyan", s=10,
                           marker="x")
                ax.axis("off")
                if i == 0:
                    ax.set_title(f"{layer}\nquery {q}", fontsize=7)
    return save_fig(fig, preset, "attention_maps")


def baseline_samples(preset: str) -> Path:
    """Samples of every compared model from the same z, a row per class (conditional models)."""
    return grids(preset, "baseline_samples.npz", "baseline_samples", "Every model, same z and budget\n(EMA "
                  "generators; conditional models: a row per class)", vertical=True)


def quality(preset: str) -> Path:
    """KID (with spread) and precision/recall/density/coverage per model against the real-data floor."""
    df = pd.read_csv(paths.tables_dir(preset) / "quality_summary.csv")
    floor = df[df["model"] == FLOOR].iloc[0]
    df = df[df["model"] != FLOOR]
    fig = Figure(figsize=(12, 3.6))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    err = df["kid_std"].where(df["seeds"] > 1, df["kid_subset_std"])
    ax1.bar(df["model"], df["kid"], yerr=err, color="tab:blue", capsize=3)
    ax1.axhline(floor["kid"], color="k", ls="--", lw=1, label="real held-out vs train (floor)")
    ax1.set(title="KID on domain features (lower is better)", ylabel="KID")
    ax1.legend(fontsize=8)
    ax1.tick_params(axis="x", rotation=45, labelsize=8)
    width = 0.2
    for i, metric in enumerate(("precision", "recall", "density", "coverage")):
        xs = np.arange(len(df)) + (i - 1.5) * width
        ax2.bar(xs, df[metric], width, label=metric)
        ax2.hlines(floor[metric], xs.min() - width, xs.max() + width, color=f"C{i}", ls="--", lw=0.8)
    ax2.set_xticks(np.arange(len(df)), df["model"], rotation=45, fontsize=8)
    ax2.set(title="k-NN metrics (dashed: the real-data floor)", ylim=(0, 1.3))
    ax2.legend(fontsize=7, ncol=4)
    return save_fig(fig, preset, "quality")


def model_cost(preset: str) -> Path:
    """Training and sampling images/s of every model against the image size."""
    df = pd.read_csv(paths.tables_dir(preset) / "model_cost.csv")
    fig = Figure(figsize=(10, 3.4))
    for i, (col, title) in enumerate((("train_images_per_s", "training images/s"),
                                      ("sample_images_per_s", "sampling images/s"))):
        ax = fig.add_subplot(1, 2, i + 1)
        for model, group in df.groupby("model", sort=False):
            ax.plot(group["image_size"], group[col], marker="o", label=model)
        ax.set(xscale="log", yscale="log", xlabel="image side (px)", title=title + " (this machine)")
        ax.set_xticks(sorted(df["image_size"].unique()), [str(s) for s in sorted(df["image_size"].unique())])
        ax.legend(fontsize=7)
    return save_fig(fig, preset, "model_cost")


def copying_check(preset: str) -> Path:
    """Samples beside their nearest training images, and the nearest-neighbour distances of samples
    against those of held-out real images (a copying generator sits far to the left of the real curve)."""
    with np.load(paths.arrays_dir(preset) / "copying_check.npz") as z:
        samples, neighbours, d_fake, d_held = z["samples"], z["neighbours"], z["sample_nn_dist"], z["holdout_nn_dist"]
    n, k = neighbours.shape[:2]
    fig = Figure(figsize=(11, 3.6))
    grid = fig.add_gridspec(1, 2, width_ratios=(1.2, 1))
    ax = fig.add_subplot(grid[0, 0])
    tiles = np.concatenate([samples[:, None], neighbours], axis=1).reshape(-1, *samples.shape[1:])
    ax.imshow(image_grid(tiles, nrow=k + 1), interpolation="nearest")
    ax.set_title(f"each row: a sample, then its {k} nearest training images (domain features)", fontsize=8)
    ax.axis("off")
    ax = fig.add_subplot(grid[0, 1])
    bins = np.linspace(0, max(d_fake.max(), d_held.max()), 30)
    ax.hist(d_held, bins, alpha=0.6, density=True, label=f"held-out real (median {np.median(d_held):.2f})")
    ax.hist(d_fake, bins, alpha=0.6, density=True, label=f"generated (median {np.median(d_fake):.2f})")
    ax.set(xlabel="distance to the nearest training image", title="copying check")
    ax.legend(fontsize=8)
    return save_fig(fig, preset, "copying_check")


def editing(preset: str) -> Path:
    """Latent interpolation, an attribute vector and cross-attention-guided generation, on held-out images."""
    with np.load(paths.arrays_dir(preset) / "editing.npz") as z:
        parts = [("interpolation: E(a) to E(b), decoded", z["interpolation"]),
                 (f"attribute vector {z['attribute_name']} at strengths {z['attribute_strengths'].tolist()}",
                  z["attribute"])]
        if "guided" in z.files:
            refs, rows = z["guided_references"], z["guided"]
            parts.append(("guided: reference image, then 4 z cross-attending to it",
                          np.concatenate([refs[:, None], rows], axis=1)))
    fig = Figure(figsize=(7, 2.2 * len(parts)))
    for i, (title, arr) in enumerate(parts):
        ax = fig.add_subplot(len(parts), 1, i + 1)
        ax.imshow(image_grid(arr.reshape(-1, *arr.shape[2:]), nrow=arr.shape[1]), interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    return save_fig(fig, preset, "editing")


def your_images(preset: str) -> Path:
    """08's edits of your images: each photo, its reconstruction, attribute edits, guidance by the next photo;
    then an interpolation from the first photo to the second."""
    with np.load(paths.arrays_dir(preset) / "your_images.npz") as z:
        inputs, recs, attrs, guided = z["inputs"], z["reconstructions"], z["attribute"], z["guided"]
        walk, strengths, name = z["interpolation"], z["strengths"].tolist(), str(z["attribute_name"])
    rows = np.concatenate([inputs[:, None], recs[:, None], attrs, np.roll(inputs, -1, axis=0)[:, None],
                           guided[:, None]], axis=1)                 # (n, 4 + len(strengths), 3, S, S)
    fig = Figure(figsize=(1.1 * rows.shape[1], 1.1 * len(rows) + 1.9))
    grid = fig.add_gridspec(2, 1, height_ratios=[len(rows), 1.2 * rows.shape[1] / len(walk)])
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(image_grid(rows.reshape(-1, *rows.shape[2:]), nrow=rows.shape[1]), interpolation="nearest")
    columns = ["photo", "reconstruction", *(f"{s:+g} x {name}" for s in strengths), "reference (next photo)", "guided"]
    ax.set_title(" | ".join(columns), fontsize=7)
    ax.axis("off")
    ax = fig.add_subplot(grid[1, 0])
    ax.imshow(image_grid(walk, nrow=len(walk)), interpolation="nearest")
    ax.set_title("interpolation from the first photo to the second", fontsize=7)
    ax.axis("off")
    return save_fig(fig, preset, "your_images")


def guided_attention(preset: str) -> Path:
    """Trained self- and cross-attention at the same query points: over the generated image and over the reference."""
    with np.load(paths.arrays_dir(preset) / "guided_attention.npz") as z:
        images, refs, queries, layers = z["images"], z["references"], z["queries"], [str(s) for s in z["layers"]]
        maps = {layer: z[f"map__{layer}"] for layer in layers}
    n, n_q = len(images), len(queries)
    cols = 2 + len(layers) * n_q
    fig = Figure(figsize=(1.5 * cols, 1.7 * n))
    for i in range(n):
        gen_tile, ref_tile = image_grid(images[i:i + 1], 1), image_grid(refs[i:i + 1], 1)
        for j, (title, tile) in enumerate((("generated", gen_tile), ("reference", ref_tile))):
            ax = fig.add_subplot(n, cols, i * cols + j + 1)
            ax.imshow(tile)
            if j == 0:
                ax.scatter(queries[:, 1] * tile.shape[1], queries[:, 0] * tile.shape[0], c="red", s=14, marker="x")
            ax.axis("off")
            if i == 0:
                ax.set_title(title, fontsize=7)
        for j, layer in enumerate(layers):
            tile = ref_tile if ".cross" in layer else gen_tile          # where the keys live
            for q in range(n_q):
                ax = fig.add_subplot(n, cols, i * cols + 3 + j * n_q + q)
                ax.imshow(tile, alpha=0.5)
                ax.imshow(maps[layer][i, q], cmap="magma", alpha=0.6, interpolation="bilinear",
                          extent=(0, tile.shape[1], tile.shape[0], 0))
                ax.axis("off")
                if i == 0:
                    ax.set_title(f"{layer}\nquery {q}", fontsize=7)
    fig.suptitle("trained generator: self-attention over its own image, cross-attention over the reference",
                 fontsize=9)
    return save_fig(fig, preset, "guided_attention")


def self_vs_cross(preset: str) -> Path:
    """One query point of image A: its self-attention over A and its cross-attention over image B."""
    with np.load(paths.arrays_dir(preset) / "self_vs_cross.npz") as z:
        images, query, self_map, cross_map = z["images"], z["query"], z["self_map"], z["cross_map"]
    fig = Figure(figsize=(9, 3))
    panels = [("image A (query x)", images[0], None), ("self: A attends to A", images[0], self_map),
              ("image B", images[1], None), ("cross: A attends to B", images[1], cross_map)]
    for i, (title, img, amap) in enumerate(panels):
        ax = fig.add_subplot(1, 4, i + 1)
        tile = image_grid(img[None], 1)
        ax.imshow(tile, alpha=1.0 if amap is None else 0.45)
        if amap is not None:
            ax.imshow(amap, cmap="magma", alpha=0.6, extent=(0, tile.shape[1], tile.shape[0], 0))
        if i < 2:
            ax.scatter([query[1] * tile.shape[1]], [query[0] * tile.shape[0]], c="cyan", marker="x", s=30)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    return save_fig(fig, preset, "self_vs_cross")


FIGURES: dict[str, Callable[[str], Path]] = {f.__name__: f for f in (
    data_grid, samples, training_curves, attention_maps, baseline_samples, quality, model_cost, copying_check,
    editing, your_images, guided_attention, self_vs_cross)}
