"""What a trained generator's self-attention does, and whether E and the EMA generator are in step.

    python benchmarks/generator_probe.py RUN_DIR [RUN_DIR ...] [--out grid.png (runs of one image size)]

For each run (its newest checkpoint, and the data set its config.json names) prints, per self-attention layer
of G_ema, the mean entropy of one head's weights for one query against its maximum, the mean largest weight
and the branch's size relative to its input (`evaluation.attention_stats`), then held-out PSNR from z decoded
by G_ema and by the live G. --out writes 16 samples per run at branch scales 1, 0.5 and 0 (a row each):
whether the samples' shapes come from the self-attention branch at sampling time.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torchvision.utils import save_image

from paperlib.core.config import Config
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.attention_stats import scaled_self_attention, self_attention_stats
from paperlib.evaluation.metrics import reconstruction_metrics
from paperlib.model.checkpoint import latest_checkpoint, networks_from_checkpoint
from paperlib.model.sampling import generate, reconstruct

SCALES = (1.0, 0.5, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, help="a PNG of samples at each self-attention branch scale")
    args = parser.parse_args()
    rows = []
    for run in args.runs:
        ckpt = latest_checkpoint(run)
        nets = networks_from_checkpoint(ckpt).eval()
        for name, s in self_attention_stats(nets).items():
            print(f"{run} ({ckpt.name}) {name}: entropy {s['entropy']:.2f} of {s['max_entropy']:.2f} nats, "
                  f"largest weight {s['max_weight']:.2f}, branch / input {s['branch_ratio']:.2f}", flush=True)
        if nets.E is not None:
            cfg = Config.from_dict(json.loads((run / "config.json").read_text())["config"])
            x, y = load_dataset(cfg.data, "holdout").batch(slice(None))
            psnr = {}
            for name, g in (("G_ema", nets.G_ema), ("G", nets.G.eval())):
                ema, nets.G_ema = nets.G_ema, g            # the decoder reconstruct() reads, for this line only
                try:
                    psnr[name] = reconstruction_metrics(x, reconstruct(nets, x, y))["psnr_db"]
                finally:
                    nets.G_ema = ema
            print(f"{run}: held-out PSNR from z {psnr['G_ema']:.2f} dB through G_ema, {psnr['G']:.2f} dB through G",
                  flush=True)
        if hasattr(nets.G_ema, "self_attn"):
            for scale in SCALES:
                with scaled_self_attention(nets.G_ema, scale):
                    rows.append(generate(nets, 16, seed=0))
    if args.out and len({r.shape[-1] for r in rows}) > 1:
        parser.error("--out draws one grid: give runs of one image size")
    if args.out and rows:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_image(torch.cat(rows) * 0.5 + 0.5, args.out, nrow=16, padding=2, pad_value=1.0)
        print(f"rows: for each run with self-attention, 16 samples with its branch scaled by {SCALES}; "
              f"wrote {args.out}")


if __name__ == "__main__":
    main()
