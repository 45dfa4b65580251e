"""KID of each kept checkpoint of finished runs: is a run still improving where it stops?

    python benchmarks/kid_over_steps.py RUN_DIR [RUN_DIR ...] [--preset quick] [--draws 3]

Each RUN_DIR is a training run folder (config.json, stats.jsonl, checkpoints/); every checkpoint kept in it (the
two newest) is scored with the chain's own evaluation on the preset's domain features, and one line per run is
printed. Nothing is written.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from paperlib import get_config
from paperlib.core import paths
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.evaluate import evaluate_run
from paperlib.evaluation.features import domain_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--draws", type=int, default=3)
    args = parser.parse_args()
    base = get_config(args.preset)
    train_set, holdout = load_dataset(base.data, "train"), load_dataset(base.data, "holdout")
    space = domain_space(paths.classifier_path(args.preset))
    real, _ = space.extract(train_set.images)
    for run in args.runs:
        scores = []
        for ckpt in sorted((run / "checkpoints").glob("step_*.pt")):
            row = evaluate_run(run, space, real, train_set, holdout, args.draws, ckpt=ckpt)
            scores.append(f"{ckpt.stem}: KID {row['kid']:.3f} (draw sd {row['kid_draw_std']:.3f}), "
                          f"recall {row['recall']:.2f}")
        print(run.name, " | ".join(scores), flush=True)


if __name__ == "__main__":
    main()
