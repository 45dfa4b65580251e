"""The papermill chain that `make reproduce` runs: executed copies and a manifest, sources untouched."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from paperlib.report import chain

from paperlib.core import paths

ROOT = Path(__file__).resolve().parents[1]


def test_chain_executes_a_notebook_into_results_and_records_it(project_root):
    shutil.copytree(ROOT / "notebooks", project_root / "notebooks", dirs_exist_ok=True)
    source = (project_root / "notebooks" / "00_data.ipynb").read_bytes()
    manifest = chain.run_chain("smoke", only=["00"])
    executed = paths.results_dir("smoke") / "notebooks" / "00_data.ipynb"
    assert executed.is_file() and (paths.tables_dir("smoke") / "data_summary.csv").is_file()
    assert (project_root / "notebooks" / "00_data.ipynb").read_bytes() == source
    saved = json.loads((paths.results_dir("smoke") / "manifest.json").read_text())
    assert saved["notebooks"]["00_data"]["wall_clock_s"] > 0 and saved["preset"] == "smoke"
    assert manifest["notebooks"].keys() == {"00_data"}


def test_a_papermill_parameter_of_the_wrong_type_fails_with_the_reason(project_root):
    import papermill
    import pytest

    shutil.copytree(ROOT / "notebooks", project_root / "notebooks", dirs_exist_ok=True)
    with pytest.raises(papermill.PapermillExecutionError, match="has type int; give a preset name"):
        papermill.execute_notebook(str(project_root / "notebooks" / "02_train.ipynb"),
                                   str(project_root / "bad.ipynb"), parameters={"preset": 3},
                                   kernel_name=chain.kernel_name(), progress_bar=False)


def test_withdrawn_results_are_removed_recorded_and_cleared_by_the_notebooks_next_run(project_root):
    """A table a notebook could not remake here (its data set is absent) must not survive from another run."""
    root = paths.results_dir("smoke")
    (root / "tables").mkdir(parents=True, exist_ok=True)
    (root / "tables" / "transfer.csv").write_text("a\n1\n")
    (root / "tables" / "transfer.meta.json").write_text("{}")
    removed = chain.withdraw("smoke", "07_section5", ["tables/transfer.csv", "figures/transfer.png"], "no data")
    assert removed == ["tables/transfer.csv", "tables/transfer.meta.json"]
    assert not list((root / "tables").glob("transfer*"))
    saved = json.loads((root / "manifest.json").read_text())
    assert saved["withdrawn"]["figures/transfer.png"] == {"notebook": "07_section5", "reason": "no data"}
    assert "skipped by 07_section5: figures/transfer.png (no data)" in chain.withdrawn_lines("smoke")

    shutil.copytree(ROOT / "notebooks", project_root / "notebooks", dirs_exist_ok=True)
    chain.withdraw("smoke", "00_data", ["tables/other.csv"], "absent")
    manifest = chain.run_chain("smoke", only=["00"])          # 00 withdraws nothing this time
    assert set(manifest["withdrawn"]) == {"tables/transfer.csv", "figures/transfer.png"}
