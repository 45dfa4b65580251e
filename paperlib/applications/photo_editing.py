"""Editing photo files with a trained checkpoint: the work behind `python -m paperlib edit`.

Each operation reads photos the way the training data is read (`photos`: upright, centre square,
resized to the model's size), edits through the encoder (`editing`), pastes the edited square back
over the photo, and returns the image with the numbers behind it, so a user can judge the edit
instead of trusting the picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from ..model import editing
from ..model.checkpoint import load_checkpoint, networks_from_state
from ..core.config import DataConfig
from ..data.datasets import ImageSet, data_root, folder_images, to_uint8
from ..core.errors import DataError, InputError
from ..evaluation.metrics import reconstruction_metrics, ssim
from ..model.networks import Networks
from ..data.photos import TooSmall, paste_back, read_square, to_pil
from ..model.sampling import decode

if TYPE_CHECKING:       # pandas is imported by gallery() alone: the `edit` command does not need it
    import pandas as pd

STRENGTH_RANGE = (-2.0, 2.0)   # attribute strengths beyond it leave the latent region the model was trained on
STRENGTH = 1.0                 # default attribute strength: the full difference of the two folders' means
STEPS = 8                      # default interpolation frames, both ends included
STRIP_HEIGHT = 256             # height of each frame of an interpolation strip, pixels


@dataclass
class Editor:
    """A checkpoint's networks (EMA generator and encoder) with its class names."""

    nets: Networks
    class_names: list[str]

    @property
    def size(self) -> int:
        return self.nets.args.image_size


@dataclass
class Edit:
    """What an edit wrote, the model-size squares it decoded, and the numbers behind it (PSNR in dB, SSIM in
    [0, 1], measured on the squares)."""

    image: Image.Image            # the photo with the edit pasted back (interpolation: the frames side by side)
    squares: torch.Tensor         # (N, 3, S, S) in [-1, 1]: the decoded images (N = 1, or the frames)
    numbers: dict[str, float | int | str] = field(default_factory=dict)


def load_editor(ckpt: Path | str) -> Editor:
    """The checkpoint's networks, ready to edit; a clear error for a model without an encoder."""
    state = load_checkpoint(ckpt)
    nets = networks_from_state(state, ckpt).eval()
    if nets.E is None:
        raise InputError(f"{ckpt} holds a model without an encoder ({nets.args.arch}); editing needs one: "
                         "give a checkpoint of the attention model (attngan) or the VAE")
    names = list(state.get("class_names", []))
    return Editor(nets, names if len(names) == nets.args.n_classes else [str(k) for k in range(nets.args.n_classes)])


def read(editor: Editor, path: Path | str) -> tuple[torch.Tensor, Image.Image]:
    """A photo at the model's size, (1, 3, S, S) in [-1, 1], and the upright photo."""
    try:
        return read_square(path, editor.size)
    except TooSmall as e:
        raise InputError(f"{e}; this checkpoint's model works at {editor.size} px: give a photo at least that "
                         "large on its shorter side") from None


def choose_label(editor: Editor, x: torch.Tensor, label: str | None = None) -> tuple[torch.Tensor | None, str]:
    """The class to decode x with, and how it was chosen: the named one, or else the class whose decode
    of E(x) reconstructs x best (a conditional generator needs one; the photo carries none)."""
    n = editor.nets.args.n_classes
    if n == 0:
        if label is not None:
            raise InputError(f"--label {label!r}: this model is unconditional (it has no classes); drop --label")
        return None, "none (unconditional model)"
    if label is not None:
        if label not in editor.class_names:
            raise InputError(f"--label {label!r}: this model's classes are {', '.join(editor.class_names)}")
        return torch.tensor([editor.class_names.index(label)]), f"{label} (given)"
    best = editing.best_labels(editor.nets, x)
    return best, f"{editor.class_names[int(best[0])]} (best reconstruction of {n} classes)"


def scores(x: torch.Tensor, edited: torch.Tensor, against: str) -> dict[str, float]:
    """PSNR (dB) and SSIM of `edited` against x, both (1, 3, S, S) in [-1, 1], named '<metric>_vs_<against>'."""
    return {f"psnr_vs_{against}_db": reconstruction_metrics(x, edited)["psnr_db"],
            f"ssim_vs_{against}": ssim(x, edited).mean().item()}


