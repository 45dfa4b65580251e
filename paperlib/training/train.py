"""train(cfg, run_dir): the training loop of the autoencoding attention GAN, readable top to bottom.

The run folder holds config.json (written before step 0), stats.jsonl (one line per log tick),
samples/step_NNNNNN.png (a fixed z, EMA generator), and checkpoints/step_NNNNNN.pt that carry the
config, so `networks_from_checkpoint` rebuilds the model from the file alone. Calling train() on a
folder that holds checkpoints resumes from the latest; the data order depends on (seed, step) only.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..core.config import Config
from ..data.datasets import ImageSet
from .ema import standing_stats, update_ema
from .run import Run
from .steps import discriminator_step, generator_step


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
        g_losses = generator_step(nets, run.g_train, run.opt_g, t, x, y, step=run.step)
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


