"""How much can guidance match reach? The guidance-match score of real images standing in for guided samples.

    python benchmarks/guidance_ceiling.py [--preset quick]

For the held-out split in groups of 16 references of one class (like `evaluate.guidance_match`), each
reference itself, then blurred (2x2 and 4x4 average pooling, upsampled back) and noised, replaces the guided
sample: the share nearest its own reference in the domain feature space, and the PSNR to it. The reference
itself gives the ceiling (near-duplicate glyphs keep it below 1); the blurred copies show how much sharpness
the domain features need. Needs the preset's domain classifier (results/<preset>/classifier/domain.pt, from 04).
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from paperlib import get_config

from paperlib.core import paths
from paperlib.data.datasets import to_uint8
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.features import domain_space


def blurred(x: torch.Tensor, k: int) -> torch.Tensor:
    return F.interpolate(F.avg_pool2d(x, k), scale_factor=k, mode="bilinear")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick")
    args = parser.parse_args()
    holdout = load_dataset(get_config(args.preset).data, "holdout")
    space = domain_space(paths.results_dir(args.preset) / "classifier" / "domain.pt")
    noise = torch.Generator().manual_seed(0)
    stand_ins = {"the reference itself": lambda x: x, "2x2-pooled": lambda x: blurred(x, 2),
                 "4x4-pooled": lambda x: blurred(x, 4),
                 "noise sd 0.1": lambda x: (x + 0.1 * torch.randn(x.shape, generator=noise)).clamp(-1, 1)}
    print(f"{'stand-in for the guided sample':>32} {'match':>6} {'PSNR dB':>8}")
    for name, op in stand_ins.items():
        hits = total = 0
        psnr = []
        for c in range(holdout.num_classes):
            members = (holdout.labels == c).nonzero().squeeze(1)
            members = members[torch.randperm(len(members), generator=torch.Generator().manual_seed(0))]
            for start in range(0, len(members) - 15, 16):
                x, _ = holdout.batch(members[start:start + 16])
                out = op(x)
                psnr.append(10 * torch.log10(4 / (out - x).pow(2).mean(dim=(1, 2, 3))))
                f_out, _ = space.extract(torch.from_numpy(to_uint8(out)))
                f_ref, _ = space.extract(holdout.images[members[start:start + 16]])
                hits += int((torch.cdist(f_out, f_ref).argmin(dim=1) == torch.arange(16)).sum())
                total += 16
        finite = torch.cat(psnr)[torch.isfinite(torch.cat(psnr))]
        print(f"{name:>32} {hits / total:>6.3f} {finite.mean().item() if len(finite) else float('inf'):>8.1f}")


if __name__ == "__main__":
    main()
