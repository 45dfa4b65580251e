#!/usr/bin/env bash
# Create or update the project's virtual environment; idempotent and cheap when nothing changed.
#   VENV (default ~/.cache/paperlib/venv) outlives any one clone, so torch is installed once.
# Dependencies are reinstalled only when pyproject.toml changes; the editable install is
# re-pointed (no dependencies, seconds) when the checkout moves (checked from / so that the
# checkout's own paperlib/ folder does not answer for the installed one).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-$HOME/.cache/paperlib/venv}
PY="$VENV/bin/python"
stamp="$VENV/.paperlib-deps"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)

[ -x "$PY" ] || { echo "setup: creating $VENV"; python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"; }
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing dependencies from pyproject.toml (first run takes a few minutes)"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e .
    echo "$want" > "$stamp"
elif [ "$(cd / && "$PY" -c 'import paperlib, pathlib; print(pathlib.Path(paperlib.__file__).resolve().parents[1])' 2>/dev/null)" != "$(pwd -P)" ]; then
    echo "setup: pointing the editable install at $(pwd -P)"
    "$PY" -m pip install --quiet --no-deps --no-build-isolation -e .
fi
# The kernel the notebook chain runs on (papermill -k paperlib, make lab), inside the venv only.
[ -f "$VENV/share/jupyter/kernels/paperlib/kernel.json" ] || \
    "$PY" -m ipykernel install --sys-prefix --name paperlib --display-name "Python (paperlib)" >/dev/null
