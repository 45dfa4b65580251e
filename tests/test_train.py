"""The training loop: run folder contents, learning on a tiny batch, exact resume, divergence."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from paperlib import TrainingDiverged, get_config, train
from paperlib.model.checkpoint import load_checkpoint, save_checkpoint
from paperlib.core.errors import CheckpointError, ConfigError
from paperlib.core.config import ModelConfig
from paperlib.model.args import ModelArgs
from paperlib.model.networks import Networks
from paperlib.training.steps import GeneratorStep, StepPlan
from paperlib.data.batches import batch_indices, class_weights
from paperlib.model.checkpoint import latest_checkpoint


def test_run_folder_holds_config_stats_samples_and_checkpoints(tmp_path, smoke_cfg, smoke_data):
    summary = train(smoke_cfg, tmp_path, progress=False, data=smoke_data)
    assert summary["steps"] == 4 and summary["images_seen"] == 4 * smoke_cfg.train.batch_size
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["config"] == json.loads(smoke_cfg.to_json()) and "commit" in saved["env"]
    rows = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert {"loss_d", "loss_g_adv", "loss_rec", "loss_kl", "loss_guide", "attn_ratio/G.self8", "attn_ratio/G.cross4",
            "lr_g", "lr_d", "images_per_s"} <= set(rows[0])
    assert (tmp_path / "samples" / "step_000004.png").is_file()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000002.pt", "step_000004.pt"]
    state = load_checkpoint(tmp_path / "checkpoints" / "step_000004.pt")
    assert state["step"] == 4 and state["config"]["preset"] == "smoke"


def test_a_few_steps_on_a_tiny_batch_move_the_losses(tmp_path, smoke_cfg, smoke_data):
    tiny = type(smoke_data)(smoke_data.images[:16], smoke_data.labels[:16], smoke_data.class_names,
                            smoke_data.ids[:16], "tiny")
    cfg = smoke_cfg.override(**{"train.steps": 60, "train.log_every": 10, "train.ckpt_every": 60,
                                "train.sample_every": 60, "train.lr_g": 1e-3, "train.lr_d": 1e-3, "train.diffaug": ""})
    train(cfg, tmp_path, progress=False, data=tiny)
    rows = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    first, last = rows[0], rows[-1]
    assert last["loss_rec"] < 0.7 * first["loss_rec"]          # the autoencoder path learns the batch
    assert last["d_real"] > last["d_fake"]                       # D separates reals from fakes
    assert all(last[k] > 0 for k in last if k.startswith("attn_ratio/"))  # every attention layer acts


@pytest.mark.parametrize("extra", [{}, {"train.lecam_weight": 0.3}, {"model.latent_classifier": True},
                                   {"model.d_classifier": True, "train.edit_weight": 1.0,
                                    "train.edit_cycle_weight": 10.0}])
def test_resume_reaches_bitwise_the_same_parameters(tmp_path, smoke_cfg, smoke_data, extra):
    """LeCam's anchors, the latent classifier and D's class head (their weights, their Adam moments) are training
    state too: a resume that lost them would diverge."""
    cfg = smoke_cfg.override(**{"train.steps": 6, "train.ckpt_every": 3, "train.log_every": 3, **extra})
    train(cfg, tmp_path / "straight", progress=False, data=smoke_data)
    train(cfg.override(**{"train.steps": 3}), tmp_path / "resumed", progress=False, data=smoke_data)
    summary = train(cfg, tmp_path / "resumed", progress=False, data=smoke_data)
    assert summary["steps_this_call"] == 3
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "step_000006.pt")["networks"]
    b = load_checkpoint(tmp_path / "resumed" / "checkpoints" / "step_000006.pt")["networks"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_resumed_runs_clock_continues_from_its_checkpoint(tmp_path, smoke_cfg, smoke_data):
    """The training wall-clock (and so the equal-wall-clock DCGAN's steps) counts every session of a run."""
    cfg = smoke_cfg.override(**{"train.steps": 3, "train.ckpt_every": 3, "train.log_every": 1})
    train(cfg, tmp_path, progress=False, data=smoke_data)
    at_checkpoint = load_checkpoint(tmp_path / "checkpoints" / "step_000003.pt")["elapsed_s"]
    train(cfg.override(**{"train.steps": 6}), tmp_path, progress=False, data=smoke_data)
    rows = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2]["elapsed_s"] <= at_checkpoint < rows[3]["elapsed_s"] < rows[5]["elapsed_s"]


