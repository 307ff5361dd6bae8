"""Unit tests of course_utils.gan (notebook 04): networks, the training step, the measures."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import gan


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> list[bool]:
    return [
        not torch.equal(b, p.detach()) for b, p in zip(before, module.parameters(), strict=True)
    ]


def _tiny_pair(seed: int = 0):
    torch.manual_seed(seed)
    G = gan.MLPGenerator(z_dim=2, hidden=16, depth=2)
    D = gan.MLPDiscriminator(hidden=16, depth=2)
    return G, D


# ------------------------------------------------------------------------- shapes
def test_network_shapes():
    torch.manual_seed(0)
    z = torch.randn(3, 8)
    assert gan.MLPGenerator(8, (1, 4, 4), hidden=8, tanh=True)(z).shape == (3, 1, 4, 4)
    assert gan.MLPDiscriminator((1, 4, 4), hidden=8)(torch.randn(3, 1, 4, 4)).shape == (3,)
    G = gan.DCGANGenerator(z_dim=8, width=4)
    x = G(z)
    assert x.shape == (3, 1, 32, 32) and x.abs().max() <= 1
    for norm in ("batch", "none"):
        assert gan.DCGANDiscriminator(width=4, norm=norm)(x).shape == (3,)
    V = gan.VideoGenerator(content_dim=6, motion_dim=2, num_frames=4, width=4)
    clips = V(torch.randn(2, V.z_dim))
    assert clips.shape == (2, 4, 1, 32, 32)
    assert V(torch.randn(2, V.z_dim), num_frames=6).shape == (2, 6, 1, 32, 32)
    assert gan.VideoDiscriminator(width=4)(clips).shape == (2,)
    assert gan.GlyphClassifier(width=4)(x).shape == (3, 10)


def test_ring_and_ranges():
    c = gan.ring_centers(8, 2.0)
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.full((8,), 2.0))
    x = gan.sample_ring(1000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (1000, 2)
    assert gan.ring_metrics(x)["modes_hit"] == 8
    img = torch.tensor([0, 128, 255], dtype=torch.uint8)
    assert torch.allclose(gan.from_gan_range(gan.to_gan_range(img)), img.float() / 255)
    with pytest.raises(ValueError, match="n_modes"):
        gan.ring_centers(0)


# ------------------------------------------------------------------------- losses
def test_losses_match_formulas():
    a_real, a_fake = torch.randn(7, dtype=torch.float64), torch.randn(7, dtype=torch.float64)
    s = torch.sigmoid
    d = gan.discriminator_loss(a_real, a_fake)
    assert torch.allclose(d, -(s(a_real).log().mean() + (1 - s(a_fake)).log().mean()))
    assert torch.allclose(gan.generator_loss(a_fake), -s(a_fake).log().mean())
    assert torch.allclose(gan.generator_loss(a_fake, "saturating"), (1 - s(a_fake)).log().mean())
    assert torch.allclose(gan.generator_loss(a_fake, "wgan-gp"), -a_fake.mean())
    with pytest.raises(ValueError, match="kind"):
        gan.generator_loss(a_fake, "hinge")


def test_losses_are_stable_for_large_logits():
    big = torch.tensor([-200.0, 200.0])
    assert torch.isfinite(gan.discriminator_loss(big, big))
    assert torch.isfinite(gan.generator_loss(big))
    # the non-saturating gradient stays alive where D rejects the fake; the saturating one dies
    a = torch.tensor([-10.0], requires_grad=True)
    (g_ns,) = torch.autograd.grad(gan.generator_loss(a), a)
    (g_s,) = torch.autograd.grad(gan.generator_loss(a, "saturating"), a)
    assert g_ns.abs() > 0.99 and g_s.abs() < 1e-4


def test_gradient_penalty_known_values():
    # a linear critic w.x has gradient w everywhere: penalty (|w| - 1)^2
    w = torch.tensor([3.0, 4.0])
    real, fake = torch.randn(5, 2), torch.randn(5, 2)
    gp = gan.gradient_penalty(lambda x: x @ w, real, fake)
    assert torch.allclose(gp, torch.tensor(16.0))
    # and a unit-norm one has zero penalty
    gp0 = gan.gradient_penalty(lambda x: x @ (w / 5), real, fake)
    assert gp0.abs() < 1e-10
    # it is differentiable with respect to the critic's parameters (create_graph)
    lin = torch.nn.Linear(2, 1)
    gp = gan.gradient_penalty(lambda x: lin(x).squeeze(1), real, fake)
    gp.backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0


# ----------------------------------------------------------------- the training step
def test_d_step_updates_only_D_and_never_backpropagates_into_G():
    G, D = _tiny_pair()
    opt_g, opt_d = gan.make_optimizers(G, D, 1e-2, 1e-2)
    g0, d0 = _params(G), _params(D)
    hits = []
    for p in G.parameters():
        p.register_hook(lambda grad: hits.append(1))
    gan.d_step(G, D, opt_d, gan.sample_ring(32))
    assert all(_changed(d0, D)), "every D parameter should move"
    assert not any(_changed(g0, G)), "the D step changed G"
    assert all(p.grad is None for p in G.parameters()), "the D step left gradients in G"
    assert hits == [], "the D loss backpropagated into G"


def test_g_step_updates_only_G_and_leaves_D_grads_alone():
    G, D = _tiny_pair(1)
    opt_g, opt_d = gan.make_optimizers(G, D, 1e-2, 1e-2)
    for p in D.parameters():  # pretend stale gradients from the last D step
        p.grad = torch.full_like(p, 7.0)
    g0, d0 = _params(G), _params(D)
    gan.g_step(G, D, opt_g, 32)
    assert all(_changed(g0, G)), "every G parameter should move"
    assert not any(_changed(d0, D)), "the G step changed D"
    assert all(torch.equal(p.grad, torch.full_like(p, 7.0)) for p in D.parameters()), (
        "G step leaked grads into D"
    )
    assert all(p.requires_grad for p in D.parameters()), "D must be unfrozen after the G step"


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_train_step_touches_each_network_once(loss):
    G, D = _tiny_pair(2)
    opt_g, opt_d = gan.make_optimizers(G, D, 1e-2, 1e-2)
    counts = {"G": 0, "D": 0}
    first_g = next(G.parameters())
    first_d = next(D.parameters())
    first_g.register_hook(lambda grad: counts.__setitem__("G", counts["G"] + 1))
    first_d.register_hook(lambda grad: counts.__setitem__("D", counts["D"] + 1))
    stats = gan.train_step(G, D, opt_g, opt_d, gan.sample_ring(16), loss=loss, d_steps=2)
    assert counts == {"G": 1, "D": 2}  # one G backward, two D backwards, nothing leaked
    assert set(stats) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(math.isfinite(v) for v in stats.values())


def test_g_step_is_the_nonsaturating_gradient():
    """The G update equals a manual SGD step on -log D(G(z)) for the same noise."""
    G, D = _tiny_pair(3)
    G2, _ = _tiny_pair(3)
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    torch.manual_seed(5)
    gan.g_step(G, D, opt, 8)
    torch.manual_seed(5)
    z = torch.randn(8, 2)
    loss = -F.logsigmoid(D(G2(z))).mean()
    grads = torch.autograd.grad(loss, list(G2.parameters()))
    for p, p2, g in zip(G.parameters(), G2.parameters(), grads, strict=True):
        assert torch.allclose(p, p2 - 0.1 * g, atol=1e-6)


def test_train_gan_records_history_and_respects_time_limit():
    G, D = _tiny_pair(4)
    z = torch.randn(10, 2)
    h = gan.train_gan(
        G, D, gan.sample_ring, steps=12, batch_size=16, sample_every=5, z_fixed=z, progress=False
    )
    assert h.steps == 12 and len(h.d_loss) == len(h.g_loss) == len(h.d_real) == len(h.d_fake) == 12
    assert [s for s, _ in h.samples] == [0, 5, 10, 12]
    assert h.samples[-1][1].shape == (10, 2) and h.seconds > 0
    data = gan.sample_ring(100)
    h2 = gan.train_gan(G, D, data, steps=10_000, batch_size=8, time_limit=0.0, progress=False)
    assert h2.steps == 1


# ------------------------------------------------------------------------- measures
def test_ring_metrics_known_values():
    centers = gan.ring_centers(8, 2.0)
    one_mode = centers[3].repeat(400, 1)  # (400, 2) all on one centre
    m = gan.ring_metrics(one_mode)
    assert m["modes_hit"] == 1 and m["high_quality"] == 1.0 and m["counts"][3] == 400
    even = centers.repeat(50, 1)  # (400, 2) evenly spread
    m = gan.ring_metrics(even)
    assert m["modes_hit"] == 8 and m["high_quality"] == 1.0 and m["counts"] == [50] * 8
    far = torch.full((400, 2), 10.0)
    m = gan.ring_metrics(far)
    assert m["modes_hit"] == 0 and m["high_quality"] == 0.0
    origin = torch.zeros(400, 2)  # the centre of the ring: "between the modes"
    assert gan.ring_metrics(origin)["modes_hit"] == 0
    half = torch.cat([centers.repeat(25, 1), far[:200]])  # half perfect, half far
    m = gan.ring_metrics(half)
    assert m["modes_hit"] == 8 and m["high_quality"] == 0.5
    # a few stray samples on a mode do not count as covering it
    stray = torch.cat([centers[:1].repeat(999, 1), centers[1:2]])
    assert gan.ring_metrics(stray)["modes_hit"] == 1
    with pytest.raises(ValueError, match="shape"):
        gan.ring_metrics(torch.zeros(3, 3))


def test_inception_like_score_known_values():
    eye = torch.eye(10)
    assert gan.inception_like_score(eye.repeat(5, 1)) == pytest.approx(10.0)
    assert gan.inception_like_score(eye[:1].repeat(50, 1)) == pytest.approx(1.0)
    assert gan.inception_like_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert gan.inception_like_score(eye[:5].repeat(4, 1)) == pytest.approx(5.0)
    # equals exp(H(marginal) - mean H(conditional))
    p = torch.softmax(torch.randn(64, 10, dtype=torch.float64), dim=1)
    h = lambda q: -(q * q.log()).sum(-1)  # noqa: E731
    assert gan.inception_like_score(p) == pytest.approx(float((h(p.mean(0)) - h(p).mean()).exp()))


def test_glyph_score_uses_the_classifier():
    class Oracle(torch.nn.Module):  # "classifies" by the first pixel's value
        def forward(self, x):
            idx = ((x[:, 0, 0, 0] + 1) * 4.5).round().long()
            return F.one_hot(idx, 10).float() * 50

    imgs = torch.linspace(-1, 1, 10).repeat_interleave(3).view(30, 1, 1, 1).expand(30, 1, 32, 32)
    assert gan.glyph_score(imgs, Oracle(), batch_size=7) == pytest.approx(10.0, rel=1e-4)
    assert gan.glyph_score(imgs[:3], Oracle()) == pytest.approx(1.0, rel=1e-4)


def test_motion_travel_known_values():
    clips = -torch.ones(2, 4, 1, 8, 8)  # black
    for t in range(4):
        clips[0, t, 0, 3, 1 + t] = 1.0  # a dot moving right by 1 px per frame
        clips[1, t, 0, 5, 5] = 1.0  # a still dot
    travel = gan.motion_travel(clips)
    assert torch.allclose(travel, torch.tensor([[3.0, 0.0], [0.0, 0.0]]))
    assert torch.allclose(gan.intensity_centroids(clips)[1, 0], torch.tensor([5.0, 5.0]))


def test_packed_discriminator_judges_packs():
    torch.manual_seed(0)
    D = gan.PackedDiscriminator(gan.MLPDiscriminator(in_shape=(8,), hidden=8), pack=4)
    x = torch.randn(12, 2)
    assert D(x).shape == (3,)
    # the pack's logit depends on all its members: changing one sample changes its pack only
    y = x.clone()
    y[5] += 1.0
    changed = D(x) != D(y)
    assert changed.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="divisible"):
        D(torch.randn(10, 2))
    G = gan.MLPGenerator(z_dim=2, hidden=8, depth=1)
    h = gan.train_gan(G, D, gan.sample_ring, steps=3, batch_size=16, progress=False)
    assert h.steps == 3


def test_shift_travel_sees_motion_not_fading():
    H = W = 16
    clip = torch.full((1, 6, 1, H, W), -1.0)  # (N, T, C, H, W), black
    for t in range(6):
        clip[0, t, 0, 6:10, 2 + t : 6 + t] = 1.0  # a square moving right by 1 px per frame
    assert gan.shift_travel(clip).tolist() == [[5.0, 0.0]]
    assert gan.shift_travel(clip.transpose(-1, -2)).tolist() == [[0.0, 5.0]]  # moving down
    fade = torch.full((1, 6, 1, H, W), -1.0)
    for t in range(6):  # left square fades out while a right square fades in: no motion
        a = t / 5
        fade[0, t, 0, 6:10, 2:6] = -1 + 2 * (1 - a)
        fade[0, t, 0, 6:10, 10:14] = -1 + 2 * a
    assert gan.motion_travel(fade)[0, 0] > 5  # the brightness centre is fooled
    assert gan.shift_travel(fade).abs().sum() == 0  # frame matching is not
    assert gan.shift_travel(torch.zeros(2, 4, 1, 8, 8)).abs().sum() == 0  # still clips
    with pytest.raises(ValueError, match="clips"):
        gan.shift_travel(torch.zeros(4, 1, 8, 8))
    with pytest.raises(ValueError, match="max_shift"):
        gan.shift_travel(clip, max_shift=0)
