"""Figure data: runs the trained models to make the result arrays (npz) that figures are drawn from:
example images, samples, attention maps, edits.

Panel files hold, for each panel P, `P__images` (N, 3, H, W) uint8, `P__labels` (N,) and `P__names`
(the class names); figures.py draws one grid per panel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..core.atomic import atomic_path
from ..data.datasets import ImageSet, to_uint8
from ..model.attention import recording_attention
from ..model.checkpoint import latest_checkpoint, networks_from_checkpoint
from ..model.networks import Networks
from ..model.editing import apply_attribute, attribute_vector, guided, interpolate, self_guided
from ..model.sampling import generate, reconstruct


def save_panels(path: Path, panels: dict[str, tuple[np.ndarray, np.ndarray, list[str]]]) -> Path:
    """Write {panel: (images uint8, labels, class names)} atomically as one npz."""
    arrays = {}
    for name, (images, labels, names) in panels.items():
        arrays.update({f"{name}__images": images, f"{name}__labels": np.asarray(labels),
                       f"{name}__names": np.array(names)})
    return save_arrays(path, arrays)


def class_rows(ds: ImageSet, per_class: int = 8, seed: int = 0) -> np.ndarray:
    """Indices of up to `per_class` random images of each class, class after class (one grid row each)."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for k in range(ds.num_classes):
        members = (ds.labels == k).nonzero().squeeze(1)
        rows.append(members[torch.randperm(len(members), generator=gen)[:per_class]])
    return torch.cat(rows).numpy()


def example_panel(ds: ImageSet, per_class: int = 8) -> tuple[np.ndarray, np.ndarray, list[str]]:
    idx = class_rows(ds, per_class)
    return ds.images[idx].numpy(), ds.labels[idx].numpy(), ds.class_names


@torch.no_grad()
def model_panels(run_dirs: dict[str, Path], class_names: list[str], per_class: int = 8, seed: int = 0
                 ) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Samples of each run's EMA generator from the same z: a row per class (two rows if unconditional)."""
    panels = {}
    for name, run_dir in run_dirs.items():
        nets = networks_from_checkpoint(latest_checkpoint(run_dir)).eval()
        n_rows = nets.args.n_classes or 2
        labels = torch.arange(n_rows).repeat_interleave(per_class)
        images = generate(nets, len(labels), labels if nets.args.n_classes else None, seed)
        panels[name] = (to_uint8(images), labels.numpy() if nets.args.n_classes else np.full(len(labels), -1),
                        class_names if nets.args.n_classes else ["unconditional"])
    return panels


