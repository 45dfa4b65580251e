"""The project's packaging: pyproject.toml and environment.yml agree; the Makefile has the README's commands."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _environment_pip_requirements() -> list[str]:
    text = (ROOT / "environment.yml").read_text()
    block = text.split("- pip:", 1)[1]
    reqs = re.findall(r'^\s+- "?([^"\n]+)"?\s*$', block, flags=re.M)
    return [r for r in reqs if r != "-e ."]


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(_environment_pip_requirements()) == sorted(pyproject)
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in ("setup", "reproduce", "test", "figures", "lab", "clean"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
        assert f"make {target}" in readme, target


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def test_every_notebook_has_one_parameters_cell_with_a_cheap_default():
    import nbformat

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert 'preset = "smoke"' in tagged[0].source, path.name
        assert nb.metadata["kernelspec"]["name"] == "paperlib", path.name
