"""A training process killed with SIGKILL, after a checkpoint or in the middle of writing one, resumes from
its last whole checkpoint to the same parameters as an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from paperlib.model.checkpoint import load_checkpoint

STEPS = 120
ARGS = ["--preset", "smoke", "--quiet", "--set", f"train.steps={STEPS}", "--set", "train.ckpt_every=10",
        "--set", "train.log_every=10", "--set", "train.sample_every=1000"]
# `python -m paperlib` whose torch.save writes the step-30 checkpoint's first half, leaves a marker file and
# stalls, so that the kill lands in the middle of a checkpoint write
STALLING_SAVE = """
import io, os, runpy, sys, time, torch
real_save = torch.save
def stalling_save(obj, f, *args, **kwargs):
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    data = buffer.getvalue()
    with open(f, "wb") as out:
        out.write(data[: len(data) // 2])
        out.flush()
        if "step_000030" in str(f):
            open(os.environ["MARKER"], "w").close()
            time.sleep(300)
        out.write(data[len(data) // 2:])
torch.save = stalling_save
runpy.run_module("paperlib", run_name="__main__", alter_sys=True)
"""


def _train(out, wait: bool = True, stall_marker=None) -> subprocess.Popen:
    launch = ["-c", STALLING_SAVE] if stall_marker else ["-m", "paperlib"]
    proc = subprocess.Popen([sys.executable, *launch, "train", *ARGS, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "MARKER": str(stall_marker)})
    if wait:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    return proc


def _summary(proc: subprocess.Popen) -> dict:
    out = proc.stdout.read()
    return json.loads(out[out.index("{"):])


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run's final weights."""
    out = tmp_path_factory.mktemp("straight")
    _train(out)
    return load_checkpoint(out / "checkpoints" / f"step_{STEPS:06d}.pt")["networks"]


@pytest.mark.parametrize("when", ["after a checkpoint", "during a checkpoint write"])
def test_sigkill_then_resume_gives_bitwise_the_same_parameters(tmp_path, straight, when):
    killed, marker = tmp_path / "killed", tmp_path / "stalled"
    proc = _train(killed, wait=False, stall_marker=marker if when.startswith("during") else None)
    deadline = time.time() + 300
    while not (marker.exists() if when.startswith("during") else any((killed / "checkpoints").glob("step_00003*.pt"))):
        assert proc.poll() is None, "training ended before it could be killed"
        assert time.time() < deadline, "timed out waiting for the kill point"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survivors = sorted((killed / "checkpoints").glob("step_*.pt"))
    last = int(survivors[-1].stem[5:])
    assert last < STEPS                                                # it really died mid-run
    if when.startswith("during"):
        assert last == 20 and list((killed / "checkpoints").glob("*.tmp"))   # step 30 died half-written
    for path in survivors:
        load_checkpoint(path)                                          # every .pt left behind is whole

    resumed = _summary(_train(killed))                                 # resume to the end
    assert resumed["steps_this_call"] == STEPS - last                  # it resumed, not restarted
    assert not list((killed / "checkpoints").glob("*.tmp"))            # the half-written file is cleared
    logged = [json.loads(line)["step"] for line in (killed / "stats.jsonl").read_text().splitlines()]
    assert logged == list(range(10, STEPS + 1, 10))                    # each step logged once: one run's log
    final = load_checkpoint(killed / "checkpoints" / f"step_{STEPS:06d}.pt")["networks"]
    assert all(torch.equal(final[k], straight[k]) for k in straight)
