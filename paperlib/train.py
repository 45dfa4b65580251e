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
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.nn.utils.parametrize import cached
from torchvision.utils import save_image
from tqdm.auto import tqdm

from . import losses, paths
from .augment import diff_augment
from .checkpoint import load_checkpoint, save_checkpoint
from .config import Config, TrainConfig
from .data import ImageSet, load_dataset
from .distributed import all_true, barrier, checksum, gather, init_world
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
    run_dir = Path(run_dir)
    t = cfg.train
    device = select_device(t.device)
    world = init_world(device.type)
    if world.size > 1 and device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
    use_bf16 = device.type == "cuda"

    # ---- config and run folder, before step 0 (rank 0 writes, the others wait)
    run_dir.mkdir(parents=True, exist_ok=True)
    if world.main:
        _write_or_check_config(cfg, run_dir)
    barrier(world)
    seed_everything(t.seed)                         # the same initial weights on every rank

    # ---- data (in memory, uint8) and networks
    if data is None and world.main:
        data = load_dataset(cfg.data, "train")      # rank 0 first: it may render and cache the data set
    barrier(world)
    data = data if data is not None else load_dataset(cfg.data, "train")
    images, labels = data.images.to(device), data.labels.to(device)
    weights = class_weights(data.labels, t.class_balance)
    args = ModelArgs.from_config(cfg.model, cfg.data.image_size, data.num_classes)
    nets = Networks(args).to(device)
    G, G_ema, D, E = nets.G, nets.G_ema, nets.D, nets.E
    g_step = GeneratorStep(G, E)
    g_params = list(G.parameters()) + (list(E.parameters()) if E is not None else [])
    opt_g = torch.optim.Adam(g_params, lr=t.lr_g, betas=(t.beta1, t.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2)) if D is not None else None
    fixed = torch.Generator().manual_seed(t.seed + 1)                     # the sample grid's z and labels
    fixed_z = torch.randn(SAMPLE_GRID, args.z_dim, generator=fixed).to(device)
    fixed_y = (torch.arange(SAMPLE_GRID) // 8 % max(args.n_classes, 1)).to(device)
    if world.size > 1:
        torch.manual_seed(t.seed + 7919 * world.rank)                     # each rank its own noise
    # DDP wrappers share the parameters of G, E and D; the plain modules stay in `nets` for checkpoints
    separate_passes = D is not None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    if separate_passes and world.size > 1:
        raise ConfigError(f"model.arch={cfg.model.arch!r}: its discriminator has batch norm and runs twice per step, "
                          "which DistributedDataParallel does not allow; train it in one process")
    g_train = DDP(g_step) if world.size > 1 else g_step
    d_train = DDP(D) if world.size > 1 and D is not None else D

    # ---- resume from the latest checkpoint, if any
    step = 0
    latest = latest_checkpoint(run_dir)
    if latest is not None:
        state = load_checkpoint(latest, device)
        nets.load_state_dict(state["networks"])
        opt_g.load_state_dict(state["opt_g"])
        if opt_d is not None:
            opt_d.load_state_dict(state["opt_d"])
        ranks = state.get("rng_ranks", [])
        if len(ranks) == world.size:
            set_rng_state(ranks[world.rank])
        step = state["step"]
    elif t.init_from and world.main:
        fresh = transfer_weights(nets, paths.project_root() / t.init_from)   # absolute paths stay as given
        (run_dir / "init_from.json").write_text(json.dumps({"checkpoint": t.init_from, "fresh": fresh}, indent=2))
    if t.init_from and world.size > 1:
        for p in nets.state_dict().values():    # rank 0's loaded weights on every rank
            torch.distributed.broadcast(p, 0)

    def checkpoint() -> None:
        rng = gather(world, rng_state())            # every rank's RNG, so a resume continues each stream
        if not world.main:
            return
        path = run_dir / "checkpoints" / f"step_{step:06d}.pt"
        save_checkpoint(path, {
            "config": cfg.to_dict(), "model_args": args.to_dict(), "step": step, "world_size": world.size,
            "networks": nets.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict() if opt_d else {},
            "rng_ranks": rng, "class_names": data.class_names, "env": env_info(device),
        })
        for old in sorted((run_dir / "checkpoints").glob("step_*.pt"))[:-KEEP_CHECKPOINTS]:
            old.unlink()

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16)

    # ---- the loop: n_dis D steps, then one G (+E) step
    stats_file = (run_dir / "stats.jsonl").open("a") if world.main else None
    bar = tqdm(total=t.steps, initial=step, disable=not (progress and world.main), desc=run_dir.name, unit="step")
    tick_time, tick_step, start_step, t0 = time.perf_counter(), step, step, time.perf_counter()
    d_real = d_fake = loss_d = torch.full((), float("nan"))
    b = t.batch_size
    while step < t.steps:
        for k in range(t.n_dis if D is not None else 1):
            # the global batch of this draw; each rank takes its own slice (the distributed sampler)
            idx = batch_indices(step * t.n_dis + k, len(data), b * world.size, t.seed, weights)
            idx = idx[world.rank * b:(world.rank + 1) * b].to(device)
            # sorted by class, so D's minibatch-std groups (4 consecutive images) hold one class: a G that
            # draws one image per class then shows zero spread (a group mixing classes would hide it)
            idx = idx[labels[idx].argsort(stable=True)]
            x, y = images[idx].float().div(127.5).sub(1.0), labels[idx]
            y_in = y if args.n_classes else None
            if D is None:
                break                                   # the VAE: no discriminator step
            with autocast():
                d_real, d_fake, loss_d = discriminator_step(nets, d_train, opt_d, t, x, y, separate_passes)

        with autocast(), cached():  # cached(): each spectral-normalised weight of D computed once
            plan = StepPlan.draw(y, t, args, adversarial=D is not None)
            fake, x_rec, mu, logvar = g_train(plan.z, y_in, x, plan)
            loss_adv = loss_rec = loss_kl = loss_guide = torch.zeros((), device=device)
            if D is not None:
                # the plain D: its gradients here are discarded, so no DDP synchronisation
                loss_adv = losses.adversarial_g(t.loss, D(diff_augment(fake, t.diffaug), y_in).float())
            if E is not None:
                loss_rec = losses.reconstruction(x_rec.float(), x[:plan.encoded], t.rec_loss)
                loss_kl = losses.kl_normal(mu.float(), logvar.float())
            if plan.guide is not None:
                loss_guide = losses.pooled_l1(fake.float(), x[plan.partner], plan.guide, t.guide_pool)
            loss_g = loss_adv + t.rec_weight * loss_rec + t.kl_weight * loss_kl + t.guide_weight * loss_guide
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        update_ema(G_ema, G, min(t.ema_decay, (1 + step) / (10 + step)))
        step += 1
        bar.update(1)

        # ---- divergence check (on every rank together), log, sample, checkpoint
        values = torch.stack([loss_d.to(device), loss_adv, loss_rec, loss_kl, loss_guide]).detach().float().cpu()
        if not all_true(world, bool(torch.isfinite(values[1:] if D is None else values).all())):
            if stats_file:
                stats_file.close()
            good = latest_checkpoint(run_dir)
            raise TrainingDiverged(f"non-finite loss at step {step} (loss_d, loss_adv, loss_rec, loss_kl, loss_guide = "
                                   f"{values.tolist()} on rank {world.rank}); last good checkpoint: "
                                   f"{good or 'none'}. Lower train.lr_d / train.lr_g or resume from that checkpoint.")
        if stats_file and (step % t.log_every == 0 or step == t.steps):
            now = time.perf_counter()
            row = {"step": step, **_finite_or_none(loss_d=values[0].item(), loss_g_adv=values[1].item(),
                                                   loss_rec=values[2].item(), loss_kl=values[3].item(),
                                                   loss_guide=values[4].item(),
                                                   d_real=d_real.float().mean().item(),
                                                   d_fake=d_fake.float().mean().item()),
                   **{f"attn_ratio/{name}": m.last_ratio.item() for name, m in nets.attention_layers().items()},
                   "lr_g": opt_g.param_groups[0]["lr"], "lr_d": opt_d.param_groups[0]["lr"] if opt_d else None,
                   "images_per_s": (step - tick_step) * b * world.size * t.n_dis / max(now - tick_time, 1e-9),
                   "elapsed_s": now - t0}
            stats_file.write(json.dumps(row) + "\n")
            stats_file.flush()
            bar.set_postfix(loss_d=f"{values[0]:.3f}", loss_g=f"{values[1]:.3f}", rec=f"{values[2]:.3f}")
            tick_time, tick_step = now, step
        if step % t.sample_every == 0 or step % t.ckpt_every == 0 or step == t.steps:
            standing_stats(G_ema, seed=t.seed)
        if world.main and (step % t.sample_every == 0 or step == t.steps):
            with torch.no_grad(), autocast():
                grid = G_ema(fixed_z, fixed_y if args.n_classes else None).float()
            (run_dir / "samples").mkdir(exist_ok=True)
            save_image(grid, run_dir / "samples" / f"step_{step:06d}.png", nrow=8, normalize=True,
                       value_range=(-1, 1))
        if step % t.ckpt_every == 0 or step == t.steps:
            checkpoint()
    bar.close()
    if stats_file:
        stats_file.close()
    elapsed = time.perf_counter() - t0
    # batch-norm statistics of the training networks are per rank (as in DDP without SyncBatchNorm) and are
    # never used for samples: G_ema gets standing statistics, identical on every rank
    replicas = gather(world, checksum(nets, skip=lambda n: n.endswith(BN_BUFFERS) and not n.startswith("G_ema.")))
    if len(set(replicas)) > 1:
        raise RuntimeError(f"replicas diverged across ranks (checksums {replicas}); this is a bug, please report it")
    barrier(world)
    return {"run_dir": str(run_dir), "steps": step, "steps_this_call": step - start_step,
            "wall_clock_s": elapsed, "images_seen": step * b * world.size * t.n_dis,
            "images_per_s": (step - start_step) * b * world.size * t.n_dis / max(elapsed, 1e-9),
            "checkpoint": str(latest_checkpoint(run_dir)), "device": str(device), "world_size": world.size,
            "replica_checksums": replicas, "parameters": nets.parameter_counts()}


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

    z: latents of the generated images (None without D). encoded: how many of the real batch's first
    images pass through E (half of it for a GAN, all for the VAE), to be reconstructed and to serve
    as references. partner (B,): for each generated image, an encoded image of its class, its reference
    when guided. guide (B,): 1 where a generated image cross-attends to its reference, 0 where it is drawn
    from z alone. keep_own (encoded,): 1 where a reconstruction sees its own image's encoder features,
    rolled by `shift` feature cells, 0 where it must come from z alone. guide and keep_own are None for
    a model without cross-attention.
    """

    z: torch.Tensor | None
    encoded: int
    partner: torch.Tensor
    guide: torch.Tensor | None
    keep_own: torch.Tensor | None
    shift: tuple[int, int]

    @classmethod
    def draw(cls, y: torch.Tensor, t: TrainConfig, args: ModelArgs, adversarial: bool = True) -> "StepPlan":
        n, device = len(y), y.device
        z = torch.randn(n, args.z_dim, device=device) if adversarial else None
        encoded = max(n // 2, 1) if adversarial else n
        partner = reference_index(y, encoded)
        cross = bool(args.cross_attn_res) and args.encoder
        guide = (torch.rand(n, device=device) < t.guide_fraction).float() if cross and adversarial else None
        keep_own = (torch.rand(encoded, device=device) >= t.context_drop).float() if cross else None
        shift = tuple(torch.randint(-1, 2, (2,)).tolist()) if cross else (0, 0)
        return cls(z, encoded, partner, guide, keep_own, shift)


def reference_index(y: torch.Tensor, pool: int) -> torch.Tensor:
    """For each label, a random index below `pool` with the same label (any index below pool if none)."""
    scores = torch.rand(len(y), pool, device=y.device) + 2.0 * (y[:, None] == y[None, :pool]).float()
    return scores.argmax(dim=1)


def guided_context(features: dict[int, torch.Tensor], partner: torch.Tensor, guide: torch.Tensor | None
                   ) -> dict[int, torch.Tensor] | None:
    """Each image's context: its partner's features where guide is 1, zeros (no context) where it is 0."""
    if guide is None:
        return None
    return {side: _rows(f, partner) * guide[:, None, None, None].to(f.dtype) for side, f in features.items()}


class GeneratorStep(nn.Module):
    """Both generator paths of a step in one forward (DDP expects one forward per backward).

    Generation: z -> G(z), cross-attending to a reference's features for the guided share.
    Reconstruction: x -> E -> G(z_x), cross-attending to x's *own* features (shifted a cell, dropped
    for part of the batch), so z must carry the content and cross-attention learns to copy it.
    The two paths run as one batch through G: one set of kernel launches.
    """

    def __init__(self, G: Generator, E: nn.Module | None):
        super().__init__()
        self.G, self.E = G, E

    def forward(self, z: torch.Tensor | None, y: torch.Tensor | None, x: torch.Tensor, plan: StepPlan
                ) -> tuple[torch.Tensor | None, ...]:
        if self.E is None:
            return self.G(z, y), None, None, None
        mu, logvar, features = self.E(x[:plan.encoded])        # a GAN encodes half its batch: the cost of E
        z_rec = reparameterize(mu.float(), logvar.float()).to(mu.dtype)
        own = None
        if plan.keep_own is not None:
            own = {s: f.roll(plan.shift, dims=(2, 3)) * plan.keep_own[:, None, None, None].to(f.dtype)
                   for s, f in features.items()}
        if z is None:                                          # the VAE: reconstruction only
            return None, self.G(z_rec, y, own), mu, logvar       # (encoded is the whole batch)
        guided = guided_context(features, plan.partner, plan.guide)
        context = None if own is None else {s: torch.cat([guided[s], own[s]]) for s in own}
        out = self.G(torch.cat([z, z_rec]), None if y is None else torch.cat([y, y[:plan.encoded]]), context)
        fake, x_rec = out.split([len(z), len(z_rec)])
        return fake, x_rec, mu, logvar


@torch.no_grad()
def draw_fakes(G: nn.Module, E: nn.Module | None, x: torch.Tensor, y: torch.Tensor | None, plan: StepPlan
               ) -> torch.Tensor:
    """The D step's fakes: the same mix of free and guided generation as the G step, without gradients."""
    context = guided_context(E(x[:plan.encoded])[2], plan.partner, plan.guide) if plan.guide is not None else None
    return G(plan.z, y, context)


