"""`python -m paperlib edit`: every editing operation on photo files, and bad input as exit status 2."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from paperlib.__main__ import main


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    run = tmp_path_factory.mktemp("edit") / "run"
    assert main(["train", "--preset", "smoke", "--out", str(run), "--quiet", "--set", "train.steps=2"]) == 0
    return str(run / "checkpoints" / "step_000002.pt")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two noise photos of 40x24 (wider than high), and two folders of four photos each."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for name in ("me.png", "other.png", *(f"neutral/{i}.png" for i in range(4)), *(f"smiling/{i}.png" for i in range(4))):
        (root / name).parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(root / name)
    return root


def _edit(capsys, ckpt, photos, tmp_path, *op):
    out = tmp_path / "out.png"
    assert main(["edit", "--ckpt", ckpt, "--image", str(photos / "me.png"), "--out", str(out), *op]) == 0
    return json.loads(capsys.readouterr().out), Image.open(out)


def test_reconstruct_pastes_the_square_back_and_reports_psnr_and_ssim(ckpt, photos, tmp_path, capsys):
    numbers, out = _edit(capsys, ckpt, photos, tmp_path, "--reconstruct")
    assert out.size == (40, 24)                                       # the photo's aspect ratio
    photo = np.asarray(Image.open(photos / "me.png"))
    assert np.array_equal(np.asarray(out)[:, :8], photo[:, :8])      # outside the centre square: the photo
    assert not np.array_equal(np.asarray(out)[:, 8:32], photo[:, 8:32])
    assert numbers["psnr_vs_input_db"] > 0 and -1 <= numbers["ssim_vs_input"] <= 1
    assert numbers["label"].endswith("(best reconstruction of 3 classes)")
    numbers, _ = _edit(capsys, ckpt, photos, tmp_path, "--reconstruct", "--label", "animal")
    assert numbers["label"] == "animal (given)"


def test_a_large_jpeg_comes_back_at_its_own_size(ckpt, photos, tmp_path, capsys):
    Image.effect_noise((200, 120), 50).convert("RGB").save(photos / "big.jpg")
    out = tmp_path / "big.png"
    assert main(["edit", "--ckpt", ckpt, "--image", str(photos / "big.jpg"), "--out", str(out), "--reconstruct"]) == 0
    assert Image.open(out).size == (200, 120)


def test_interpolate_attribute_and_guide(ckpt, photos, tmp_path, capsys):
    numbers, strip = _edit(capsys, ckpt, photos, tmp_path, "--interpolate", str(photos / "other.png"), "--steps", "5")
    assert strip.size == (5 * 427, 256) and numbers["steps"] == 5 and numbers["latent_distance"] > 0
    numbers, out = _edit(capsys, ckpt, photos, tmp_path, "--attribute",
                         f"{photos / 'neutral'}:{photos / 'smiling'}", "--strength", "-1.5")
    assert out.size == (40, 24) and numbers["images_with"] == numbers["images_without"] == 4
    assert numbers["latent_shift"] == pytest.approx(1.5 * numbers["vector_norm"])
    numbers, out = _edit(capsys, ckpt, photos, tmp_path, "--guide", str(photos / "other.png"))
    assert out.size == (40, 24) and {"psnr_vs_input_db", "psnr_vs_reference_db", "ssim_vs_reference"} <= set(numbers)


@pytest.mark.parametrize("args, message", [
    (["--image", "{photos}/missing.png", "--reconstruct"], "does not exist"),
    (["--image", "{photos}/broken.png", "--reconstruct"], "cannot be read as an image"),
    (["--image", "{photos}/tiny.png", "--reconstruct"], "works at 16 px"),
    (["--image", "{photos}/me.png", "--attribute", "{photos}/empty:{photos}/smiling"], "--attribute: folder: no image"),
    (["--image", "{photos}/me.png", "--attribute", "{photos}/absent:{photos}/smiling"], "is not a directory"),
    (["--image", "{photos}/me.png", "--attribute", "{photos}/neutral"], "FOLDER_A:FOLDER_B"),
    (["--image", "{photos}/me.png", "--attribute", "{photos}/neutral:{photos}/smiling", "--strength", "3"],
     "use a value in [-2, 2]"),
    (["--image", "{photos}/me.png", "--interpolate", "{photos}/other.png", "--steps", "1"], "at least 2 steps"),
    (["--image", "{photos}/me.png", "--reconstruct", "--label", "robot"], "classes are face, person, animal"),
])
def test_bad_input_is_a_message_and_exit_status_2(ckpt, photos, tmp_path, capsys, args, message):
    (photos / "broken.png").write_bytes(b"not an image")
    Image.new("RGB", (12, 30)).save(photos / "tiny.png")
    (photos / "empty").mkdir(exist_ok=True)
    argv = ["edit", "--ckpt", ckpt, "--out", str(tmp_path / "out.png"), *(a.format(photos=photos) for a in args)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_a_checkpoint_without_encoder_or_of_another_kind_is_refused(ckpt, photos, tmp_path, capsys):
    run = tmp_path / "dcgan"
    assert main(["train", "--preset", "smoke", "--out", str(run), "--quiet", "--set", "train.steps=2",
                 "--set", "model.arch=dcgan", "--set", "model.encoder=false", "--set", "model.attn_res=()",
                 "--set", "model.cross_attn_res=()", "--set", "model.conditional=false"]) == 0
    capsys.readouterr()
    argv = ["edit", "--image", str(photos / "me.png"), "--reconstruct", "--out", str(tmp_path / "o.png")]
    assert main([*argv, "--ckpt", str(run / "checkpoints" / "step_000002.pt")]) == 2
    assert "without an encoder" in capsys.readouterr().err
    (tmp_path / "cut.pt").write_bytes(open(ckpt, "rb").read()[:500])
    assert main([*argv, "--ckpt", str(tmp_path / "cut.pt")]) == 2
    assert "cannot be read" in capsys.readouterr().err
