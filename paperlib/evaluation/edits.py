"""Do attribute edits work, and do they keep who is in the picture? Issue 13's two editing targets, measured.

The attribute is the `edit --attribute A:B` one (`editing.attribute_vector`): the mean latent of class B's
training images minus class A's.
It is added at each strength to the latent of every held-out image of class A, decoded with that image's own
class (the photo's class does not change; only its latent moves). A judge, a feature space whose logits are
the two classes (the domain classifier trained on the folder's labels), then says

- how many edited images it labels B (the edit works), and
- how many edited images are nearer, in its features, to their own source than to any other held-out image
  (the edit keeps identity; chance is one over the held-out count).

Strength 0 is the plain reconstruction: the same two numbers without an edit, which the edit is read against.
"""
from __future__ import annotations

import pandas as pd
import torch

from ..data.datasets import ImageSet, to_uint8
from ..model import editing
from ..model.networks import Networks
from ..model.sampling import decode
from .features import FeatureSpace

CHUNK = 256   # images per encoder or generator call

EDIT_SCORE_COLUMNS = {
    "strength": "multiple of the attribute vector added to each latent (0: the reconstruction)",
    "n_edited": "held-out images of class A edited",
    "judged_b": "share of edited images the judge labels as class B (issue 13's target: >= 0.8 at strength 1)",
    "identity_kept": "share of edited images nearest, in the judge's features, to their own source among all "
                     "held-out images (issue 13's target: >= 0.8)",
    "identity_chance": "one over the held-out count",
    "mean_abs_pixel_change": "mean |edited - reconstruction| on the [0, 1] scale",
}


@torch.no_grad()
def attribute_edit_scores(nets: Networks, judge: FeatureSpace, train: ImageSet, holdout: ImageSet, without: int,
                          with_: int, strengths: tuple[float, ...] = (0.0, 1.0)) -> pd.DataFrame:
    """One row per strength (EDIT_SCORE_COLUMNS) for the attribute from class `without` to class `with_`;
    the judge's logits must index the data set's classes."""
    def images(data: ImageSet, k: int) -> torch.Tensor:
        return data.batch((data.labels == k).nonzero().squeeze(1))[0]

    def encode(x: torch.Tensor) -> torch.Tensor:             # in chunks: a photo folder holds thousands
        return torch.cat([editing.encode(nets, x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])

    def decoded(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([decode(nets, z[i:i + CHUNK], y[i:i + CHUNK]) for i in range(0, len(z), CHUNK)])

    vector = encode(images(train, with_)).mean(0) - encode(images(train, without)).mean(0)
    sources = (holdout.labels == without).nonzero().squeeze(1)
    x, y = holdout.batch(sources)
    z = encode(x)
    held_features, _ = judge.extract(holdout.images)
    base, rows = decoded(z, y), []
    for s in strengths:
        out = decoded(z + s * vector, y)
        features, logits = judge.extract(torch.from_numpy(to_uint8(out)))
        nearest = torch.cdist(features, held_features).argmin(1)
        rows.append({"strength": s, "n_edited": len(sources),
                     "judged_b": (logits.argmax(1) == with_).double().mean().item(),
                     "identity_kept": (nearest == sources).double().mean().item(),
                     "identity_chance": 1 / len(holdout),
                     "mean_abs_pixel_change": (out - base).abs().mean().item() / 2})
    return pd.DataFrame(rows, columns=list(EDIT_SCORE_COLUMNS))
