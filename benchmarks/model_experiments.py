"""Issue 12's experiments: train variants of the model at the quick size and score each on the project's metrics.

    python benchmarks/model_experiments.py NAME [NAME ...] [--steps 4000] [--preset quick]

Each NAME is a variant in VARIANTS (dotted config overrides on the attngan model). A variant trains
into runs/model_experiments/<preset>/NAME (resumed if there), is scored with the chain's own evaluation
(domain-classifier KID, recall, held-out PSNR from z and guided by the image itself, guidance match,
attention ratio),
and gets one row in results/<preset>/tables/model_experiments.csv, with its final sample grid copied
next to it (results/<preset>/experiments/NAME.png). Run one at a time: wall-clock is part of the result.
"""
from __future__ import annotations

import argparse
import json
import shutil

import pandas as pd

from paperlib import get_config

from paperlib.core import paths
from paperlib.data.datasets import load_dataset
from paperlib.evaluation.edits import CLASS_EDIT_COLUMNS, CLASS_EFFECT_COLUMNS, class_code_effect, class_edit_scores
from paperlib.evaluation.evaluate import RUN_COLUMNS, evaluate_run
from paperlib.model.checkpoint import latest_checkpoint, networks_from_checkpoint
from paperlib.core.recipes import model_config
from paperlib.evaluation.features import domain_space
from paperlib.core.tables import write_table
from paperlib.training.train import train

# the DCGAN's recipe on our G and D (the backbone_* diagnosis): unconditional, no encoder path, a plain D,
# non-saturating loss, translation only, EMA 0.99
_DCRECIPE = {"model.d_head": "down", "model.conditional": False, "train.class_balance": 0.0, "model.encoder": False,
             "model.cross_attn_res": (), "model.d_spectral_norm": False, "train.loss": "nonsaturating",
             "train.diffaug": "translation", "train.ema_decay": 0.99}

