"""Attention cost: forward+backward time and peak memory of one self-attention layer, explicit vs SDPA.

    python benchmarks/attention.py [--sides 16 32 64 128] [--channels 64] [--batch 16] [--device cpu]

Prints a table (one row per side and implementation). Each measurement runs in a fresh process; a
configuration that runs out of memory shows as failed. Not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse

import torch

from paperlib.evaluation.profiling import attention_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"# self-attention forward+backward, C={args.channels}, B={args.batch}, {device}, torch {torch.__version__}")
    print(f"{'side':>5} {'N':>6} {'impl':>9} {'ms':>10} {'peak MiB':>10}  note")
    for side in args.sides:
        for impl in ("explicit", "sdpa"):
            r = attention_cost(side, args.channels, args.batch, impl, args.device, args.reps)
            print(f"{side:>5} {side * side:>6} {impl:>9} {r['ms']:>10.1f} {r['peak_mib']:>10.1f}  {r['note']}",
                  flush=True)


if __name__ == "__main__":
    main()
