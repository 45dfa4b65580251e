"""Data sets behind one interface: `load_dataset(cfg, split)` returns an in-memory `ImageSet`.

All images are held as uint8 RGB tensors (grey sets are repeated to 3 channels) and served as
float tensors in [-1, 1]. Sources: OpenMoji (rendered offline, the default), torchvision's
CIFAR-10, MNIST, Fashion-MNIST and CelebA loaders, and any folder of images.

Folders: images are cropped and resized as `photos` does it and cached on disk; a corrupt file, or
an image smaller than `image_size` (upscaling would teach the model blur), is skipped with a warning
that counts and names them.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from . import openmoji
from ..core import paths
from ..core.atomic import atomic_path
from ..core.config import DATASETS, DataConfig
from ..core.errors import DataError, WriteFailed
from .photos import DECODER, IMAGE_SUFFIXES, TooSmall, open_photo, to_square

SPLITS = ("train", "holdout")
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@dataclass
class ImageSet:
    """Images of one split in memory."""

    images: torch.Tensor     # (N, 3, H, W) uint8
    labels: torch.Tensor     # (N,) int64 class index
    class_names: list[str]   # label -> name
    ids: list[str]           # per-image identifier: emoji code, file path, or dataset index
    name: str                # e.g. "openmoji/people_animals/train"

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, index: torch.Tensor | list[int]) -> "ImageSet":
        """The images at `index`, in that order."""
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageSet(self.images[index], self.labels[index], self.class_names, [self.ids[i] for i in index.tolist()],
                        self.name)

    def batch(self, index: torch.Tensor | slice | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as float in [-1, 1] of shape (B, 3, H, W), and their labels."""
        return self.images[index].float().div(127.5).sub(1.0), self.labels[index]


