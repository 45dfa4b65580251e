"""torchrun support: the process group from the environment, rank-0-only side effects, replica checks.

Launched by `torchrun --nproc_per_node=N -m paperlib train ...`, every process trains a replica on its
own share of each global batch (DistributedDataParallel averages the gradients); only rank 0 writes
config.json, stats.jsonl, samples and checkpoints. Without torchrun the world is one process and
nothing here does anything.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_world(device_type: str) -> World:
    """Join the process group torchrun describes (gloo on CPU, NCCL on CUDA); World() when not launched so."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def all_true(world: World, flag: bool) -> bool:
    """True only if flag holds on every rank (a NaN on one rank stops all of them together)."""
    if world.size == 1:
        return flag
    t = torch.tensor([1 if flag else 0])
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


def gather(world: World, obj: Any) -> list[Any]:
    """obj from every rank, in rank order."""
    if world.size == 1:
        return [obj]
    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, obj)
    return out


def checksum(module: torch.nn.Module) -> str:
    """sha256 of every parameter and buffer: equal when replicas are."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