@torch.no_grad()
def sample_panels(nets: Networks, class_names: list[str], holdout: ImageSet, per_class: int = 8,
                  seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Samples from z alone (a row per class) and, with an encoder, held-out reconstructions from z alone
    (what the latent carries) and, with cross-attention, guided by themselves (what cross-attention carries).
    """
    n_classes = max(nets.args.n_classes, 1)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    panels = {"samples": (to_uint8(generate(nets, len(labels), labels if nets.args.n_classes else None, seed)),
                          labels.numpy(), class_names)}
    if nets.E is not None:
        idx = torch.as_tensor(class_rows(holdout, per_class, seed))
        x, y = holdout.batch(idx)
        panels["heldout_real"] = (holdout.images[idx].numpy(), y.numpy(), holdout.class_names)
        panels["heldout_reconstructed"] = (to_uint8(reconstruct(nets, x, y)), y.numpy(), holdout.class_names)
        if nets.args.cross_attn_res:
            panels["heldout_guided_by_itself"] = (to_uint8(self_guided(nets, x, y, seed)), y.numpy(),
                                                  holdout.class_names)
    return panels


@torch.no_grad()
def attention_maps(nets: Networks, n: int = 4, seed: int = 0,
                   queries: tuple[tuple[float, float], ...] = ((0.3, 0.35), (0.5, 0.5), (0.75, 0.6))
                   ) -> dict[str, np.ndarray]:
    """Self-attention of G_ema (and of D when it has some) at query points (row, col fractions) on n generated images.

    Returns images (n, 3, S, S) uint8, queries (q, 2), layers, and map__<layer> (n, q, side, side):
    the softmax weights the query position gives every position of that layer's map.
    """
    layers = {f"G.self{r}": m for r, m in nets.G_ema.self_attn.items()}
    layers.update({f"D.self{r}": m for r, m in nets.D.self_attn.items()})
    with recording_attention(layers) as captured:
        labels = torch.arange(n) % max(nets.args.n_classes, 1)
        y = labels if nets.args.n_classes else None
        images = generate(nets, n, y, seed)
        nets.D.eval()
        nets.D(images, y)
    out = {"images": to_uint8(images), "queries": np.array(queries, np.float32), "layers": np.array(list(layers))}
    for name, attn in captured.items():                 # attn (n, N, N), N = side * side
        side = int(round(attn.shape[1] ** 0.5))
        index = [int(r * side) * side + int(c * side) for r, c in queries]
        out[f"map__{name}"] = attn[:, index].reshape(n, len(queries), side, side).float().numpy()
    return out


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write arrays atomically as a compressed npz."""
    with atomic_path(path, ".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


@torch.no_grad()
def self_vs_cross_maps(image_a: torch.Tensor, image_b: torch.Tensor, features_a: torch.Tensor,
                       features_b: torch.Tensor, self_layer: torch.nn.Module, cross_layer: torch.nn.Module,
                       query: tuple[float, float]) -> dict[str, np.ndarray]:
    """Where one query point of image A looks within A (self) and within image B (cross).

    images (3, S, S) in [-1, 1]; features (C, s, s); returns images (2, 3, S, S) uint8, query (2,),
    self_map and cross_map (s, s).
    """
    side = features_a.shape[-1]
    index = int(query[0] * side) * side + int(query[1] * side)
    _, self_attn = self_layer.attend(features_a[None], features_a[None], return_attention=True)   # (1, N, N)
    _, cross_attn = cross_layer.attend(features_a[None], features_b[None], return_attention=True)  # (1, N, M)
    return {"images": to_uint8(torch.stack([image_a, image_b])), "query": np.array(query, np.float32),
            "self_map": self_attn[0, index].reshape(side, side).numpy(),
            "cross_map": cross_attn[0, index].reshape(side, side).numpy()}


@torch.no_grad()
def editing_examples(nets: Networks, holdout: ImageSet, seed: int = 0) -> dict[str, np.ndarray]:
    """Interpolations between held-out pairs, an attribute vector (one class minus another) applied to
    held-out images, and generation guided by cross-attention to reference images."""
    gen = torch.Generator().manual_seed(seed)
    x, y = holdout.batch(slice(None))
    by_class = [(y == c).nonzero().squeeze(1) for c in range(holdout.num_classes)]
    pick = [c[torch.randperm(len(c), generator=gen)] for c in by_class]
    out: dict[str, np.ndarray] = {"class_names": np.array(holdout.class_names)}
    pairs = [(p[0], p[1]) for p in pick if len(p) > 1][:3]
    out["interpolation"] = np.stack([to_uint8(interpolate(nets, x[a:a + 1], x[b:b + 1], y[a:a + 1]))
                                     for a, b in pairs])                                  # (pairs, steps, 3, S, S)
    src, dst = 0, holdout.num_classes - 1                     # first class minus last (people_animals: face, animal)
    vector = attribute_vector(nets, x[pick[dst]], y[pick[dst]], x[pick[src]], y[pick[src]])
    strengths = (0.0, 0.5, 1.0, 1.5)
    out["attribute"] = np.stack([to_uint8(apply_attribute(nets, x[i:i + 1], y[i:i + 1], vector, strengths))
                                 for i in pick[src][:3]])
    out["attribute_strengths"] = np.array(strengths)
    out["attribute_name"] = np.array(f"+ ({holdout.class_names[dst]} - {holdout.class_names[src]})")
    if nets.args.cross_attn_res:
        refs = torch.stack([p[0] for p in pick if len(p)])                                 # one per class
        z = torch.randn(4, nets.args.z_dim, generator=gen)
        rows = [to_uint8(guided(nets, z, y[r].expand(4), x[r].expand(4, -1, -1, -1))) for r in refs]
        out["guided"], out["guided_references"] = np.stack(rows), holdout.images[refs].numpy()
    return out


@torch.no_grad()
def guided_attention_maps(nets: Networks, holdout: ImageSet, seed: int = 0,
                          queries: tuple[tuple[float, float], ...] = ((0.3, 0.35), (0.5, 0.5), (0.75, 0.6))
                          ) -> dict[str, np.ndarray]:
    """The trained generator's self- and cross-attention at the same query points, side by side.

    For one held-out reference image per class, a generated image cross-attends to the reference's
    encoder features; returns images, references, queries, layers and map__<layer> (n, q, side, side):
    self layers spread over the generated image, cross layers over the reference.
    """
    gen = torch.Generator().manual_seed(seed)
    refs = torch.stack([(holdout.labels == c).nonzero()[0, 0] for c in range(holdout.num_classes)])
    x, y = holdout.batch(refs)
    layers = {f"G.self{r}": m for r, m in nets.G_ema.self_attn.items()}
    layers.update({f"G.cross{r}": m for r, m in nets.G_ema.cross_attn.items()})
    with recording_attention(layers) as captured:
        images = guided(nets, torch.randn(len(refs), nets.args.z_dim, generator=gen), y, x)
    out = {"images": to_uint8(images), "references": holdout.images[refs].numpy(),
           "queries": np.array(queries, np.float32), "layers": np.array(list(layers))}
    for name, attn in captured.items():                 # attn (n, N, M): query positions x key positions
        side_q, side_k = int(round(attn.shape[1] ** 0.5)), int(round(attn.shape[2] ** 0.5))
        index = [int(r * side_q) * side_q + int(c * side_q) for r, c in queries]
        out[f"map__{name}"] = attn[:, index].reshape(len(refs), len(queries), side_k, side_k).float().numpy()
    return out
