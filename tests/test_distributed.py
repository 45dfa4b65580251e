"""torchrun with two CPU processes (gloo): the replicas stay identical and only rank 0 writes files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import paperlib
from paperlib.model.checkpoint import load_checkpoint
from paperlib.training.distributed import World, all_true, gather

STEPS = 6


def _torchrun(out, steps: int) -> dict:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "paperlib",
           "train", "--preset", "smoke", "--quiet", "--out", str(out), "--set", f"train.steps={steps}",
           "--set", "train.log_every=1", "--set", "train.ckpt_every=3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])              # rank 0 alone prints


def test_two_process_gloo_training_keeps_replicas_identical_through_a_resume(tmp_path):
    out = tmp_path / "ddp"
    first = _torchrun(out, 3)
    summary = _torchrun(out, STEPS)                                        # resumes from step 3 under torchrun
    assert first["steps_this_call"] == 3 and summary["steps_this_call"] == STEPS - 3
    assert summary["world_size"] == 2
    a, b = summary["replica_checksums"]
    assert a == b                                                          # parameters and buffers, bit for bit
    # rank 0 alone logs: one stats line per step, and the global batch is two local batches
    rows = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    assert summary["images_seen"] == STEPS * 2 * 16
    state = load_checkpoint(out / "checkpoints" / f"step_{STEPS:06d}.pt")
    assert state["world_size"] == 2 and len(state["rng_ranks"]) == 2
    # the two ranks drew different noise (their RNG streams differ) yet hold the same weights
    assert not state["rng_ranks"][0]["torch"].equal(state["rng_ranks"][1]["torch"])


POISON = """
import os
import sys

import paperlib.training.losses as losses
from paperlib.__main__ import main

original, calls = losses.adversarial_d, {"n": 0}


def poisoned(*args, **kwargs):          # rank 1's D loss turns NaN at its 4th step; added, not multiplied, so
    calls["n"] += 1                     # its gradient stays finite and DDP does not carry the NaN to rank 0
    value = original(*args, **kwargs)
    return value + float("nan") if os.environ["RANK"] == "1" and calls["n"] >= 4 else value


losses.adversarial_d = poisoned
sys.exit(main(sys.argv[1:]))
"""


def test_a_nan_on_one_rank_stops_both_before_anything_is_written_from_it(tmp_path):
    script, out = tmp_path / "poisoned_train.py", tmp_path / "ddp"
    script.write_text(POISON)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
           "train", "--preset", "smoke", "--quiet", "--out", str(out), "--set", "train.steps=6",
           "--set", "train.log_every=1", "--set", "train.ckpt_every=2"]
    here = str(Path(paperlib.__file__).resolve().parents[1])     # the script imports this checkout's paperlib
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0                                              # and it returned: no rank hangs
    # both ranks stop together, and both name the rank whose loss broke
    assert proc.stderr.count("non-finite loss at step 4 on rank(s) 1 ") == 2, proc.stderr[-3000:]
    assert "last good checkpoint" in proc.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002.pt"]
    rows = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]


def test_single_process_world_is_a_no_op():
    world = World()
    assert world.main and all_true(world, True) and not all_true(world, False) and gather(world, 3) == [3]
