"""Command line: python -m paperlib {train,sample,edit,chain,figures,data} ...; defaults come from core/presets.py.

Each command imports what it needs inside its function, so `edit` and `sample` start without papermill and matplotlib.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from .applications import photo_editing
from .core.config import assignments
from .core.presets import PRESETS, get_config
from .core.errors import ConfigError, PaperlibError


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    out = assignments(args.set or [])
    if getattr(args, "data", None):
        name, _, subset = args.data.partition(":")
        out["data.name"] = name
        if subset:
            out["data.subset"] = subset
    if getattr(args, "root", None):
        out["data.root"] = args.root
    return out


def _train(args: argparse.Namespace) -> None:
    from .core import paths
    from .training.train import train

    cfg = get_config(args.preset, **_overrides(args))
    out = Path(args.out) if args.out else paths.runs_dir(cfg.preset) / "cli"
    summary = train(cfg, out, progress=not args.quiet)
    if torch.distributed.is_initialized():           # launched by torchrun: rank 0 reports for all
        torch.distributed.destroy_process_group()
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps(summary, indent=2))


def _sample(args: argparse.Namespace) -> None:
    from torchvision.utils import save_image

    from .model.checkpoint import load_checkpoint, networks_from_state
    from .model.sampling import generate

    state = load_checkpoint(args.ckpt)
    nets = networks_from_state(state, args.ckpt)
    label = None
    if args.label is not None:
        names = state.get("class_names", [])
        if args.label not in names:
            raise ConfigError(f"--label {args.label!r}: this model's classes are {', '.join(names) or 'none'}")
        label = names.index(args.label)
    images = generate(nets.eval(), args.n, label, seed=args.seed)
    save_image(images, args.out, nrow=8, normalize=True, value_range=(-1, 1))
    print(f"wrote {args.n} samples to {args.out}")


def _edit(args: argparse.Namespace) -> None:
    from .core.atomic import atomic_path

    editor = photo_editing.load_editor(args.ckpt)
    if args.reconstruct:
        edit = photo_editing.reconstruct(editor, args.image, args.label)
    elif args.interpolate:
        edit = photo_editing.interpolate(editor, args.image, args.interpolate, args.steps, args.label)
    elif args.attribute:
        folders = args.attribute.rsplit(":", 1)
        if len(folders) != 2 or not all(folders):
            raise ConfigError(f"--attribute {args.attribute!r}: give two folders as FOLDER_A:FOLDER_B (without the "
                              "attribute : with it), e.g. neutral:smiling")
        along = photo_editing.attribute_between(editor, folders[0], folders[1])
        edit = photo_editing.attribute(editor, args.image, along, args.strength, args.label)
    else:
        edit = photo_editing.guide(editor, args.image, args.guide, args.label)
    out = Path(args.out)
    with atomic_path(out) as tmp:
        edit.image.save(tmp, format="PNG")
    print(json.dumps({"out": str(out), **edit.numbers}, indent=2))


def _chain(args: argparse.Namespace) -> None:
    from .report.chain import run_chain

    manifest = run_chain(args.preset, args.only)
    print(json.dumps(manifest["notebooks"], indent=2))


def _figures(args: argparse.Namespace) -> None:
    from .report.redraw import redraw_all

    for name, result in redraw_all(args.preset).items():
        print(f"{name}: {result}")


def _data(args: argparse.Namespace) -> None:
    from .data.datasets import load_dataset

    cfg = get_config(args.preset, **_overrides(args))
    for split in ("train", "holdout"):
        ds = load_dataset(cfg.data, split)
        counts = {n: int((ds.labels == k).sum()) for k, n in enumerate(ds.class_names)}
        print(f"{ds.name}: {len(ds)} images of {cfg.data.image_size} px, {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paperlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    presets = list(PRESETS)

    p = sub.add_parser("train", help="train the attention model (resumes when --out holds a run)")
    p.add_argument("--preset", default="quick", choices=presets)
    p.add_argument("--data", help="dataset name, optionally :subset (e.g. openmoji:animals, cifar10, folder)")
    p.add_argument("--root", help="data root for torchvision data sets and folders")
    p.add_argument("--out", help="run folder (default results/<preset>/runs/cli)")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override a config field")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    p = sub.add_parser("sample", help="sample a grid from a checkpoint")
    p.add_argument("--ckpt", required=True, help="a checkpoint .pt from a run's checkpoints/ folder")
    p.add_argument("--n", type=int, default=64, help="number of images")
    p.add_argument("--label", help="class name to sample (default: cycle through classes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="samples.png", help="output PNG")
    p.set_defaults(func=_sample)

    p = sub.add_parser("edit", help="edit a photo through a checkpoint's encoder; writes a PNG, prints its numbers")
    p.add_argument("--ckpt", required=True, help="a checkpoint .pt of a model with an encoder (attngan, vae)")
    p.add_argument("--image", required=True, help="the photo to edit (any size at least the model's)")
    op = p.add_mutually_exclusive_group(required=True)
    op.add_argument("--reconstruct", action="store_true", help="encode and decode; prints PSNR and SSIM")
    op.add_argument("--interpolate", metavar="OTHER", help="decodes from the photo's latent to OTHER's")
    op.add_argument("--attribute", metavar="FOLDER_A:FOLDER_B",
                    help="add the mean latent of FOLDER_B minus that of FOLDER_A (e.g. neutral:smiling); "
                         "G's latent: z and, in a conditional model, the class code")
    op.add_argument("--guide", metavar="REFERENCE", help="decode while cross-attending to REFERENCE")
    p.add_argument("--steps", type=int, default=photo_editing.STEPS, help="--interpolate: frames, ends included")
    low, high = photo_editing.STRENGTH_RANGE
    p.add_argument("--strength", type=float, default=photo_editing.STRENGTH,
                   help=f"--attribute: multiple of the vector, {low:g} to {high:g}")
    p.add_argument("--label", help="class to decode with (default: the best-reconstructing class)")
    p.add_argument("--out", default="edited.png", help="output PNG")
    p.set_defaults(func=_edit)

    p = sub.add_parser("chain", help="run the notebook chain with papermill")
    p.add_argument("--preset", default="quick", choices=presets)
    p.add_argument("--only", nargs="*", help="run only notebooks whose names start with these (e.g. 00 02)")
    p.set_defaults(func=_chain)

    p = sub.add_parser("figures", help="redraw every figure of a preset from its result files")
    p.add_argument("--preset", default="quick", choices=presets)
    p.set_defaults(func=_figures)

    p = sub.add_parser("data", help="render/load the preset's data and print counts")
    p.add_argument("--preset", default="quick", choices=presets)
    p.add_argument("--data")
    p.add_argument("--root")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE")
    p.set_defaults(func=_data)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (PaperlibError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
