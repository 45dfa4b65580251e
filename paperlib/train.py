"""train(cfg, run_dir): the training loop of the autoencoding attention GAN, readable top to bottom.

The run folder holds config.json (written before step 0), stats.jsonl (one line per log tick),
samples/step_NNNNNN.png (a fixed z, EMA generator), and checkpoints/step_NNNNNN.pt that carry the
config, so `networks_from_checkpoint` rebuilds the model from the file alone. Calling train() on a
folder that holds checkpoints resumes from the latest; the data order depends on (seed, step) only.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.nn.utils.parametrize import cached
from torchvision.utils import save_image
from tqdm.auto import tqdm

from . import losses, paths
from .atomic import atomic_write_text
from .augment import diff_augment
from .checkpoint import load_checkpoint, save_checkpoint
from .config import Config, TrainConfig
from .data import ImageSet, load_dataset
from .distributed import World, all_true, barrier, checksum, gather, init_world
from .env import env_info, rng_state, seed_everything, select_device, set_rng_state
from .errors import CheckpointError, ConfigError, TrainingDiverged
from .models import Generator, ModelArgs, Networks, reparameterize

KEEP_CHECKPOINTS = 2   # older step checkpoints are deleted once a newer one is safely written
SAMPLE_GRID = 64       # images in each sample grid (8 x 8)
BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def train(cfg: Config, run_dir: Path | str, progress: bool = True, data: ImageSet | None = None) -> dict[str, Any]:
    """Train (or resume) the run in run_dir; return a summary (steps, wall-clock, images/s, paths).

    Under torchrun every process runs this function: each trains a replica on its share of the
    global batch (batch_size per process) and DistributedDataParallel averages the gradients.
    """
    run = Run.start(cfg, Path(run_dir), data)
    t, nets = cfg.train, run.nets
    stats_file = run.open_log() if run.world.main else None
    bar = tqdm(total=t.steps, initial=run.step, disable=not (progress and run.world.main), desc=run.dir.name,
               unit="step")
    start_step, t0 = run.step, time.perf_counter()
    clock0 = t0 - run.elapsed_before                            # the run's clock: it continues across resumes
    tick = (t0, run.step)
    d_out = (torch.full((), float("nan")),) * 3                 # (scores on reals, on fakes, loss_d); the VAE has no D
    while run.step < t.steps:
        for k in range(t.n_dis if nets.D is not None else 1):
            x, y = run.batch(run.step * t.n_dis + k)
            if nets.D is not None:
                with run.autocast():
                    d_out = discriminator_step(nets, run.d_train, run.opt_d, t, x, y, run.separate_passes,
                                               run.lecam)
        g_losses = generator_step(run, x, y)
        update_ema(nets.G_ema, nets.G, min(t.ema_decay, (1 + run.step) / (10 + run.step)))
        run.step += 1
        bar.update(1)

        values = torch.stack([d_out[2].to(run.device), *g_losses]).detach().float().cpu()
        run.check_finite(values, stats_file)
        if stats_file and (run.step % t.log_every == 0 or run.step == t.steps):
            tick = run.log(stats_file, values, d_out, tick, clock0)
            bar.set_postfix(loss_d=f"{values[0]:.3f}", loss_g=f"{values[1]:.3f}", rec=f"{values[2]:.3f}")
        if run.step % t.sample_every == 0 or run.step % t.ckpt_every == 0 or run.step == t.steps:
            standing_stats(nets.G_ema, seed=t.seed)
        if run.world.main and (run.step % t.sample_every == 0 or run.step == t.steps):
            run.sample_grid()
        if run.step % t.ckpt_every == 0 or run.step == t.steps:
            run.checkpoint(time.perf_counter() - clock0)
    bar.close()
    if stats_file:
        stats_file.close()
    return run.finish(time.perf_counter() - t0, start_step)


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
        g_params = list(nets.G.parameters()) + (list(nets.E.parameters()) if nets.E is not None else [])
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
            raise ConfigError(f"model.arch={cfg.model.arch!r}: its discriminator has batch norm and runs twice per "
                              "step, which DistributedDataParallel does not allow; train it in one process")
        g_step = GeneratorStep(nets.G, nets.E)
        run = cls(cfg, run_dir, world, device, data, data.images.to(device), data.labels.to(device),
                  class_weights(data.labels, t.class_balance), nets, DDP(g_step) if world.size > 1 else g_step,
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
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda")

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
        """Stop on a non-finite loss (on every rank together) before anything is written from that state."""
        finite = bool(torch.isfinite(values[1:] if self.nets.D is None else values).all())
        if all_true(self.world, finite):
            return
        if stats_file:
            stats_file.close()
        good = latest_checkpoint(self.dir)
        broken = [str(r) for r, ok in enumerate(gather(self.world, finite)) if not ok]
        where = f" on rank(s) {', '.join(broken)}" if self.world.size > 1 else ""
        raise TrainingDiverged(f"non-finite loss at step {self.step}{where} (loss_d, loss_adv, loss_rec, loss_kl, "
                               f"loss_guide = {values.tolist()}"
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
               **{f"attn_ratio/{name}": m.last_ratio.item() for name, m in self.nets.attention_layers().items()},
               "lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"] if self.opt_d else None,
               "images_per_s": (self.step - tick[1]) * t.batch_size * self.world.size * t.n_dis
               / max(now - tick[0], 1e-9),
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
        images = t.batch_size * world.size * t.n_dis
        return {"run_dir": str(self.dir), "steps": self.step, "steps_this_call": self.step - start_step,
                "wall_clock_s": elapsed, "images_seen": self.step * images,
                "images_per_s": (self.step - start_step) * images / max(elapsed, 1e-9),
                "checkpoint": str(latest_checkpoint(self.dir)), "device": str(self.device), "world_size": world.size,
                "replica_checksums": replicas, "parameters": nets.parameter_counts()}


def generator_step(run: Run, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """One G (+E) update: adversarial loss on the free fakes, reconstruction and KL on the encoder path,
    the content loss on its guided images. Returns (loss_adv, loss_rec, loss_kl, loss_guide)."""
    t, nets, device = run.cfg.train, run.nets, run.device
    y = labels if nets.args.n_classes else None
    zero = torch.zeros((), device=device)
    loss_adv = loss_rec = loss_kl = loss_guide = zero
    if nets.D is not None:               # D's weight gradients here would be discarded: not computing them
        nets.D.requires_grad_(False)     # saves a third of D's backward (StyleGAN2-ADA does the same)
    with run.autocast(), cached():       # cached(): each spectral-normalised weight of D computed once
        plan = StepPlan.draw(len(x), t, nets.args, device, adversarial=nets.D is not None)
        target, y_enc = x[plan.encoded], None if y is None else y[plan.encoded]
        fake, x_enc, mu, logvar = run.g_train(plan.z, y, target, y_enc, plan)
        if nets.D is not None:           # the plain D, frozen: no DDP synchronisation, no weight gradients
            judge_enc = bool(t.enc_adv_weight) and x_enc is not None   # D judges the encoder path too (VAE-GAN)
            judged = torch.cat([fake, x_enc]) if judge_enc else fake
            y_judged = torch.cat([y, y_enc]) if judge_enc and y is not None else y
            scores = nets.D(diff_augment(judged, t.diffaug), y_judged).float()
            loss_adv = losses.adversarial_g(t.loss, scores[:len(fake)])
            if judge_enc:
                loss_adv = loss_adv + t.enc_adv_weight * losses.adversarial_g(t.loss, scores[len(fake):])
        if nets.E is not None:
            n = plan.reconstructed
            if n:
                loss_rec = losses.reconstruction(x_enc[:n].float(), target[:n], t.rec_loss)
            loss_kl = losses.kl_normal(mu.float(), logvar.float())
            if plan.guided:
                loss_guide = losses.pooled_l1(x_enc[n:].float(), target[n:], t.guide_pool)
        loss_g = loss_adv + t.rec_weight * loss_rec + t.kl_weight * loss_kl + t.guide_weight * loss_guide
    run.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    run.opt_g.step()
    if nets.D is not None:
        nets.D.requires_grad_(True)
    return loss_adv, loss_rec, loss_kl, loss_guide


def transfer_weights(nets: Networks, path: Path) -> list[str]:
    """Start from another run's weights (transfer learning): every tensor whose name and shape match is copied.

    Returns the names left at their fresh initialisation, e.g. the class embeddings when the new data set has
    another number of classes. Optimiser states are not carried over: the fine-tuning run starts its own.
    """
    if not path.is_file():
        raise FileNotFoundError(f"train.init_from={path}: no such checkpoint; train the source run first or fix the path")
    source = load_checkpoint(path, next(nets.parameters()).device)
    if "networks" not in source:
        raise CheckpointError(f"train.init_from={path} is not a model checkpoint (no 'networks'); give a "
                              "checkpoints/step_*.pt file of a trained run")
    if source.get("model_args", {}).get("arch", "resnet") != nets.args.arch:
        raise ConfigError(f"train.init_from={path} holds a {source['model_args'].get('arch')!r} model; this run "
                          f"is {nets.args.arch!r}")
    own = nets.state_dict()
    matched = {k: v for k, v in source["networks"].items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ConfigError(f"train.init_from={path}: no weight matches this model's names and shapes; fine-tune "
                          "from a run of the same architecture, width and image size")
    nets.load_state_dict(matched, strict=False)
    return sorted(k for k in own if k not in matched and not k.endswith(BN_BUFFERS))


@dataclass
class StepPlan:
    """The random choices of one generator step, drawn from the (seeded, resumable) torch RNG.

    z: latents of the generated images (None without D). encoded: the indices of the real images that
    pass through E, a random share (train.enc_fraction) of the batch for a GAN (the batch is sorted by class, so a slice would
    favour the first classes), all of it for the VAE. Of these, the last `guided` are drawn by guided
    generation: a fresh latent (z_guide) with the image's own encoder features as the cross-attention
    context; the others are reconstructed from their encoding alone.
    """

    z: torch.Tensor | None
    encoded: torch.Tensor
    guided: int
    z_guide: torch.Tensor | None

    @property
    def reconstructed(self) -> int:
        """How many encoded images (the first ones) are reconstructed from their encoding."""
        return len(self.encoded) - self.guided

    @classmethod
    def draw(cls, n: int, t: TrainConfig, args: ModelArgs, device: torch.device, adversarial: bool = True
             ) -> "StepPlan":
        z = torch.randn(n, args.z_dim, device=device) if adversarial else None
        encoded = (torch.randperm(n, device=device)[:max(round(n * t.enc_fraction), 1)] if adversarial
                   else torch.arange(n, device=device))
        if not (args.cross_attn_res and args.encoder):
            return cls(z, encoded, 0, None)
        guided = min(len(encoded), max(1, round(t.guide_fraction * len(encoded))))   # at least one: DDP needs
                                                                                     # every parameter used
        return cls(z, encoded, guided, torch.randn(guided, args.z_dim, device=device))


class GeneratorStep(nn.Module):
    """The three generator paths of a step in one forward (DDP expects one forward per backward).

    Generation: z -> G(z), no context; these are the images D judges.
    Encoder path, on the encoded real images x: reconstruction x -> E -> z_x -> G(z_x) with no context,
    so z must carry the content; and guided generation, a fresh z with x's own encoder features as the
    cross-attention context, so the content can only come through cross-attention: it learns to copy
    a reference, which is what guidance by another image uses. (The features are not shifted: the
    target is the unshifted image, and an unknown shift only teaches a blur.)
    The paths run as one batch through G, [free, reconstructed, guided]: one set of kernel launches,
    with cross-attention computed for the guided rows only.
    """

    def __init__(self, G: Generator, E: nn.Module | None):
        super().__init__()
        self.G, self.E = G, E

    def forward(self, z: torch.Tensor | None, y: torch.Tensor | None, x_in: torch.Tensor, y_in: torch.Tensor | None,
                plan: StepPlan) -> tuple[torch.Tensor | None, ...]:
        """z, y: the free fakes' latents and labels; x_in, y_in: the encoded real images (x[plan.encoded]).
        -> (free fakes or None, encoder-path images (reconstructed, then guided), mu, logvar)."""
        if self.E is None:
            return self.G(z, y), None, None, None
        mu, logvar, features = self.E(x_in)                    # a GAN encodes enc_fraction of its batch: the cost of E
        z_enc = reparameterize(mu.float(), logvar.float()).to(mu.dtype)
        context = None
        if plan.guided:
            n = plan.reconstructed
            z_enc = torch.cat([z_enc[:n], plan.z_guide.to(z_enc.dtype)])
            context = {s: f[n:] for s, f in features.items()}
        if z is None:                                          # the VAE: the encoder path only
            return None, self.G(z_enc, y_in, context), mu, logvar
        out = self.G(torch.cat([z, z_enc]), None if y is None else torch.cat([y, y_in]), context)
        fake, x_enc = out.split([len(z), len(z_enc)])
        return fake, x_enc, mu, logvar


def discriminator_step(nets: Networks, d_train: nn.Module, opt_d: torch.optim.Optimizer, t: TrainConfig,
                       x: torch.Tensor, labels: torch.Tensor, separate_passes: bool, lecam: losses.LeCam | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One D update on a real batch and as many fakes; returns (scores on reals, scores on fakes, loss).

    labels are the real batch's classes; D and G see them only when conditional. lecam: its anchors, when
    train.lecam_weight > 0.
    """
    y = labels if nets.args.n_classes else None
    with torch.no_grad():
        fake = nets.G(torch.randn(len(x), nets.args.z_dim, device=x.device), y)
    if separate_passes:   # a D with batch norm must see pure batches, as in its G step
        d_real = d_train(diff_augment(x, t.diffaug), y).float()
        d_fake = d_train(diff_augment(fake, t.diffaug), y).float()
    else:                 # one pass over reals and fakes: one set of kernel launches, one SN update
        scores = d_train(diff_augment(torch.cat([x, fake]), t.diffaug), None if y is None else y.repeat(2))
        d_real, d_fake = scores.float().chunk(2)
    loss_d = losses.adversarial_d(t.loss, d_real, d_fake)
    if lecam is not None:
        loss_d = loss_d + t.lecam_weight * lecam(d_real, d_fake)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return d_real, d_fake, loss_d