def reconstruct(editor: Editor, image: Path | str, label: str | None = None) -> Edit:
    """The photo encoded to its posterior mean and decoded from z alone."""
    x, photo = read(editor, image)
    y, how = choose_label(editor, x, label)
    rec = decode(editor.nets, editing.encode(editor.nets, x), y)
    return Edit(paste_back(photo, rec[0]), rec, {"label": how, **scores(x, rec, "input")})


def interpolate(editor: Editor, image: Path | str, other: Path | str, steps: int = STEPS,
                label: str | None = None) -> Edit:
    """Decodes along the straight line from E(image) to E(other), each pasted back over the first photo,
    side by side."""
    if steps < 2:
        raise InputError(f"--steps {steps}: an interpolation needs at least 2 steps (the two ends)")
    a, photo = read(editor, image)
    b, _ = read(editor, other)
    y, how = choose_label(editor, a, label)
    frames = editing.interpolate(editor.nets, a, b, y, steps)
    za, zb = editing.encode(editor.nets, torch.cat([a, b])).chunk(2)
    tiles = [paste_back(photo, f) for f in frames]
    tiles = [t.resize((round(t.width * STRIP_HEIGHT / t.height), STRIP_HEIGHT), Image.Resampling.LANCZOS)
             for t in tiles]
    strip = Image.new("RGB", (sum(t.width for t in tiles), STRIP_HEIGHT), "white")
    for i, t in enumerate(tiles):
        strip.paste(t, (i * t.width, 0))
    return Edit(strip, frames, {"label": how, "steps": steps, "latent_distance": float((za - zb).norm()),
                        **scores(a, frames[:1], "input"), **scores(b, frames[-1:], "other")})


@dataclass
class Attribute:
    """An attribute vector in G's latent space: the mean latent w of folder `with_` minus that of folder `without`,
    each photo's class chosen as an edited photo's is (`choose_label`)."""

    vector: torch.Tensor          # (w_dim,)
    without: Path
    with_: Path
    images_without: int
    images_with: int

    @property
    def name(self) -> str:
        return f"+ ({self.with_.name} - {self.without.name})"


def attribute_between(editor: Editor, without: Path | str, with_: Path | str) -> Attribute:
    """The attribute from two folders of photos, encoded once (every edit along it reuses the vector)."""
    groups = []
    for folder in (without, with_):
        try:
            groups.append(folder_images(Path(folder), editor.size).batch(slice(None))[0])
        except DataError as e:
            raise InputError(f"--attribute: {e} (each folder needs photos of at least {editor.size} px showing "
                             "the images without, then with, the attribute)") from None
    labelled = [(x, editing.best_labels(editor.nets, x)) for x in groups]
    return Attribute(editing.attribute_vector(editor.nets, *labelled[1], *labelled[0]), Path(without), Path(with_),
                     len(groups[0]), len(groups[1]))


def attribute(editor: Editor, image: Path | str, along: Attribute, strength: float = STRENGTH,
              label: str | None = None) -> Edit:
    """The photo's latent w moved by strength x the attribute's vector."""
    low, high = STRENGTH_RANGE
    if not low <= strength <= high:
        raise InputError(f"--strength {strength}: use a value in [{low:g}, {high:g}] (0 = no change, 1 = the "
                         "full difference between the two folders' mean latents)")
    x, photo = read(editor, image)
    y, how = choose_label(editor, x, label)
    norm = float(along.vector.norm())
    before, after = editing.apply_attribute(editor.nets, x, y, along.vector, (0.0, strength))
    return Edit(paste_back(photo, after), after[None], {
        "label": how, "strength": strength, "images_without": along.images_without,
        "images_with": along.images_with, "vector_norm": norm, "latent_shift": abs(strength) * norm,
        "mean_abs_pixel_change": float((after - before).abs().mean() / 2),
        **scores(x, after[None], "input")})


def guide(editor: Editor, image: Path | str, reference: Path | str, label: str | None = None) -> Edit:
    """The photo's latent decoded while its cross-attention reads the reference's encoder features."""
    x, photo = read(editor, image)
    ref, _ = read(editor, reference)
    y, how = choose_label(editor, x, label)
    out = editing.guided(editor.nets, editing.encode(editor.nets, x), y, ref)
    return Edit(paste_back(photo, out[0]), out, {"label": how, **scores(x, out, "input"),
                                                 **scores(ref, out, "reference")})