def load_dataset(cfg: DataConfig, split: str = "train") -> ImageSet:
    """Load `split` (train | holdout) of the data set `cfg` names, resized to cfg.image_size."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    if cfg.name not in DATASETS:
        raise DataError(f"unknown dataset {cfg.name!r}: use one of {', '.join(DATASETS)}")
    data = _LOADERS[cfg.name](cfg, split)
    return data if split == "holdout" or cfg.fraction == 1.0 else fraction_of(data, cfg.fraction)


def fraction_of(data: ImageSet, fraction: float) -> ImageSet:
    """ceil(fraction * n_c) images of every class c, chosen by a hash of their ids: smaller fractions are
    subsets of larger ones, and the choice is the same on every machine."""
    keep = []
    for k in range(data.num_classes):
        members = (data.labels == k).nonzero().flatten().tolist()
        ranked = sorted(members, key=lambda i: hashlib.sha256(data.ids[i].encode()).hexdigest())
        keep += ranked[:math.ceil(fraction * len(members))]
    out = data.subset(sorted(keep))
    out.name = f"{data.name}[{fraction:g}]"
    return out


def data_root(cfg: DataConfig) -> Path:
    """cfg.root (a relative one is under the project root), or data/raw/<name> when it is empty."""
    return paths.project_root() / Path(cfg.root).expanduser() if cfg.root else paths.data_dir() / "raw" / cfg.name


def _to_tensor(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """(N, H, W[, C]) uint8 -> (N, 3, size, size) uint8, area-resized when the size differs."""
    x = torch.as_tensor(images)
    x = x.unsqueeze(-1) if x.ndim == 3 else x
    x = x.permute(0, 3, 1, 2).expand(-1, 3, -1, -1) if x.shape[-1] == 1 else x.permute(0, 3, 1, 2)
    if x.shape[-1] != size:
        x = F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        x = x.round().clamp(0, 255).to(torch.uint8)
    return x.contiguous()


def _openmoji(cfg: DataConfig, split: str) -> ImageSet:
    glyph_list, images = openmoji.rendered(cfg.image_size)
    idx, labels, names = openmoji.select(glyph_list, cfg.subset, cfg.skin_tones)
    keys = openmoji.split_keys([glyph_list[i] for i in idx], images[idx])
    holdout = [openmoji.in_holdout(key, cfg.holdout_fraction) for key in keys]
    keep = [k for k, h in enumerate(holdout) if h == (split == "holdout")]
    sel = [idx[k] for k in keep]
    return ImageSet(_to_tensor(images[sel], cfg.image_size), torch.tensor([labels[k] for k in keep]),
                    names, [glyph_list[i].code for i in sel], f"openmoji/{cfg.subset}/{split}")


def _require_root(cfg: DataConfig, hint: str) -> Path:
    root = data_root(cfg)
    if not root.exists() and not cfg.download:
        raise DataError(f"{cfg.name}: data root {root} does not exist. {hint}")
    return root


def _cifar10(cfg: DataConfig, split: str) -> ImageSet:
    from torchvision.datasets import CIFAR10

    root = _require_root(cfg, "Put the extracted cifar-10-batches-py folder there, set data.root, "
                              "or set data.download=True on a machine with internet.")
    try:
        ds = CIFAR10(str(root), train=split == "train", download=cfg.download)
    except RuntimeError as e:
        raise DataError(f"cifar10: {e} (looked in {root}/cifar-10-batches-py; set data.download=True "
                        "with internet, or data.root)") from None
    return ImageSet(_to_tensor(ds.data, cfg.image_size), torch.tensor(ds.targets), list(ds.classes),
                    [str(i) for i in range(len(ds.targets))], f"cifar10/{split}")


def _mnist(cfg: DataConfig, split: str) -> ImageSet:
    from torchvision.datasets import MNIST, FashionMNIST

    cls = FashionMNIST if cfg.name == "fashion_mnist" else MNIST
    root = data_root(cfg)
    if cls is FashionMNIST and not cfg.root:
        _unpack_debian_fashion_mnist(root / "FashionMNIST" / "raw")
    root = _require_root(cfg, f"Put the {cls.__name__}/raw idx files there, set data.root, or set "
                              "data.download=True with internet"
                         + (" (or `apt-get install dataset-fashion-mnist`)." if cls is FashionMNIST else "."))
    try:
        ds = cls(str(root), train=split == "train", download=cfg.download)
    except RuntimeError as e:
        raise DataError(f"{cfg.name}: {e} (looked in {root}/{cls.__name__}/raw)") from None
    return ImageSet(_to_tensor(ds.data.numpy(), cfg.image_size), ds.targets.clone(), list(ds.classes),
                    [str(i) for i in range(len(ds.targets))], f"{cfg.name}/{split}")


def _unpack_debian_fashion_mnist(raw: Path) -> None:
    """Copy Debian's dataset-fashion-mnist files into torchvision's layout, once."""
    if not DEBIAN_FASHION_MNIST.is_dir() or (raw / "train-images-idx3-ubyte").exists():
        return
    raw.mkdir(parents=True, exist_ok=True)
    for gz in DEBIAN_FASHION_MNIST.glob("*-ubyte.gz"):
        with atomic_path(raw / gz.stem) as tmp, gzip.open(gz) as src, tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst)


def _celeba(cfg: DataConfig, split: str) -> ImageSet:
    """CelebA aligned faces, centre-cropped to 140 px; label = the 'Male' attribute."""
    from torchvision.datasets import CelebA

    root = _require_root(cfg, "Put the celeba folder (img_align_celeba/, list_*.txt) there or set data.root; "
                              "its Google Drive download often fails, so fetch it by hand.")
    try:
        ds = CelebA(str(root), split="train" if split == "train" else "test", target_type="attr",
                    download=cfg.download)
    except RuntimeError as e:
        raise DataError(f"celeba: {e} (looked in {root}/celeba)") from None
    male = ds.attr_names.index("Male")
    images = np.stack([np.asarray(to_square(Image.open(Path(ds.root) / ds.base_folder / "img_align_celeba" / f)
                                          .convert("RGB"), cfg.image_size, crop=140)) for f in ds.filename])
    return ImageSet(torch.as_tensor(images).permute(0, 3, 1, 2).contiguous(), ds.attr[:, male].long(),
                    ["female", "male"], list(ds.filename), f"celeba/{split}")


def _folder(cfg: DataConfig, split: str) -> ImageSet:
    """A folder's split, by a hash of each image's pixels: adding, removing or renaming files moves no
    other image across the split, and pixel copies (the same picture under two names) land together."""
    root = data_root(cfg)
    every = folder_images(root, cfg.image_size)
    keep = [i for i in range(len(every))
            if (int(hashlib.sha256(every.images[i].numpy().tobytes()).hexdigest()[:8], 16) / 0xFFFFFFFF
                < cfg.holdout_fraction) == (split == "holdout")]
    if not keep:
        raise DataError(f"folder: no image of {root} falls in the {split!r} split; add images or change "
                        "data.holdout_fraction")
    out = every.subset(keep)
    out.name = f"folder:{root.name}/{split}"
    return out


_LOADERS = {"openmoji": _openmoji, "cifar10": _cifar10, "mnist": _mnist, "fashion_mnist": _mnist, "celeba": _celeba,
            "folder": _folder}   # one per config.DATASETS (tests/test_data.py checks)


def folder_images(root: Path, size: int) -> ImageSet:
    """Every readable image of a folder at size x size: one class per sub-folder (ImageFolder layout)
    or a flat folder (one class, named after it); ids are paths relative to the folder."""
    from torchvision.datasets.folder import find_classes, make_dataset

    if not root.is_dir():
        raise DataError(f"folder: {root} is not a directory; set data.root to a folder of images")
    if any(p.is_dir() for p in root.iterdir()):
        classes, class_to_idx = find_classes(str(root))
        samples = make_dataset(str(root), class_to_idx, extensions=IMAGE_SUFFIXES, allow_empty=True)
    else:
        classes = [root.name]
        samples = [(str(p), 0) for p in sorted(root.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not samples:
        raise DataError(f"folder: no image files ({', '.join(IMAGE_SUFFIXES)}) in {root}")
    images, labels, ids = _decoded_folder(root, classes, samples, size)
    return ImageSet(torch.as_tensor(images).permute(0, 3, 1, 2).contiguous(), torch.as_tensor(labels),
                    list(classes), ids, f"folder:{root.name}")


def _decoded_folder(root: Path, classes: list[str], samples: list[tuple[str, int]], size: int
                    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every readable image of the folder as (N, size, size, 3) uint8, its labels and relative paths.

    Decoding thousands of photos takes minutes, so the result is cached in data/processed/ (one
    file per folder and size), keyed by the file list, sizes and modification times and the decoder:
    a changed, added or removed file rebuilds it, and so does an unreadable cache. Skipped files are
    recorded in the cache and warned about whenever the folder is loaded.
    """
    files = []
    for path, label in samples:
        stat = os.stat(path)
        files.append((str(Path(path).relative_to(root)), label, stat.st_size, stat.st_mtime_ns))
    key = hashlib.sha256(json.dumps([DECODER, size, classes, files]).encode()).hexdigest()
    where = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    cache = paths.processed_dir() / f"folder_{root.name}-{where}_{size}px.npz"
    try:
        with np.load(cache) as z:
            if str(z["key"]) == key:
                _warn_skipped(root, size, len(files), [str(s) for s in z["small"]], [str(s) for s in z["unreadable"]])
                return z["images"], z["labels"], [str(i) for i in z["ids"]]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):     # absent, truncated or foreign: decode again
        pass
    images, labels, ids, small, broken = [], [], [], [], []
    for rel, label, _, _ in tqdm(files, desc=f"decoding {root.name}", unit="img", disable=len(files) < 500):
        try:
            images.append(np.asarray(to_square(open_photo(root / rel, size, draft=True), size)))
        except TooSmall:
            small.append(rel)
            continue
        except DataError:
            broken.append(rel)
            continue
        labels.append(label)
        ids.append(rel)
    _warn_skipped(root, size, len(files), small, broken)
    if not images:
        raise DataError(f"folder: none of the {len(files)} image files in {root} is readable and at least "
                        f"{size} px on its shorter side; use larger images or a smaller image size")
    out = np.stack(images), np.asarray(labels, np.int64), ids
    try:
        with atomic_path(cache) as tmp, tmp.open("wb") as f:
            np.savez(f, key=key, images=out[0], labels=out[1], ids=np.asarray(ids), small=np.asarray(small, str),
                     unreadable=np.asarray(broken, str))
    except WriteFailed as e:    # the decoded images are good; only the next load pays for decoding again
        warnings.warn(f"folder {root}: decoded images not cached ({e})", stacklevel=2)
    return out


def _warn_skipped(root: Path, size: int, total: int, small: list[str], broken: list[str]) -> None:
    """One warning per kind of skipped file, counting them and naming the first few."""
    def named(files: list[str]) -> str:
        return ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")

    # stacklevel 3 is the line in folder_images: Python shows a warning once per line and text, so loading
    # both splits of a folder (or one folder twice) warns once
    if small:
        warnings.warn(f"folder {root}: skipped {len(small)} of {total} images smaller than {size} px on their "
                      f"shorter side ({named(small)}); use a smaller image size to keep them", stacklevel=3)
    if broken:
        warnings.warn(f"folder {root}: skipped {len(broken)} image files that cannot be decoded ({named(broken)}); "
                      "open one to see why, re-save them as PNG or JPEG, or remove them", stacklevel=3)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] float (N, 3, H, W) -> uint8 numpy."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
