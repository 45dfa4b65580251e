"""Data: OpenMoji rendering and split, torchvision loaders on tiny files in their real formats, folders."""
from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from paperlib import DataError, get_config, load_dataset
from paperlib.core import paths
from paperlib.data import openmoji
from paperlib.core.config import DataConfig
from paperlib.data.datasets import folder_images


def test_openmoji_subsets_have_the_expected_classes(smoke_cfg):
    for subset, names in openmoji.SUBSET_LABELS.items():
        ds = load_dataset(smoke_cfg.override(**{"data.subset": subset}).data, "train")
        assert ds.class_names == list(names)
        assert ds.images.shape[1:] == (3, 16, 16) and ds.images.dtype == torch.uint8
        assert set(ds.labels.tolist()) == set(range(len(names)))
        x, y = ds.batch(slice(0, 4))
        assert x.min() >= -1 and x.max() <= 1 and x.dtype == torch.float32


def test_people_animals_counts_and_skin_tone_option(smoke_cfg):
    with_tones = smoke_cfg.override(**{"data.skin_tones": True}).data
    full = load_dataset(with_tones, "train")
    base = load_dataset(smoke_cfg.data, "train")              # the smoke preset drops skin tones
    counts = full.labels.bincount().tolist()
    assert counts[1] > 1500 and counts[0] > 100 and counts[2] > 100   # persons, faces, animals
    assert len(base) < len(full) and base.labels.bincount()[1] < 400


def test_split_is_disjoint_by_base_glyph_and_deterministic(smoke_cfg):
    cfg = smoke_cfg.override(**{"data.skin_tones": True}).data
    train, holdout = load_dataset(cfg, "train"), load_dataset(cfg, "holdout")
    glyphs = {g.code: g for g in openmoji.glyphs()}
    train_bases = {glyphs[c].base for c in train.ids}
    holdout_bases = {glyphs[c].base for c in holdout.ids}
    assert not train_bases & holdout_bases
    assert 0.05 < len(holdout) / (len(train) + len(holdout)) < 0.2
    assert load_dataset(cfg, "holdout").ids == holdout.ids
    # different code points can share one artwork: no held-out image may be a pixel copy of a training
    # image (it would score as a perfect reconstruction and zero the copying check's threshold)
    seen = {img.numpy().tobytes() for img in train.images}
    assert not [c for c, img in zip(holdout.ids, holdout.images) if img.numpy().tobytes() in seen]


def test_render_is_deterministic_and_manifest_describes_the_cache(smoke_cfg):
    codes = ["1F600", "1F436", "1F469-1F3FD"]
    a, b = openmoji.render(codes, 16), openmoji.render(codes, 16)
    assert np.array_equal(a, b) and a.min() < 100          # not blank
    load_dataset(smoke_cfg.data, "train")
    manifest = json.loads((paths.processed_dir() / "openmoji_16px.json").read_text())
    assert manifest["openmoji_version"] == "17.0.0" and manifest["image_size"] == 16
    assert manifest["count_per_group"]["Animals & Nature"] >= 150
    assert "CC BY-SA 4.0" in manifest["attribution"]


def test_unknown_dataset_and_split():
    with pytest.raises(DataError, match="unknown dataset 'imagenet'"):
        load_dataset(DataConfig(name="imagenet"))
    with pytest.raises(DataError, match="unknown split 'test'"):
        load_dataset(DataConfig(), "test")


def test_missing_root_says_where_and_how(tmp_path):
    cfg = get_config("smoke", **{"data.name": "cifar10", "data.root": str(tmp_path / "nope")}).data
    with pytest.raises(DataError, match="does not exist.*data.download=True"):
        load_dataset(cfg)


def _write_cifar10(root, n=6):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with (folder / name).open("wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         "labels": [i % 10 for i in range(n)]}, f)
    with (folder / "batches.meta").open("wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"]}, f)