def example_photos(data: DataConfig, holdout: ImageSet, folder: Path, per_class: int = 2) -> dict[str, list[Path]]:
    """Photo files of `per_class` held-out images of each class, for the file-based edits (the `edit` command's
    path), and their class folders as attribute folders.

    A folder data set gives its own files (and its class sub-folders); any other data set (OpenMoji) is written
    out as PNGs, every held-out image under folder/<class>/, so that its class folders hold the attribute's images.
    """
    out: dict[str, list[Path]] = {}
    for k, name in enumerate(holdout.class_names):
        members = (holdout.labels == k).nonzero().flatten().tolist()
        if data.name == "folder":
            root = data_root(data)
            out[name] = [root / holdout.ids[i] for i in members[:per_class]]
            continue
        files = []
        for i in members:
            path = folder / name / f"{holdout.ids[i]}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            to_pil(holdout.images[i].float().div(127.5).sub(1)).save(path)
            files.append(path)
        out[name] = files[:per_class]
    return out


def gallery(editor: Editor, photos: list[Path], attribute_folders: tuple[Path, Path] | None,
            strengths: tuple[float, ...] = (-1.0, 1.0, 2.0), steps: int = STEPS
            ) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Every edit of the `edit` command on each photo: model-size squares for figures.your_images and one row
    of numbers per edit (EDIT_COLUMNS).

    Guidance reads the next photo of the list, and the interpolation runs from the first photo to the second;
    attribute_folders = (without, with) the attribute, or None (one class: no attribute to move along).
    """
    if len(photos) < 2:
        raise InputError(f"{len(photos)} photo(s): the gallery needs at least 2 (each guides, and meets, the next)")
    strengths = strengths if attribute_folders else ()
    along = attribute_between(editor, *attribute_folders) if attribute_folders else None
    inputs, recs, attrs, guided, rows = [], [], [], [], []
    for i, photo in enumerate(photos):
        other = photos[(i + 1) % len(photos)]
        inputs.append(read(editor, photo)[0][0])
        edits = {"reconstruct": reconstruct(editor, photo), "guide": guide(editor, photo, other)}
        edits.update({f"attribute {s:+g}": attribute(editor, photo, along, s) for s in strengths})
        recs.append(edits["reconstruct"].squares[0])
        guided.append(edits["guide"].squares[0])
        attrs.append(torch.stack([edits[f"attribute {s:+g}"].squares[0] for s in strengths])
                     if strengths else torch.zeros(0, *inputs[-1].shape))
        rows += [{"photo": Path(photo).name, "edit": name, "with": Path(other).name if name == "guide" else "",
                  **edit.numbers} for name, edit in edits.items()]
    walk = interpolate(editor, photos[0], photos[1], steps)
    rows.append({"photo": Path(photos[0]).name, "edit": f"interpolate ({steps} steps)", "with": Path(photos[1]).name,
                 **walk.numbers})
    arrays = {k: to_uint8(torch.stack(v)) for k, v in
              (("inputs", inputs), ("reconstructions", recs), ("attribute", attrs), ("guided", guided))}
    arrays["interpolation"] = to_uint8(walk.squares)
    arrays.update({"strengths": np.array(strengths, np.float64),
                   "attribute_name": np.array(along.name if along else ""),
                   "names": np.array([Path(p).name for p in photos])})
    import pandas as pd

    return arrays, pd.DataFrame(rows)


EDIT_COLUMNS = {
    "photo": "the edited photo's file name", "edit": "the operation (as the edit command names it) and its setting",
    "with": "the other photo: the reference of guidance, the far end of the interpolation",
    "label": "the class the generator decoded with, and how it was chosen",
    "psnr_vs_input_db": "PSNR of the edited square against the photo's square, dB",
    "ssim_vs_input": "SSIM of the edited square against the photo's square",
    "psnr_vs_reference_db": "guide: PSNR against the reference's square, dB",
    "ssim_vs_reference": "guide: SSIM against the reference's square",
    "psnr_vs_other_db": "interpolate: PSNR of the last frame against the other photo, dB",
    "ssim_vs_other": "interpolate: SSIM of the last frame against the other photo",
    "steps": "interpolate: frames, both ends included", "latent_distance": "interpolate: |E(a) - E(b)|",
    "strength": "attribute: multiple of the vector", "images_without": "attribute: images without it",
    "images_with": "attribute: images with it", "vector_norm": "attribute: length of the vector",
    "latent_shift": "attribute: |strength| x the vector's length",
    "mean_abs_pixel_change": "attribute: mean absolute change from the unedited decode, on [0, 1]",
}
