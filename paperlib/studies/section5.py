"""The paper's §4.2 and §5 as experiments: other data sets, hyperparameter sensitivity, data scaling and
transfer learning (the adversarial part of §5.3 is in robustness.py).

Every study run starts from the preset's recipe at the study budget (`StudyPlan.steps` x `batch_size`,
the same for every run, so the same images seen) and lives in runs/studies/<name>. Quality is measured
on each data set's own domain classifier with `eval_images` fakes per draw; 64 px samples are resized to
the classifier's 32 px, so every run of a data set is judged in one feature space.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..core import paths
from ..core.config import Config, DataConfig, TrainConfig
from ..core.errors import DataError
from ..core.presets import get_config, get_preset
from ..core.recipes import MAIN, model_config
from ..data.datasets import ImageSet, data_root, load_dataset, to_uint8
from ..evaluation.claims import QUALITY_CLAIMS, kid_verdict, quality_claim
from ..evaluation.evaluate import FLOOR, RUN_COLUMNS, evaluate_runs, summarize
from ..evaluation.features import FeatureSpace, domain_classifier, domain_space
from ..evaluation.robustness import robustness_table
from ..model.checkpoint import latest_checkpoint, networks_from_checkpoint
from ..training.train import train


_LR_G, _LR_D = TrainConfig.lr_g, TrainConfig.lr_d

# §5.1: name -> (what changes, config overrides on our model)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "base": ("our model at the study budget", {}),
    "ch8": ("half the width (model.ch=8)", {"model.ch": 8}),
    "ch32": ("twice the width (model.ch=32)", {"model.ch": 32}),
    "depth2": ("two convolutions per feature-map side (model.depth=2)", {"model.depth": 2}),
    "size64": ("64 px images (attention stays at the 8 px feature maps)", {"data.image_size": 64}),
    "lr_low": ("learning rates halved", {"train.lr_g": _LR_G / 2, "train.lr_d": _LR_D / 2}),
    "lr_high": ("learning rates doubled", {"train.lr_g": _LR_G * 2, "train.lr_d": _LR_D * 2}),
    "attn4": ("self-attention at 4 px instead of 8", {"model.attn_res": (4,)}),
    "attn16": ("self-attention at 16 px instead of 8", {"model.attn_res": (16,)}),
    "attn_none": ("no self-attention (cross-attention kept)", {"model.attn_res": ()}),
}

# §4.2: where each data set may be found, in order; the first that loads is used
SOURCES: dict[str, tuple[DataConfig, ...]] = {
    "fashion_mnist": (DataConfig(name="fashion_mnist"),),    # data/raw/fashion_mnist, else Debian's files
    "cifar10": (DataConfig(name="cifar10"),                  # torchvision's pickles in data/raw/cifar10
                DataConfig(name="folder", root="data/raw/cifar10-folder")),   # or any ImageFolder of CIFAR-10
}


def openmoji_data(preset: str) -> DataConfig:
    """The preset's own OpenMoji data (the §5 studies and 02-05 share it, and 04's domain classifier)."""
    return get_config(preset).data


def study_config(preset: str, data: DataConfig, model: str = MAIN, **overrides: Any) -> Config:
    """The preset's recipe on `data` at the study budget, with a model's changes and then `overrides`."""
    p = get_preset(preset).study
    base = get_config(preset)
    base = replace(base, data=replace(data, image_size=base.data.image_size))
    base = base.override(**{"train.steps": p.steps, "train.batch_size": p.batch_size, "train.sample_every": p.steps,
                            "train.ckpt_every": p.steps, "train.log_every": max(1, p.steps // 20)})
    cfg = model_config(base, model)
    return cfg.override(**overrides) if overrides else cfg


def find_source(name: str, image_size: int) -> tuple[DataConfig | None, str]:
    """The first source of `name` whose held-out split loads, and a line saying which (or why none)."""
    reasons = []
    for source in SOURCES[name]:
        source = replace(source, image_size=image_size)
        try:
            held = load_dataset(source, "holdout")
        except DataError as e:
            reasons.append(str(e))
            continue
        where = source.root or f"data/raw/{source.name} (or the system's files)"
        if source.root and data_root(source).resolve() != data_root(source):
            where += f" -> {data_root(source).resolve()}"          # a link: say what it points to
        return source, f"{name}: {source.name} loader, {where}, {len(held)} held-out images"
    return None, f"{name}: not available ({' | '.join(reasons)})"


def run_dir(preset: str, name: str) -> Path:
    return paths.runs_dir(preset) / "studies" / name


@dataclass
class Reference:
    """What a data set's runs are judged against: a feature space and capped real sets."""

    space: FeatureSpace
    train: ImageSet          # the training split (label frequencies)
    holdout: ImageSet        # eval_images held-out images (as many fakes per draw)
    real: torch.Tensor       # features of up to 4 x eval_images training images


