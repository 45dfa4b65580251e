"""Issue 13's edit figure, made from photos that may be shipped: every `edit` operation on data/examples/.

    python benchmarks/edit_examples.py CKPT [--photos PHOTO PHOTO ...] [--attribute FOLDER_A:FOLDER_B]

Runs `photo_editing.gallery` (the functions behind the `edit` command and notebook 08) with the checkpoint's model
on the photos: each photo's reconstruction from z, its guidance by the next photo, attribute edits with
--attribute, and the interpolation from the first photo to the second. Writes results/<the checkpoint's
preset>/arrays/your_images.npz, tables/your_images_edits.csv and figures/your_images.png (`make figures
PRESET=photos` redraws it from the arrays). Then times `python -m paperlib edit --reconstruct` on the first photo
from a fresh Python, model load included, as a user runs it. The default photos are scikit-image's `astronaut`
(NASA, public domain; cropped to the face) and `chelsea` (CC0): see data/README.md. For your own figure, give your
photos and your checkpoint, e.g. one from `benchmarks/photo_preset.py`.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paperlib.applications import photo_editing
from paperlib.core import paths
from paperlib.core.config import Config
from paperlib.core.tables import save_table
from paperlib.model.checkpoint import load_checkpoint
from paperlib.report import figures
from paperlib.report.figure_data import save_arrays

EXAMPLES = paths.project_root() / "data" / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ckpt", type=Path)
    parser.add_argument("--photos", type=Path, nargs="+",
                        default=[EXAMPLES / "astronaut_face.png", EXAMPLES / "chelsea.png"])
    parser.add_argument("--attribute", default="", help="FOLDER_A:FOLDER_B, as the edit command takes it")
    args = parser.parse_args()
    cfg = Config.from_dict(load_checkpoint(args.ckpt)["config"])
    editor = photo_editing.load_editor(args.ckpt)
    folders = tuple(Path(f) for f in args.attribute.rsplit(":", 1)) if args.attribute else None
    arrays, numbers = photo_editing.gallery(editor, args.photos, folders)
    save_arrays(paths.arrays_dir(cfg.preset) / "your_images.npz", arrays)
    save_table(numbers, cfg, "your_images_edits", f"every edit of {', '.join(p.name for p in args.photos)} by "
               f"{args.ckpt.name} (benchmarks/edit_examples.py)", photo_editing.EDIT_COLUMNS)
    print(numbers.round(3).to_string(index=False))
    print(f"figure: {figures.your_images(cfg.preset)}")
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "paperlib", "edit", "--ckpt", str(args.ckpt), "--image", str(args.photos[0]),
                   "--reconstruct", "--out", str(Path(tmp) / "edited.png")]
        for _ in range(3):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"edit failed:\n{done.stderr}")
            print(f"edit --reconstruct {args.photos[0].name}: {time.perf_counter() - start:.2f} s, Python start and "
                  "model load included (issue 13's target: at most 2 s)", flush=True)


if __name__ == "__main__":
    main()
