"""Checkpoints round-trip and bad files get clear errors."""
from __future__ import annotations

import pytest
import torch

from paperlib import CheckpointError, get_config, load_checkpoint, networks_from_checkpoint
from paperlib.model.checkpoint import save_checkpoint
from paperlib.core.errors import WriteFailed
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks


@pytest.fixture()
def saved(tmp_path):
    nets = Networks(ModelArgs.from_config(get_config("smoke").model, 16, 3)).eval()
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"model_args": nets.args.to_dict(), "networks": nets.state_dict(), "step": 7})
    return nets, path


def test_round_trip_gives_identical_outputs(saved):
    nets, path = saved
    loaded = networks_from_checkpoint(path).eval()
    z, y, x = torch.randn(4, nets.args.z_dim), torch.tensor([0, 1, 2, 0]), torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded.G_ema(z, y), nets.G_ema(z, y))
        assert torch.equal(loaded.D(x, y), nets.D(x, y))
        assert torch.equal(loaded.E(x)[0], nets.E(x)[0])
    assert not list(path.parent.glob("*.tmp"))


def test_missing_truncated_and_foreign_files(saved, tmp_path):
    _, path = saved
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cannot be read.*truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a paperlib checkpoint"):
        load_checkpoint(foreign)


class Payload:
    """An arbitrary object: weights_only loading must refuse to unpickle it."""


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "unsafe.pt"
    torch.save({"format": 1, "model_args": {}, "payload": Payload()}, path)
    with pytest.raises(CheckpointError, match=r"Python objects .*Payload.*refuses to unpickle"):
        load_checkpoint(path)


def test_loading_asks_torch_for_weights_only_whatever_its_default(saved, monkeypatch):
    """torch < 2.6 unpickles anything unless told otherwise, so the argument must be spelt out."""
    _, path = saved
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(path)
    assert calls == [True]


def test_a_write_that_fails_midway_leaves_the_previous_checkpoint_whole(saved, monkeypatch):
    nets, path = saved
    before = path.read_bytes()

    def save_half_then_fail(obj, f, *args, **kwargs):
        with open(f, "wb") as out:
            out.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", save_half_then_fail)
    with pytest.raises(WriteFailed, match=r"could not write .*ckpt\.pt \(disk full\).*free disk space"):
        save_checkpoint(path, {"model_args": nets.args.to_dict(), "networks": {}, "step": 8})
    assert path.read_bytes() == before and load_checkpoint(path)["step"] == 7
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]     # no temporary file left behind


def test_checkpoint_of_another_architecture(saved, tmp_path):
    nets, _ = saved
    args = {**nets.args.to_dict(), "ch": 32}
    path = tmp_path / "other.pt"
    save_checkpoint(path, {"model_args": args, "networks": nets.state_dict()})
    with pytest.raises(CheckpointError, match="do not fit the architecture"):
        networks_from_checkpoint(path)


def test_rng_states_of_torch_numpy_and_python_survive_a_weights_only_checkpoint(tmp_path):
    import random

    import numpy as np

    from paperlib.core.env import rng_state, set_rng_state

    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    save_checkpoint(tmp_path / "rng.pt", {"model_args": {}, "rng": rng_state()})
    expected = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    torch.manual_seed(9), np.random.seed(9), random.seed(9)
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert [random.random() for _ in range(3)] == expected[2]


def test_a_checkpoint_of_the_replaced_residual_model_says_to_retrain(tmp_path):
    save_checkpoint(tmp_path / "old.pt", {"model_args": {"arch": "resnet", "attn_impl": "sdpa"}, "networks": {}})
    with pytest.raises(CheckpointError, match="retrain the run"):
        networks_from_checkpoint(tmp_path / "old.pt")