def discriminator_step(nets: Networks, d_train: nn.Module, opt_d: torch.optim.Optimizer, t: TrainConfig,
                       x: torch.Tensor, labels: torch.Tensor, separate_passes: bool
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One D update on a real batch and as many fakes; returns (scores on reals, scores on fakes, loss).

    labels are the real batch's classes (they pick guidance partners); D and G see them only when conditional.
    """
    y = labels if nets.args.n_classes else None
    plan = StepPlan.draw(labels, t, nets.args)
    fake = draw_fakes(nets.G, nets.E, x, y, plan)
    if separate_passes:   # a D with batch norm must see pure batches, as in its G step
        d_real = d_train(diff_augment(x, t.diffaug), y).float()
        d_fake = d_train(diff_augment(fake, t.diffaug), y).float()
    else:                 # one pass over reals and fakes: one set of kernel launches, one SN update
        scores = d_train(diff_augment(torch.cat([x, fake]), t.diffaug), None if y is None else y.repeat(2))
        d_real, d_fake = scores.float().chunk(2)
    loss_d = losses.adversarial_d(t.loss, d_real, d_fake)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return d_real, d_fake, loss_d


def class_weights(labels: torch.Tensor, balance: float) -> torch.Tensor | None:
    """Per-image sampling weights n_c^-balance (class c then drawn ~ n_c^(1 - balance)); None = natural mix."""
    if balance == 0:
        return None
    return labels.bincount()[labels].double().pow(-balance)


def _rows(f: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """f[index] as a one-hot matmul: the same values, but a backward that sums in a fixed order.

    The backward of f[index] accumulates repeated indices with multi-threaded scatter-adds on the CPU,
    whose order (and so the float result) varies from run to run; that made training non-reproducible.
    """
    return torch.einsum("ij,j...->i...", F.one_hot(index, len(f)).to(f.dtype), f)


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


def _write_or_check_config(cfg: Config, run_dir: Path) -> None:
    """Write config.json; on resume, refuse a config that differs in anything but train.steps."""
    path = run_dir / "config.json"
    if path.is_file():
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
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"config": cfg.to_dict(), "env": env_info(select_device(cfg.train.device))},
                              indent=2))
    tmp.replace(path)
