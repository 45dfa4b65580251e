"""Run: everything one training process holds (config, process group, data, networks, optimisers, step)
and the named steps the loop in train.py calls: start and resume, batches, logs, sample grids, checkpoints."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torchvision.utils import save_image

from ..core import paths
from ..core.atomic import atomic_write_text
from ..core.config import Config
from ..core.env import env_info, rng_state, seed_everything, select_device, set_rng_state
from ..core.errors import ConfigError, TrainingDiverged
from ..data.batches import batch_indices, class_weights
from ..data.datasets import ImageSet, load_dataset
from ..model.args import ModelArgs
from ..model.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint, transfer_weights
from ..model.networks import Networks
from . import losses
from .distributed import World, all_true, barrier, checksum, gather, init_world
from .steps import GeneratorStep, autocast, encoder_cycle


KEEP_CHECKPOINTS = 2   # older step checkpoints are deleted once a newer one is safely written


SAMPLE_GRID = 64       # images in each sample grid (8 x 8)


@dataclass
class Run:
    """Everything one training process holds: config, process group, data, networks, optimisers, step.

    `start` builds it (and resumes from the run folder's latest checkpoint); the loop in `train` calls
    its named steps. The plain modules live in `nets` (for checkpoints); g_train and d_train are the
    same modules, DDP-wrapped under torchrun.
    """

    cfg: Config
    dir: Path
    world: World
    device: torch.device
    data: ImageSet
    images: torch.Tensor
    labels: torch.Tensor
    weights: torch.Tensor | None
    nets: Networks
    g_train: nn.Module
    d_train: nn.Module | None
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None
    separate_passes: bool
    fixed: tuple[torch.Tensor, torch.Tensor]      # the sample grid's z and labels
    lecam: losses.LeCam | None                    # D's LeCam anchors (train.lecam_weight > 0)
    step: int = 0
    elapsed_before: float = 0.0                   # training seconds up to the checkpoint resumed from

    @classmethod
    def start(cls, cfg: Config, run_dir: Path, data: ImageSet | None) -> "Run":
        t = cfg.train
        device = select_device(t.device)
        world = init_world(device.type)
        if world.size > 1 and device.type == "cuda":
            device = torch.device("cuda", world.local_rank)
        run_dir.mkdir(parents=True, exist_ok=True)    # config first, before step 0 (rank 0 writes, the others wait)
        if world.main:
            _write_or_check_config(cfg, run_dir, resuming=latest_checkpoint(run_dir) is not None)
        barrier(world)
        seed_everything(t.seed)                       # the same initial weights on every rank
        if data is None and world.main:
            data = load_dataset(cfg.data, "train")    # rank 0 first: it may render and cache the data set
        barrier(world)
        data = data if data is not None else load_dataset(cfg.data, "train")
        args = ModelArgs.from_config(cfg.model, cfg.data.image_size, data.num_classes)
        nets = Networks(args).to(device)
        g_params = [p for net in (nets.G, nets.E, nets.C) if net is not None for p in net.parameters()]
        opt_g = torch.optim.Adam(g_params, lr=t.lr_g, betas=(t.beta1, t.beta2))
        opt_d = torch.optim.Adam(nets.D.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2)) if nets.D is not None else None
        fixed = torch.Generator().manual_seed(t.seed + 1)
        fixed_z = torch.randn(SAMPLE_GRID, args.z_dim, generator=fixed).to(device)
        fixed_y = (torch.arange(SAMPLE_GRID) // 8 % max(args.n_classes, 1)).to(device)
        if world.size > 1:
            torch.manual_seed(t.seed + 7919 * world.rank)                 # each rank its own noise
        D = nets.D
        separate_passes = D is not None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
        if separate_passes and world.size > 1:
            raise ConfigError(f"model.arch={cfg.model.arch!r}, model.d_batch_norm={cfg.model.d_batch_norm}: the "
                              "discriminator has batch norm and runs twice per step, which DistributedDataParallel "
                              "does not allow; train it in one process (or set model.d_batch_norm=false)")
        g_step = GeneratorStep(nets.G, nets.E, nets.C)
        run = cls(cfg, run_dir, world, device, data, data.images.to(device), data.labels.to(device),
                  class_weights(data.labels, t.class_balance), nets,
                  # the lazy encoder path leaves E and cross-attention unused on the other steps
                  DDP(g_step, find_unused_parameters=encoder_cycle(nets, t) > 1)
                  if world.size > 1 else g_step,
                  DDP(D) if world.size > 1 and D is not None else D, opt_g, opt_d, separate_passes, (fixed_z, fixed_y),
                  losses.LeCam() if t.lecam_weight and D is not None else None)
        run.resume()
        return run

    def resume(self) -> None:
        """Continue from the latest checkpoint (weights, optimisers, every rank's RNG), or start from init_from."""
        t, world, nets = self.cfg.train, self.world, self.nets
        latest = latest_checkpoint(self.dir)
        if world.main:
            # a checkpoint write that a kill interrupted never completes; a run from step 0 keeps no sample
            # grid of an earlier run in this folder (a fresh clone retrains runs whose grids are committed)
            for stale in [*(self.dir / "checkpoints").glob("*.tmp"),
                          *([] if latest else (self.dir / "samples").glob("step_*.png"))]:
                stale.unlink()
        if latest is not None:
            state = load_checkpoint(latest, self.device)
            nets.load_state_dict(state["networks"])
            self.opt_g.load_state_dict(state["opt_g"])
            if self.opt_d is not None:
                self.opt_d.load_state_dict(state["opt_d"])
            if state.get("world_size", 1) != world.size:
                raise ConfigError(f"{latest} was written by {state.get('world_size', 1)} process(es) and this resume "
                                  f"runs {world.size}: the global batch and every rank's random stream would change. "
                                  f"Resume with torchrun --nproc_per_node={state.get('world_size', 1)} (1: plain python), "
                                  "or train into a new run folder")
            set_rng_state(state["rng_ranks"][world.rank])
            if self.lecam is not None:
                self.lecam.anchors = torch.tensor(state["lecam_ranks"][world.rank])
            self.step, self.elapsed_before = state["step"], state.get("elapsed_s", 0.0)
        elif t.init_from and world.main:
            fresh = transfer_weights(nets, paths.project_root() / t.init_from)   # absolute paths stay as given
            atomic_write_text(self.dir / "init_from.json", json.dumps({"checkpoint": t.init_from, "fresh": fresh},
                                                                      indent=2))
        if t.init_from and world.size > 1:
            for p in nets.state_dict().values():    # rank 0's loaded weights on every rank
                torch.distributed.broadcast(p, 0)

    def open_log(self) -> IO[str]:
        """stats.jsonl for appending, holding this run alone: emptied at step 0 (a fresh clone retrains runs
        whose logs are committed) and, on resume, cut back to the checkpoint's step, since the steps logged
        after it are trained, and logged, again."""
        path = self.dir / "stats.jsonl"
        kept = []
        if self.step and path.is_file():
            for line in path.read_text().splitlines():
                try:
                    if json.loads(line)["step"] <= self.step:
                        kept.append(line + "\n")
                except (json.JSONDecodeError, KeyError, TypeError):    # a line torn by a kill mid-write
                    continue
        atomic_write_text(path, "".join(kept))
        return path.open("a")

    def autocast(self) -> torch.autocast:
        return autocast(self.device)

    def batch(self, draw: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's slice of the draw-th global batch: images in [-1, 1] and labels, sorted by class,
        so D's minibatch-std groups (4 consecutive images) hold one class: a G that draws one image per
        class then shows zero spread (a group mixing classes would hide it)."""
        b, world = self.cfg.train.batch_size, self.world
        idx = batch_indices(draw, len(self.data), b * world.size, self.cfg.train.seed, self.weights)
        idx = idx[world.rank * b:(world.rank + 1) * b].to(self.device)
        idx = idx[self.labels[idx].argsort(stable=True)]
        return self.images[idx].float().div(127.5).sub(1.0), self.labels[idx]

    def check_finite(self, values: torch.Tensor, stats_file: IO[str] | None) -> None:
        """Stop on a non-finite loss (on every rank together) before anything is written from that state.
        values: loss_d, then generator_step's eight; the last four (the latent classifier's two, D's class
        cross-entropy on class edits, their cycle loss) are diagnostics, NaN when not measured, and not checked."""
        finite = bool(torch.isfinite(values[1:5] if self.nets.D is None else values[:5]).all())
        if all_true(self.world, finite):
            return
        if stats_file:
            stats_file.close()
        good = latest_checkpoint(self.dir)
        broken = [str(r) for r, ok in enumerate(gather(self.world, finite)) if not ok]
        where = f" on rank(s) {', '.join(broken)}" if self.world.size > 1 else ""
        raise TrainingDiverged(f"non-finite loss at step {self.step}{where} (loss_d, loss_adv, loss_rec, loss_kl, "
                               f"loss_guide, latent_ce, latent_acc, edit_ce, edit_cycle = {values.tolist()}"
                               f"{f' on rank {self.world.rank}' if self.world.size > 1 else ''}); last good "
                               f"checkpoint: {good or 'none'}. Lower train.lr_d / train.lr_g or resume from it.")

    def log(self, stats_file: IO[str], values: torch.Tensor, d_out: tuple[torch.Tensor, ...], tick: tuple[float, int],
            t0: float) -> tuple[float, int]:
        """One stats.jsonl line; returns the new (time, step) tick for the next images/s."""
        now, t = time.perf_counter(), self.cfg.train
        row = {"step": self.step, **_finite_or_none(loss_d=values[0].item(), loss_g_adv=values[1].item(),
                                                    loss_rec=values[2].item(), loss_kl=values[3].item(),
                                                    loss_guide=values[4].item(),
                                                    d_real=d_out[0].float().mean().item(),
                                                    d_fake=d_out[1].float().mean().item()),
               **(_finite_or_none(latent_ce=values[5].item(), latent_acc=values[6].item())
                  if self.nets.C is not None else {}),
               **(_finite_or_none(edit_ce=values[7].item()) if self.cfg.train.edit_weight else {}),
               **(_finite_or_none(edit_cycle=values[8].item()) if self.cfg.train.edit_cycle_weight else {}),
               **{f"attn_ratio/{name}": m.last_ratio.item() for name, m in self.nets.attention_layers().items()},
               "lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"] if self.opt_d else None,
               "images_per_s": (self.step - tick[1]) * t.images_per_step(self.world.size)
               / max(now - tick[0], 1e-9),
               "world_size": self.world.size,
               "elapsed_s": now - t0}
        stats_file.write(json.dumps(row) + "\n")
        stats_file.flush()
        return now, self.step

    def sample_grid(self) -> None:
        with torch.no_grad(), self.autocast():
            z, y = self.fixed
            grid = self.nets.G_ema(z, y if self.nets.args.n_classes else None).float()
        (self.dir / "samples").mkdir(exist_ok=True)
        save_image(grid, self.dir / "samples" / f"step_{self.step:06d}.png", nrow=8, normalize=True,
                   value_range=(-1, 1))

    def checkpoint(self, elapsed: float) -> None:
        """Every rank's RNG (so a resume continues each stream) and the run's training seconds so far (so a
        resumed run's wall-clock counts every session), written atomically by rank 0; the two newest kept."""
        rng = gather(self.world, rng_state())
        lecam = gather(self.world, self.lecam.anchors.tolist()) if self.lecam is not None else None
        if not self.world.main:
            return
        path = self.dir / "checkpoints" / f"step_{self.step:06d}.pt"
        save_checkpoint(path, {
            "config": self.cfg.to_dict(), "model_args": self.nets.args.to_dict(), "step": self.step,
            "world_size": self.world.size, "networks": self.nets.state_dict(), "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict() if self.opt_d else {}, "rng_ranks": rng,
            "class_names": self.data.class_names, "env": env_info(self.device), "elapsed_s": elapsed,
            **({"lecam_ranks": lecam} if lecam is not None else {}),
        })
        for old in sorted((self.dir / "checkpoints").glob("step_*.pt"))[:-KEEP_CHECKPOINTS]:
            old.unlink()

    def finish(self, elapsed: float, start_step: int) -> dict[str, Any]:
        """Check that the replicas agree, every parameter and buffer, and summarise the run. (The models
        that train under torchrun have no batch norm, whose statistics would be per rank: a D with
        batch norm is refused in `start`, and only the DCGAN's G, trained alone, has one.)"""
        world, nets, t = self.world, self.nets, self.cfg.train
        replicas = gather(world, checksum(nets))
        if len(set(replicas)) > 1:
            raise RuntimeError(f"replicas diverged across ranks (checksums {replicas}); this is a bug, please report it")
        barrier(world)
        images = t.images_per_step(world.size)
        return {"run_dir": str(self.dir), "steps": self.step, "steps_this_call": self.step - start_step,
                "wall_clock_s": elapsed, "images_seen": self.step * images,
                "images_per_s": (self.step - start_step) * images / max(elapsed, 1e-9),
                "checkpoint": str(latest_checkpoint(self.dir)), "device": str(self.device), "world_size": world.size,
                "replica_checksums": replicas, "parameters": nets.parameter_counts()}


def _finite_or_none(**values: float) -> dict[str, float | None]:
    """None for the entries a model does not have (NaN: the VAE has no D), so stats.jsonl stays valid JSON."""
    return {k: (v if v == v else None) for k, v in values.items()}


def _write_or_check_config(cfg: Config, run_dir: Path, resuming: bool) -> None:
    """Write config.json; on resume, refuse a config that differs in anything but train.steps. (A folder
    without a checkpoint starts afresh: e.g. a fresh clone's committed logs of an earlier version.)"""
    path = run_dir / "config.json"
    if resuming and path.is_file():
        old = json.loads(path.read_text())
        # rebuilt through Config, so fields added since the run started compare at their defaults
        old_cmp, new_cmp = Config.from_dict(old["config"]).to_dict(), cfg.to_dict()
        old_cmp = json.loads(json.dumps(old_cmp))
        old_cmp["train"] = {**old_cmp["train"], "steps": None}
        new_cmp["train"] = {**new_cmp["train"], "steps": None}
        new_cmp = json.loads(json.dumps(new_cmp))
        if new_cmp != old_cmp:
            differ = sorted(f"{sec}.{k}" for sec in ("data", "model", "train")
                            for k in set(old_cmp.get(sec, {})) | set(new_cmp.get(sec, {}))
                            if old_cmp.get(sec, {}).get(k, "<absent>") != new_cmp.get(sec, {}).get(k, "<absent>"))
            raise ConfigError(f"{run_dir} holds a run with another config (differs in: {', '.join(differ)}); resume "
                              "it with the same config (only train.steps may change) or choose a new run folder")
    atomic_write_text(path, json.dumps({"config": cfg.to_dict(), "env": env_info(select_device(cfg.train.device))},
                                       indent=2))


def run_stats(run_dir: Path) -> dict[str, Any]:
    """A run's budget (BUDGET_COLUMNS) from its files: the last stats.jsonl line and config.json."""
    rows = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines() if line.strip()]
    train = Config.from_dict(json.loads((run_dir / "config.json").read_text())["config"]).train
    last = rows[-1]
    seen = last["step"] * train.images_per_step(last.get("world_size", 1))   # logs before world_size: one process
    return {"steps": last["step"], "images_seen": seen, "train_wall_clock_s": last["elapsed_s"],
            "train_images_per_s": seen / max(last["elapsed_s"], 1e-9)}


BUDGET_COLUMNS = {
    "steps": "generator steps trained",
    "images_seen": "real images drawn by D (by E for the VAE) over training, all processes",
    "train_wall_clock_s": "training wall-clock of the run, seconds (stats.jsonl elapsed_s; a resumed run's clock "
                          "continues from its checkpoint's)",
    "train_images_per_s": "training images per second (images_seen / train_wall_clock_s)",
}
