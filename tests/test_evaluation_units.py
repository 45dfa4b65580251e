"""evaluate_run, the studies' evaluation, the copying check and the editing examples, on tiny inputs.

A pixel feature space stands in for the domain classifier, so every number can be checked by hand.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from paperlib.data.datasets import to_uint8
from paperlib.evaluation import copying
from paperlib.evaluation.copying import copying_check
from paperlib.report import figure_data

from paperlib import load_dataset

from paperlib.training.train import train
from paperlib.evaluation.evaluate import evaluate_run
from paperlib.core.recipes import model_config
from paperlib.evaluation.features import FeatureSpace
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks
from paperlib.model.sampling import reconstruct
from paperlib.studies.section5 import Reference, evaluate_study_runs


class PixelFeatures(nn.Module):
    """uint8 images -> (their pixels in [0, 1] as features, the mean of each colour channel as logits)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = x.float().div(255)
        return f.flatten(1), f.mean(dim=(2, 3))


@pytest.fixture(scope="module")
def space() -> FeatureSpace:
    return FeatureSpace("pixels", PixelFeatures(), "raw pixels (tests)")


@pytest.fixture(scope="module")
def holdout(smoke_cfg):
    return load_dataset(smoke_cfg.data, "holdout")


@pytest.fixture(scope="module")
def run(tmp_path_factory, smoke_cfg, smoke_data):
    folder = tmp_path_factory.mktemp("eval") / "attngan"
    train(smoke_cfg.override(**{"train.steps": 2}), folder, progress=False, data=smoke_data)
    return folder


def test_evaluate_run_scores_as_many_fakes_as_held_out_images_and_the_encoder_paths(run, space, smoke_data,
                                                                                      holdout):
    real, _ = space.extract(smoke_data.images)
    row = evaluate_run(run, space, real, smoke_data, holdout, draws=2)
    assert row["n_fake"] == len(holdout) and row["n_real"] == len(smoke_data) and row["draws"] == 2
    assert row["steps"] == 2 and row["checkpoint"] == "step_000002.pt" and row["features"] == "pixels"
    assert row["kid_draw_std"] >= 0 and 0 <= row["recall"] <= 1
    assert np.isfinite(row["rec_psnr_db"]) and np.isfinite(row["rec_guided_psnr_db"])
    assert row["guide_n"] % 16 == 0 and 0 <= row["guide_match"] <= 1 and row["guide_chance"] == 1 / 16
    assert evaluate_run(run, space, real, smoke_data, holdout, draws=2) == row          # seeded: the same again


def test_evaluate_run_needs_a_checkpoint(tmp_path, space, smoke_data, holdout):
    with pytest.raises(FileNotFoundError, match="train it first"):
        evaluate_run(tmp_path, space, torch.zeros(4, 3), smoke_data, holdout, draws=1)


def test_the_studies_evaluation_puts_the_real_floor_first_and_records_each_runs_seed(run, space, smoke_data,
                                                                                    holdout):
    real, _ = space.extract(smoke_data.images)
    table = evaluate_study_runs({"tiny": run}, Reference(space, smoke_data, holdout, real), draws=1)
    assert table["name"].tolist() == ["real (held-out)", "tiny"] and table["seed"].iloc[1] == 0
    floor, ours = table.iloc[0], table.iloc[1]
    assert floor["kid"] < ours["kid"]                 # held-out images are nearer the training images than 2-step fakes


def _fresh(cfg, model: str) -> Networks:
    return Networks(ModelArgs.from_config(model_config(cfg, model).model, 16, 3)).eval()


def test_the_copying_check_finds_a_copying_generator(monkeypatch, space, smoke_cfg, smoke_data, holdout):
    nets = _fresh(smoke_cfg, "attngan")
    honest = copying_check(nets, smoke_data, holdout, space)
    copies = smoke_data.batch(slice(0, len(holdout)))[0]
    monkeypatch.setattr(copying, "generate", lambda *a, **k: copies)
    copied = copying_check(nets, smoke_data, holdout, space)
    assert copied["sample_nn_dist"].max() < 1e-4 * np.median(honest["holdout_nn_dist"])   # 0 up to rounding
    assert np.array_equal(copied["neighbours"][:, 0], copied["samples"])     # each copy's nearest is its original
    assert np.median(honest["sample_nn_dist"]) > np.percentile(honest["holdout_nn_dist"], 5) > 0
    assert copied["shown_dist"].shape == (8, 3) and copied["neighbours"].shape == (8, 3, 3, 16, 16)


def test_the_editing_examples_have_their_shapes_and_strength_zero_is_the_reconstruction(smoke_cfg, holdout):
    nets = _fresh(smoke_cfg, "attngan")
    out = figure_data.editing_examples(nets, holdout)
    assert out["interpolation"].shape == (3, 8, 3, 16, 16) and out["interpolation"].dtype == np.uint8
    assert out["attribute"].shape == (3, 4, 3, 16, 16) and out["attribute_strengths"].tolist() == [0, 0.5, 1, 1.5]
    assert str(out["attribute_name"]) == "+ (animal - face)"
    assert out["guided"].shape == (3, 4, 3, 16, 16) and out["guided_references"].shape == (3, 3, 16, 16)
    faces = (holdout.labels == 0).nonzero().squeeze(1)
    x, y = holdout.batch(faces)
    recs = to_uint8(reconstruct(nets, x, y))
    for row in out["attribute"]:                     # strength 0 is E -> G of one of the face images (to a grey
        assert any(np.abs(row[0].astype(int) - r).max() <= 1 for r in recs)   # level: batch sizes differ)
    assert "guided" not in figure_data.editing_examples(_fresh(smoke_cfg, "noattn"), holdout)