VARIANTS: dict[str, tuple[str, str, dict]] = {   # name -> (model, what it changes, overrides)
    "base": ("attngan", "the redesigned model as committed (quick preset)", {}),
    "dcgan": ("dcgan", "the DCGAN baseline, same steps", {}),
    "uncond": ("attngan", "unconditional, natural class mix", {"model.conditional": False,
                                                               "train.class_balance": 0.0}),
    "equal_classes": ("attngan", "classes drawn equally often (the old recipe)", {"train.class_balance": 1.0}),
    "guide_quarter": ("attngan", "a quarter of the encoded images guided, three quarters reconstructed from z",
                      {"train.guide_fraction": 0.25}),
    "rec20": ("attngan", "reconstruction loss weight 20 instead of 10", {"train.rec_weight": 20.0}),
    "heads2": ("attngan", "2 attention heads instead of 4 (half the attention cost at 8x8)", {"model.heads": 2}),
    "guide_pool2": ("attngan", "guided content loss on 2x2-pooled images", {"train.guide_pool": 2}),
    "cutout": ("attngan", "DiffAugment color,translation,cutout", {"train.diffaug": "color,translation,cutout"}),
    "ema99": ("attngan", "EMA decay 0.99 instead of 0.999", {"train.ema_decay": 0.99}),
    "noattn": ("noattn", "every attention layer removed", {}),
    "dcrecipe": ("attngan", "unconditional with the DCGAN's recipe: non-saturating loss, translation only, EMA 0.99",
                 {"model.conditional": False, "train.class_balance": 0.0, "train.loss": "nonsaturating",
                  "train.diffaug": "translation", "train.ema_decay": 0.99}),
    "dcrecipe_adain": ("attngan", "dcrecipe with instance norm + FiLM (AdaIN) in G instead of PixelNorm + FiLM",
                       {"model.conditional": False, "train.class_balance": 0.0, "train.loss": "nonsaturating",
                        "train.diffaug": "translation", "train.ema_decay": 0.99, "model.g_norm": "instance"}),
    "selfonly": ("attngan", "no cross-attention (so no guidance; self-attention and the encoder kept)",
                 {"model.cross_attn_res": ()}),
    "crossonly": ("attngan", "no self-attention in G or D (cross-attention kept)", {"model.attn_res": ()}),
    "nosn": ("attngan", "no spectral norm in D (a stronger D)", {"model.d_spectral_norm": False}),
    "dcrecipe_nosn": ("attngan", "dcrecipe without spectral norm in D",
                      {"model.conditional": False, "train.class_balance": 0.0, "train.loss": "nonsaturating",
                       "train.diffaug": "translation", "train.ema_decay": 0.99, "model.d_spectral_norm": False}),
    "lr_high": ("attngan", "learning rates doubled (lr_g 4e-4, lr_d 8e-4): 07's §5.1 best change at 1,000 steps",
                {"train.lr_g": 4e-4, "train.lr_d": 8e-4}),
    "lr_x4": ("attngan", "learning rates x4 (lr_g 8e-4, lr_d 1.6e-3): does the doubling's gain continue?",
              {"train.lr_g": 8e-4, "train.lr_d": 1.6e-3}),
    "lr_x4_seed1": ("attngan", "lr_x4 with seed 1 (its run-to-run spread)",
                    {"train.lr_g": 8e-4, "train.lr_d": 1.6e-3, "train.seed": 1}),
    "lr_x8": ("attngan", "learning rates x8 (lr_g 1.6e-3, lr_d 3.2e-3): where does the gain stop?",
              {"train.lr_g": 1.6e-3, "train.lr_d": 3.2e-3}),
    "dcgan_lr_x4": ("dcgan", "the DCGAN with the same x4 learning rates (is the gain ours alone?)",
                    {"train.lr_g": 8e-4, "train.lr_d": 1.6e-3}),
    "dcgan_lr_x4_long": ("dcgan", "dcgan_lr_x4 for lr_x4's wall-clock (steps from the measured time ratio)",
                         {"train.lr_g": 8e-4, "train.lr_d": 1.6e-3}),
    "dcgan_lr_high": ("dcgan", "the DCGAN with the same doubled learning rates (is the gain ours alone?)",
                      {"train.lr_g": 4e-4, "train.lr_d": 8e-4}),
    "dcrecipe_noenc": ("attngan", "dcrecipe without the encoder path (no reconstruction, no guidance)",
                       {"model.conditional": False, "train.class_balance": 0.0, "train.loss": "nonsaturating",
                        "train.diffaug": "translation", "train.ema_decay": 0.99, "model.encoder": False,
                        "model.cross_attn_res": ()}),
    "dcrecipe_noattn": ("attngan", "dcrecipe without any attention layer",
                        {"model.conditional": False, "train.class_balance": 0.0, "train.loss": "nonsaturating",
                         "train.diffaug": "translation", "train.ema_decay": 0.99, "model.attn_res": (),
                         "model.cross_attn_res": ()}),
    "uncond_transl": ("attngan", "unconditional, translation-only DiffAugment",
                      {"model.conditional": False, "train.class_balance": 0.0, "train.diffaug": "translation"}),
    "ttur": ("attngan", "discriminator learning rate 4e-4 (TTUR)", {"train.lr_d": 4e-4}),
    "ndis2": ("attngan", "two D steps per G step", {"train.n_dis": 2}),
    "sagan": ("sagan", "no encoder, no cross-attention (is the encoder path behind the collapse?)", {}),
    "no_d_attention": ("attngan", "self-attention in G only (D without attention)", {"model.d_attention": False}),
    "d_attention": ("attngan", "self-attention in D too, as in SAGAN", {"model.d_attention": True}),
    "enc_adv": ("attngan", "D's adversarial loss on the encoder path's images too (reconstructed and guided, "
                "weight 1)", {"train.enc_adv_weight": 1.0}),
    "cross16": ("attngan", "cross-attention at 16x16 as well as 8x8 (finer detail for guidance)",
                {"model.cross_attn_res": (8, 16)}),
    "cross16_heads2": ("attngan", "cross-attention at 8x8 and 16x16, 2 heads (at 16x16, 4 heads of width 8 cost 3x "
                       "2 heads of 16 on a CPU)", {"model.cross_attn_res": (8, 16), "model.heads": 2}),
    "cross16_only_heads2": ("attngan", "cross-attention at 16x16 only, 2 heads",
                            {"model.cross_attn_res": (16,), "model.heads": 2}),
    "attn16": ("attngan", "self-attention at 16x16 instead of 8x8", {"model.attn_res": (16,)}),
    "seed1": ("attngan", "the model as committed, seed 1 (the run-to-run spread of every number)", {"train.seed": 1}),
    "guide_w3": ("attngan", "guidance content loss weight 3 instead of 10 (does training guidance cost sample "
                 "quality?)", {"train.guide_weight": 3.0}),
    "enc_quarter": ("attngan", "a quarter of the batch through the encoder path instead of half",
                    {"train.enc_fraction": 0.25}),
    "enc_3quarters": ("attngan", "three quarters of the batch through the encoder path instead of half",
                      {"train.enc_fraction": 0.75}),
    "lecam": ("attngan", "LeCam regularisation of D, weight 0.3 (Tseng et al. 2021's setting with DiffAugment)",
              {"train.lecam_weight": 0.3}),
    "lecam_01": ("attngan", "LeCam regularisation of D, weight 0.1", {"train.lecam_weight": 0.1}),
    "rec40": ("attngan", "reconstruction weight 40 instead of 10 (is z-only PSNR held back by the adversarial loss?)",
              {"train.rec_weight": 40.0}),
    "rec_mse80": ("attngan", "MSE reconstruction loss, weight 80 (PSNR's own loss; L1 at 40's gradient scale)",
                  {"train.rec_loss": "mse", "train.rec_weight": 80.0}),
    "rec_mse40": ("attngan", "MSE reconstruction loss, weight 40 (about L1 at 20's gradient scale)",
                  {"train.rec_loss": "mse", "train.rec_weight": 40.0}),
    # the rows before d_head and enc_every were adopted, pinned so that they keep meaning what they measured
    "reference": ("attngan", "rec_mse40's settings (the model before d_head=down and enc_every=2), re-run beside "
                  "d_down and lazy2 (same machine state)", {"model.d_head": "conv", "train.enc_every": 1}),
    "d_down": ("attngan", "D's minibatch-std channel before its last strided convolution, no 3x3 convolution at "
               "4x4 (a third of D's FLOPs)", {"model.d_head": "down", "train.enc_every": 1}),
    "lazy2": ("attngan", "the encoder path on every 2nd generator step, its losses weighted x2 (lazy, as StyleGAN2's "
              "regularisers)", {"model.d_head": "conv", "train.enc_every": 2}),
    "lazy4": ("attngan", "the encoder path on every 4th generator step, its losses weighted x4",
              {"model.d_head": "conv", "train.enc_every": 4}),
    "d_down_lazy2": ("attngan", "d_down and lazy2 together (the quick design from 15d9881 to 01b39bc)",
                     {"model.d_head": "down", "train.enc_every": 2}),
    "d_down_lazy2_rec80": ("attngan", "d_down_lazy2 with MSE reconstruction weight 80 (does the lazy path leave "
                           "room for more reconstruction?)", {"model.d_head": "down", "train.enc_every": 2,
                                                              "train.rec_weight": 80.0}),
    "d_down_lazy2_enc_all": ("attngan", "d_down_lazy2 with the whole batch through the encoder path on its steps "
                             "(as many encoded images per step as every-step halves)",
                             {"model.d_head": "down", "train.enc_every": 2, "train.enc_fraction": 1.0}),
    "dl2_ema99": ("attngan", "d_down_lazy2 with EMA decay 0.99 (the DCGAN's): does a 1,000-step EMA lag at x4 rates?",
                  {"model.d_head": "down", "train.enc_every": 2, "train.ema_decay": 0.99}),
    "dl2_transl": ("attngan", "d_down_lazy2 with translation-only DiffAugment (the DCGAN's): does colour jitter cost KID?",
                   {"model.d_head": "down", "train.enc_every": 2, "train.diffaug": "translation"}),
    "dl2_seed1": ("attngan", "d_down_lazy2, seed 1 (the design's run-to-run spread)",
                  {"model.d_head": "down", "train.enc_every": 2, "train.seed": 1}),
    "dl2_uncond": ("attngan", "d_down_lazy2, unconditional on the natural class mix (as the DCGAN)",
                   {"model.d_head": "down", "train.enc_every": 2, "model.conditional": False,
                    "train.class_balance": 0.0}),
    "dl2_l1_10": ("attngan", "d_down_lazy2 with L1 reconstruction at weight 10 (lr_x4's, before MSE at 40): how much "
                  "KID does the reconstruction pressure cost?", {"model.d_head": "down", "train.enc_every": 2,
                                                                 "train.rec_loss": "l1", "train.rec_weight": 10.0}),
    "dl2_l1_10_seed1": ("attngan", "dl2_l1_10 with seed 1 (its run-to-run spread)",
                        {"model.d_head": "down", "train.enc_every": 2, "train.rec_loss": "l1",
                         "train.rec_weight": 10.0, "train.seed": 1}),
    "backbone_dcrecipe": ("attngan", "diagnosis: our G (PixelNorm + FiLM, self-attention at 8x8) and D (no spectral "
                          "norm, minibatch std) with the DCGAN's whole recipe: unconditional, no encoder path, "
                          "non-saturating loss, translation only, EMA 0.99. Is the backbone or the encoder path "
                          "behind the KID gap?", _DCRECIPE),
    "backbone_dcrecipe_gbn": ("attngan", "backbone_dcrecipe with batch norm (no affine; FiLM after it) instead of "
                              "PixelNorm in G: is G's norm the difference?", {**_DCRECIPE, "model.g_norm": "batch"}),
    "backbone_dcrecipe_gbn_noattn": ("attngan", "backbone_dcrecipe_gbn without self-attention: what is left "
                                     "between it and the DCGAN?",
                                     {**_DCRECIPE, "model.attn_res": (), "model.g_norm": "batch"}),
    "backbone_dcrecipe_gbn_sn": ("attngan", "backbone_dcrecipe_gbn with our D's spectral norm kept (the DCGAN's D "
                                 "has batch norm; an unnormalised D at lr_d 1.6e-3 may be what lags)",
                                 {**_DCRECIPE, "model.d_spectral_norm": True, "model.g_norm": "batch"}),
    "backbone_dcrecipe_gbn_dbn": ("attngan", "backbone_dcrecipe_gbn with batch norm in D as well (model.d_batch_norm; "
                                  "the DCGAN's D has it): is D's normalisation what is left?",
                                  {**_DCRECIPE, "model.d_batch_norm": True, "model.g_norm": "batch"}),
    "backbone_dcrecipe_gbn_nofilm": ("attngan", "backbone_dcrecipe_gbn with z through G's first layer only (no FiLM; "
                                     "batch norm with its own affine, as the DCGAN's G)",
                                     {**_DCRECIPE, "model.g_norm": "batch", "model.g_film": False}),
    "backbone_dcrecipe_gbn_init": ("attngan", "backbone_dcrecipe_gbn with DCGAN's N(0, 0.02) start instead of "
                                   "Kaiming's: under Adam the start's scale sets the learning rate relative to "
                                   "the weights", {**_DCRECIPE, "model.g_norm": "batch", "model.init": "normal"}),
    "backbone_dcrecipe_init": ("attngan", "backbone_dcrecipe (PixelNorm G) with DCGAN's N(0, 0.02) start: does the "
                               "batch-free G close the gap too?", {**_DCRECIPE, "model.init": "normal"}),
    "init_normal": ("attngan", "the committed design with DCGAN's N(0, 0.02) start instead of Kaiming's",
                    {"model.init": "normal"}),
    "init_normal_nosn": ("attngan", "init_normal with a plain D (no spectral norm), as the DCGAN's",
                         {"model.init": "normal", "model.d_spectral_norm": False}),
    "init_normal_nosn_ns": ("attngan", "init_normal_nosn with the non-saturating loss (the DCGAN's; the hinge "
                            "with a plain D gave noise textures)",
                            {"model.init": "normal", "model.d_spectral_norm": False, "train.loss": "nonsaturating"}),
    "nosn_embed": ("attngan", "init_normal_nosn_ns with the plain D's class embedding started at its linear "
                   "head's scale (it was nn.Embedding's N(0, 1))",
                   {"model.init": "normal", "model.d_spectral_norm": False, "train.loss": "nonsaturating"}),
    "nosn_embed_seed1": ("attngan", "nosn_embed with seed 1",
                         {"model.init": "normal", "model.d_spectral_norm": False, "train.loss": "nonsaturating",
                          "train.seed": 1}),
    "nosn_embed_lecam_seed1": ("attngan", "nosn_embed_seed1 (which broke) with LeCam regularisation at 0.3: does it "
                               "keep the plain D stable?",
                               {"model.init": "normal", "model.d_spectral_norm": False, "train.loss": "nonsaturating",
                                "train.lecam_weight": 0.3, "train.seed": 1}),
    "init_normal_ns": ("attngan", "init_normal (spectral norm kept) with the non-saturating loss",
                       {"model.init": "normal", "train.loss": "nonsaturating"}),
    "init_normal_ns_seed1": ("attngan", "init_normal_ns with seed 1",
                             {"model.init": "normal", "train.loss": "nonsaturating", "train.seed": 1}),
    "init_normal_ns_seed2": ("attngan", "init_normal_ns with seed 2",
                             {"model.init": "normal", "train.loss": "nonsaturating", "train.seed": 2}),
    "kl1e3": ("attngan", "KL weight 1e-3 instead of 1e-4: E's latents sat at 2.2x the prior's norm, where the class "
              "code changed a decode 0.06 against 0.15 from prior z, so class edits of encoded images did nothing",
              {"train.kl_weight": 1e-3}),
    "kl1e2": ("attngan", "KL weight 1e-2 (see kl1e3)", {"train.kl_weight": 1e-2}),
    "ema99_transl": ("attngan", "the DCGAN's EMA 0.99 and translation-only DiffAugment together (each alone: 0.108 "
                     "and 0.118 on one seed, dl2_ema99 and dl2_transl)",
                     {"train.ema_decay": 0.99, "train.diffaug": "translation"}),
    "ema99_transl_seed1": ("attngan", "ema99_transl with seed 1",
                           {"train.ema_decay": 0.99, "train.diffaug": "translation", "train.seed": 1}),
    "ema99_transl_seed2": ("attngan", "ema99_transl with seed 2",
                           {"train.ema_decay": 0.99, "train.diffaug": "translation", "train.seed": 2}),
    "base_seed2": ("attngan", "the design committed then (d_down_lazy2) with seed 2", {"train.seed": 2}),
    "fader": ("attngan", "a latent classifier of the class from E's mean, which E learns to fool (Fader networks): "
              "G must then take the class from its code, so class edits of encoded images move them",
              {"model.latent_classifier": True, "train.latent_adv_weight": 1.0}),
    "fader_w01": ("attngan", "fader with E's uniform-guess loss at weight 0.1", {"model.latent_classifier": True,
                                                                              "train.latent_adv_weight": 0.1}),
    "fader_w001": ("attngan", "fader with E's uniform-guess loss at weight 0.01", {"model.latent_classifier": True,
                                                                                 "train.latent_adv_weight": 0.01}),
    "fader_w01_seed1": ("attngan", "fader_w01 with seed 1", {"model.latent_classifier": True,
                                                             "train.latent_adv_weight": 0.1, "train.seed": 1}),
    "fader_w01_seed2": ("attngan", "fader_w01 with seed 2", {"model.latent_classifier": True,
                                                             "train.latent_adv_weight": 0.1, "train.seed": 2}),
    "base_seed1": ("attngan", "the design committed then (d_down_lazy2) with seed 1", {"train.seed": 1}),
    "init_normal_seed1": ("attngan", "init_normal with seed 1", {"model.init": "normal", "train.seed": 1}),
    "dl2_gbn": ("attngan", "d_down_lazy2 with batch norm instead of PixelNorm in G (standing statistics for the "
                "EMA generator, as the DCGAN's)", {"model.d_head": "down", "train.enc_every": 2,
                                                   "model.g_norm": "batch"}),
    "dl2_natural": ("attngan", "d_down_lazy2 conditional, classes drawn in their natural mix (class_balance 0): "
                    "KID's samples follow it, so people get more of the training",
                    {"model.d_head": "down", "train.enc_every": 2, "train.class_balance": 0.0}),
    "dl2_natural_seed1": ("attngan", "dl2_natural with seed 1 (its run-to-run spread)",
                          {"model.d_head": "down", "train.enc_every": 2, "train.class_balance": 0.0,
                           "train.seed": 1}),
    "dl2_steps4000": ("attngan", "d_down_lazy2 for 4,000 steps instead of 2,500: is it still improving? (every "
                      "quick run's KID fell from step 2,000 to 2,500: 0.16 -> 0.12 for the chain's, 0.157 -> 0.044 "
                      "for its DCGAN)", {"model.d_head": "down", "train.enc_every": 2, "train.steps": 4000}),
    "dl2_nosn": ("attngan", "d_down_lazy2 without spectral norm in D (in the backbone diagnosis spectral norm cost "
                 "KID: 0.205 -> 0.378)", {"model.d_head": "down", "train.enc_every": 2,
                                          "model.d_spectral_norm": False}),
    "enc_all": ("attngan", "the whole batch through the encoder path (half reconstructed, half guided)",
                {"train.enc_fraction": 1.0}),
}
COLUMNS = {"variant": "name in benchmarks/model_experiments.py VARIANTS", "model": "base model (paperlib.core.recipes.MODELS)",
           "change": "what the variant changes", "overrides": "the dotted config overrides (JSON)",
           "commit": "git commit of the code that trained it", "attn_ratio_min": "smallest |branch| / |input| of "
           "any attention layer at the last log tick", "attn_ratio_max": "largest such ratio",
           "rec_ctx_psnr_db": "rows from before guidance on own references: held-out PSNR from E's z with the "
                              "image's own encoder features as context, dB",
           **RUN_COLUMNS, **CLASS_EFFECT_COLUMNS, **CLASS_EDIT_COLUMNS}


