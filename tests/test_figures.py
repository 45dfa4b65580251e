"""Figures are drawn from result files only, and identically each time."""
from __future__ import annotations

import numpy as np

from paperlib.report import figure_data, redraw

from paperlib.core import paths


def test_redraw_is_identical_and_needs_only_result_files(smoke_data):
    preset = "figtest"
    figure_data.save_panels(paths.arrays_dir(preset) / "data_examples.npz", {"people_animals": figure_data.example_panel(smoke_data)})
    first = redraw.redraw_all(preset)
    assert first["data_grid"].endswith("data_grid.png")
    assert first["samples"].startswith("skipped") and first["training_curves"].startswith("skipped")
    png = paths.figures_dir(preset) / "data_grid.png"
    before = png.read_bytes()
    redraw.redraw_all(preset)
    assert png.read_bytes() == before


def test_example_panel_has_rows_per_class(smoke_data):
    images, labels, names = figure_data.example_panel(smoke_data, per_class=4)
    assert images.shape == (12, 3, 16, 16) and images.dtype == np.uint8
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and names == ["face", "person", "animal"]