class _PixelEncoder(nn.Module):
    """A stand-in encoder: an image's latent is its pixels (no context features)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict]:
        return x.flatten(1), torch.zeros_like(x.flatten(1)), {}


class _PixelDecoder(nn.Module):
    """A stand-in generator: its latent w is z (no class code), and w is the image's pixels."""

    def latent(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return z

    def synthesize(self, w: torch.Tensor, context: dict | None = None) -> torch.Tensor:
        return w.view(-1, 3, 4, 4)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, context: dict | None = None) -> torch.Tensor:
        return self.synthesize(self.latent(z, y), context)


def test_attribute_edit_scores_count_flips_to_b_and_kept_identities(space):
    """Latents are pixels, the judge reads the brightest channel: red images moved by the blue class's mean
    minus the red class's become blue (judged B) and land nearer the blue images than their own source."""
    from types import SimpleNamespace

    from paperlib.data.datasets import ImageSet
    from paperlib.evaluation.edits import attribute_edit_scores, class_edit_scores

    def colour(channel: int, n: int, start: int) -> torch.Tensor:
        images = torch.zeros(n, 3, 4, 4, dtype=torch.uint8)
        images[:, channel] = (start + 10 * torch.arange(n)).view(n, 1, 1).to(torch.uint8)
        return images

    def image_set(n: int, start: int) -> ImageSet:
        images = torch.cat([colour(2, n, start), colour(0, n, start)])        # blue first: sources are not 0..n-1
        return ImageSet(images, torch.tensor([2] * n + [0] * n), ["red", "green", "blue"],
                        [str(i) for i in range(2 * n)], "colours")

    nets = SimpleNamespace(E=_PixelEncoder(), G_ema=_PixelDecoder(), args=SimpleNamespace(n_classes=3),
                           check_images=lambda x: None)
    table = attribute_edit_scores(nets, space, image_set(6, 150), image_set(4, 160), without=0, with_=2)
    at = table.set_index("strength")
    assert at.loc[0.0, ["judged_b", "identity_kept", "mean_abs_pixel_change"]].tolist() == [0.0, 1.0, 0.0]
    assert at.loc[1.0, "judged_b"] == 1.0 and at.loc[1.0, "identity_kept"] == 0.0
    assert at.loc[1.0, "mean_abs_pixel_change"] == pytest.approx(175 / 127.5 * 2 / 3 / 2)   # two channels moved
    assert (table["n_edited"] == 4).all()
    assert table["identity_chance"].tolist() == [1 / 8, 1 / 8]
    scores = class_edit_scores(nets, space, image_set(6, 150), image_set(4, 160))   # red -> blue and blue -> red
    assert scores == {"edit_judged_b": 1.0, "edit_identity_kept": 0.0, "rec_identity_kept": 1.0}


def test_edits_are_judged_by_the_judges_class_of_the_same_name_or_openmojis_unicode_group(space):
    from dataclasses import replace

    from paperlib.core.errors import InputError
    from paperlib.data.datasets import ImageSet
    from paperlib.evaluation.edits import judge_classes

    def data(names: list[str]) -> ImageSet:
        return ImageSet(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, dtype=torch.long), names, ["0"], "x")

    openmoji_judge = replace(space, class_names=("Activities", "Animals & Nature", "People & Body",
                                                 "Smileys & Emotion"))
    assert judge_classes(openmoji_judge, data(["face", "person", "animal"])) == [3, 2, 1]
    assert judge_classes(replace(space, class_names=("dogs", "cats")), data(["cats", "dogs"])) == [1, 0]
    assert judge_classes(space, data(["cats", "dogs"])) == [0, 1]          # no names: the data set's own order
    with pytest.raises(InputError, match="no class for birds"):
        judge_classes(replace(space, class_names=("cats", "dogs")), data(["cats", "birds"]))


def test_class_code_effect_measures_how_far_the_class_code_moves_a_decode():
    from types import SimpleNamespace

    from paperlib.evaluation.edits import class_code_effect

    level = torch.tensor([-0.5, 0.0, 0.5])

    class ClassWhereMeanIsHigh(nn.Module):   # draws its class's flat level for latents of mean > 0.5, else grey:
        def forward(self, z, y=None, context=None):   # the encodings (pixels in [0.5, 1]) obey the class, prior z not
            obeys = (z.mean(1) > 0.5).float()[:, None, None, None]
            return obeys * level[y][:, None, None, None].expand(len(z), 3, 4, 4)

    nets = SimpleNamespace(E=_PixelEncoder(), G_ema=ClassWhereMeanIsHigh(), args=SimpleNamespace(n_classes=3),
                           check_images=lambda x: None)
    x = torch.rand(200, 3, 4, 4) * 0.5 + 0.5                                  # latents = pixels, mean 0.75
    effect = class_code_effect(nets, x)
    assert effect["class_effect_encoded"] == pytest.approx((0.25 + 0.5 + 0.25) / 3)
    assert effect["class_effect_prior"] == pytest.approx(0.0, abs=0.01)     # prior means are near 0
    expected_ratio = x.flatten(1).norm(dim=1).mean() / 48 ** 0.5              # |prior z| is about sqrt(48)
    assert effect["latent_norm_ratio"] == pytest.approx(expected_ratio.item(), rel=0.05)
    nets.G_ema = _PixelDecoder()         # ignores the class: no edit of the class can move it
    assert class_code_effect(nets, torch.rand(5, 3, 4, 4))["class_effect_encoded"] == 0
