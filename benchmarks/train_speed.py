"""Training speed of a preset: seconds per step, images/s, and the attention layers' share of the step.

    python benchmarks/train_speed.py [--preset quick] [--steps 20]

The attention share is measured by timing the same preset with attention removed
(model.attn_res=() and model.cross_attn_res=()). Not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse

import torch

from paperlib import get_config
from paperlib.profiling import training_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    cfg = get_config(args.preset)
    with_attn = training_speed(cfg, args.steps)
    without = training_speed(cfg.override(**{"model.attn_res": (), "model.cross_attn_res": ()}), args.steps)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    print(f"# preset {args.preset}: {cfg.data.image_size} px, batch {cfg.train.batch_size}, {args.steps} steps, {device}")
    print(f"{'model':>18} {'s/step':>8} {'images/s':>9} {'params G/D/E':>22}")
    for name, r in (("with attention", with_attn), ("without attention", without)):
        params = "/".join(f"{r[k] / 1e6:.2f}M" for k in ("params_G", "params_D", "params_E") if k in r)
        print(f"{name:>18} {r['s_per_step']:>8.3f} {r['images_per_s']:>9.1f} {params:>22}")
    share = 1 - without["s_per_step"] / with_attn["s_per_step"]
    print(f"attention layers' share of the step time: {share:.0%}")


if __name__ == "__main__":
    main()
