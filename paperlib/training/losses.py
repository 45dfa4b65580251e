"""Losses: hinge (SAGAN/BigGAN) and non-saturating (DCGAN) adversarial, LeCam, reconstruction and KL."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss: mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def hinge_g(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss: -mean(D(G(z)))."""
    return -fake_scores.mean()


def nonsaturating_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The original GAN's D loss on logits: -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z))))."""
    return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()


def nonsaturating_g(fake_scores: torch.Tensor) -> torch.Tensor:
    """The non-saturating G loss: -log sigmoid(D(G(z)))."""
    return F.softplus(-fake_scores).mean()


def adversarial_d(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """D loss of the named kind (train.loss: hinge | nonsaturating)."""
    return hinge_d(real_scores, fake_scores) if kind == "hinge" else nonsaturating_d(real_scores, fake_scores)


def adversarial_g(kind: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """G loss of the named kind (train.loss: hinge | nonsaturating)."""
    return hinge_g(fake_scores) if kind == "hinge" else nonsaturating_g(fake_scores)


class LeCam:
    """LeCam regularisation of D (Tseng et al., 2021), for GANs trained on little data.

    Keeps moving averages (decay 0.99, started at the first step's values) of D's mean score on real and on
    fake images, and penalises real scores above the fake anchor and fake scores below the real anchor:
    mean(relu(D(x) - a_fake)^2) + mean(relu(a_real - D(G(z)))^2). This keeps D's scores from drifting
    apart when it starts to memorise a small training set. The anchors are training state (checkpointed).
    """

    decay = 0.99

    def __init__(self) -> None:
        self.anchors = torch.full((2,), float("nan"))          # (real, fake); NaN until the first step

    def __call__(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        means = torch.stack([real_scores.mean(), fake_scores.mean()]).detach().float()
        anchors = self.anchors.to(means.device)             # kept on the scores' device: no sync per step
        self.anchors = torch.where(anchors.isnan(), means, self.decay * anchors + (1 - self.decay) * means)
        real_anchor, fake_anchor = self.anchors.to(real_scores.device, real_scores.dtype)
        return F.relu(real_scores - fake_anchor).pow(2).mean() + F.relu(real_anchor - fake_scores).pow(2).mean()


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dimensions, averaged over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()


def reconstruction(x_rec: torch.Tensor, x: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Mean absolute (l1) or squared (mse) error per pixel."""
    return F.l1_loss(x_rec, x) if kind == "l1" else F.mse_loss(x_rec, x)


def pooled_l1(images: torch.Tensor, references: torch.Tensor, factor: int = 1) -> torch.Tensor:
    """L1 between images and references average-pooled by `factor` (1: pixels).

    The content loss of guided generation. Pooling leaves the finer detail to the guided image's own z.
    """
    if factor > 1:
        images, references = F.avg_pool2d(images, factor), F.avg_pool2d(references, factor)
    return F.l1_loss(images, references)


def latent_class(own_logits: torch.Tensor, frozen_logits: torch.Tensor, labels: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(the latent classifier's cross-entropy on the true classes, E's cross-entropy to a uniform guess): the
    classifier learns the class from E's latent (own_logits, on a detached latent) while E learns to leave it
    guessing (frozen_logits, through the classifier's detached weights). E's term is log(n_classes) at best."""
    return F.cross_entropy(own_logits, labels), -F.log_softmax(frozen_logits, dim=1).mean()
