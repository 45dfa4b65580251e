"""What a trained generator's self-attention does, and whether E and the EMA generator are in step.

    python benchmarks/generator_probe.py RUN_DIR [RUN_DIR ...] [--preset photos --set data.name=folder
                                         --set data.root=DIR] [--out grid.png]

For each run (its newest checkpoint) prints, per self-attention layer of G_ema, the mean entropy of a query's
weights against its maximum, the mean largest weight and the branch's size relative to its input
(`evaluation.attention_stats`), then held-out PSNR from z decoded by G_ema and by the live G. --out writes
16 samples per run at branch scales 1, 0.5 and 0 (a row each): whether the samples' shapes come from the
self-attention branch at sampling time.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torchvision.utils import save_image

from paperlib import get_config
from paperlib.core.config import assignments
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.attention_stats import scaled_self_attention, self_attention_stats
from paperlib.evaluation.metrics import reconstruction_metrics
from paperlib.model.checkpoint import latest_checkpoint, networks_from_checkpoint
from paperlib.model.sampling import generate, reconstruct

SCALES = (1.0, 0.5, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--preset", default="quick", help="the preset whose data set the runs trained on")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. data.root=~/photos with data.name=folder")
    parser.add_argument("--out", type=Path, help="a PNG of samples at each self-attention branch scale")
    args = parser.parse_args()
    x, y = load_dataset(get_config(args.preset, **assignments(args.set)).data, "holdout").batch(slice(None))
    rows = []
    for run in args.runs:
        nets = networks_from_checkpoint(latest_checkpoint(run)).eval()
        for name, s in self_attention_stats(nets).items():
            print(f"{run} {name}: entropy {s['entropy']:.2f} of {s['max_entropy']:.2f} nats, largest weight "
                  f"{s['max_weight']:.2f}, branch / input {s['branch_ratio']:.2f}", flush=True)
        if nets.E is not None:
            psnr_ema = reconstruction_metrics(x, reconstruct(nets, x, y))["psnr_db"]
            nets.G_ema = nets.G.eval()           # the live G in G_ema's place, for this comparison only
            psnr_live = reconstruction_metrics(x, reconstruct(nets, x, y))["psnr_db"]
            print(f"{run}: held-out PSNR from z {psnr_ema:.2f} dB through G_ema, {psnr_live:.2f} dB through G",
                  flush=True)
            nets = networks_from_checkpoint(latest_checkpoint(run)).eval()
        for scale in SCALES:
            with scaled_self_attention(nets.G_ema, scale):
                rows.append(generate(nets, 16, seed=0))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_image(torch.cat(rows) * 0.5 + 0.5, args.out, nrow=16, padding=2, pad_value=1.0)
        print(f"rows: for each run, 16 samples with the self-attention branch scaled by {SCALES}; wrote {args.out}")


if __name__ == "__main__":
    main()