def test_cifar10_loads_the_real_pickle_format(tmp_path, monkeypatch):
    import torchvision.datasets.cifar

    _write_cifar10(tmp_path)
    # our files are not the official ones, so only the md5 check is replaced; parsing is torchvision's own
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    cfg = get_config("smoke", **{"data.name": "cifar10", "data.root": str(tmp_path), "data.image_size": 32}).data
    train, test = load_dataset(cfg, "train"), load_dataset(cfg, "holdout")
    assert train.images.shape == (30, 3, 32, 32) and test.images.shape == (6, 3, 32, 32)
    assert train.class_names[3] == "cat" and train.labels[:3].tolist() == [0, 1, 2]
    raw = pickle.load((tmp_path / "cifar-10-batches-py" / "data_batch_1").open("rb"))["data"][0]
    assert torch.equal(train.images[0], torch.as_tensor(raw.reshape(3, 32, 32)))


def _write_idx(raw, prefix, n, seed):
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + bytes(i % 10 for i in range(n)))
    return images


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_family_loads_the_real_idx_format(tmp_path, name, folder):
    images = _write_idx(tmp_path / folder / "raw", "train", 5, 0)
    _write_idx(tmp_path / folder / "raw", "t10k", 3, 1)
    cfg = get_config("smoke", **{"data.name": name, "data.root": str(tmp_path), "data.image_size": 32}).data
    train = load_dataset(cfg, "train")
    assert train.images.shape == (5, 3, 32, 32) and len(load_dataset(cfg, "holdout")) == 3
    assert torch.equal(train.images[:, 0], train.images[:, 1])          # grey repeated to RGB
    native = load_dataset(cfg.__class__(**{**cfg.__dict__, "image_size": 16}), "train")
    assert native.images.shape[-1] == 16
    assert train.labels.tolist() == [0, 1, 2, 3, 4] and images.shape == (5, 28, 28)


def _png(path, size=20, color=(200, 10, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), color).save(path)


def test_folder_of_class_subfolders(tmp_path):
    for i in range(12):
        _png(tmp_path / ("cats" if i % 2 else "dogs") / f"{i}.png", color=(200, 10, 10 * i))
    cfg = get_config("smoke", **{"data.name": "folder", "data.root": str(tmp_path), "data.holdout_fraction": 0.2})
    train, holdout = load_dataset(cfg.data, "train"), load_dataset(cfg.data, "holdout")
    assert train.class_names == ["cats", "dogs"] and len(train) + len(holdout) == 12
    assert not set(train.ids) & set(holdout.ids)
    first = int(train.ids[0].split("/")[1][:-4])
    assert train.images[0, :, 0, 0].tolist() == [200, 10, 10 * first]
    assert train.labels[0] == ["cats", "dogs"].index(train.ids[0].split("/")[0])