def reference(data: DataConfig, classifier: Path, classifier_steps: int, eval_images: int, seed: int = 0
              ) -> tuple[Reference, dict[str, Any]]:
    """Train (or reuse) the data set's domain classifier and extract the real reference features."""
    meta = domain_classifier(data, classifier, classifier_steps, seed)
    space = domain_space(classifier)
    train_set, held = load_dataset(data, "train"), load_dataset(data, "holdout")
    gen = torch.Generator().manual_seed(seed)
    held = held.subset(torch.randperm(len(held), generator=gen)[:eval_images].sort().values)
    real_idx = torch.randperm(len(train_set), generator=gen)[:4 * eval_images].sort().values
    real, _ = space.extract(train_set.images[real_idx])
    return Reference(space, train_set, held, real), meta


def evaluate_study_runs(runs: dict[str, Path], ref: Reference, draws: int) -> pd.DataFrame:
    """One row per study run (name -> folder) with the quality metrics, after the real-data floor; "name" and
    "model" both hold the run's name."""
    df = evaluate_runs(list(runs.items()), ref.space, ref.real, ref.train, ref.holdout, draws)
    df.insert(0, "name", df["model"])
    return df


def _trained(preset: str, runs: dict[str, Config], data: ImageSet | None = None) -> dict[str, Path]:
    """Train (resume, or skip when complete) each named study run; name -> folder."""
    out = {}
    for name, cfg in runs.items():
        out[name] = run_dir(preset, name)
        train(cfg, out[name], progress=False, data=data)
    return out


def openmoji_reference(preset: str) -> Reference:
    return reference(openmoji_data(preset), paths.classifier_path(preset, "openmoji"), get_preset(preset).plan.classifier_steps,
                     get_preset(preset).study.eval_images)[0]