# the variants measured while quick's design had D's minibatch std before its last strided convolution (15d9881 to
# 01b39bc), pinned so that they keep meaning what they measured
for _name in ("init_normal", "init_normal_seed1", "init_normal_nosn", "init_normal_nosn_ns", "nosn_embed",
              "nosn_embed_seed1", "nosn_embed_lecam_seed1", "init_normal_ns", "init_normal_ns_seed1",
              "init_normal_ns_seed2", "kl1e2", "kl1e3", "ema99_transl", "ema99_transl_seed1", "ema99_transl_seed2",
              "base_seed1", "base_seed2", "fader", "fader_w01", "fader_w001", "fader_w01_seed1", "fader_w01_seed2"):
    VARIANTS[_name][2].setdefault("model.d_head", "down")

# the latent classifier (fader_w01) on the design that replaced d_down_lazy2 (lazy2: D's 3x3 head at 4x4 back)
VARIANTS["lazy2_fader"] = ("attngan", "lazy2 with fader_w01's latent classifier (E's uniform-guess loss at weight "
                           "0.1)", {**VARIANTS["lazy2"][2], "model.latent_classifier": True,
                                    "train.latent_adv_weight": 0.1})

# d_down_lazy2's worst full-size seed (KID 0.192 against 0.094 for `reference` at 9da8589), re-run with neither,
# one or the other of its two changes: which costs KID at the full size? Seeds 1 and 2 of lazy2 and lazy2_fader
# are the latent classifier's comparison at quick.
for _name in ("reference", "d_down", "lazy2", "lazy2_fader"):
    _model, _change, _overrides = VARIANTS[_name]
    for _seed in (1, 2):
        VARIANTS[f"{_name}_seed{_seed}"] = (_model, f"{_name} with seed {_seed}: {_change}",
                                            {**_overrides, "train.seed": _seed})

