"""Photo files in and out: every image file the project reads becomes a model-sized square the same way.

A photo is decoded upright (its EXIF orientation applied), 16-bit values scaled to 8 bits,
transparent parts composited on white, converted to RGB, centre-cropped to a square and resized
with antialiasing (Lanczos). The edit command pastes its edited square back over that crop of the
full-resolution photo, so its output keeps the photo's size and aspect ratio.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL
import torch
from PIL import Image, ImageOps

from ..core.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
DECODER = f"photos-1/pillow-{PIL.__version__}"   # bump the number when decoding changes: caches keyed by it rebuild
Box = tuple[int, int, int, int]   # left, top, right, bottom of the square crop, in the photo's pixels


class TooSmall(DataError):
    """A photo is smaller than the size asked for (folders skip it, the edit command refuses it)."""


def open_photo(path: Path | str, min_side: int = 0, draft: bool = False) -> Image.Image:
    """The file as an upright 8-bit RGB image; DataError when it cannot be decoded, TooSmall below min_side.

    draft=True decodes a JPEG at the smallest DCT scale that keeps both sides at least `min_side`:
    a folder of large photos decodes several times faster, for images that are resized down anyway.
    """
    if not Path(path).is_file():
        raise DataError(f"{path} does not exist or is not a file")
    try:
        with Image.open(path) as img:
            if min(img.size) < min_side:
                raise TooSmall(f"{path} is {img.width}x{img.height}, smaller than {min_side} px")
            if draft and min_side and img.format == "JPEG":
                img.draft("RGB", (min_side, min_side))
            img.load()
            return _to_rgb(_upright(img))
    except TooSmall:
        raise
    except Exception as e:  # Pillow raises many types (OSError, SyntaxError, struct.error, ...) for a bad file
        raise DataError(f"{path} cannot be read as an image ({type(e).__name__}: {e}); re-save it as PNG or JPEG, "
                        "or remove it") from None


def _upright(img: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; unturned when the EXIF block itself is broken."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:       # malformed EXIF (struct.error, TypeError, ...): the pixels are still good
        return img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):             # 16-bit grey: scale, not clip
        img = Image.fromarray((np.asarray(img, np.float64) / 257).round().clip(0, 255).astype(np.uint8))
    if "A" in img.getbands() or "transparency" in img.info:
        img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
    return img.convert("RGB")


def square_box(width: int, height: int, side: int | None = None) -> Box:
    """The centred square crop (of `side`, default the shorter side) of a width x height image."""
    side = side or min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def to_square(img: Image.Image, size: int, crop: int | None = None) -> Image.Image:
    """Centre-crop to a square (of side `crop` when given) and resize to size x size with antialiasing."""
    return img.crop(square_box(*img.size, crop)).resize((size, size), Image.Resampling.LANCZOS)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL RGB image -> (1, 3, H, W) float in [-1, 1], the models' input range."""
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)


def to_pil(x: torch.Tensor) -> Image.Image:
    """One image (3, H, W) in [-1, 1] -> PIL RGB."""
    arr = x.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr)


def read_square(path: Path | str, size: int) -> tuple[torch.Tensor, Image.Image]:
    """A photo as the model sees it, (1, 3, size, size) in [-1, 1], and the full-resolution upright photo."""
    photo = open_photo(path, size)
    return to_tensor(to_square(photo, size)), photo


def paste_back(photo: Image.Image, square: torch.Tensor) -> Image.Image:
    """The photo with its centre square replaced by `square` (3, S, S), resized up to the crop's size."""
    box = square_box(*photo.size)
    out = photo.copy()
    out.paste(to_pil(square).resize((box[2] - box[0],) * 2, Image.Resampling.LANCZOS), box[:2])
    return out
