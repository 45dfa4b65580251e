from __future__ import annotations

import pytest
import torch

from paperlib import get_config
from paperlib.model.args import ModelArgs
from paperlib.model.attngan import FiLM, minibatch_std
from paperlib.model.networks import Networks
from paperlib.training.ema import standing_stats


@pytest.mark.parametrize("size, attn, cross, d_attn", [(32, (8,), (8,), False), (64, (8, 16), (16,), True),
                                                       (32, (), (), True)])
def test_shapes_of_every_network(size, attn, cross, d_attn):
    cfg = get_config("quick", **{"data.image_size": size, "model.ch": 16, "model.attn_res": attn,
                                 "model.cross_attn_res": cross, "model.d_attention": d_attn})
    nets = Networks(ModelArgs.from_config(cfg.model, size, n_classes=3))
    x, y, z = torch.randn(2, 3, size, size), torch.tensor([0, 2]), torch.randn(2, cfg.model.z_dim)
    mu, logvar, features = nets.E(x)
    assert mu.shape == logvar.shape == (2, cfg.model.z_dim)
    assert {s: f.shape for s, f in features.items()} == {s: (2, nets.args.width(s), s, s) for s in cross}
    image = nets.G(z, y)
    assert image.shape == (2, 3, size, size) and image.abs().max() <= 1
    assert nets.G(mu, y, features or None).shape == (2, 3, size, size)
    assert nets.D(x, y).shape == (2,)
    expected = {f"G.self{r}" for r in attn} | {f"G.cross{r}" for r in cross} | {f"D.self{r}" for r in attn if d_attn}
    assert set(nets.attention_layers()) == expected


def test_unconditional_model_ignores_labels_and_has_no_embeddings():
    cfg = get_config("smoke", **{"model.conditional": False})
    nets = Networks(ModelArgs.from_config(cfg.model, 16, n_classes=3))
    assert nets.args.n_classes == 0 and nets.D.embed is None and nets.G.embed is None
    assert nets.D(torch.randn(2, 3, 16, 16)).shape == (2,)


def test_conditional_generator_depends_on_the_label():
    cfg = get_config("smoke")
    nets = Networks(ModelArgs.from_config(cfg.model, 16, n_classes=3))
    with torch.no_grad():
        for film in nets.G.films:
            film.affine.weight.normal_()
    z = torch.randn(1, cfg.model.z_dim)
    assert not torch.allclose(nets.G(z, torch.tensor([0])), nets.G(z, torch.tensor([1])))


@pytest.mark.parametrize("g_norm", ["pixel", "batch"])
def test_an_image_does_not_depend_on_the_rest_of_its_batch(g_norm):
    """Sampling, reconstruction and guidance of one image are the same in any batch: no batch statistics in G or
    E, or (model.g_norm=batch) the EMA generator's standing statistics."""
    cfg = get_config("smoke", **{"model.g_norm": g_norm})
    nets = Networks(ModelArgs.from_config(cfg.model, 16, n_classes=3))
    standing_stats(nets.G_ema)
    assert len(nets.G_ema.batch_norms()) == (2 if g_norm == "batch" else 0)     # one per hidden side: 4 and 8
    z, y, x = torch.randn(5, cfg.model.z_dim), torch.tensor([0, 1, 2, 0, 1]), torch.randn(5, 3, 16, 16)
    context = nets.E(x)[2]
    alone = nets.G_ema(z[:1], y[:1], {s: f[:1] for s, f in context.items()})
    torch.testing.assert_close(nets.G_ema(z, y, context)[:1], alone, atol=1e-6, rtol=1e-5)


def test_minibatch_std_groups_never_mix_reals_and_fakes():
    reals, fakes = torch.zeros(8, 2, 4, 4), torch.randn(8, 2, 4, 4)
    out = minibatch_std(torch.cat([reals, fakes]))
    assert out.shape == (16, 3, 4, 4)
    assert (out[:8, 2] == out[:8, 2].flatten()[0]).all() and out[:8, 2].abs().max() < 1e-3   # reals: no spread
    assert out[8:, 2].min() > 0.1                                                             # fakes: theirs


def test_ema_generator_starts_equal_and_frozen():
    nets = Networks(ModelArgs.from_config(get_config("smoke").model, 16, 3))
    for p, q in zip(nets.G.parameters(), nets.G_ema.parameters()):
        assert torch.equal(p, q) and not q.requires_grad


