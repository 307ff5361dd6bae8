"""Diffusion reference code (notebook 08): schedules, the forward process, the reverse step, samplers."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import diffusion as dm
from course_utils import timing


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is faster and steadier on a shared machine."""
    with timing.one_thread():
        yield

def test_schedules():
    lin, cos = dm.linear_schedule(1000), dm.cosine_schedule(1000)
    assert lin.dtype == torch.float64 and lin.shape == (1000,)
    assert math.isclose(lin[0].item(), 1e-4) and math.isclose(lin[-1].item(), 0.02)
    assert math.isclose(dm.linear_schedule(200)[-1].item(), 0.1)  # scaled by 1000 / T
    for kind in ("linear", "cosine"):
        for steps in (50, 200, 1000):
            s = dm.Schedule.make(kind, steps)
            assert bool(((s.betas > 0) & (s.betas < 1)).all())
            assert bool((s.alpha_bar[1:] < s.alpha_bar[:-1]).all())  # signal only decays
            assert bool((s.snr[1:] < s.snr[:-1]).all())
            assert s.alpha_bar[-1] < 1e-3, (kind, steps, s.alpha_bar[-1])
    # the cosine schedule keeps more signal in the middle of the chain
    lin_s, cos_s = dm.Schedule(lin), dm.Schedule(cos)
    assert cos_s.alpha_bar[500] > lin_s.alpha_bar[500]
    # cosine: alpha_bar(t) follows cos^2 closely (away from the clipped end)
    t = torch.arange(1, 901, dtype=torch.float64)
    f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert torch.allclose(cos_s.alpha_bar[:900], f, rtol=1e-9)


def test_schedule_validation():
    with pytest.raises(ValueError, match="kind"):
        dm.Schedule.make("quadratic")
    with pytest.raises(ValueError, match="betas"):
        dm.Schedule(torch.tensor([0.1, 1.5]))
    with pytest.raises(ValueError, match="num_steps"):
        dm.linear_schedule(1)


def test_closed_form_matches_the_simulated_chain():
    """q(x_t | x_0) = N(sqrt(ab_t) x0, (1 - ab_t) I), checked by running t noising steps.

    n samples per coordinate: the sample mean's standard error is sqrt(var / n), the sample
    variance's is about var * sqrt(2 / (n - 1)); we allow 5 standard errors (a false alarm
    has probability below 1e-6 per comparison).
    """
    n = 20000
    sched = dm.Schedule.make("linear", 100)
    x0 = torch.tensor([1.0, -0.5, 0.0], dtype=torch.float64).repeat(n, 1)  # (n, 3)
    g = torch.Generator().manual_seed(0)
    for t in (1, 10, 60):
        chain = dm.simulate_chain(x0, t, sched.betas, generator=g)  # t steps: index t - 1
        tt = torch.full((n,), t - 1)
        jump = dm.q_sample(x0, tt, torch.randn(n, 3, generator=g, dtype=torch.float64), sched.alpha_bar)
        ab = sched.alpha_bar[t - 1]
        mean, var = ab.sqrt() * x0[0], 1 - ab
        for sample in (chain, jump):
            se_mean = math.sqrt(var / n)
            se_var = var * math.sqrt(2 / (n - 1))
            assert (sample.mean(0) - mean).abs().max() < 5 * se_mean, (t, sample.mean(0), mean)
            assert (sample.var(0) - var).abs().max() < 5 * se_var, (t, sample.var(0), var)


def test_q_sample_per_sample_steps_and_validation():
    sched = dm.Schedule.make("cosine", 10)
    x0, noise = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    out = dm.q_sample(x0, torch.tensor([0, 9]), noise, sched.alpha_bar)
    assert torch.allclose(out[0], sched.alpha_bar[0].sqrt().float() * x0[0])
    assert torch.allclose(out[1], sched.alpha_bar[9].sqrt().float() * x0[1])
    with pytest.raises(ValueError, match="t must"):
        dm.q_sample(x0, torch.tensor([0, 10]), noise, sched.alpha_bar)
    with pytest.raises(ValueError, match="same shape"):
        dm.q_sample(x0, torch.tensor([0, 1]), noise[:1], sched.alpha_bar)


