"""The command line trains, samples, and turns bad input into a message and exit code 2."""
from __future__ import annotations

import pytest

from paperlib.__main__ import main


def test_train_then_sample(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--preset", "smoke", "--out", str(run), "--quiet", "--set", "train.steps=2"]) == 0
    ckpt = run / "checkpoints" / "step_000002.pt"
    assert ckpt.is_file()
    out = tmp_path / "grid.png"
    assert main(["sample", "--ckpt", str(ckpt), "--n", "8", "--label", "animal", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["sample", "--ckpt", str(ckpt), "--label", "robot", "--out", str(out)]) == 2
    assert "classes are face, person, animal" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--preset", "smoke", "--set", "train.lr_d=7"], "learning rate"),
    (["train", "--preset", "smoke", "--set", "steps"], "use section.field=value"),
    (["train", "--preset", "smoke", "--data", "imagenet"], "unknown"),
    (["sample", "--ckpt", "missing.pt"], "does not exist"),
])
def test_bad_input_is_a_message_not_a_traceback(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_preset_is_refused_by_the_parser():
    with pytest.raises(SystemExit) as e:
        main(["train", "--preset", "fast"])
    assert e.value.code == 2