def test_resume_refuses_another_config(tmp_path, smoke_cfg, smoke_data):
    train(smoke_cfg, tmp_path, progress=False, data=smoke_data)
    with pytest.raises(ConfigError, match=r"another config \(differs in: model\.heads, train\.lr_d\)"):
        train(smoke_cfg.override(**{"train.lr_d": 1e-3, "model.heads": 4}), tmp_path, progress=False, data=smoke_data)


@pytest.mark.parametrize("loss", ["hinge_d", "reconstruction"])
def test_nan_loss_stops_training_and_writes_nothing_from_it(tmp_path, smoke_cfg, smoke_data, monkeypatch, loss):
    """The NaN comes at step 4, a log, sample and checkpoint step, in D's loss or in G's: anything written
    from the bad state before the check would show."""
    from paperlib.training import losses

    calls = {"n": 0}
    real = getattr(losses, loss)

    def nan_from_the_fourth_call(*args, **kwargs):
        calls["n"] += 1
        value = real(*args, **kwargs)
        return value * float("nan") if calls["n"] >= 4 else value

    monkeypatch.setattr(losses, loss, nan_from_the_fourth_call)
    with pytest.raises(TrainingDiverged, match=r"step 4 .*last good checkpoint: .*step_000002\.pt"):
        # the encoder path on every step, so that the fourth reconstruction call is step 4's
        train(smoke_cfg.override(**{"train.enc_every": 1}), tmp_path, progress=False, data=smoke_data)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000002.pt"]
    assert [json.loads(line)["step"] for line in (tmp_path / "stats.jsonl").read_text().splitlines()] == [2]
    assert not list(tmp_path.glob("samples/*.png"))


def test_the_two_newest_checkpoints_are_kept(tmp_path, smoke_cfg, smoke_data):
    train(smoke_cfg.override(**{"train.ckpt_every": 1}), tmp_path, progress=False, data=smoke_data)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000003.pt", "step_000004.pt"]


def test_a_run_retrained_from_step_0_starts_its_log_and_samples_afresh(tmp_path, smoke_cfg, smoke_data):
    """A fresh clone has the committed config, stats.jsonl and sample grids but no checkpoint, perhaps of an
    earlier version's config: the run starts afresh and the folder must not hold two runs."""
    train(smoke_cfg.override(**{"train.lr_d": 1e-3}), tmp_path, progress=False, data=smoke_data)
    for path in (tmp_path / "checkpoints").iterdir():
        path.unlink()
    (tmp_path / "samples" / "step_000003.png").write_bytes(b"a grid of another run")
    train(smoke_cfg, tmp_path, progress=False, data=smoke_data)
    assert json.loads((tmp_path / "config.json").read_text())["config"]["train"]["lr_d"] == smoke_cfg.train.lr_d
    assert [json.loads(line)["step"] for line in (tmp_path / "stats.jsonl").read_text().splitlines()] == [2, 4]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_000004.png"]


def test_resume_with_another_number_of_processes_is_refused(tmp_path, smoke_cfg, smoke_data):
    train(smoke_cfg.override(**{"train.steps": 2}), tmp_path, progress=False, data=smoke_data)
    path = tmp_path / "checkpoints" / "step_000002.pt"
    state = load_checkpoint(path)
    save_checkpoint(path, {**state, "world_size": 2, "rng_ranks": state["rng_ranks"] * 2})
    with pytest.raises(ConfigError, match="written by 2 process.*nproc_per_node=2"):
        train(smoke_cfg, tmp_path, progress=False, data=smoke_data)


