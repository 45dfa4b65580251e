"""Two smoke-preset runs of the chain with the same seed give identical result tables on the CPU."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd

from paperlib.report import chain

from paperlib.core import paths
from paperlib.core.recipes import EQUAL_TIME as EQUAL_TIME_MODELS

ROOT = Path(__file__).resolve().parents[1]
TIMING = re.compile(r"wall_clock|images_per_s")           # measured times: the only columns allowed to differ
# ... and the equal-wall-clock DCGAN, whose step count is a measured time ratio
EQUAL_TIME = re.compile("|".join(EQUAL_TIME_MODELS))


def _chain_in(root: Path, shared_data: Path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "data").mkdir(parents=True)
    os.symlink(shared_data, root / "data" / "processed")   # the rendered OpenMoji cache, not results
    monkeypatch.setenv("PAPERLIB_ROOT", str(root))
    chain.run_chain("smoke", only=["00", "02", "03", "04"])
    return paths.tables_dir("smoke")


def _comparable(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df = df[[c for c in df.columns if not TIMING.search(c)]]
    if path.name == "claims.csv":                          # speed and scalability rows quote measured times
        df = df[~df["claim"].str.contains("faster|scales|equal wall-clock")]
    for column in ("model", "run"):
        if column in df:
            df = df[~df[column].astype(str).str.fullmatch(EQUAL_TIME)]
    return df.reset_index(drop=True)


def test_two_chain_runs_with_one_seed_write_identical_tables(tmp_path, project_root, monkeypatch, smoke_data):
    shared = project_root / "data" / "processed"           # smoke_data rendered it
    first = _chain_in(tmp_path / "a", shared, monkeypatch)
    second = _chain_in(tmp_path / "b", shared, monkeypatch)
    names = sorted(p.name for p in first.glob("*.csv") if p.name != "model_cost.csv")
    assert {"claims.csv", "quality_runs.csv", "quality_summary.csv", "classifier.csv", "training_runs.csv"} <= set(names)
    for name in names:
        pd.testing.assert_frame_equal(_comparable(first / name), _comparable(second / name), check_exact=True,
                                      obj=name)
