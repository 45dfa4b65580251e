"""Training speed of a preset's models in one run: seconds per step, images/s, and our model against the DCGAN.

    python benchmarks/train_speed.py [--preset quick] [--steps 60] [--set model.cross_window=3 ...]

Measures, one after another in this process on the preset's data: our model, our model without any attention
layer (the attention's share of the step), the DCGAN baseline, and with --set our model with those changes too.
Issue 12's cost target is our training images/s at least half the DCGAN's. Not a test: the numbers depend on the machine; run nothing else beside it.
"""
from __future__ import annotations

import argparse

import torch

from paperlib import get_config
from paperlib.core.config import assignments
from paperlib.core.recipes import model_config
from paperlib.evaluation.profiling import training_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="also measure our model with this change, e.g. model.cross_window=3")
    args = parser.parse_args()
    base = get_config(args.preset)
    runs = {"attngan": model_config(base, "attngan"),
            "attngan, no attention": base.override(**{"model.attn_res": (), "model.cross_attn_res": ()}),
            "dcgan": model_config(base, "dcgan")}
    if args.set:
        runs["attngan, " + " ".join(args.set)] = base.override(**assignments(args.set))
    results = {name: training_speed(cfg, args.steps) for name, cfg in runs.items()}
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    print(f"# preset {args.preset}: {base.data.image_size} px, batch {base.train.batch_size}, {args.steps} steps, "
          f"{device}")
    width = max(map(len, results))
    print(f"{'model':>{width}} {'s/step':>8} {'images/s':>9} {'params G/D/E':>22}")
    for name, r in results.items():
        params = "/".join(f"{r[k] / 1e6:.2f}M" for k in ("params_G", "params_D", "params_E") if k in r)
        print(f"{name:>{width}} {r['s_per_step']:>8.3f} {r['images_per_s']:>9.1f} {params:>22}")
    ours, without = results["attngan"]["s_per_step"], results["attngan, no attention"]["s_per_step"]
    print(f"attention layers' share of our step time: {1 - without / ours:.0%}")
    print(f"our training images/s / the DCGAN's: {results['attngan']['images_per_s'] / results['dcgan']['images_per_s']:.2f}"
          " (issue 12's target: at least 0.5)")


if __name__ == "__main__":
    main()