def test_batches_are_epochs_of_seeded_permutations():
    drawn = torch.cat([batch_indices(d, 10, 4, seed=3) for d in range(5)])   # 20 draws = 2 epochs
    assert sorted(drawn[:10].tolist()) == list(range(10)) == sorted(drawn[10:].tolist())
    assert torch.equal(batch_indices(2, 10, 4, seed=3), batch_indices(2, 10, 4, seed=3))
    assert not torch.equal(batch_indices(0, 10, 4, seed=3), batch_indices(0, 10, 4, seed=4))


def _step_with_live_cross_attention(smoke_cfg, smoke_data):
    """(networks, their GeneratorStep, 8 images, labels), cross-attention's output started non-zero."""
    torch.manual_seed(0)
    nets = Networks(ModelArgs.from_config(smoke_cfg.model, smoke_cfg.data.image_size, smoke_data.num_classes))
    for m in nets.G.cross_attn.values():
        torch.nn.init.normal_(m.out.weight)                    # zero-initialised: make the context matter
    return nets, GeneratorStep(nets.G, nets.E).eval(), *smoke_data.batch(slice(0, 8))


def test_guided_images_read_only_their_own_features_and_free_fakes_read_none(smoke_cfg, smoke_data):
    nets, step, x, y = _step_with_live_cross_attention(smoke_cfg, smoke_data)
    plan = StepPlan(torch.randn(8, nets.args.z_dim), torch.tensor([5, 1, 2, 0]), 2, torch.randn(2, nets.args.z_dim))
    changed = x.clone()
    changed[2] = changed[2].flip(-1)                           # another picture for the first guided image
    with torch.no_grad():
        torch.manual_seed(1)
        fake, x_enc, *_ = step(plan.z, y, x[plan.encoded], y[plan.encoded], plan)
        torch.manual_seed(1)
        fake2, x_enc2, *_ = step(plan.z, y, changed[plan.encoded], y[plan.encoded], plan)
    assert torch.equal(fake, fake2)                            # D's fakes: z alone, no context
    assert not torch.allclose(x_enc[2], x_enc2[2])             # guided by its own (changed) image
    assert torch.equal(x_enc[3], x_enc2[3])                    # guided by its own (unchanged) image only
    assert torch.equal(x_enc[:2], x_enc2[:2])                  # reconstructed from their own encodings


@pytest.mark.parametrize("edit_context", [False, True])
def test_class_edits_read_their_own_images_features_only_with_edit_context(smoke_cfg, smoke_data, edit_context):
    nets, step, x, y = _step_with_live_cross_attention(smoke_cfg, smoke_data)
    plan = StepPlan(torch.randn(8, nets.args.z_dim), torch.tensor([5, 1, 2, 0]), 2, torch.randn(2, nets.args.z_dim),
                    torch.tensor([1, 2]), edit_context)
    changed = x.clone()
    changed[5] = changed[5].flip(-1)                           # another picture for the first reconstructed image
    with torch.no_grad():
        torch.manual_seed(1)
        *_, edited, _ = step(plan.z, y, x[plan.encoded], y[plan.encoded], plan)
        torch.manual_seed(1)
        *_, edited2, _ = step(plan.z, y, changed[plan.encoded], y[plan.encoded], plan)
        torch.manual_seed(1)
        *_, alone, _ = step(plan.z, y, x[plan.encoded], y[plan.encoded], replace(plan, edit_context=False))
    assert edited.shape[0] == 2 and torch.equal(edited[1], edited2[1])   # the second edit's own image is unchanged
    assert not torch.allclose(edited[0], edited2[0])           # its latent, and with the context its features
    assert torch.equal(edited, alone) != edit_context          # the context changes the edits, or is not read


