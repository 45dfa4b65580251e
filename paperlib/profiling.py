"""Cost measurements shared by the benchmarks and the notebooks: attention time/memory, training speed.

Each attention measurement runs in a fresh process so its peak memory (RSS on the CPU,
max_memory_allocated on CUDA) is its own and not the high-water mark of earlier work.
"""
from __future__ import annotations

import multiprocessing as mp
import resource
import tempfile
import time

import pandas as pd
import torch

from .attention import SelfAttention2d
from .config import Config


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
    from .train import train

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
