"""Figures are drawn from result files only, and identically each time."""
from __future__ import annotations

import numpy as np

from paperlib import arrays, figures, paths


def test_redraw_is_identical_and_needs_only_result_files(smoke_data):
    preset = "figtest"
    arrays.save_panels(paths.arrays_dir(preset) / "data_examples.npz", {"people_animals": arrays.example_panel(smoke_data)})
    first = figures.redraw_all(preset)
    assert first["data_grid"].endswith("data_grid.png")
    assert first["samples"].startswith("skipped") and first["training_curves"].startswith("skipped")
    png = paths.figures_dir(preset) / "data_grid.png"
    before = png.read_bytes()
    figures.redraw_all(preset)
    assert png.read_bytes() == before


def test_example_panel_has_rows_per_class(smoke_data):
    images, labels, names = arrays.example_panel(smoke_data, per_class=4)
    assert images.shape == (12, 3, 16, 16) and images.dtype == np.uint8
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and names == ["face", "person", "animal"]
