"""What every figure is drawn with: image mosaics, grids of sample panels, and a reproducible PNG writer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..core import paths


def save_fig(fig: Figure, preset: str, name: str) -> Path:
    """Save as figures/<name>.png (no timestamp metadata, so redraws are identical)."""
    path = paths.figures_dir(preset) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})
    return path


def image_grid(images: np.ndarray, nrow: int) -> np.ndarray:
    """(N, 3, H, W) uint8 or [-1, 1] float -> one (rows*H, nrow*W, 3) uint8 mosaic with 1 px gaps."""
    if images.dtype != np.uint8:
        images = ((np.clip(images, -1, 1) + 1) * 127.5).round().astype(np.uint8)
    n, _, h, w = images.shape
    rows = -(-n // nrow)
    out = np.full((rows * (h + 1) - 1, nrow * (w + 1) - 1, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = img.transpose(1, 2, 0)
    return out


def grids(preset: str, file: str, name: str, title: str, vertical: bool = False) -> Path:
    """One panel per key group in an npz of {<panel>__images, <panel>__labels, <panel>__names}."""
    with np.load(paths.arrays_dir(preset) / file) as z:
        panels = sorted({k.split("__")[0] for k in z.files}, key=lambda k: list(z.files).index(f"{k}__images"))
        rows = [-(-len(z[f"{p}__images"]) // 8) for p in panels]
        fig = Figure(figsize=(4.2, 0.55 * sum(rows) + 0.7 * len(panels)) if vertical else (3.4 * len(panels), 3.8))
        grid = fig.add_gridspec(len(panels), 1, height_ratios=rows) if vertical else fig.add_gridspec(1, len(panels))
        for i, panel in enumerate(panels):
            ax = fig.add_subplot(grid[i, 0] if vertical else grid[0, i])
            ax.imshow(image_grid(z[f"{panel}__images"], nrow=8), interpolation="nearest")
            ax.set_title(f"{panel}\n" + ", ".join(str(s) for s in z[f"{panel}__names"]), fontsize=8)
            ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return save_fig(fig, preset, name)
