"""Issue 13's photo check: the `photos` preset on a folder of photos, against a DCGAN given the same wall-clock.

    python benchmarks/photo_preset.py FOLDER --name faces [--limit 2000] [--steps 3000] [--set model.g_norm=instance]
                                      [--dcgan] [--vae] [--edits-only]

Trains our model with the `photos` preset (64 px) on FOLDER (its first --limit files, linked into the run folder,
so that the data set is the same on every call) into runs/photo_preset/NAME/attngan, resumed if there, and scores
it: held-out PSNR from z and guided by the image itself, KID, recall and guidance match on a domain classifier
trained on the folder's labels (on quarter turns for a one-class folder, `features.ROTATIONS`). With --dcgan a
DCGAN trains for our run's measured wall-clock; with --vae the plain autoencoding baseline (the VAE recipe) trains
for our steps, so that our reconstructions have a baseline of the same size. Both are scored the same way.
Then issue 13's editing targets: on a folder of two classes A and B, the attribute edit A -> B on every held-out
A photo (`evaluation.edits`: the share the domain classifier labels B, the share that keeps its identity; decoded
from w alone and with the photo's own encoder features as cross-attention context), and
the wall-clock of the `edit` command on one held-out photo, Python start and model load included, as a user
runs it. Prints its tables; writes nothing under results/, since photo folders such as CelebA may not be
redistributed: look at the sample grids under runs/.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from paperlib import get_config, load_dataset
from paperlib.core import paths
from paperlib.core.config import assignments
from paperlib.core.recipes import model_config
from paperlib.data.photos import IMAGE_SUFFIXES
from paperlib.evaluation.edits import attribute_edit_scores, class_code_effect
from paperlib.evaluation.evaluate import evaluate_run, floor_row
from paperlib.evaluation.features import domain_classifier, domain_space
from paperlib.evaluation.profiling import training_speed
from paperlib.model.checkpoint import latest_checkpoint, networks_from_checkpoint
from paperlib.training.run import run_stats
from paperlib.training.train import train

COLUMNS = ("model", "steps", "train_wall_clock_s", "train_images_per_s", "rec_psnr_db", "rec_guided_psnr_db", "kid",
           "kid_subset_std", "precision", "recall", "guide_match")


def linked_subset(folder: Path, limit: int, into: Path) -> Path:
    """The first `limit` photos of each class folder (or of a flat folder), as links under `into`."""
    classes = sorted(d for d in folder.iterdir() if d.is_dir()) or [folder]
    for c in classes:
        target = into if c == folder else into / c.name
        target.mkdir(parents=True, exist_ok=True)
        photos = sorted(p for p in c.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
        for p in photos:
            if not (target / p.name).exists():
                os.symlink(p.resolve(), target / p.name)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--name", required=True, help="run folder name under runs/photo_preset/")
    parser.add_argument("--limit", type=int, default=0, help="photos per class folder (0: all)")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a change to the photos preset for our model, e.g. model.attn_res=()")
    parser.add_argument("--dcgan", action="store_true", help="also train a DCGAN for our run's wall-clock")
    parser.add_argument("--vae", action="store_true", help="also train the VAE baseline for our steps")
    parser.add_argument("--edits-only", action="store_true",
                        help="skip training and the sample scores: only the editing targets of a trained run")
    args = parser.parse_args()
    root = paths.project_root() / "runs" / "photo_preset" / args.name
    data = linked_subset(args.folder, args.limit, root / "data") if args.limit else args.folder.resolve()
    base = get_config("photos", **{"data.name": "folder", "data.root": str(data)},
                      **({"train.steps": args.steps} if args.steps else {}),
                      **assignments(args.set))
    train_set, holdout = load_dataset(base.data, "train"), load_dataset(base.data, "holdout")
    print(f"{len(train_set)} training and {len(holdout)} held-out photos, classes {train_set.class_names}", flush=True)
    runs = {"attngan": root / "attngan"}
    if not args.edits_only:
        train(base, runs["attngan"], data=train_set)
    if args.dcgan and not args.edits_only:
        runs["dcgan_long"] = root / "dcgan_long"
        ours = run_stats(runs["attngan"])["train_wall_clock_s"]
        per_step = training_speed(model_config(base, "dcgan"), 50)["s_per_step"]   # measured here, now
        steps = max(1, round(ours / per_step))
        print(f"DCGAN: {per_step * 1000:.0f} ms per step, {steps} steps for our {ours:.0f} s", flush=True)
        train(model_config(base, "dcgan_long", steps=steps), runs["dcgan_long"], data=train_set)
    if args.vae and not args.edits_only:
        runs["vae"] = root / "vae"
        train(model_config(base, "vae"), runs["vae"], data=train_set)
    classifier = root / "classifier.pt"            # a one-class folder's classifier learns quarter turns instead
    meta = domain_classifier(base.data, classifier, 600, base.train.seed)
    space = domain_space(classifier)
    print(space.note, flush=True)
    if not args.edits_only:
        real, _ = space.extract(train_set.images)
        rows = [floor_row(space, real, holdout)]
        for model, run in runs.items():
            rows.append({**evaluate_run(run, space, real, train_set, holdout, draws=3), "model": model})
            print(f"{model}: sample grids in {run / 'samples'}", flush=True)
        df = pd.DataFrame(rows)
        print(df[[c for c in COLUMNS if c in df.columns]].round(4).to_string(index=False))
    ckpt = latest_checkpoint(runs["attngan"])
    if train_set.num_classes == 2:
        a, b = train_set.class_names
        nets = networks_from_checkpoint(ckpt).eval()
        for with_context in (False, True) if nets.args.cross_attn_res else (False,):
            edits = attribute_edit_scores(nets, space, train_set, holdout, 0, 1, with_context=with_context)
            how = "with each photo's own encoder features as context" if with_context else "from w"
            print(f"attribute edit {a} -> {b} on the held-out {a} (evaluation.edits), decoded {how}:")
            print(edits.round(4).to_string(index=False))
        effect = class_code_effect(nets, holdout.batch(slice(None))[0])
        print("class code's effect on a decode (evaluation.edits.class_code_effect): "
              + ", ".join(f"{k} {v:.3f}" for k, v in effect.items()), flush=True)
    photo = data / holdout.ids[0]
    for op in (["--reconstruct"], ["--guide", str(data / holdout.ids[1])]):
        command = [sys.executable, "-m", "paperlib", "edit", "--ckpt", str(ckpt), "--image", str(photo), *op,
                   "--out", str(root / "edited.png")]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"edit {op[0]} failed:\n{done.stderr}")
        print(f"edit {op[0]}: {time.perf_counter() - start:.2f} s for one photo, model load and Python start "
              f"included (issue 13's target: at most 2 s)", flush=True)


if __name__ == "__main__":
    main()
