"""The comparison of 03_baselines: which runs a preset trains (our model and every baseline, per seed, the
equal-wall-clock DCGAN and the ablations), and training them."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core import paths
from ..core.config import Config
from ..core.errors import ConfigError
from ..core.presets import get_preset
from ..core.tables import save_table
from ..core.recipes import BASELINES, EQUAL_TIME, MAIN, MODELS, model_config, run_name
from ..data.datasets import load_dataset
from ..evaluation.evaluate import RUN_COLUMNS, evaluate_runs, summarize, summary_columns
from ..evaluation.features import FeatureSpace
from ..training.run import BUDGET_COLUMNS, run_stats
from ..training.train import train


def planned_runs(base: Config) -> list[tuple[str, int]]:
    """(model, seed) pairs the preset trains: main and baselines per seed, then the equal-time DCGAN and the
    ablations the image size allows, with the first seed."""
    p = get_preset(base.preset).plan
    runs = [(m, s) for s in p.seeds for m in (MAIN, *BASELINES)]
    for m in (*EQUAL_TIME, *p.ablations):
        try:
            model_config(base, m)
        except ConfigError:
            continue                    # e.g. attn32 at 16 px
        runs.append((m, p.seeds[0]))
    return runs


def train_planned(base: Config, runs_dir: Path, progress: bool = False) -> pd.DataFrame:
    """Train (or resume, or skip when complete) every planned run; one row per run with its budget."""
    rows = []
    for model, seed in planned_runs(base):
        run_dir = runs_dir / run_name(model, seed)
        steps = equal_time_steps(base, runs_dir, seed) if MODELS[model].equal_time else None
        summary = train(model_config(base, model, seed, steps), run_dir, progress=progress)
        rows.append({"model": model, "seed": seed, "run": run_dir.name, **run_stats(run_dir),
                     **{f"params_{k}": v for k, v in summary["parameters"].items()}})
    return pd.DataFrame(rows)


def evaluate_planned(base: Config, space: FeatureSpace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every planned run on `space` against the whole training split (04_evaluation): one row per run after the
    real-data floor, and the summary over seeds; written to tables/quality_{runs,summary}[_<space>].csv."""
    train, holdout = load_dataset(base.data, "train"), load_dataset(base.data, "holdout")
    real, _ = space.extract(train.images)
    runs_dir = paths.runs_dir(base.preset)
    planned = [(model, runs_dir / run_name(model, seed)) for model, seed in planned_runs(base)]
    runs = evaluate_runs(planned, space, real, train, holdout, get_preset(base.preset).plan.draws)
    summary = summarize(runs)
    suffix = "" if space.name == "domain" else f"_{space.name}"
    save_table(runs, base, f"quality_runs{suffix}", f"quality per run on {space.note}", RUN_COLUMNS)
    save_table(summary, base, f"quality_summary{suffix}", f"quality per model on {space.note}",
               summary_columns(list(summary.columns)))
    return runs, summary


def equal_time_steps(base: Config, runs_dir: Path, seed: int) -> int:
    """DCGAN steps that take our model's training wall-clock: base steps x (our wall-clock / the DCGAN's),
    both read from runs of this seed trained earlier in the same chain run (so on the same machine)."""
    ours, dcgan = (run_stats(runs_dir / run_name(m, seed)) for m in (MAIN, "dcgan"))
    ratio = (ours["train_wall_clock_s"] / ours["steps"]) / (dcgan["train_wall_clock_s"] / dcgan["steps"])
    return max(1, round(base.train.steps * ratio))


TRAINING_COLUMNS = {
    "model": "model name (MODELS)", "seed": "training seed", "run": "run folder under runs/", **BUDGET_COLUMNS,
    "params_G": "generator parameters",
    "params_D": "discriminator parameters (empty: no D)", "params_E": "encoder parameters (empty: no encoder)",
    "params_C": "latent classifier parameters (empty: model.latent_classifier off)",
}