def test_the_edit_cycle_decodes_each_class_edit_back_with_its_images_own_class(smoke_cfg, smoke_data):
    nets, step, x, y = _step_with_live_cross_attention(smoke_cfg, smoke_data)
    plan = StepPlan(torch.randn(8, nets.args.z_dim), torch.tensor([5, 1, 2, 0]), 2, torch.randn(2, nets.args.z_dim),
                    torch.tensor([1, 2]), cycle=True)
    with torch.no_grad():
        *_, edited, back = step(plan.z, y, x[plan.encoded], y[plan.encoded], plan)
        assert back.shape == edited.shape == (2, 3, 16, 16)
        torch.testing.assert_close(back, nets.G(nets.E(edited)[0], y[plan.encoded][:2]))   # E, then the own class
        assert step(plan.z, y, x[plan.encoded], y[plan.encoded], replace(plan, cycle=False))[-1] is None


def test_the_edit_cycle_loss_enters_g_and_e_at_its_weight_and_is_logged(tmp_path, smoke_cfg, smoke_data):
    from paperlib.training.run import Run
    from paperlib.training.steps import generator_step

    cfg = smoke_cfg.override(**{"model.d_classifier": True, "train.edit_weight": 1.0, "train.enc_every": 1})
    grads, cycles = [], []
    for weight in (10.0, 20.0, 30.0):            # the same seed, so the same step but for the cycle's weight
        run = Run.start(cfg.override(**{"train.edit_cycle_weight": weight}), tmp_path / str(weight), smoke_data)
        torch.manual_seed(0)
        losses = generator_step(run.nets, run.g_train, run.opt_g, run.cfg.train, *run.batch(0), step=0)
        cycles.append(losses[7].item())
        grads.append(torch.cat([p.grad.flatten() for p in run.nets.E.parameters()]))
    assert cycles[0] > 0 and cycles == pytest.approx([cycles[0]] * 3)
    step_10, step_20 = grads[1] - grads[0], grads[2] - grads[1]          # linear in the weight, and not zero
    assert step_10.abs().sum() > 0
    torch.testing.assert_close(step_20, step_10, rtol=1e-3, atol=1e-6)
    train(cfg.override(**{"train.edit_cycle_weight": 10.0, "train.steps": 2, "train.log_every": 1}),
          tmp_path / "logged", progress=False, data=smoke_data)
    rows = [json.loads(line) for line in (tmp_path / "logged" / "stats.jsonl").read_text().splitlines()]
    assert all(r["edit_cycle"] > 0 for r in rows)


def test_the_latent_classifier_learns_the_class_from_e_and_e_learns_to_hide_it(smoke_cfg, smoke_data):
    from paperlib.training import losses

    cfg = smoke_cfg.override(**{"model.latent_classifier": True})
    nets = Networks(ModelArgs.from_config(cfg.model, cfg.data.image_size, smoke_data.num_classes))
    step = GeneratorStep(nets.G, nets.E, nets.C)
    x, y = smoke_data.batch(slice(0, 8))
    plan = StepPlan(torch.randn(8, nets.args.z_dim), torch.tensor([5, 1, 2, 0]), 2, torch.randn(2, nets.args.z_dim))
    _, _, mu, _, latent_logits, *_ = step(plan.z, y, x[plan.encoded], y[plan.encoded], plan)
    loss_c, loss_e = losses.latent_class(*latent_logits, y[plan.encoded])
    classifier = list(nets.C.parameters())
    to_mu, *to_c = torch.autograd.grad(loss_c, [mu, *classifier], retain_graph=True, allow_unused=True)
    assert to_mu is None and all(g is not None and g.abs().sum() > 0 for g in to_c)      # trains C only
    to_mu, *to_c = torch.autograd.grad(loss_e, [mu, *classifier], allow_unused=True)
    assert to_mu is not None and to_mu.abs().sum() > 0 and all(g is None for g in to_c)  # trains E only
    assert "C" in nets.parameter_counts()
    assert Networks(ModelArgs.from_config(ModelConfig(), 16, 3)).C is None                # off by default
    for nothing_to_hide in ({"model.conditional": False}, {"model.encoder": False, "model.cross_attn_res": ()}):
        model = cfg.override(**nothing_to_hide).model
        assert Networks(ModelArgs.from_config(model, 16, 3)).C is None


