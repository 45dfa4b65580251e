"""Held-out images encoded, then decoded with every class code: does the class code change an encoded image?

    python benchmarks/class_codes.py RUN_DIR [RUN_DIR ...] --out results/quick/experiments/class_codes.png
                                     [--preset quick] [--per-class 4] [--set data.name=folder --set data.root=DIR]

Picks --per-class held-out images of each class (seeded), and writes one PNG: the images in the first row, then
for each RUN_DIR (a conditional model with an encoder) one row per class code, each image decoded from its own
encoding (posterior mean) with that class. Prints each run's `evaluation.edits.class_code_effect` on the whole
held-out split. A class edit of an encoded photo can only move it as far as these rows differ.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torchvision.utils import save_image

from paperlib import get_config
from paperlib.core.config import assignments
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.edits import class_code_effect
from paperlib.model import editing
from paperlib.model.checkpoint import latest_checkpoint, networks_from_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. data.root=~/photos with data.name=folder")
    args = parser.parse_args()
    holdout = load_dataset(get_config(args.preset, **assignments(args.set)).data, "holdout")
    gen = torch.Generator().manual_seed(0)
    members = [(holdout.labels == k).nonzero().squeeze(1) for k in range(holdout.num_classes)]
    pick = torch.cat([m[torch.randperm(len(m), generator=gen)[:args.per_class]] for m in members])
    x, _ = holdout.batch(pick)
    rows = [x]
    for run in args.runs:
        nets = networks_from_checkpoint(latest_checkpoint(run)).eval()
        z = editing.encode(nets, x)
        rows += [editing.decode_as(nets, z, k) for k in range(nets.args.n_classes)]
        effect = class_code_effect(nets, holdout.batch(slice(None))[0])
        print(f"{run}: " + ", ".join(f"{k} {v:.3f}" for k, v in effect.items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(rows) * 0.5 + 0.5, args.out, nrow=len(x), padding=2, pad_value=1.0)
    print(f"rows: held-out images ({', '.join(holdout.class_names)}, {args.per_class} each), then for each run one "
          f"row per class code ({', '.join(holdout.class_names)}); wrote {args.out}")


if __name__ == "__main__":
    main()
