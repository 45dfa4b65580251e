"""An interactive explorer of the edits, in ipywidgets (the JupyterLab standard), over photo_editing's functions.

Pick a photo, move the attribute strength, pick a reference, and click a query point on the guided image
(ipyevents; or move the two query sliders) to see where each cross-attention layer of the guided decode
looks in the reference. Every view calls the functions of the `edit` command and of notebook 08's static
figures, which remain the record: a widget's state is not saved with the notebook.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image, ImageDraw

from ..model import editing
from . import photo_editing
from ..model.attention import recording_attention
from ..data.photos import to_pil

VIEW = 160   # side of each image in the explorer, pixels (nearest-neighbour upscaled: the model's pixels stay visible)


@torch.no_grad()
def guided_with_attention(editor: photo_editing.Editor, photo: Path, reference: Path, query: tuple[float, float]
                          ) -> tuple[photo_editing.Edit, dict[str, np.ndarray]]:
    """The guided decode of `photo` (its latent, the reference's encoder features; the `edit --guide` path) and,
    recorded during that one decode, where it looks in the reference: for the query point (row, column, as
    shares of the side), each cross-attention layer's weights over the reference's positions,
    {"cross<side>": (side, side)}, averaged over heads."""
    with recording_attention({f"cross{r}": m for r, m in editor.nets.G_ema.cross_attn.items()}) as captured:
        guided = photo_editing.guide(editor, photo, reference)
    maps = {}
    for name, attn in captured.items():                                     # attn (1, N, M)
        n, m = int(round(attn.shape[1] ** 0.5)), int(round(attn.shape[2] ** 0.5))
        index = min(int(query[0] * n), n - 1) * n + min(int(query[1] * n), n - 1)
        maps[name] = attn[0, index].reshape(m, m).float().numpy()
    return guided, maps


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.resize((VIEW, VIEW), Image.Resampling.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


def _marked(img: Image.Image, query: tuple[float, float]) -> Image.Image:
    """The view of img with a cross at the query point (row, column as shares of the side)."""
    view = img.resize((VIEW, VIEW), Image.Resampling.NEAREST)
    r, c = int(query[0] * VIEW), int(query[1] * VIEW)
    draw = ImageDraw.Draw(view)
    draw.line([(c - 6, r), (c + 6, r)], fill="red", width=2)
    draw.line([(c, r - 6), (c, r + 6)], fill="red", width=2)
    return view


def _overlay(reference: torch.Tensor, weights: np.ndarray) -> Image.Image:
    """The reference (3, S, S) under its attention weights (viridis, half transparent)."""
    base = to_pil(reference).resize((VIEW, VIEW), Image.Resampling.NEAREST).convert("RGBA")
    heat = colormaps["viridis"](weights / max(float(weights.max()), 1e-12))        # (m, m, 4) in [0, 1]
    heat[..., 3] = 0.6
    layer = Image.fromarray((heat * 255).astype(np.uint8)).resize((VIEW, VIEW), Image.Resampling.NEAREST)
    return Image.alpha_composite(base, layer).convert("RGB")


def explorer(editor: photo_editing.Editor, photos: list[Path], attribute_folders: tuple[Path, Path] | None) -> Any:
    """The explorer widget (an ipywidgets.VBox): photo, attribute strength, reference and query point controls
    over the photo, its attribute edit, the guided decode and each cross-attention layer's map. Its `clicks`
    attribute is the ipyevents Event that turns a click on the guided image into the query point."""
    import ipywidgets as w
    from ipyevents import Event

    low, high = photo_editing.STRENGTH_RANGE
    along = photo_editing.attribute_between(editor, *attribute_folders) if attribute_folders else None
    choices = [(Path(p).name, Path(p)) for p in photos]
    pick = w.Dropdown(options=choices, value=choices[0][1], description="photo")
    reference = w.Dropdown(options=choices, value=choices[1 % len(choices)][1], description="reference")
    strength = w.FloatSlider(value=0.0, min=low, max=high, step=0.25, description="attribute",
                             disabled=attribute_folders is None)
    row = w.FloatSlider(value=0.5, min=0.0, max=0.99, step=0.05, description="query row")
    column = w.FloatSlider(value=0.5, min=0.0, max=0.99, step=0.05, description="query col")
    views = {name: w.Image(format="png", width=VIEW, height=VIEW) for name in ("photo", "edited", "guided")}
    maps = {f"cross{side}": w.Image(format="png", width=VIEW, height=VIEW)
            for side in editor.nets.G_ema.cross_attn}
    numbers = w.HTML()

    def update(_: Any = None) -> None:
        x, _ = photo_editing.read(editor, pick.value)
        ref, _ = photo_editing.read(editor, reference.value)
        edit = (photo_editing.attribute(editor, pick.value, along, strength.value) if along
                else photo_editing.reconstruct(editor, pick.value))
        guided, weights = guided_with_attention(editor, pick.value, reference.value, (row.value, column.value))
        views["photo"].value = _png(to_pil(x[0]))
        views["edited"].value = _png(to_pil(edit.squares[0]))
        views["guided"].value = _png(_marked(to_pil(guided.squares[0]), (row.value, column.value)))
        for name, layer_weights in weights.items():
            maps[name].value = _png(_overlay(ref[0], layer_weights))
        shown = {**{f"edit: {k}": v for k, v in edit.numbers.items()},
                 **{f"guide: {k}": v for k, v in guided.numbers.items() if k != "label"}}
        numbers.value = "<br>".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in shown.items())

    def query_at(event: dict[str, Any]) -> None:
        """A click on the guided image moves the query there (dataX/Y: the view's own pixel coordinates)."""
        for slider in (row, column):                       # one redraw for both sliders, not one each
            slider.unobserve(update, names="value")
        row.value = min(max(event["dataY"] / VIEW, row.min), row.max)
        column.value = min(max(event["dataX"] / VIEW, column.min), column.max)
        for slider in (row, column):
            slider.observe(update, names="value")
        update()

    for control in (pick, reference, strength, row, column):
        control.observe(update, names="value")
    clicks = Event(source=views["guided"], watched_events=["click"])
    clicks.on_dom_event(query_at)
    update()
    titled = [w.VBox([w.Label(name), view]) for name, view in {**views, **maps}.items()]
    box = w.VBox([w.HBox([pick, reference]), w.HBox([strength]), w.HBox([row, column]), w.HBox(titled), numbers])
    box.clicks = clicks
    return box