def test_stats_log_the_latent_classifiers_cross_entropy_and_accuracy_on_encoder_path_steps(tmp_path, smoke_cfg,
                                                                                              smoke_data):
    cfg = smoke_cfg.override(**{"train.steps": 4, "train.log_every": 1, "train.enc_every": 2})
    for on in (True, False):
        train(cfg.override(**{"model.latent_classifier": on}), tmp_path / str(on), progress=False, data=smoke_data)
        rows = [json.loads(line) for line in (tmp_path / str(on) / "stats.jsonl").read_text().splitlines()]
        if not on:
            assert not any("latent_acc" in r or "latent_ce" in r for r in rows)
            continue
        path = [r for r in rows if r["step"] % 2 == 0]                 # the encoder path runs on every 2nd step
        assert all(r["loss_rec"] > 0 and 0 <= r["latent_acc"] <= 1 and r["latent_ce"] > 0 for r in path)
        assert all(r["latent_acc"] is None and r["latent_ce"] is None for r in rows if r["step"] % 2)


@pytest.mark.parametrize("balance", [1.0, 0.5])
def test_class_balance_draws_classes_in_proportion_to_a_power_of_their_size(balance):
    labels = torch.tensor([0] * 90 + [1] * 5 + [2] * 5)
    weights = class_weights(labels, balance)
    drawn = torch.cat([batch_indices(d, 100, 64, seed=0, weights=weights) for d in range(30)])
    share = labels[drawn].bincount().double() / len(drawn)
    expected = torch.tensor([90.0, 5.0, 5.0]).pow(1 - balance)
    assert (share - expected / expected.sum()).abs().max() < 0.05
    assert torch.equal(batch_indices(7, 100, 64, 0, weights), batch_indices(7, 100, 64, 0, weights))
    assert class_weights(labels, 0.0) is None                   # the natural mix: epochs of permutations


def test_reconstruction_leaves_the_ema_generator_unchanged(tmp_path, smoke_cfg, smoke_data):
    from paperlib import networks_from_checkpoint
    from paperlib.model.editing import guided

    train(smoke_cfg, tmp_path, progress=False, data=smoke_data)
    nets = networks_from_checkpoint(tmp_path / "checkpoints" / "step_000004.pt").eval()
    before = {k: v.clone() for k, v in nets.G_ema.state_dict().items()}
    x, y = smoke_data.batch(slice(0, 6))
    out = guided(nets, torch.randn(6, nets.args.z_dim), y, x.flip(0))
    assert out.shape == x.shape and out.abs().max() <= 1
    assert all(torch.equal(before[k], v) for k, v in nets.G_ema.state_dict().items())
    assert not any(m.training for m in nets.G_ema.modules())


def test_two_threaded_runs_of_the_quick_model_are_bitwise_identical(tmp_path):
    """Multi-threaded CPU kernels must not make training irreproducible (a scatter-add backward once did)."""
    torch.set_num_threads(2)
    cfg = get_config("quick", **{"train.steps": 8, "train.log_every": 8, "train.sample_every": 1000,
                                 "train.ckpt_every": 1000})
    a = train(cfg, tmp_path / "a", progress=False)["replica_checksums"]
    b = train(cfg, tmp_path / "b", progress=False)["replica_checksums"]
    assert a == b


def test_a_run_started_before_new_config_fields_resumes_at_their_defaults(tmp_path, smoke_cfg, smoke_data):
    train(smoke_cfg.override(**{"train.steps": 2}), tmp_path, progress=False, data=smoke_data)
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["config"]["data"]["fraction"], saved["config"]["model"]["depth"], saved["config"]["train"]["init_from"]
    (tmp_path / "config.json").write_text(json.dumps(saved))          # as written by an older paperlib
    assert train(smoke_cfg, tmp_path, progress=False, data=smoke_data)["steps"] == 4


