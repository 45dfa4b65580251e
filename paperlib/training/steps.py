"""One training step's parts: the random plan of a generator step, the generator's paths in one forward
(generation, and on encoder-path steps reconstruction and guidance), and the generator and discriminator
updates."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrize import cached

from ..core.config import TrainConfig
from ..model.args import ModelArgs
from ..model.attngan import Generator
from ..model.networks import Networks, reparameterize
from . import losses
from .augment import diff_augment


def autocast(device: torch.device) -> torch.autocast:
    """bfloat16 autocast on a GPU; a no-op on the CPU."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def encoder_cycle(nets: Networks, t: TrainConfig) -> int:
    """Generator steps per run of the encoder path: train.enc_every for a GAN with E, else 1 (the VAE has
    only the encoder path; a GAN without E has none)."""
    return t.enc_every if nets.D is not None and nets.E is not None else 1


def generator_step(nets: Networks, g_train: nn.Module, opt_g: torch.optim.Optimizer, t: TrainConfig, x: torch.Tensor,
                   labels: torch.Tensor, *, step: int) -> tuple[torch.Tensor, ...]:
    """One G (+E, +C) update: adversarial loss on the free fakes, reconstruction and KL on the encoder path,
    the content loss on its guided images, with model.latent_classifier the latent classifier's loss and
    E's loss for fooling it, with train.edit_weight the class edits' adversarial and class losses, and with
    train.edit_cycle_weight their cycle's reconstruction loss (a second E and G pass over the edits).
    g_train is the GeneratorStep (DDP-wrapped under torchrun).
    step: the generator step's index; a GAN with E runs the encoder path on the last of every
    train.enc_every steps, its losses then weighted by enc_every (the VAE: every step, weight 1).
    Returns (loss_adv, loss_rec, loss_kl, loss_guide, latent_ce, latent_acc, edit_ce, edit_cycle), unweighted:
    latent_ce and latent_acc are the latent classifier's cross-entropy and accuracy on this step's encoded
    images, edit_ce D's cross-entropy on the class edits, edit_cycle the edits' cycle loss; each NaN (not
    measured) without its part or on a step without the encoder path."""
    device = x.device
    lazy = encoder_cycle(nets, t)
    encode = (step + 1) % lazy == 0       # the last of each cycle, so that a log tick's losses include the path
    y = labels if nets.args.n_classes else None
    zero = torch.zeros((), device=device)
    loss_adv = loss_rec = loss_kl = loss_guide = loss_g = zero
    latent_ce = latent_acc = edit_ce = edit_cycle = torch.full((), float("nan"), device=device)
    if nets.D is not None:               # D's weight gradients here would be discarded: not computing them
        nets.D.requires_grad_(False)     # saves a third of D's backward (StyleGAN2-ADA does the same)
    with autocast(device), cached():       # cached(): each spectral-normalised weight of D computed once
        plan = StepPlan.draw(len(x), t, nets.args, device, adversarial=nets.D is not None, encode=encode)
        target, y_enc = x[plan.encoded], None if y is None else y[plan.encoded]
        fake, x_enc, mu, logvar, latent_logits, edited, back = g_train(plan.z, y, target, y_enc, plan)
        if nets.D is not None:           # the plain D, frozen: no DDP synchronisation, no weight gradients
            judge_enc = bool(t.enc_adv_weight) and x_enc is not None   # D judges the encoder path too (VAE-GAN)
            parts = [(fake, y), *([(x_enc, y_enc)] if judge_enc else []),
                     *([(edited, plan.edited_labels(y_enc, nets.args.n_classes))] if edited is not None else [])]
            judged = torch.cat([images for images, _ in parts])
            y_judged = None if y is None else torch.cat([classes for _, classes in parts])
            out = nets.D(diff_augment(judged, t.diffaug), y_judged, **({"classify": True} if edited is not None else {}))
            scores = (out[0] if edited is not None else out).float()
            loss_adv = losses.adversarial_g(t.loss, scores[:len(fake)])
            if judge_enc:
                loss_adv = loss_adv + lazy * t.enc_adv_weight * losses.adversarial_g(
                    t.loss, scores[len(fake):len(fake) + len(x_enc)])
            if edited is not None:       # AttGAN: a class edit should pass as a real image of its new class
                edit_ce = F.cross_entropy(out[1][-len(edited):].float(), parts[-1][1])
                loss_adv = loss_adv + lazy * t.edit_weight * (
                    losses.adversarial_g(t.loss, scores[-len(edited):]) + edit_ce)
        if x_enc is not None:
            n = plan.reconstructed
            if n:
                loss_rec = losses.reconstruction(x_enc[:n].float(), target[:n], t.rec_loss)
            loss_kl = losses.kl_normal(mu.float(), logvar.float())
            if back is not None:         # StarGAN's cycle: the edit, edited back, is the image again
                edit_cycle = losses.reconstruction(back.float(), target[:n], t.rec_loss)
                loss_g = loss_g + lazy * t.edit_cycle_weight * edit_cycle
            if plan.guided:
                loss_guide = losses.pooled_l1(x_enc[n:].float(), target[n:], t.guide_pool)
        loss_g = loss_g + loss_adv + lazy * (t.rec_weight * loss_rec + t.kl_weight * loss_kl
                                             + t.guide_weight * loss_guide)
        if latent_logits is not None:    # the classifier learns the class from mu; E learns to leave it guessing
            latent_ce, loss_e = losses.latent_class(*latent_logits, y_enc)
            loss_g = loss_g + lazy * (latent_ce + t.latent_adv_weight * loss_e)
            latent_acc = (latent_logits[0].argmax(1) == y_enc).float().mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    if nets.D is not None:
        nets.D.requires_grad_(True)
    return loss_adv, loss_rec, loss_kl, loss_guide, latent_ce, latent_acc, edit_ce, edit_cycle