def test_depth_adds_side_keeping_layers_and_depth_one_has_none():
    base = get_config("smoke")
    deep = base.override(**{"model.depth": 3})
    one = Networks(ModelArgs.from_config(base.model, 16, 3))
    three = Networks(ModelArgs.from_config(deep.model, 16, 3))
    assert not any(".extra." in k for k in one.state_dict())
    assert sum(".extra." in k for k in three.state_dict()) > 0
    x, y = torch.randn(2, 3, 16, 16), torch.tensor([0, 2])
    mu, _, features = three.E(x)
    assert three.G(mu, y, features).shape == (2, 3, 16, 16) and three.D(x, y).shape == (2,)
    assert three.parameter_counts()["G"] > one.parameter_counts()["G"]


@pytest.mark.parametrize("head", ["conv", "down"])
def test_each_d_head_lets_a_score_see_the_other_images_of_its_group(head):
    """The minibatch-std channel reaches the score from either place; "down" drops the 3x3 head layer."""
    cfg = get_config("quick", **{"model.d_head": head, "model.conditional": False})
    D = Networks(ModelArgs.from_config(cfg.model, 32, n_classes=0)).D.eval()   # eval: spectral norm's vectors stay
    assert (D.final is None) == (head == "down")
    x = torch.randn(8, 3, 32, 32)
    other = x.clone()
    other[1] = torch.randn(3, 32, 32)                  # same group of 4 as image 0; image 4 is in the next group
    with torch.no_grad():
        before, after = D(x), D(other)
    assert not torch.allclose(before[0], after[0]) and torch.equal(before[4:], after[4:])


def test_without_film_the_latent_enters_through_the_first_layer_only():
    cfg = get_config("smoke", **{"model.g_film": False, "model.g_norm": "batch"})
    G = Networks(ModelArgs.from_config(cfg.model, 16, n_classes=3)).G_ema
    assert not [m for m in G.modules() if isinstance(m, FiLM)]
    assert all(bn.affine for bn in G.batch_norms())          # batch norm keeps its own scale and shift, as DCGAN's
    standing_stats(G)
    z = torch.randn(2, cfg.model.z_dim)
    assert not torch.allclose(G(z, torch.tensor([0, 0])), G(z.flip(0), torch.tensor([0, 0])))


def test_normal_init_starts_g_and_d_at_dcgan_scale_but_the_zero_started_ones_and_e_at_kaiming():
    cfg = get_config("quick", **{"model.init": "normal"})
    nets = Networks(ModelArgs.from_config(cfg.model, 32, n_classes=3))
    attn = nets.G.self_attn["8"]
    for weight in (nets.G.ups[0].weight, nets.D.stem.parametrizations.weight.original, attn.query.weight):
        assert weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert attn.out.weight.abs().sum() == 0 and nets.G.films[0].affine.weight.abs().sum() == 0
    for conv in nets.E.downs:   # Kaiming for LeakyReLU: std sqrt(2 / (1 + 0.2^2) / fan_in)
        fan_in = conv.weight[0].numel()
        assert conv.weight.std().item() == pytest.approx((2 / 1.04 / fan_in) ** 0.5, rel=0.2)


@pytest.mark.parametrize("init", ["kaiming", "normal"])
def test_a_plain_projection_d_starts_with_a_class_term_of_the_image_terms_order(init):
    cfg = get_config("quick", **{"model.init": init, "model.d_spectral_norm": False})
    d = Networks(ModelArgs.from_config(cfg.model, 32, n_classes=3)).D
    torch.manual_seed(0)
    x, y = torch.rand(64, 3, 32, 32) * 2 - 1, torch.randint(0, 3, (64,))
    inputs = []
    d.linear.register_forward_hook(lambda m, i, o: inputs.append(i[0]) and None)
    score = d(x, y)
    image_term = d.linear(inputs[0]).squeeze(1)
    # the class term sums D's 16 positions, so about 4x; nn.Embedding's N(0, 1) made it 46-53x here
    assert (score - image_term).std() < 6 * image_term.std()


def test_self_locality_starts_each_self_attention_query_at_its_own_place():
    """model.self_locality gives G's self-attention the cross-attention's position bias: a local start."""
    cfg = get_config("smoke", **{"model.attn_res": (8,), "model.self_locality": 0.5})
    layer = Networks(ModelArgs.from_config(cfg.model, 16, n_classes=3)).G.self_attn["8"]
    _, attention = layer.attend(*(2 * [0.01 * torch.randn(1, layer.query.in_features, 8, 8)]), return_attention=True)
    assert torch.equal(attention[0].argmax(-1), torch.arange(64))     # faint content: the prior decides
    plain = get_config("smoke", **{"model.attn_res": (8,)})
    assert Networks(ModelArgs.from_config(plain.model, 16, n_classes=3)).G.self_attn["8"].bias is None