def test_init_from_copies_every_matching_tensor_and_reports_the_rest(tmp_path, smoke_cfg, smoke_data):
    source = train(smoke_cfg, tmp_path / "source", progress=False, data=smoke_data)
    two_classes = (smoke_data.labels % 2 == 0).long()     # another class count: new class embeddings and C's outputs
    other = type(smoke_data)(smoke_data.images, two_classes, ["even", "odd"], smoke_data.ids, "two")
    cfg = smoke_cfg.override(**{"train.steps": 1, "train.lr_g": 1e-9, "train.lr_d": 1e-9,
                                "train.init_from": source["checkpoint"]})
    train(cfg, tmp_path / "target", progress=False, data=other)
    fresh = json.loads((tmp_path / "target" / "init_from.json").read_text())["fresh"]
    assert fresh and all("embed" in k or k.startswith("C.out.") for k in fresh)
    src = load_checkpoint(source["checkpoint"])["networks"]
    dst = load_checkpoint(latest_checkpoint(tmp_path / "target"))["networks"]
    weight = "E.head.weight"                                    # the encoder has no class input
    assert torch.allclose(src[weight], dst[weight], atol=1e-6)
    assert src["G.embed.weight"].shape != dst["G.embed.weight"].shape


def test_init_from_a_missing_or_foreign_file_says_what_to_give(tmp_path, smoke_cfg, smoke_data):
    with pytest.raises(FileNotFoundError, match="train the source run first"):
        train(smoke_cfg.override(**{"train.init_from": str(tmp_path / "nope.pt")}), tmp_path / "a", progress=False,
              data=smoke_data)
    save_checkpoint(tmp_path / "clf.pt", {"classifier": {}, "meta": {}})
    with pytest.raises(CheckpointError, match="not a model checkpoint"):
        train(smoke_cfg.override(**{"train.init_from": str(tmp_path / "clf.pt")}), tmp_path / "b", progress=False,
              data=smoke_data)


@pytest.mark.parametrize("weight, judged", [(0.0, 16), (1.0, 16 + 8)])
def test_enc_adv_weight_has_d_judge_the_encoder_path_images_too(tmp_path, smoke_cfg, smoke_data, weight, judged):
    from paperlib.training.run import Run
    from paperlib.training.steps import generator_step

    run = Run.start(smoke_cfg.override(**{"train.enc_adv_weight": weight}), tmp_path, smoke_data)
    seen = []
    run.nets.D.register_forward_hook(lambda module, inputs, out: seen.append(len(out)))
    generator_step(run.nets, run.g_train, run.opt_g, run.cfg.train, *run.batch(0), step=1)
    assert seen == [judged]          # the smoke batch of 16 free fakes, plus its 8 encoded images when weighted


def test_class_edits_decode_each_reconstructed_latent_with_another_class_for_d_to_judge_and_classify(
        tmp_path, smoke_cfg, smoke_data):
    from paperlib.training.run import Run
    from paperlib.training.steps import StepPlan, discriminator_step, generator_step

    cfg = smoke_cfg.override(**{"model.d_classifier": True, "train.edit_weight": 1.0, "train.enc_every": 1})
    run = Run.start(cfg, tmp_path, smoke_data)
    x, y = run.batch(0)
    plan = StepPlan.draw(len(x), cfg.train, run.nets.args, x.device)
    edited = plan.edited_labels(y[plan.encoded], run.nets.args.n_classes)
    assert len(edited) == plan.reconstructed > 0 and not (edited == y[plan.encoded][:plan.reconstructed]).any()
    seen = []
    run.nets.D.register_forward_hook(lambda module, args, kwargs, out: seen.append((len(args[0]), kwargs)),
                                     with_kwargs=True)
    losses = generator_step(run.nets, run.g_train, run.opt_g, cfg.train, x, y, step=0)
    assert seen == [(16 + plan.reconstructed, {"classify": True})]   # the free fakes, then the class edits
    assert losses[6] > 0                                      # D's cross-entropy on the edits' new classes
    before = [p.detach().clone() for p in run.nets.D.classes.parameters()]
    discriminator_step(run.nets, run.d_train, run.opt_d, cfg.train, x, y, run.separate_passes)
    assert all(not torch.equal(a, b) for a, b in zip(before, run.nets.D.classes.parameters()))  # learns from reals
    train(cfg.override(**{"train.steps": 2, "train.log_every": 1}), tmp_path / "logged", progress=False,
          data=smoke_data)
    rows = [json.loads(line) for line in (tmp_path / "logged" / "stats.jsonl").read_text().splitlines()]
    assert all(r["edit_ce"] > 0 for r in rows)


