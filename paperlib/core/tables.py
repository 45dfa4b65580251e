"""Result tables: CSV files with a sidecar .meta.json that documents the columns and the provenance."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .atomic import atomic_path, atomic_write_text
from .config import Config
from .env import env_info


def meta_path(table: Path) -> Path:
    """The .meta.json sidecar of a CSV table."""
    return table.with_suffix(".meta.json")


def write_table(df: pd.DataFrame, path: Path, description: str, columns: dict[str, str],
                config: dict[str, Any] | None = None, seed: int | None = None) -> Path:
    """Write df to path (CSV, atomically) and path.meta.json (columns, description, config, seed, env)."""
    missing = [c for c in df.columns if c not in columns]
    if missing:
        raise ValueError(f"document every column of {path.name}: no description for {missing}")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    meta = {"description": description, "columns": {c: columns[c] for c in df.columns},
            "config": config, "seed": seed, "env": env_info()}
    atomic_write_text(meta_path(path), json.dumps(meta, indent=2))
    return path


def save_table(df: pd.DataFrame, cfg: Config, name: str, description: str, columns: dict[str, str]) -> Path:
    """write_table to results/<preset>/tables/<name>.csv, recording the run config and seed that made it."""
    return write_table(df, paths.tables_dir(cfg.preset) / f"{name}.csv", description, columns, cfg.to_dict(),
                       cfg.train.seed)


def data_summary(subset_sets: dict[str, tuple[Any, Any]]) -> pd.DataFrame:
    """Counts per subset and class for train and held-out ImageSets: {subset: (train, holdout)}."""
    rows = []
    for subset, (train, holdout) in subset_sets.items():
        for k, name in enumerate(train.class_names):
            rows.append({"subset": subset, "class": name, "train": int((train.labels == k).sum()),
                         "holdout": int((holdout.labels == k).sum())})
    return pd.DataFrame(rows)


DATA_SUMMARY_COLUMNS = {
    "subset": "data subset (OpenMoji: faces, people, animals, people_animals, all)",
    "class": "class label name (face/person/animal, or the Unicode emoji group for 'all')",
    "train": "images in the training split",
    "holdout": "images in the held-out split (evaluation only; split by base glyph)",
}
