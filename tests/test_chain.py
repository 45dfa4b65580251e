"""The papermill chain that `make reproduce` runs: executed copies and a manifest, sources untouched."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from paperlib import chain, paths

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
