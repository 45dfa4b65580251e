"""08's gallery: every edit of the `edit` command on held-out photos, as squares and a table, and its figure."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from paperlib.report import figures

from paperlib import load_dataset

from paperlib.core import paths

from paperlib.applications import photo_editing

from paperlib.training.train import train
from paperlib.report.figure_data import save_arrays
from paperlib.core.errors import InputError
from paperlib.model.checkpoint import latest_checkpoint


@pytest.fixture(scope="module")
def editor(tmp_path_factory, smoke_cfg, smoke_data):
    run = tmp_path_factory.mktemp("gallery") / "run"
    train(smoke_cfg.override(**{"train.steps": 2}), run, progress=False, data=smoke_data)
    return photo_editing.load_editor(latest_checkpoint(run))


def test_openmoji_photos_are_written_out_and_every_edit_is_made(tmp_path, editor, smoke_cfg):
    holdout = load_dataset(smoke_cfg.data, "holdout")
    by_class = photo_editing.example_photos(smoke_cfg.data, holdout, tmp_path, per_class=2)
    assert list(by_class) == holdout.class_names and all(len(files) == 2 for files in by_class.values())
    assert len(list((tmp_path / "animal").glob("*.png"))) == int((holdout.labels == 2).sum())   # every animal
    photos = [p for files in by_class.values() for p in files]
    arrays, numbers = photo_editing.gallery(editor, photos, (tmp_path / "face", tmp_path / "animal"))
    assert arrays["inputs"].shape == (6, 3, 16, 16) and arrays["attribute"].shape == (6, 3, 3, 16, 16)
    assert arrays["interpolation"].shape == (8, 3, 16, 16) and str(arrays["attribute_name"]) == "+ (animal - face)"
    first_face = int((holdout.labels == 0).nonzero()[0, 0])
    assert np.array_equal(arrays["inputs"][0], holdout.images[first_face].numpy())      # the PNG round trip is exact
    assert len(numbers) == 6 * (2 + 3) + 1 and set(numbers.columns) <= set(photo_editing.EDIT_COLUMNS)
    assert numbers.loc[numbers.edit == "guide", "with"].tolist() == [p.name for p in photos[1:] + photos[:1]]
    save_arrays(paths.arrays_dir("smoke") / "your_images.npz", arrays)
    assert figures.your_images("smoke").stat().st_size > 0


def test_one_class_has_no_attribute_columns_and_one_photo_is_refused(tmp_path, editor):
    rng = np.random.default_rng(0)
    photos = []
    for i in range(3):
        photos.append(tmp_path / f"{i}.jpg")
        Image.fromarray(rng.integers(0, 256, (30, 20, 3), dtype=np.uint8)).save(photos[-1])
    arrays, numbers = photo_editing.gallery(editor, photos, None)
    assert arrays["attribute"].shape == (3, 0, 3, 16, 16) and arrays["strengths"].size == 0
    assert not numbers.edit.str.startswith("attribute").any()
    save_arrays(paths.arrays_dir("smoke") / "your_images.npz", arrays)
    assert figures.your_images("smoke").stat().st_size > 0
    with pytest.raises(InputError, match="at least 2"):
        photo_editing.gallery(editor, photos[:1], None)


def test_the_explorer_redraws_when_a_control_moves(tmp_path, editor, smoke_cfg):
    from paperlib.applications.explorer import explorer, guided_with_attention

    holdout = load_dataset(smoke_cfg.data, "holdout")
    by_class = photo_editing.example_photos(smoke_cfg.data, holdout, tmp_path, per_class=2)
    photos = [p for files in by_class.values() for p in files]
    guided, maps = guided_with_attention(editor, photos[0], photos[1], (0.5, 0.5))
    assert torch.equal(guided.squares, photo_editing.guide(editor, photos[0], photos[1]).squares)  # the edit's path
    assert set(maps) == {"cross4", "cross8"} and maps["cross8"].shape == (8, 8)
    assert abs(maps["cross8"].sum() - 1) < 1e-4                              # a distribution over the reference
    box = explorer(editor, photos, (tmp_path / "face", tmp_path / "animal"))
    controls, strengths, query, views, numbers = box.children
    (strength,), (row, _) = strengths.children, query.children
    images = [view.children[1] for view in views.children]                  # photo, edited, guided, cross4, cross8
    before = [i.value for i in images]
    assert all(before) and "edit: strength = 0.000" in numbers.value
    strength.value = 2.0
    after = [i.value for i in images]
    assert after[1] != before[1] and after[0] == before[0]                  # the edit moved, the photo did not
    row.value = 0.05
    assert images[3].value != after[3] or images[4].value != after[4]        # an attention map follows the query
    moved = [i.value for i in images]
    click = {"event": "click", "dataX": 16.0, "dataY": 144.0}                # as ipyevents sends it from the browser
    box.clicks._handle_mouse_msg(None, click, [])
    assert (row.value, query.children[1].value) == (0.9, 0.1)               # the click is the query point
    assert images[2].value != moved[2] and images[0].value == moved[0]       # its cross moved on the guided view