def class_weights(labels: torch.Tensor, balance: float) -> torch.Tensor | None:
    """Per-image sampling weights n_c^-balance (class c then drawn ~ n_c^(1 - balance)); None = natural mix."""
    if balance == 0:
        return None
    return labels.bincount()[labels].double().pow(-balance)


def _finite_or_none(**values: float) -> dict[str, float | None]:
    """None for the entries a model does not have (NaN: the VAE has no D), so stats.jsonl stays valid JSON."""
    return {k: (v if v == v else None) for k, v in values.items()}


def batch_indices(draw: int, n: int, batch_size: int, seed: int, weights: torch.Tensor | None = None
                  ) -> torch.Tensor:
    """Indices of the draw-th batch, a function of (seed, draw) only, so a resumed run sees the same data.

    Without weights: epochs of seeded permutations. With per-image weights: drawn with replacement.
    """
    if weights is not None:
        return torch.multinomial(weights, batch_size, replacement=True,
                                 generator=torch.Generator().manual_seed(seed * 100_003 + draw))
    start = draw * batch_size
    out = []
    while len(out) < batch_size:
        epoch, offset = divmod(start + len(out), n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        out.extend(perm[offset:offset + batch_size - len(out)].tolist())
    return torch.tensor(out)


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema = decay * ema + (1 - decay) * model for parameters; spectral-norm vectors copied.

    Batch-norm statistics (the DCGAN baseline's G) are not copied: the EMA generator gets its own from
    `standing_stats` before it is sampled or saved.
    """
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for (name, b_ema), b in zip(ema.named_buffers(), model.buffers()):
        if not name.endswith(BN_BUFFERS):
            b_ema.copy_(b)


@torch.no_grad()
def standing_stats(G: Generator, batches: int = 8, batch_size: int = 64, seed: int = 0) -> None:
    """Recompute G's batch-norm statistics from z ~ N(0, I) alone (BigGAN's "standing statistics").

    Uses its own seeded generator, so it leaves the training RNG (and an exact resume) untouched.
    """
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    norms = G.batch_norms()
    if not norms:
        return
    G.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                                        # cumulative average over the batches
        m.train()
    for _ in range(batches):
        z = torch.randn(batch_size, G.z_dim, generator=gen).to(device)
        y = (torch.arange(batch_size) % G.n_classes).to(device) if G.n_classes else None
        G(z, y)
    for m in norms:
        m.momentum = 0.1
        m.eval()


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted((Path(run_dir) / "checkpoints").glob("step_*.pt"))
    return found[-1] if found else None


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