# class edits as a training path (AttGAN): D classifies, and judges each reconstructed latent decoded with another
# class; does a class edit of an encoded image then become that class (issue 13)?
VARIANTS["lazy2_fader_edit"] = ("attngan", "lazy2_fader with AttGAN's class edits: D's class head, and G asked for "
                                "D to judge each encoded image decoded with another class real and of that class",
                                {**VARIANTS["lazy2_fader"][2], "model.d_classifier": True, "train.edit_weight": 1.0})
VARIANTS["lazy2_fader_edit_ctx"] = ("attngan", "lazy2_fader_edit with the class edits decoded with their image's own "
                                    "encoder features as cross-attention context (train.edit_context)",
                                    {**VARIANTS["lazy2_fader_edit"][2], "train.edit_context": True})
VARIANTS["lazy2_fader_edit_cycle"] = ("attngan", "lazy2_fader_edit with StarGAN's cycle: each class edit, encoded and "
                                      "decoded with its own class, must give the image back (MSE at 40, the "
                                      "reconstruction's weight)", {**VARIANTS["lazy2_fader_edit"][2],
                                                                   "train.edit_cycle_weight": 40.0})
VARIANTS["lazy2_fader_again"] = ("attngan", "lazy2_fader re-run (2026-12-03) for the class-edit scores it predates",
                                 dict(VARIANTS["lazy2_fader"][2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--sample-every", type=int, default=None, help="override train.sample_every")
    args = parser.parse_args()
    base = get_config(args.preset)
    train_set, holdout = load_dataset(base.data, "train"), load_dataset(base.data, "holdout")
    space = domain_space(paths.classifier_path(args.preset))
    real_features, _ = space.extract(train_set.images)
    table = paths.results_dir(args.preset) / "tables" / "model_experiments.csv"
    for name in args.names:
        model, change, overrides = VARIANTS[name]
        cfg = model_config(base, model).override(**overrides)
        if args.steps:
            cfg = cfg.override(**{"train.steps": args.steps})
        if args.sample_every:
            cfg = cfg.override(**{"train.sample_every": args.sample_every})
        run_dir = paths.project_root() / "runs" / "model_experiments" / args.preset / name
        train(cfg, run_dir, data=train_set)
        row = evaluate_run(run_dir, space, real_features, train_set, holdout, args.draws)
        nets = networks_from_checkpoint(latest_checkpoint(run_dir)).eval()
        row.update(class_code_effect(nets, holdout.batch(slice(None))[0]))
        row.update(class_edit_scores(nets, space, train_set, holdout))
        if nets.args.cross_attn_res:
            row.update(class_edit_scores(nets, space, train_set, holdout, with_context=True))
        last = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
        ratios = [v for k, v in last.items() if k.startswith("attn_ratio/")]
        env = json.loads((run_dir / "config.json").read_text())["env"]
        row = {"variant": name, "model": model, "change": change, "overrides": json.dumps(overrides),
               "commit": env.get("commit"), "attn_ratio_min": min(ratios, default=None),
               "attn_ratio_max": max(ratios, default=None), **row}
        old = pd.read_csv(table) if table.is_file() else pd.DataFrame()
        if not old.empty:
            old = old[old["variant"] != name]
        df = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
        write_table(df, table, f"issue 12's model experiments at the {args.preset} size (benchmarks/model_experiments.py)",
                    {c: COLUMNS.get(c, c) for c in df.columns}, config=cfg.to_dict(), seed=cfg.train.seed)
        grids = sorted((run_dir / "samples").glob("step_*.png"))
        if grids:
            out = paths.results_dir(args.preset) / "experiments" / f"{name}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(grids[-1], out)
        print(pd.DataFrame([row])[[c for c in ("variant", "kid", "fid", "precision", "recall", "rec_psnr_db",
                                               "rec_guided_psnr_db", "guide_match", "class_effect_encoded",
                                               "edit_judged_b", "edit_identity_kept", "edit_ctx_judged_b",
                                               "edit_ctx_identity_kept", "attn_ratio_min",
                                               "train_wall_clock_s", "train_images_per_s") if c in row]]
              .to_string(index=False), flush=True)


if __name__ == "__main__":
    main()
