"""The copying check: how near generated samples sit to their nearest training images, against held-out
real images (a generator that copies its training set puts its samples much nearer)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..data.datasets import ImageSet, to_uint8
from ..model.networks import Networks
from ..model.sampling import generate
from .evaluate import eval_labels
from .features import FeatureSpace


@torch.no_grad()
def copying_check(nets: Networks, train: ImageSet, holdout: ImageSet, features: FeatureSpace, n_show: int = 8,
                  k: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Nearest training images of generated samples, against the same distances for held-out real images.

    A generator that copies its training set puts its samples much closer to training images than
    held-out real images are; distances are in `features`' space.
    """
    n = len(holdout)
    labels = eval_labels(train, n, seed)
    fake = torch.from_numpy(to_uint8(generate(nets, n, labels, seed)))
    pool, _ = features.extract(train.images)
    f_fake, _ = features.extract(fake)
    f_held, _ = features.extract(holdout.images)
    idx, dist = nearest_neighbours(f_fake, pool, k)
    _, held_dist = nearest_neighbours(f_held, pool, 1)
    show = torch.arange(n_show)
    return {"samples": fake[show].numpy(), "neighbours": train.images[idx[show]].numpy(),
            "sample_nn_dist": dist[:, 0].numpy(), "holdout_nn_dist": held_dist[:, 0].numpy(),
            "shown_dist": dist[show].numpy()}


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, pool: torch.Tensor, k: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (Q, k) and Euclidean distances (Q, k) of each query's k nearest rows of pool (both (N, d))."""
    d = torch.cdist(queries.double(), pool.double())
    dist, idx = d.topk(k, dim=1, largest=False)
    return idx, dist


def copying_table(check: dict[str, np.ndarray]) -> pd.DataFrame:
    """The copying check's numbers (COPYING_COLUMNS) for generated and for held-out real images."""
    d_held = check["holdout_nn_dist"]
    return pd.DataFrame([{"set": name, "n": len(d), "median_nn_distance": float(np.median(d)),
                          "share_below_held_out_5th_percentile": float((d < np.percentile(d_held, 5)).mean())}
                         for name, d in (("generated", check["sample_nn_dist"]), ("held-out real", d_held))])


COPYING_COLUMNS = {
    "set": "generated (EMA generator, training class mix) or held-out real images",
    "n": "images", "median_nn_distance": "median Euclidean distance to the nearest training image",
    "share_below_held_out_5th_percentile": "share of images closer to a training image than 95% of "
                                           "held-out real images are (~0.05 for real data; near 1 = copying)",
}
