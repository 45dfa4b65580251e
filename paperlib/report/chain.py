"""Run the numbered notebooks in order with papermill, injecting the preset.

Executed copies go to results/<preset>/notebooks/ (the sources are never overwritten), and
results/<preset>/manifest.json records the commit, preset, machine and wall-clock per notebook,
rewritten after each notebook so a crash keeps what finished. Its "withdrawn" entry lists the result
files a notebook removed because their input was absent on this machine (`withdraw`), so the folder
never keeps numbers from another machine or commit that this run did not make.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..core import paths
from ..core.atomic import atomic_write_text
from ..core.presets import get_preset
from ..core.env import env_info
from ..core.tables import meta_path

KERNEL = "paperlib"  # registered inside the venv by scripts/setup_env.sh


def notebooks() -> list[Path]:
    """The chain: notebooks/NN_*.ipynb in numeric order."""
    return sorted(paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))


def kernel_name() -> str:
    """The project kernel if registered, else the current environment's python3 (with a note)."""
    from jupyter_client.kernelspec import find_kernel_specs

    if KERNEL in find_kernel_specs():
        return KERNEL
    print(f"chain: kernel {KERNEL!r} is not registered (run `make setup`); using python3")
    return "python3"


def run_chain(preset: str, only: list[str] | None = None) -> dict:
    """Execute the chain (or the notebooks whose names start with one of `only`) at `preset`."""
    import papermill

    get_preset(preset)                       # an unknown name fails here, before any notebook runs
    chosen = [nb for nb in notebooks() if not only or any(nb.stem.startswith(o) for o in only)]
    if not chosen:
        raise FileNotFoundError(f"no notebooks matching {only} in {paths.notebooks_dir()}")
    out_dir = paths.results_dir(preset) / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = paths.results_dir(preset) / "manifest.json"
    env = env_info()
    kernel = kernel_name()
    for nb in chosen:
        print(f"chain: {nb.name} (preset={preset})", flush=True)
        manifest = _read_manifest(preset)            # a notebook's withdrawals are redone by its new run
        manifest["withdrawn"] = {k: v for k, v in manifest["withdrawn"].items() if v["notebook"] != nb.stem}
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2))
        start = time.perf_counter()
        papermill.execute_notebook(str(nb), str(out_dir / nb.name), parameters={"preset": preset},
                                   kernel_name=kernel, cwd=str(nb.parent), progress_bar=False)
        seconds = time.perf_counter() - start
        manifest = _read_manifest(preset)            # with what the notebook withdrew
        manifest.update({"preset": preset, "env": env})
        manifest["notebooks"][nb.stem] = {"wall_clock_s": round(seconds, 1), "finished": time.strftime(
            "%Y-%m-%dT%H:%M:%S%z"), "commit": env["commit"]}
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2))
        print(f"chain: {nb.name} done in {seconds:.0f} s", flush=True)
    return _read_manifest(preset)


def _read_manifest(preset: str) -> dict:
    path = paths.results_dir(preset) / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    return {"notebooks": {}, "withdrawn": {}, **manifest}


def withdraw(preset: str, notebook: str, files: list[str], reason: str) -> list[str]:
    """Remove result files (relative to results/<preset>/) that `notebook` could not remake on this
    machine, with a CSV's .meta.json sidecar, and record each with the reason in the manifest.
    Returns the files that existed and were removed."""
    root = paths.results_dir(preset)
    removed = []
    for name in files:
        target = root / name
        for path in [target, *([meta_path(target)] if target.suffix == ".csv" else [])]:
            if path.is_file():
                path.unlink()
                removed.append(str(path.relative_to(root)))
    manifest = _read_manifest(preset)
    manifest["withdrawn"].update({name: {"notebook": notebook, "reason": reason} for name in files})
    atomic_write_text(root / "manifest.json", json.dumps(manifest, indent=2))
    return removed


def withdrawn_lines(preset: str) -> list[str]:
    """One line per result a notebook could not make on this machine, and why: `make test` prints them after
    nbval, so a CI log shows every cell that skipped for want of its input."""
    return [f"skipped by {entry['notebook']}: {name} ({entry['reason']})"
            for name, entry in _read_manifest(preset)["withdrawn"].items()]
