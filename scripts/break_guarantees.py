"""Break each guarantee on purpose, one at a time, in a scratch copy, and check that its tests fail (issue 15).

    python scripts/break_guarantees.py [NAME_PART ...]

Each entry of BREAKS replaces one piece of code with a broken version in a copy of the project under
/tmp/paperlib-breaks (results, runs and data left out) and runs the tests that hold that guarantee. Every line
should say CAUGHT; SURVIVED means a test still passes with the guarantee broken. An entry whose code text
no longer exists stops the script: update the entry with the code it guards.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
PY = sys.executable
BREAKS = [  # (name, file, old, new, tests)
 ("non-atomic checkpoint write", "paperlib/model/checkpoint.py",
  '    with atomic_path(path) as tmp:\n        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)',
  '    torch.save({"format": CHECKPOINT_FORMAT, **state}, path)', "tests/test_checkpoint.py"),
 ("weights_only left to torch's default", "paperlib/model/checkpoint.py", "weights_only=True)", ")", "tests/test_checkpoint.py"),
 ("divergence check removed", "paperlib/training/train.py",
  "        run.check_finite(values, stats_file)\n", "", "tests/test_train.py -k nan"),
 ("log appended, never restarted", "paperlib/training/train.py", "    stats_file = run.open_log() if run.world.main else None",
  '    stats_file = (run.dir / "stats.jsonl").open("a") if run.world.main else None',
  "tests/test_train.py -k afresh tests/test_crash_resume.py"),
 ("log kept whole on resume", "paperlib/training/run.py", '                    if json.loads(line)["step"] <= self.step:',
  '                    if json.loads(line)["step"] >= 0:', "tests/test_crash_resume.py"),
 ("stale checkpoint temporaries and old grids kept", "paperlib/training/run.py", "                stale.unlink()", "                pass",
  "tests/test_crash_resume.py tests/test_train.py -k 'afresh or sigkill'"),
 ("another world size resumed silently", "paperlib/training/run.py", "            if state.get(\"world_size\", 1) != world.size:",
  "            if False:", "tests/test_train.py -k processes"),
 ("failed write reported as a bare OSError", "paperlib/core/atomic.py", "    except OSError as e:", "    except ZeroDivisionError as e:",
  "tests/test_checkpoint.py"),
 ("failed write leaves its temporary file", "paperlib/core/atomic.py", "        tmp.unlink(missing_ok=True)", "        pass",
  "tests/test_checkpoint.py"),
 ("every Inception failure called missing weights", "paperlib/evaluation/features.py",
  "    except (OSError, RuntimeError, pickle.UnpicklingError) as e:", "    except Exception as e:", "tests/test_metrics.py -k inception"),
 ("held-out split ignores identical pixels", "paperlib/data/openmoji.py",
  '        for key in (("base", g.base), ("pixels", hashlib.sha256(img.tobytes()).digest())):',
  '        for key in (("base", g.base),):', "tests/test_data.py -k split"),
 ("withdrawn results kept on disk", "paperlib/report/chain.py", "                path.unlink()\n", "                pass\n", "tests/test_chain.py -k withdrawn"),
 ("a resumed run's clock restarts at zero", "paperlib/training/run.py", 'state.get("elapsed_s", 0.0)', "0.0",
  "tests/test_train.py -k clock"),
 ("a stale config without a checkpoint refused", "paperlib/training/run.py",
  "resuming=latest_checkpoint(run_dir) is not None", "resuming=True", "tests/test_train.py -k afresh"),
 ("encoder shape error as a plain ValueError", "paperlib/model/networks.py", "            raise InputError(f\"expected float images",
  "            raise ValueError(f\"expected float images", "tests/test_robustness.py"),
 ("a NaN seen by its own rank only", "paperlib/training/run.py", "        if all_true(self.world, finite):",
  "        if finite:", "tests/test_distributed.py -k nan"),
 ("fakes scored in a fixed number, not the held-out split's", "paperlib/evaluation/evaluate.py", "    n = len(holdout)\n    per_draw",
  "    n = 64\n    per_draw", "tests/test_evaluation_units.py"),
 ("copying check against the second-nearest image", "paperlib/evaluation/copying.py", '"sample_nn_dist": dist[:, 0]',
  '"sample_nn_dist": dist[:, 1]', "tests/test_evaluation_units.py -k copying"),
 ("editing examples without the unedited strength", "paperlib/report/figure_data.py", "    strengths = (0.0, 0.5, 1.0, 1.5)",
  "    strengths = (0.25, 0.5, 1.0, 1.5)", "tests/test_evaluation_units.py -k editing"),
 ("folder split by path, not pixels", "paperlib/data/datasets.py", "hashlib.sha256(every.images[i].numpy().tobytes())",
  "hashlib.sha256(every.ids[i].encode())", "tests/test_data.py -k folder_split"),
 ("edits pasted onto the reduced JPEG decode", "paperlib/data/photos.py", "    photo = open_photo(path, size)\n",
  "    photo = open_photo(path, size, draft=True)\n", "tests/test_edit_command.py -k large"),
 ("skipped photos not warned about on a cached load", "paperlib/data/datasets.py",
  '                _warn_skipped(root, size, len(files), [str(s) for s in z["small"]], [str(s) for s in z["unreadable"]])\n',
  "", "tests/test_data.py -k corrupt"),
]


def main() -> None:
    only = sys.argv[1:]
    for name, file, old, new, tests in BREAKS:
        if only and not any(o in name for o in only):
            continue
        scratch = Path("/tmp/paperlib-breaks")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(SRC, scratch, ignore=lambda folder, names: [    # data/ at the top only: paperlib/data is code
            n for n in names if n in (".git", "__pycache__") or (Path(folder) == SRC and n in ("results", "runs", "data"))])
        p = scratch / file
        s = p.read_text()
        if old not in s:
            sys.exit(f"{name}: {file} no longer holds the code this break replaces; update BREAKS")
        p.write_text(s.replace(old, new))
        r = subprocess.run(f"{PY} -m pytest -q -p no:cacheprovider -x {tests}", shell=True, cwd=scratch,
                           capture_output=True, text=True)
        summary = [line for line in r.stdout.splitlines() if " passed" in line or " failed" in line][-1:]
        print(f"{'CAUGHT' if r.returncode else 'SURVIVED'}  {name}  [{tests}]  {summary}", flush=True)


if __name__ == "__main__":
    main()