def test_posterior_mean_is_the_product_of_gaussians():
    """Bayes: q(x_{t-1} | x_t, x_0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0)."""
    sched = dm.Schedule.make("linear", 50)
    g = torch.Generator().manual_seed(0)
    x0, xt = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 5, 20, 30, 49])
    a, b = sched.alphas[t, None], sched.betas[t, None]
    abp = sched.alpha_bar[t - 1, None]
    precision = a / b + 1 / (1 - abp)
    want = (a.sqrt() / b * xt + abp.sqrt() / (1 - abp) * x0) / precision
    assert torch.allclose(dm.posterior_mean(x0, xt, t, sched), want)
    assert torch.allclose(dm.posterior_variance(t, sched)[:, None], 1 / precision)
    assert torch.allclose(dm.posterior_mean(x0, xt, torch.zeros(5, dtype=torch.long), sched), x0)


def test_guided_eps():
    c, u = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.equal(dm.guided_eps(c, u, 0.0), u)
    assert torch.allclose(dm.guided_eps(c, u, 1.0), c)
    assert torch.allclose(dm.guided_eps(c, u, 3.0), c + 2 * (c - u))


class _Oracle(torch.nn.Module):
    """The exact noise predictor when all the data is one point c."""

    num_classes = 2

    def __init__(self, c: torch.Tensor, sched: dm.Schedule):
        super().__init__()
        self.c, self.sched = c, sched

    def forward(self, x, t, labels=None):
        ab = self.sched.alpha_bar[t].float().view(-1, *([1] * (x.dim() - 1)))
        return (x - ab.sqrt() * self.c) / (1 - ab).sqrt()


def test_samplers_recover_a_point_mass_with_an_exact_denoiser():
    sched = dm.Schedule.make("cosine", 50)
    c = torch.tensor([0.3, -0.7]).view(1, 2)
    model = _Oracle(c, sched)
    g = torch.Generator().manual_seed(0)
    for sample in (
        dm.ddpm_sample(model, sched, (8, 2), generator=g),
        dm.ddim_sample(model, sched, (8, 2), steps=5, generator=g),
        dm.ddim_sample(model, sched, (8, 2), steps=10, eta=1.0, generator=g),
        dm.ddim_sample(model, sched, (8, 2), steps=5, labels=torch.tensor([0, 1] * 4), guidance=3.0, generator=g),
    ):
        assert torch.allclose(sample, c.expand(8, 2), atol=1e-4), sample


def test_ddim_is_deterministic_given_the_start_noise():
    torch.manual_seed(0)
    model = dm.Denoiser(width=8, num_classes=3)
    sched = dm.Schedule.make("cosine", 20)
    a = dm.ddim_sample(model, sched, (2, 1, 8, 8), steps=4, generator=torch.Generator().manual_seed(5))
    b = dm.ddim_sample(model, sched, (2, 1, 8, 8), steps=4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="steps"):
        dm.ddim_sample(model, sched, (2, 1, 8, 8), steps=30)


def test_networks_shapes_and_a_few_training_steps():
    torch.manual_seed(0)
    sched = dm.Schedule.make("cosine", 20)
    net = dm.Denoiser(width=8, num_classes=10)
    x = torch.randn(4, 1, 16, 16)
    t = torch.tensor([0, 5, 10, 19])
    assert net(x, t, torch.tensor([0, 1, 2, 10])).shape == x.shape
    assert net(x, t).shape == x.shape  # no labels: the null class
    vid = dm.VideoDenoiser(width=8, num_classes=4)
    clips = torch.randn(2, 8, 1, 16, 16)  # (N, T, C, H, W)
    assert vid(clips, t[:2], torch.tensor([0, 3])).shape == clips.shape
    patched = dm.VideoDenoiser(width=8, num_classes=4, patch=2)  # 2x2 patches as channels
    assert patched(clips, t[:2]).shape == clips.shape
    with pytest.raises(ValueError, match="patch"):
        dm.VideoDenoiser(patch=3)
    clf = dm.ClipClassifier(num_classes=8, width=8)
    assert clf(clips).shape == (2, 8) and clf.features(clips).shape == (2, 16)
    assert dm.timestep_embedding(t, 6).shape == (4, 6)
    hist = dm.train_diffusion(net, x, sched, labels=torch.tensor([0, 1, 2, 3]), steps=3, batch_size=4,
                              generator=torch.Generator().manual_seed(0))
    assert hist.steps == 3 and all(math.isfinite(v) for v in hist.loss)
    with pytest.raises(ValueError, match="labels"):
        dm.train_diffusion(net, x, sched, labels=torch.tensor([0]), steps=1)
    with pytest.raises(ValueError, match="x must"):
        net(torch.randn(2, 1, 10, 10), t[:2])


