"""The package's layering (paperlib/__init__.py): no import cycle, and no import that climbs back up."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "paperlib"
LAYERS = ("core", "data", "model", "training", "evaluation", "applications", "studies", "report")


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str], root: Path) -> set[str]:
    """The package modules a file imports, anywhere in it (function bodies and TYPE_CHECKING blocks too)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
    return {m for m in found if m in modules and m != name}


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    files = sorted(package.rglob("*.py"))
    modules = {module_name(f, package) for f in files}
    return {module_name(f, package): imports(f, modules, package) for f in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> int | None:
    """The layer's rank for paperlib.<layer>.*; None for the top-level package and __main__ (above them all)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_subpackage_is_a_declared_layer():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(LAYERS), "add a new subpackage to LAYERS (and to paperlib/__init__.py's list)"


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_imports_only_go_down_the_layers():
    climbing = [f"{m} -> {t}" for m, targets in graph().items() for t in targets
                if layer(m) is not None and (layer(t) is None or layer(t) > layer(m))]
    assert climbing == []


@pytest.mark.parametrize("source, expected", [
    ({"a.py": "from . import b\n", "b.py": "from .a import x\n"}, [["pkg.a", "pkg.b"]]),
    ({"a.py": "def f():\n    from .b import y\n", "b.py": "import pkg.a\n"}, [["pkg.a", "pkg.b"]]),
    ({"a.py": "from . import b\n", "b.py": "x = 1\n"}, []),
])
def test_the_cycle_finder_sees_cycles(tmp_path, source, expected):
    """The check itself: a cycle through a module-level or a function-local import is found."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in source.items():
        (package / name).write_text(text)
    assert cycles(graph(package)) == expected


def test_the_project_root_is_found_from_the_package_without_the_environment_variable(monkeypatch, tmp_path):
    """paths.project_root() from the package's own location (what papermill's notebooks/ working directory needs)."""
    from paperlib.core import paths

    monkeypatch.delenv("PAPERLIB_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.project_root() == PACKAGE.parent


def test_every_public_name_resolves_and_an_unknown_one_is_an_attribute_error():
    import paperlib

    for name in paperlib.__all__:
        assert name == "PRESETS" or getattr(paperlib, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        paperlib.nope


def test_the_edit_command_starts_without_training_and_metric_libraries():
    """`python -m paperlib edit` imports only the model and the photo code: issue 13 wants one edit in 2 s."""
    import subprocess
    import sys

    heavy = ("torchvision", "torchmetrics", "pandas", "matplotlib", "scipy", "prdc", "papermill")
    code = ("import sys, paperlib.__main__; "
            f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent).stdout.split()
    assert loaded == []