@dataclass
class StepPlan:
    """The random choices of one generator step, drawn from the (seeded, resumable) torch RNG.

    z: latents of the generated images (None without D). encoded: the indices of the real images that
    pass through E: a random share (train.enc_fraction) of the batch for a GAN (the batch is sorted by
    class, so a slice would favour the first classes), all of it for the VAE, none on a step without the
    encoder path. Of these, the last `guided` are drawn by guided generation: a fresh latent (z_guide)
    with the image's own encoder features as the cross-attention context; the others are reconstructed
    from their encoding alone. class_shift (train.edit_weight > 0): for each reconstructed image, how many
    classes on (1..K-1, mod K) its class edit moves it; edit_context (train.edit_context): the class edits
    decode with their image's own encoder features as context; cycle (train.edit_cycle_weight > 0): each
    edit is encoded again and decoded with its image's own class (StarGAN's cycle).
    """

    z: torch.Tensor | None
    encoded: torch.Tensor
    guided: int
    z_guide: torch.Tensor | None
    class_shift: torch.Tensor | None = None
    edit_context: bool = False
    cycle: bool = False

    @property
    def reconstructed(self) -> int:
        """How many encoded images (the first ones) are reconstructed from their encoding."""
        return len(self.encoded) - self.guided

    def edited_labels(self, y_enc: torch.Tensor, n_classes: int) -> torch.Tensor:
        """The classes that the reconstructed images' class edits decode with: never their own."""
        return (y_enc[:self.reconstructed] + self.class_shift) % n_classes

    @classmethod
    def draw(cls, n: int, t: TrainConfig, args: ModelArgs, device: torch.device, adversarial: bool = True,
             encode: bool = True) -> "StepPlan":
        z = torch.randn(n, args.z_dim, device=device) if adversarial else None
        if not (encode and args.encoder):
            return cls(z, torch.zeros(0, dtype=torch.long, device=device), 0, None)
        encoded = (torch.randperm(n, device=device)[:max(round(n * t.enc_fraction), 1)] if adversarial
                   else torch.arange(n, device=device))
        guided, z_guide = 0, None
        if args.cross_attn_res:
            guided = min(len(encoded), max(1, round(t.guide_fraction * len(encoded))))   # at least one: DDP needs
                                                                                         # every parameter used
            z_guide = torch.randn(guided, args.z_dim, device=device)
        shift = (torch.randint(1, args.n_classes, (len(encoded) - guided,), device=device)
                 if t.edit_weight and adversarial and args.n_classes > 1 else None)
        return cls(z, encoded, guided, z_guide, shift, t.edit_context and shift is not None,
                   bool(t.edit_cycle_weight) and shift is not None)


