"""`make figures`: every figure of a preset redrawn from its result files alone."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import figures, study_figures

FIGURES: dict[str, Callable[[str], Path]] = {**figures.FIGURES, **study_figures.FIGURES}


def redraw_all(preset: str) -> dict[str, str]:
    """Draw every figure whose result files exist; name -> path, or the reason it was skipped."""
    out = {}
    for name, fn in FIGURES.items():
        try:
            out[name] = str(fn(preset))
        except FileNotFoundError as e:
            out[name] = f"skipped: {Path(e.filename).name if e.filename else e} not found"
    return out