def test_lecam_anchors_start_at_the_first_means_then_move_slowly_and_penalise_crossing_scores():
    from paperlib.training.losses import LeCam

    lecam = LeCam()
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    assert lecam(real, fake).item() == pytest.approx(((1 + 1) ** 2 + (3 + 1) ** 2) / 2 + ((2 - -2) ** 2 + 2 ** 2) / 2)
    assert lecam.anchors.tolist() == [2.0, -1.0]                       # the first step's means
    lecam(torch.tensor([12.0]), torch.tensor([-11.0]))
    assert lecam.anchors.tolist() == pytest.approx([2.0 + 0.01 * 10, -1.0 - 0.01 * 10])
    assert lecam(torch.tensor([-5.0]), torch.tensor([5.0])).item() == 0  # reals below, fakes above: no penalty


def test_the_lazy_encoder_path_skips_e_on_the_other_steps_and_weights_its_losses_by_enc_every(tmp_path, smoke_cfg,
                                                                                               smoke_data):
    from paperlib.training.run import Run
    from paperlib.training.steps import generator_step

    grads = {}
    for every, encode in ((1, True), (2, True), (2, False)):
        run = Run.start(smoke_cfg.override(**{"train.enc_every": every}), tmp_path / f"{every}{encode}", smoke_data)
        torch.manual_seed(0)
        losses = generator_step(run.nets, run.g_train, run.opt_g, run.cfg.train, *run.batch(0), step=int(encode))
        grads[every, encode] = [p.grad for p in run.nets.E.parameters()]
        assert (losses[1] > 0) == encode                          # the reconstruction loss
    assert all(g is None for g in grads[2, False])                # no encoder path: E untouched, Adam skips it
    for once, twice in zip(grads[1, True], grads[2, True]):       # E's gradients come from the weighted losses only
        torch.testing.assert_close(twice, 2 * once)


def test_the_vae_runs_its_encoder_path_on_every_step_whatever_enc_every(tmp_path, smoke_cfg, smoke_data):
    from paperlib.core.recipes import model_config
    from paperlib.training.run import Run
    from paperlib.training.steps import generator_step

    grads = []
    for every in (1, 2):
        run = Run.start(model_config(smoke_cfg, "vae").override(**{"train.enc_every": every}), tmp_path / str(every),
                        smoke_data)
        torch.manual_seed(0)
        generator_step(run.nets, run.g_train, run.opt_g, run.cfg.train, *run.batch(0), step=0)
        grads.append([p.grad for p in run.nets.E.parameters()])
    for once, lazy in zip(*grads):                                 # trained, and not weighted by enc_every
        torch.testing.assert_close(lazy, once)


def test_a_batch_norm_discriminator_sees_reals_and_fakes_in_separate_batches(tmp_path, smoke_cfg, smoke_data):
    from paperlib.training.run import Run
    from paperlib.training.steps import discriminator_step

    run = Run.start(smoke_cfg.override(**{"model.d_batch_norm": True}), tmp_path, smoke_data)
    assert run.separate_passes and len([m for m in run.nets.D.modules() if isinstance(m, torch.nn.BatchNorm2d)]) == 1
    seen = []
    run.nets.D.register_forward_hook(lambda module, inputs, out: seen.append(len(out)))
    x, y = run.batch(0)
    discriminator_step(run.nets, run.d_train, run.opt_d, run.cfg.train, x, y, run.separate_passes)
    assert seen == [len(x), len(x)]           # a pure real batch, then a pure fake one: no mixed batch statistics
