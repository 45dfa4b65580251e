"""A training process killed with SIGKILL resumes from its last checkpoint to the same parameters."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import torch

from paperlib.checkpoint import load_checkpoint

STEPS = 120
ARGS = ["--preset", "smoke", "--quiet", "--set", f"train.steps={STEPS}", "--set", "train.ckpt_every=10",
        "--set", "train.log_every=10", "--set", "train.sample_every=1000"]


def _train(out, wait: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "paperlib", "train", *ARGS, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    if wait:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    return proc


def _summary(proc: subprocess.Popen) -> dict:
    out = proc.stdout.read()
    return json.loads(out[out.index("{"):])


def test_sigkill_then_resume_gives_bitwise_the_same_parameters(tmp_path):
    killed = tmp_path / "killed"
    proc = _train(killed, wait=False)
    deadline = time.time() + 300
    while not any((killed / "checkpoints").glob("step_00003*.pt")) and time.time() < deadline:
        assert proc.poll() is None, "training ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survivors = sorted((killed / "checkpoints").glob("step_*.pt"))
    assert survivors and int(survivors[-1].stem[5:]) < STEPS          # it really died mid-run
    for path in survivors:
        load_checkpoint(path)                                          # every .pt left behind is whole
    assert not list((killed / "checkpoints").glob("*.tmp*"))

    resumed = _summary(_train(killed))                                 # resume to the end
    assert resumed["steps_this_call"] == STEPS - int(survivors[-1].stem[5:])   # it resumed, not restarted
    logged = [json.loads(line)["step"] for line in (killed / "stats.jsonl").read_text().splitlines()]
    assert logged == list(range(10, STEPS + 1, 10))                    # each step logged once: one run's log
    _train(tmp_path / "straight")
    a = load_checkpoint(killed / "checkpoints" / f"step_{STEPS:06d}.pt")["networks"]
    b = load_checkpoint(tmp_path / "straight" / "checkpoints" / f"step_{STEPS:06d}.pt")["networks"]
    assert all(torch.equal(a[k], b[k]) for k in a)