class GeneratorStep(nn.Module):
    """The generator paths of a step in one forward (DDP expects one forward per backward).

    Generation: z -> G(z), no context; these are the images D judges.
    Encoder path, on the encoded real images x: reconstruction x -> E -> z_x -> G(z_x) with no context,
    so z must carry the content; and guided generation, a fresh z with x's own encoder features as the
    cross-attention context, so the content can only come through cross-attention: it learns to copy
    a reference, which is what guidance by another image uses. (The features are not shifted: the
    target is the unshifted image, and an unknown shift only teaches a blur.)
    Class edits (train.edit_weight): the reconstructed images' latents decoded again with another class,
    which D is to judge real and of that class (AttGAN); with train.edit_context, with their own encoder
    features as context, as the guided rows have theirs.
    The paths run as one batch through G, [free, reconstructed, edited, guided]: one set of kernel launches,
    with cross-attention computed for the guided rows only. With a latent classifier C
    (model.latent_classifier), it scores E's posterior means too: inside this module, so that DDP syncs it.
    """

    def __init__(self, G: Generator, E: nn.Module | None, C: nn.Module | None = None):
        super().__init__()
        self.G, self.E, self.C = G, E, C

    def forward(self, z: torch.Tensor | None, y: torch.Tensor | None, x_in: torch.Tensor, y_in: torch.Tensor | None,
                plan: StepPlan) -> tuple[torch.Tensor | None, ...]:
        """z, y: the free fakes' latents and labels; x_in, y_in: the encoded real images (x[plan.encoded]).
        -> (free fakes or None, encoder-path images (reconstructed, then guided), mu, logvar, latent logits or
        None: the latent classifier's on mu for its own loss, then with frozen weights for E's, class edits or
        None, the edits decoded back to their own class or None)."""
        if self.E is None or not len(plan.encoded):
            return self.G(z, y), None, None, None, None, None, None
        mu, logvar, features = self.E(x_in)      # a GAN encodes enc_fraction of its batch on encoder-path steps
        latent_logits = None if self.C is None else (self.C(mu.detach().float()), self.C(mu.float(), frozen=True))
        z_enc = reparameterize(mu.float(), logvar.float()).to(mu.dtype)
        context = None
        if plan.guided:
            n = plan.reconstructed
            z_enc = torch.cat([z_enc[:n], plan.z_guide.to(z_enc.dtype)])
            # the rows that read a context come last: [class edits of the n reconstructed images,] guided images
            context = {s: f if plan.edit_context else f[n:] for s, f in features.items()}
        if z is None:                                          # the VAE: the encoder path only
            return None, self.G(z_enc, y_in, context), mu, logvar, latent_logits, None, None
        n, k = plan.reconstructed, 0 if plan.class_shift is None else plan.reconstructed
        z_all = torch.cat([z, z_enc[:n], z_enc[:k], z_enc[n:]])
        y_all = None if y is None else torch.cat([y, y_in[:n], y_in[:0] if plan.class_shift is None else
                                                  plan.edited_labels(y_in, self.G.n_classes), y_in[n:]])
        fake, x_rec, edited, x_guided = self.G(z_all, y_all, context).split([len(z), n, k, len(z_enc) - n])
        back = self.G(self.E(edited)[0], None if y_in is None else y_in[:n]) if plan.cycle and k else None
        return fake, torch.cat([x_rec, x_guided]), mu, logvar, latent_logits, edited if k else None, back


def discriminator_step(nets: Networks, d_train: nn.Module, opt_d: torch.optim.Optimizer, t: TrainConfig,
                       x: torch.Tensor, labels: torch.Tensor, separate_passes: bool, lecam: losses.LeCam | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One D update on a real batch and as many fakes; returns (scores on reals, scores on fakes, loss).

    labels are the real batch's classes; D and G see them only when conditional, and D's class head
    (model.d_classifier) learns them from the reals. lecam: its anchors, when train.lecam_weight > 0.
    """
    y = labels if nets.args.n_classes else None
    classify = {"classify": True} if getattr(nets.D, "classes", None) is not None else {}
    with torch.no_grad():
        fake = nets.G(torch.randn(len(x), nets.args.z_dim, device=x.device), y)
    if separate_passes:   # a D with batch norm must see pure batches, as in its G step
        out = d_train(diff_augment(x, t.diffaug), y, **classify)
        scores, class_logits = out if classify else (out, None)
        d_real, d_fake = scores.float(), d_train(diff_augment(fake, t.diffaug), y).float()
    else:                 # one pass over reals and fakes: one set of kernel launches, one SN update
        out = d_train(diff_augment(torch.cat([x, fake]), t.diffaug), None if y is None else y.repeat(2), **classify)
        scores, class_logits = out if classify else (out, None)
        d_real, d_fake = scores.float().chunk(2)
    loss_d = losses.adversarial_d(t.loss, d_real, d_fake)
    if class_logits is not None:
        loss_d = loss_d + F.cross_entropy(class_logits[:len(x)].float(), labels)
    if lecam is not None:
        loss_d = loss_d + t.lecam_weight * lecam(d_real, d_fake)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return d_real, d_fake, loss_d