# ----------------------------------------------------------------------------- §4.2 several data sets
def datasets_study(preset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the plan's models on every available extra data set and evaluate them on its own classifier.

    Returns (quality: one row per data set and run, after each set's real-data floor; sources: one row per set).
    """
    p = get_preset(preset).study
    size = get_config(preset).data.image_size
    quality, sources = [], []
    for name in p.datasets:
        data, line = find_source(name, size)
        sources.append({"dataset": name, "available": data is not None, "source": line})
        if data is None:
            continue
        train_set = load_dataset(data, "train")                 # once: a folder of JPEGs is slow to read
        runs = _trained(preset, {f"{name}-{m}": study_config(preset, data, m) for m in p.dataset_models}, train_set)
        ref, meta = reference(data, paths.classifier_path(preset, name), p.classifier_steps, p.eval_images)
        df = evaluate_study_runs(runs, ref, p.draws)
        df["model"] = [m if m == FLOOR else m.split("-", 1)[1] for m in df["model"]]
        df.insert(0, "dataset", name)
        df["classifier_accuracy"] = meta["holdout_accuracy"]
        quality.append(df)
        sources[-1]["classifier_accuracy"] = meta["holdout_accuracy"]
        sources[-1]["n_train"] = len(train_set)
    return (pd.concat(quality, ignore_index=True) if quality else pd.DataFrame(), pd.DataFrame(sources))


def chain_claims(preset: str) -> pd.DataFrame | None:
    """04_evaluation's claims table on OpenMoji, when this preset's chain has made it."""
    path = paths.tables_dir(preset) / "claims.csv"
    return pd.read_csv(path) if path.is_file() else None


def dataset_claims(quality: pd.DataFrame, chain_claims: pd.DataFrame | None, preset: str) -> pd.DataFrame:
    """The quality claims per data set (long form): the chain's OpenMoji verdicts, then each study data set's."""
    p = get_preset(preset).study
    rows = []
    if chain_claims is not None:
        cfg = get_config(preset)
        for _, r in chain_claims[chain_claims["claim"].isin([c for c, _ in QUALITY_CLAIMS])].iterrows():
            rows.append({"dataset": "openmoji", "budget": f"04_evaluation: {cfg.train.steps} steps x "
                         f"{cfg.train.batch_size}", **r.to_dict()})
    for dataset, group in (quality.groupby("dataset", sort=False) if len(quality) else []):
        summary = summarize(group)
        for claim, baseline in QUALITY_CLAIMS:
            if baseline in set(summary["model"]):
                rows.append({"dataset": dataset, "budget": f"07 study: {p.steps} steps x {p.batch_size}, one seed",
                             **quality_claim(summary, claim, baseline)})
    return pd.DataFrame(rows)


def claims_by_dataset(long: pd.DataFrame) -> pd.DataFrame:
    """The verdicts as a table with a column per data set."""
    wide = long.pivot(index="claim", columns="dataset", values="verdict")
    order = list(dict.fromkeys(long["claim"]))
    return wide.reindex(order)[list(dict.fromkeys(long["dataset"]))].reset_index().fillna("not measured")


# ----------------------------------------------------------------------------- §5.1 hyperparameters
def sensitivity_study(preset: str) -> pd.DataFrame:
    """Our model at the study budget on OpenMoji with one change at a time (VARIANTS); quality and cost."""
    p = get_preset(preset).study
    data = openmoji_data(preset)
    configs = {f"openmoji-{v}": study_config(preset, data, MAIN, **VARIANTS[v][1]) for v in ("base", *p.variants)}
    runs = _trained(preset, configs)
    df = evaluate_study_runs(runs, openmoji_reference(preset), p.draws)
    df["variant"] = [n.removeprefix("openmoji-") for n in df["name"]]
    df["change"] = [VARIANTS[v][0] if v in VARIANTS else "real held-out images (the floor)" for v in df["variant"]]
    df["params_G"] = [_parameters(runs[n])["G"] if n in runs else None for n in df["name"]]
    return df


def _parameters(folder: Path) -> dict[str, int]:
    return networks_from_checkpoint(latest_checkpoint(folder)).parameter_counts()


# ----------------------------------------------------------------------------- §5.2 data scaling
def scaling_study(preset: str) -> pd.DataFrame:
    """Our model on growing shares of the OpenMoji training split, with and without DiffAugment."""
    p = get_preset(preset).study
    data = openmoji_data(preset)
    configs, meta = {}, {}
    for fraction in p.fractions:
        for aug in (True, False):
            name = "openmoji-base" if fraction == 1.0 and aug else \
                f"openmoji-frac{round(100 * fraction)}-{'aug' if aug else 'noaug'}"
            cfg = study_config(preset, data, MAIN, **{"data.fraction": fraction,
                                                            **({} if aug else {"train.diffaug": ""})})
            configs[name] = cfg
            meta[name] = {"fraction": fraction, "diffaug": cfg.train.diffaug or "none",
                          "n_train": len(load_dataset(cfg.data, "train"))}
    df = evaluate_study_runs(_trained(preset, configs), openmoji_reference(preset), p.draws)
    for key in ("fraction", "diffaug", "n_train"):
        df[key] = [meta.get(n, {}).get(key) for n in df["name"]]
    return df


# ----------------------------------------------------------------------------- §5.3 transfer learning
def transfer_study(preset: str) -> pd.DataFrame:
    """Fine-tune the OpenMoji base run on the first available extra data set; against training from scratch
    for the same steps (the §4.2 run of our model on that set)."""
    p = get_preset(preset).study
    size = get_config(preset).data.image_size
    for name in p.datasets:
        data, _ = find_source(name, size)
        if data is not None:
            break
    else:
        return pd.DataFrame()
    source = _trained(preset, {"openmoji-base": study_config(preset, openmoji_data(preset))})["openmoji-base"]
    ckpt = latest_checkpoint(source)
    init = str(ckpt.relative_to(paths.project_root())) if ckpt.is_relative_to(paths.project_root()) else str(ckpt)
    train_set = load_dataset(data, "train")
    runs = _trained(preset, {f"{name}-{MAIN}": study_config(preset, data),
                             f"transfer-{name}": study_config(preset, data, **{"train.init_from": init})}, train_set)
    ref, _ = reference(data, paths.classifier_path(preset, name), p.classifier_steps, p.eval_images)
    df = evaluate_study_runs(runs, ref, p.draws)
    df.insert(0, "dataset", name)
    df["init"] = ["-" if n == FLOOR else "scratch" if n.endswith(f"-{MAIN}") else f"from {init}"
                  for n in df["name"]]
    fresh = json.loads((runs[f"transfer-{name}"] / "init_from.json").read_text())["fresh"]
    df["fresh_tensors"] = [len(fresh) if n.startswith("transfer-") else None for n in df["name"]]
    return df


STUDY_COLUMNS = {**RUN_COLUMNS,
    "dataset": "data set of the run", "name": "study run folder under runs/studies/ ('real (held-out)': the floor)",
    "variant": "§5.1 change (VARIANTS)", "change": "what the variant changes",
    "fraction": "share of the OpenMoji training split", "diffaug": "DiffAugment policy on D's inputs",
    "n_train": "training images the run saw (the share of the split)",
    "classifier_accuracy": "held-out accuracy of the data set's domain classifier",
    "init": "how the run started: scratch, or from the named checkpoint",
    "fresh_tensors": "tensors the source checkpoint could not provide (another shape: class embeddings)",
    "params_G": "generator parameters",
}
SOURCE_COLUMNS = {
    "dataset": "data set", "available": "whether a source of it loaded on this machine",
    "source": "the loader and folder used, or why none was found",
    "classifier_accuracy": "held-out accuracy of its domain classifier", "n_train": "training images",
}


# ----------------------------------------------------------------------------- §5.3 adversarial inputs
def attack_study(preset: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Attack the encoder of the OpenMoji base run on held-out images, with and without input filters.

    Returns the robustness table and example images (uint8, the strongest latent PGD) for the figure.
    """
    p = get_preset(preset).study
    source = _trained(preset, {"openmoji-base": study_config(preset, openmoji_data(preset))})["openmoji-base"]
    nets = networks_from_checkpoint(latest_checkpoint(source)).eval()
    cfg = get_config(preset)
    held = load_dataset(cfg.data, "holdout")
    idx = torch.randperm(len(held), generator=torch.Generator().manual_seed(cfg.train.seed))[:p.attack_images]
    x, y = held.batch(idx.sort().values)
    rows, examples = robustness_table(nets, x, y, p.attack_eps, p.pgd_steps, cfg.train.seed)
    return pd.DataFrame(rows), {k: to_uint8(v[:8].cpu()) for k, v in examples.items()}


# ----------------------------------------------------------------------------- verdicts of §5
def _compare(rows: pd.DataFrame, section: str, claim: str, ours: str, other: str) -> dict[str, str]:
    """KID of two single-seed study runs under the claims table's rule (claims.kid_verdict)."""
    if ours not in rows.index or other not in rows.index:
        return {"section": section, "claim": claim, "ours": ours, "baseline": other, "measured": "not measured",
                "verdict": "not measured", "reason": f"no evaluated run of {ours} or {other}"}
    a, b = rows.loc[ours], rows.loc[other]
    verdict, reason = kid_verdict(a, b)
    return {"section": section, "claim": claim, "ours": ours, "baseline": other,
            "measured": f"KID {a['kid']:.4f} vs {b['kid']:.4f}; precision {a['precision']:.2f} vs "
                        f"{b['precision']:.2f}; recall {a['recall']:.2f} vs {b['recall']:.2f}",
            "verdict": verdict, "reason": reason}


def section5_verdicts(preset: str, sensitivity: pd.DataFrame, scaling: pd.DataFrame, transfer: pd.DataFrame,
                      attacks: pd.DataFrame) -> pd.DataFrame:
    """One verdict per §5 question: each hyperparameter change, more data, DiffAugment, transfer, each filter."""
    p = get_preset(preset).study
    rows = []
    sens = sensitivity.set_index("name")
    for v in p.variants:
        rows.append(_compare(sens, "5.1", f"{VARIANTS[v][0]} improves on the base model", f"openmoji-{v}",
                             "openmoji-base"))
    scale = scaling.set_index("name")
    low = min(p.fractions)
    tag = f"frac{round(100 * low)}"
    rows += [_compare(scale, "5.2", f"all training images beat {low:.0%} of them", "openmoji-base",
                      f"openmoji-{tag}-aug"),
             _compare(scale, "5.2", f"DiffAugment helps with {low:.0%} of the images", f"openmoji-{tag}-aug",
                      f"openmoji-{tag}-noaug"),
             _compare(scale, "5.2", "DiffAugment helps with all the images", "openmoji-base",
                      "openmoji-frac100-noaug")]
    if len(transfer):
        name = transfer["dataset"].iloc[0]
        rows.append(_compare(transfer.set_index("name"), "5.3", f"fine-tuning from OpenMoji beats training from "
                             f"scratch on {name} at equal steps", f"transfer-{name}", f"{name}-{MAIN}"))
    eps = attacks["eps"].max()
    strongest = attacks[(attacks["attack"] == "pgd") & (attacks["objective"] == "latent") & (attacks["eps"] == eps)]
    cell = strongest.set_index(["filter", "attacker"])["latent_shift"]
    clean = attacks[attacks["attack"] == "none"].set_index("filter")["latent_shift"]
    bare = cell[("none", "unaware")]
    for f in [f for f in clean.index if f != "none"]:
        adaptive, unaware, cost = cell[(f, "adaptive")], cell[(f, "unaware")], clean[f]
        protects = adaptive < bare and cost < bare
        rows.append({"section": "5.3", "claim": f"{f} filtering protects the encoder (PGD on the latent, eps "
                     f"{eps * 255:.0f}/255)", "ours": f, "baseline": "no filter",
                     "measured": f"latent shift: attack, no filter {bare:.3f}; {f} against the adaptive attacker "
                                 f"{adaptive:.3f} (unaware attacker {unaware:.3f}); {f} alone on clean images {cost:.3f}",
                     "verdict": "supported" if protects else "not supported",
                     "reason": "supported only if the adaptive attack through the filter moves the latent less than "
                               "the attack without filter, and the filter alone moves it less than that attack"})
    return pd.DataFrame(rows)


VERDICT_COLUMNS = {
    "section": "the paper's section", "claim": "the question, phrased as a claim",
    "ours": "the run (or filter) the claim is about", "baseline": "what it is compared with",
    "measured": "the numbers behind the verdict", "verdict": "supported, not supported or mixed (see the reason)",
    "reason": "the rule applied and its inputs",
}