def test_folder_skips_corrupt_and_small_files_with_one_warning_each_that_counts_and_names_them(tmp_path):
    import warnings

    for i in range(40):
        _png(tmp_path / f"{i:02d}.png", color=(200, 10, 5 * i))
    for i in range(7):
        _png(tmp_path / f"tiny{i}.png", size=8)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "cut.jpg").write_bytes(_jpeg_bytes(40, 30)[:300])              # a truncated download
    cfg = get_config("smoke", **{"data.name": "folder", "data.root": str(tmp_path)})
    for attempt in ("decoded", "cached"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")                                   # Python's own: once per line and text
            both = len(load_dataset(cfg.data, "train")) + len(load_dataset(cfg.data, "holdout"))
        assert both == 40
        messages = [str(w.message) for w in caught]
        assert len(messages) == 2, (attempt, messages)
        assert "skipped 7 of 49 images smaller than 16 px" in messages[0] and "tiny0.png" in messages[0]
        assert "and 2 more" in messages[0]
        assert "skipped 2 image files that cannot be decoded" in messages[1]
        assert "broken.png" in messages[1] and "cut.jpg" in messages[1]


def test_folder_errors(tmp_path):
    cfg = lambda root: get_config("smoke", **{"data.name": "folder", "data.root": str(root)}).data  # noqa: E731
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        load_dataset(cfg(tmp_path / "empty"))
    with pytest.raises(DataError, match="is not a directory"):
        load_dataset(cfg(tmp_path / "missing"))
    for i in range(30):
        _png(tmp_path / "small" / f"{i}.png", size=8)
    with pytest.raises(DataError, match="none of the 30 image files .* at least 16 px"), pytest.warns(UserWarning):
        load_dataset(cfg(tmp_path / "small"))


def test_folder_photos_are_centre_cropped_and_composited_on_white(tmp_path):
    wide = Image.new("RGB", (60, 20), (255, 0, 0))
    wide.paste((0, 255, 0), (20, 0, 40, 20))                                 # the centre square is green
    wide.save(tmp_path / "wide.png")
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(tmp_path / "clear.png")   # fully transparent
    ds = folder_images(tmp_path, 16)
    img = {i: ds.images[k].float() for k, i in enumerate(ds.ids)}
    assert img["wide.png"][:, 1:-1, 1:-1].tolist() == torch.tensor([0., 255., 0.])[:, None, None].expand(3, 14, 14).tolist()
    assert img["clear.png"].min() == 255                                     # white, not black


def test_folder_photo_modes_become_8_bit_rgb(tmp_path):
    Image.new("L", (20, 20), 90).save(tmp_path / "grey.png")
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")             # red in print colours
    Image.fromarray(np.full((20, 20), 40000, np.uint16)).save(tmp_path / "deep.png")      # 16-bit grey
    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    pal.save(tmp_path / "palette.png", transparency=1)                                     # index 1 transparent
    ds = folder_images(tmp_path, 16)
    centre = {i: ds.images[k, :, 8, 8].tolist() for k, i in enumerate(ds.ids)}
    assert centre["grey.png"] == [90, 90, 90]
    assert centre["deep.png"] == [156, 156, 156]                                           # 40000 / 257
    assert centre["palette.png"] == [255, 255, 255]                                        # transparent: white
    assert centre["cmyk.jpg"][0] > 200 and max(centre["cmyk.jpg"][1:]) < 60


def test_large_jpegs_decode_at_a_reduced_scale_upright(tmp_path):
    big = Image.new("RGB", (160, 240), (0, 0, 255))
    big.paste((255, 255, 0), (0, 0, 160, 80))                                # the top third is yellow
    exif = Image.Exif()
    exif[0x0112] = 6                                                         # "rotate 90 clockwise to view"
    big.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    from paperlib.data.photos import open_photo

    assert open_photo(tmp_path / "turned.jpg", 16, draft=True).size == (30, 20)   # 1/8 scale, turned
    assert open_photo(tmp_path / "turned.jpg", 16).size == (240, 160)
    turned = folder_images(tmp_path, 16).images[0].float()
    assert turned[0, 8, 14] > 200 and turned[2, 8, 14] < 60                  # yellow on the right after the turn
    assert turned[2, 8, 1] > 200                                             # blue on the left


def test_folder_cache_is_reused_and_rebuilt_when_a_file_changes_or_the_cache_breaks(tmp_path, monkeypatch):
    import paperlib.data.datasets

    for i in range(12):
        _png(tmp_path / "photos" / f"{i}.png", color=(10 * i, 0, 0))
    first = folder_images(tmp_path / "photos", 16)
    caches = list(paths.processed_dir().glob("folder_photos-*_16px.npz"))
    assert len(caches) == 1
    decoded = []
    monkeypatch.setattr(paperlib.data.datasets, "open_photo", lambda *a, **k: decoded.append(a) or Image.new("RGB", (20, 20)))
    again = folder_images(tmp_path / "photos", 16)
    assert not decoded and again.ids == first.ids and torch.equal(again.images, first.images)
    _png(tmp_path / "photos" / "3.png", color=(0, 0, 99))                   # one file replaced
    folder_images(tmp_path / "photos", 16)
    assert len(decoded) == 12
    assert list(paths.processed_dir().glob("folder_photos-*_16px.npz")) == caches   # rewritten in place
    caches[0].write_bytes(caches[0].read_bytes()[:100])                     # a cache cut short
    folder_images(tmp_path / "photos", 16)
    assert len(decoded) == 24


def test_folder_split_keeps_pixel_copies_together_and_other_images_in_place(tmp_path):
    for i in range(30):
        _png(tmp_path / f"distinct{i:02d}.png", color=(8 * i, 100, 50))
    for i in range(10):
        _png(tmp_path / f"copy{i}.png", color=(1, 2, 3))
    cfg = get_config("smoke", **{"data.name": "folder", "data.root": str(tmp_path), "data.holdout_fraction": 0.3})
    train, holdout = load_dataset(cfg.data, "train"), load_dataset(cfg.data, "holdout")
    copies = [sum(i.startswith("copy") for i in part.ids) for part in (train, holdout)]
    assert sorted(copies) == [0, 10] and len(train) + len(holdout) == 40
    for i in range(20):                                                      # more photos, and a renamed one
        _png(tmp_path / f"added{i:02d}.png", color=(8 * i, 200, 50))
    (tmp_path / "distinct00.png").rename(tmp_path / "renamed.png")
    holdout_after = set(load_dataset(cfg.data, "holdout").ids)
    assert set(holdout.ids) - {"distinct00.png"} <= holdout_after
    assert ("renamed.png" in holdout_after) == ("distinct00.png" in holdout.ids)


def _jpeg_bytes(width, height):
    import io

    buf = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(buf, format="JPEG")
    return buf.getvalue()


def test_celeba_loads_the_real_folder_format(tmp_path, monkeypatch):
    import torchvision.datasets.celeba

    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 5)]
    for i, name in enumerate(names):
        Image.new("RGB", (178, 218), (40 * i, 100, 100)).save(folder / "img_align_celeba" / name)
    attrs = ["Smiling", "Male", "Young"]
    (folder / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, [0, 0, 2, 2])))
    (folder / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text("4\nimage_id x_1 y_1 width height\n"
                                                 + "".join(f"{n} 1 2 3 4\n" for n in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        "4\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        + "".join(f"{n} 1 2 3 4 5 6 7 8 9 10\n" for n in names))
    (folder / "list_attr_celeba.txt").write_text(
        "4\n" + " ".join(attrs) + "\n" + "".join(f"{n} 1 {m} -1\n" for n, m in zip(names, [1, -1, -1, 1])))
    monkeypatch.setattr(torchvision.datasets.celeba, "check_integrity", lambda path, md5=None: True)
    cfg = get_config("smoke", **{"data.name": "celeba", "data.root": str(tmp_path), "data.image_size": 32}).data
    train, test = load_dataset(cfg, "train"), load_dataset(cfg, "holdout")
    assert train.images.shape == (2, 3, 32, 32) and train.ids == names[:2] and test.ids == names[2:]
    assert train.labels.tolist() == [1, 0] and test.labels.tolist() == [0, 1]
    assert train.class_names == ["female", "male"]
    assert train.images[1, 0, 16, 16].item() == 40                          # the second image's red channel


def test_fashion_mnist_reads_debians_files_when_present(tmp_path, monkeypatch):
    import gzip

    import paperlib.data.datasets

    debian = tmp_path / "debian"
    staging = tmp_path / "staging"
    _write_idx(staging, "train", 4, 0)
    _write_idx(staging, "t10k", 2, 1)
    debian.mkdir()
    for f in staging.iterdir():
        (debian / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    monkeypatch.setattr(paperlib.data.datasets, "DEBIAN_FASHION_MNIST", debian)
    cfg = get_config("smoke", **{"data.name": "fashion_mnist"}).data      # no root: data/raw/fashion_mnist
    assert len(load_dataset(cfg, "train")) == 4 and len(load_dataset(cfg, "holdout")) == 2


def test_grey_and_rgba_files_become_rgb_and_a_wrong_tensor_shape_gets_a_clear_error(tmp_path):
    from paperlib.model.args import ModelArgs
    from paperlib.model.networks import Networks
    from paperlib.model.sampling import reconstruct

    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("L", (20, 20), 90).save(folder / "grey.png")
    Image.new("RGBA", (20, 20), (10, 200, 10, 128)).save(folder / "alpha.png")
    cfg = get_config("smoke", **{"data.name": "folder", "data.root": str(folder), "data.holdout_fraction": 0.01})
    ds = load_dataset(cfg.data, "train")
    assert ds.images.shape == (2, 3, 16, 16)
    nets = Networks(ModelArgs.from_config(cfg.model, 16, 0)).eval()
    with pytest.raises(ValueError, match=r"shape \(B, 3, 16, 16\).*repeat a grey channel"):
        reconstruct(nets, torch.zeros(2, 1, 16, 16), None)


def test_every_configurable_data_set_has_a_loader():
    from paperlib.core.config import DATASETS
    from paperlib.data import datasets

    assert set(datasets._LOADERS) == set(DATASETS)