def test_dit_tokens():
    assert dm.dit_tokens(16, 256, 256) == 4 * 16 * 16
    assert dm.dit_tokens(32, 512, 512, vae_time=4, vae_space=8, patch_time=2, patch_space=2) == 4 * 32 * 32
    assert dm.dit_tokens(8, 16, 16, vae_time=1, vae_space=1, patch_time=1, patch_space=4) == 8 * 4 * 4
    with pytest.raises(ValueError, match="frames"):
        dm.dit_tokens(10, 256, 256)
    with pytest.raises(ValueError, match="height"):
        dm.dit_tokens(16, 100, 256)
    with pytest.raises(ValueError, match="patch_space"):
        dm.dit_tokens(16, 256, 256, patch_space=0)


def test_ddim_trajectory_records_every_step_without_changing_the_sample():
    sched = dm.Schedule.make("cosine", 50)
    c = torch.tensor([0.3, -0.7]).view(1, 2)
    model = _Oracle(c, sched)
    traj = []
    a = dm.ddim_sample(model, sched, (4, 2), steps=5, generator=torch.Generator().manual_seed(1), trajectory=traj)
    b = dm.ddim_sample(model, sched, (4, 2), steps=5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and len(traj) == 5
    assert [t for t, _, _ in traj] == sorted((t for t, _, _ in traj), reverse=True) and traj[-1][0] == 0
    for i, (_, xt, x0) in enumerate(traj):
        assert xt.shape == x0.shape == (4, 2)
        if i > 0:  # at t = T - 1, alpha_bar ~ 0 and x0_hat divides by ~0 in float32
            assert torch.allclose(x0, c.expand(4, 2), atol=1e-4)  # the exact denoiser knows x0
    with pytest.raises(TypeError, match="trajectory"):
        dm.ddim_sample(model, sched, (4, 2), steps=5, trajectory=())


def test_clip_diversity():
    same = torch.zeros(1, 8, 1, 16, 16).expand(5, -1, -1, -1, -1)
    assert dm.clip_diversity(same) == 0.0
    pair = torch.stack([torch.full((8, 1, 16, 16), -1.0), torch.full((8, 1, 16, 16), 1.0)])  # black vs white
    assert abs(dm.clip_diversity(pair) - 1.0) < 1e-12  # RMS distance of [0, 1] pixels: 1
    with pytest.raises(ValueError, match="clips"):
        dm.clip_diversity(torch.zeros(1, 8, 1, 16, 16))


def test_known_first_frames_stay_clean_in_training_and_sampling():
    torch.manual_seed(0)
    model = dm.VideoDenoiser(width=8, num_classes=4)
    sched = dm.Schedule.make("cosine", 20)
    clips = torch.rand(4, 4, 1, 8, 8) * 2 - 1  # (N, T, C, H, W)
    seen = []
    real_forward = model.forward
    model.forward = lambda x, t, labels=None: (seen.append(x.detach().clone()), real_forward(x, t, labels))[1]
    loss = dm.diffusion_loss(model, clips, sched, torch.zeros(4, dtype=torch.long), context_frames=1,
                             generator=torch.Generator().manual_seed(1))
    assert loss.ndim == 0 and torch.equal(seen[-1][:, :1], clips[:, :1])  # frame 0 reaches the model clean
    ctx = clips[:2, :1]
    out = dm.ddim_sample(model, sched, (2, 4, 1, 8, 8), steps=3, labels=torch.tensor([0, 1]), guidance=2.0,
                         context=ctx, generator=torch.Generator().manual_seed(2))
    assert torch.equal(out[:, :1], ctx)
    with pytest.raises(ValueError, match="context"):
        dm.ddim_sample(model, sched, (2, 4, 1, 8, 8), steps=3, context=clips[:2])  # k must be < T
    with pytest.raises(ValueError, match="context_frames"):
        dm.diffusion_loss(model, clips, sched, context_frames=4)
