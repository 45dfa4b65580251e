"""Cost measurements shared by the benchmarks and the notebooks: attention time/memory, training speed.

Each attention measurement runs in a fresh process so its peak memory (RSS on the CPU,
max_memory_allocated on CUDA) is its own and not the high-water mark of earlier work.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import resource
import tempfile
import time

import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from ..model.attention import SelfAttention2d
from ..core.config import Config
from ..data.datasets import ImageSet
from ..model.args import ModelArgs
from ..model.networks import Networks
from ..training.train import train


def _status_kib(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> int:
    """Current RSS in bytes, after resetting the peak (Linux clear_refs); else the lifetime peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_rss() -> int:
    try:
        return _status_kib("VmHWM") * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _attention_child(side: int, channels: int, batch: int, impl: str, device: str, reps: int,
                     threads: int, queue: mp.Queue) -> None:
    torch.set_num_threads(threads)
    dev = torch.device(device)
    layer = SelfAttention2d(channels, impl).to(dev)
    with torch.no_grad():
        layer.gamma.fill_(0.1)
    x = torch.randn(batch, channels, side, side, device=dev, requires_grad=True)

    def step() -> None:
        layer(x).sum().backward()

    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _reset_peak_rss()
    step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _peak_rss() - base
    start = time.perf_counter()
    for _ in range(reps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    queue.put(((time.perf_counter() - start) / reps * 1000, peak / 2**20))


def attention_cost(side: int, channels: int, batch: int, impl: str, device: str = "cpu", reps: int = 3,
                   threads: int | None = None) -> dict[str, float | int | str]:
    """Forward+backward time (ms) and peak extra memory (MiB) of one SelfAttention2d, in a child process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_attention_child, args=(side, channels, batch, impl, device, reps,
                                                      threads or torch.get_num_threads(), queue))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        return {"side": side, "channels": channels, "batch": batch, "impl": impl, "device": device,
                "ms": float("nan"), "peak_mib": float("nan"), "note": f"failed (exit {proc.exitcode})"}
    ms, mib = queue.get()
    return {"side": side, "channels": channels, "batch": batch, "impl": impl, "device": device,
            "ms": round(ms, 2), "peak_mib": round(mib, 1), "note": ""}


def attention_cost_table(sides: tuple[int, ...], channels: int, batch: int, device: str = "cpu",
                         reps: int = 3) -> pd.DataFrame:
    """attention_cost for both implementations at each feature-map side."""
    return pd.DataFrame(attention_cost(s, channels, batch, impl, device, reps)
                        for s in sides for impl in ("explicit", "sdpa"))


def training_speed(cfg: Config, steps: int) -> dict[str, float]:
    """Images/s and seconds per step of `steps` training steps of cfg (in a throwaway run folder)."""
    cfg = cfg.override(**{"train.steps": steps, "train.log_every": steps, "train.sample_every": 10**9,
                          "train.ckpt_every": 10**9})
    with tempfile.TemporaryDirectory() as tmp:
        summary = train(cfg, tmp, progress=False)
    return {"steps": steps, "s_per_step": summary["wall_clock_s"] / steps,
            "images_per_s": summary["images_per_s"], **{f"params_{k}": v for k, v in summary["parameters"].items()}}


COST_COLUMNS = {
    "side": "feature-map side (the map has side*side positions)",
    "channels": "feature channels C (query/key use C/8, value C)",
    "batch": "batch size",
    "impl": "explicit (energy matrix, bmm-softmax-bmm) or sdpa (scaled_dot_product_attention, padded q/k)",
    "device": "cpu or cuda",
    "ms": "forward+backward time of one layer, milliseconds (mean of the timed repetitions)",
    "peak_mib": "peak extra memory of one forward+backward, MiB (CPU: RSS high-water mark above the RSS "
                "before it, reset through /proc/self/clear_refs; CUDA: allocator peak)",
    "note": "empty, or why the measurement failed (e.g. out of memory)",
}


def _scaled(cfg: Config, size: int) -> Config:
    """cfg at another image size, its attention at the same *relative* feature-map sides."""
    f = size / cfg.data.image_size
    return cfg.override(**{"data.image_size": size,
                           "model.attn_res": tuple(int(r * f) for r in cfg.model.attn_res),
                           "model.cross_attn_res": tuple(int(r * f) for r in cfg.model.cross_attn_res)})


def forward_gflops(cfg: Config, n_classes: int = 3) -> dict[str, float]:
    """Forward GFLOPs per image of G, D and E (torch's FlopCounterMode); G from z alone, without context."""
    args = ModelArgs.from_config(cfg.model, cfg.data.image_size, n_classes)
    nets = Networks(args).eval()
    b, s = 4, cfg.data.image_size
    z, y, x = torch.randn(b, args.z_dim), torch.zeros(b, dtype=torch.long), torch.randn(b, 3, s, s)
    out = {}
    with torch.no_grad():
        for name, run in (("G", lambda: nets.G(z, y if args.n_classes else None)),
                          ("D", lambda: nets.D(x, y if args.n_classes else None) if nets.D is not None else None),
                          ("E", lambda: nets.E(x) if nets.E is not None else None)):
            counter = FlopCounterMode(display=False)
            with counter:
                result = run()
            out[f"gflops_{name}"] = counter.get_total_flops() / b / 1e9 if result is not None else float("nan")
    return out


def model_cost(cfg: Config, steps: int = 3, sample_batch: int = 64) -> dict[str, float]:
    """Training images/s (over the steps after the first), sampling images/s, parameters, GFLOPs.

    Runs on random images of cfg's size with 3 classes, so any image size can be measured without data.
    The timed steps are rounded up to whole cycles of the lazy encoder path (train.enc_every).
    """
    n, s = 256, cfg.data.image_size
    data = ImageSet(torch.randint(0, 256, (n, 3, s, s), dtype=torch.uint8), torch.arange(n) % 3,
                    ["a", "b", "c"], [str(i) for i in range(n)], "random")
    every = cfg.train.enc_every
    timed = -(-max(steps - 1, 1) // every) * every
    cfg = cfg.override(**{"train.steps": 1 + timed, "train.log_every": 1, "train.sample_every": 10**9,
                          "train.ckpt_every": 10**9})
    with tempfile.TemporaryDirectory() as tmp:
        summary = train(cfg, tmp, progress=False, data=data)
        rows = [json.loads(line) for line in open(f"{tmp}/stats.jsonl")]
    per_step = [1 / r["images_per_s"] for r in rows[1:]]                 # seconds per image of each timed step
    train_ips = len(per_step) / sum(per_step)
    nets = Networks(ModelArgs.from_config(cfg.model, s, 3)).eval()
    z = torch.randn(sample_batch, cfg.model.z_dim)
    y = torch.arange(sample_batch) % 3 if cfg.model.conditional else None
    with torch.no_grad():
        nets.G_ema(z[:8], None if y is None else y[:8])                     # warm-up
        start = time.perf_counter()
        nets.G_ema(z, y)
        sample_ips = sample_batch / (time.perf_counter() - start)
    return {"train_images_per_s": train_ips, "sample_images_per_s": sample_ips,
            **{f"params_{k}": v for k, v in summary["parameters"].items()}, **forward_gflops(cfg)}


def model_cost_table(configs: dict[str, Config], sizes: tuple[int, ...], steps: int = 3) -> pd.DataFrame:
    """model_cost for each named config at each image size (attention placement scaled with the size)."""
    rows = []
    for name, cfg in configs.items():
        for size in sizes:
            rows.append({"model": name, "image_size": size, "batch": cfg.train.batch_size,
                         **model_cost(_scaled(cfg, size), steps)})
    return pd.DataFrame(rows)


MODEL_COST_COLUMNS = {
    "model": "model name (paperlib.core.recipes.MODELS)",
    "image_size": "image side, pixels (attention kept at the same relative feature-map sides)",
    "batch": "training batch size",
    "train_images_per_s": "training images per second (over the timed steps after the first, whole cycles of "
                          "the lazy encoder path; random data)",
    "sample_images_per_s": "sampling images per second (EMA generator, batch 64, no gradients)",
    "params_G": "generator parameters", "params_D": "discriminator parameters (absent: no D)",
    "params_E": "encoder parameters (absent: no encoder)",
    "params_C": "latent classifier parameters (absent: model.latent_classifier off)",
    "gflops_G": "generator forward GFLOPs per image (FlopCounterMode)",
    "gflops_D": "discriminator forward GFLOPs per image", "gflops_E": "encoder forward GFLOPs per image",
}
