#!/usr/bin/env bash
# Check the explorer in a real browser: JupyterLab in headless Chromium runs a notebook that opens the explorer
# on a checkpoint, clicks a query point on the guided image, and saves a screenshot.
#   bash scripts/explorer_in_browser.sh CHECKPOINT.pt OUT.png [PRESET]
# Needs Debian's chromium (apt-get install chromium) and Node.js; playwright-core is installed by npm into a
# scratch folder. Not part of `make test`: it needs a browser, and what it proves is what the screenshot shows.
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=$(realpath "$1"); OUT=$(realpath -m "$2"); PRESET=${3:-quick}
VENV=${VENV:-$HOME/.cache/paperlib/venv}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM: apt-get install chromium (or set CHROMIUM=...)" >&2; exit 2; }
bash scripts/setup_env.sh                       # the venv's paperlib must be this checkout's
WORK=$(mktemp -d); LAB=
trap 'kill "${LAB:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
(cd "$WORK" && npm install --silent --no-audit --no-fund playwright-core@1 >/dev/null)

# the notebook the browser runs: the explorer on held-out images of the preset's data, as 08 shows it
"$VENV/bin/python" - "$WORK/explorer.ipynb" "$CKPT" "$PRESET" "$WORK/photos" <<'EOF'
import sys
import nbformat
out, ckpt, preset, photos = sys.argv[1:]
code = f"""from pathlib import Path
from paperlib import get_config, load_dataset
from paperlib.applications import photo_editing
from paperlib.applications.explorer import explorer
cfg = get_config({preset!r})
editor = photo_editing.load_editor({ckpt!r})
by_class = photo_editing.example_photos(cfg.data, load_dataset(cfg.data, 'holdout'), Path({photos!r}), per_class=2)
folders = [Path({photos!r}) / name for name in by_class][:2]
explorer(editor, [p for files in by_class.values() for p in files], tuple(folders) if len(folders) == 2 else None)"""
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
nb.metadata["kernelspec"] = {"name": "paperlib", "display_name": "Python (paperlib)", "language": "python"}
nbformat.write(nb, out)
EOF

PORT=18888
"$VENV/bin/jupyter" lab --no-browser --allow-root --port "$PORT" --ServerApp.token= --ServerApp.password= \
    --ServerApp.root_dir="$WORK" >"$WORK/lab.log" 2>&1 &
LAB=$!
for _ in $(seq 60); do curl -s "http://127.0.0.1:$PORT/api" >/dev/null && break; sleep 1; done
curl -s "http://127.0.0.1:$PORT/api" >/dev/null || { echo "JupyterLab did not start: $WORK/lab.log" >&2; exit 1; }

cat >"$WORK/click.mjs" <<EOF
import { chromium } from "playwright-core";
const browser = await chromium.launch({ executablePath: "$CHROMIUM", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await page.goto("http://127.0.0.1:$PORT/lab/tree/explorer.ipynb");
await page.waitForSelector(".jp-Notebook .jp-Cell", { timeout: 120000 });
await page.click(".jp-Notebook .jp-Cell");
await page.keyboard.press("Shift+Enter");
const images = page.locator(".widget-image");
await images.nth(4).waitFor({ timeout: 240000 });
await page.waitForTimeout(2000);
const guided = images.nth(2);
await guided.click({ position: { x: 16, y: 144 } });       // near the bottom-left corner: query (0.9, 0.1)
await page.waitForTimeout(8000);
const readouts = await page.locator(".widget-readout").allInnerTexts();
console.log("slider readouts after the click: " + readouts.join(", "));
await page.locator(".jp-OutputArea-output").first().screenshot({ path: "$OUT" });
await browser.close();
if (!(readouts.includes("0.90") && readouts.includes("0.10"))) {
  console.error("the click did not move the query sliders to (0.90, 0.10)");
  process.exit(1);
}
EOF
(cd "$WORK" && node click.mjs)
echo "screenshot: $OUT"
