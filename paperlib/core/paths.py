"""Where data, runs, tables and figures live: the one place paths are defined."""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root (or $PAPERLIB_ROOT); the working directory for a non-editable install."""
    if "PAPERLIB_ROOT" in os.environ:
        return Path(os.environ["PAPERLIB_ROOT"]).resolve()
    here = Path(__file__).resolve().parents[2]           # paperlib/core/paths.py -> the root
    return here if (here / "pyproject.toml").is_file() else Path.cwd().resolve()


def data_dir() -> Path:
    """Downloaded or user-provided data sets (data/raw) and rendered caches (data/processed)."""
    return project_root() / "data"


def processed_dir() -> Path:
    return data_dir() / "processed"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def results_dir(preset: str) -> Path:
    """All outputs of one preset's chain: results/<preset>/{tables,figures,arrays,runs,notebooks}."""
    return project_root() / "results" / preset


def tables_dir(preset: str) -> Path:
    return results_dir(preset) / "tables"


def figures_dir(preset: str) -> Path:
    return results_dir(preset) / "figures"


def arrays_dir(preset: str) -> Path:
    """Result arrays (sample grids, example images) that figures are drawn from."""
    return results_dir(preset) / "arrays"


def runs_dir(preset: str) -> Path:
    """Training run folders (config.json, stats.jsonl, samples/, checkpoints/)."""
    return results_dir(preset) / "runs"


def classifier_path(preset: str, dataset: str = "openmoji") -> Path:
    """A data set's domain classifier (the feature space of its metrics): OpenMoji's is 04_evaluation's."""
    return results_dir(preset) / "classifier" / ("domain.pt" if dataset == "openmoji" else f"{dataset}.pt")
