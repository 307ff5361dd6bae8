"""VAE reference code (notebook 08): the closed-form KL, the reparameterization trick, the model."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils import timing, vae


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is faster and steadier on a shared machine."""
    with timing.one_thread():
        yield

def test_gaussian_kl_equals_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(6, 5, generator=g, dtype=torch.float64)
    logvar = 3 * torch.randn(6, 5, generator=g, dtype=torch.float64)
    ours = vae.gaussian_kl(mu, logvar)  # (6,)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    assert ours.shape == (6,)
    assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert torch.equal(vae.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_reparameterize_gradient_matches_autograd_and_the_formula():
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(4, 3, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda m, lv: vae.reparameterize(m, lv, eps), (mu, logvar))
    # analytic: dz/dmu = 1, dz/dlogvar = 0.5 * exp(logvar / 2) * eps
    z = vae.reparameterize(mu, logvar, eps)
    w = torch.randn(4, 3, generator=g, dtype=torch.float64)
    gm, gl = torch.autograd.grad((w * z).sum(), (mu, logvar))
    assert torch.allclose(gm, w)
    assert torch.allclose(gl, w * 0.5 * (0.5 * logvar).exp() * eps)


def test_reparameterize_samples_have_the_right_moments():
    n = 40000
    mu, logvar = torch.full((n, 1), 1.5), torch.full((n, 1), math.log(0.25))  # sigma 0.5
    torch.manual_seed(0)
    z = vae.reparameterize(mu, logvar)
    se = 0.5 / math.sqrt(n)  # standard error of the mean
    assert abs(z.mean().item() - 1.5) < 5 * se
    assert abs(z.var().item() - 0.25) < 5 * 0.25 * math.sqrt(2 / (n - 1))


def test_both_gradient_estimators_are_unbiased_and_reparam_has_lower_variance():
    # d/dmu E[z^2] = 2 mu for z ~ N(mu, sigma^2)
    n, mu, sigma = 20000, 1.0, 0.5
    f = lambda z: z**2  # noqa: E731
    sf = vae.score_function_grad(f, mu, sigma, n, generator=torch.Generator().manual_seed(0))
    rp = vae.reparam_grad(f, mu, sigma, n, generator=torch.Generator().manual_seed(1))
    for est in (sf, rp):
        assert abs(est.mean().item() - 2 * mu) < 5 * est.std().item() / math.sqrt(n)
    assert sf.var() > 5 * rp.var()
    assert abs(rp.var().item() - 4 * sigma**2) < 0.1  # f'(z) = 2z: variance 4 sigma^2 exactly


def test_argument_validation():
    with pytest.raises(ValueError, match="same shape"):
        vae.reparameterize(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="tensors"):
        vae.gaussian_kl([0.0], torch.zeros(1))
    with pytest.raises(ValueError, match="eps"):
        vae.reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="sigma"):
        vae.score_function_grad(lambda z: z, 0.0, 0.0, 10)
    with pytest.raises(ValueError, match="size"):
        vae.ConvVAE(size=18)
    with pytest.raises(ValueError, match="data"):
        vae.train_vae(vae.ConvVAE(), torch.zeros(5, 16, 16), steps=1)


def test_conv_vae_shapes_and_a_short_training_run():
    torch.manual_seed(0)
    model = vae.ConvVAE(z_dim=4, width=8, size=16)
    x = torch.rand(32, 1, 16, 16) * 2 - 1
    recon, mu, logvar = model(x)
    assert recon.shape == x.shape and mu.shape == (32, 4) and logvar.shape == (32, 4)
    assert model.sample(3).shape == (3, 1, 16, 16)
    loss, rec, kl = vae.vae_loss(recon, x, mu, logvar, beta=2.0)
    assert torch.isclose(loss, rec + 2.0 * kl)
    hist = vae.train_vae(model, x, steps=30, batch_size=16, generator=torch.Generator().manual_seed(0))
    assert hist.steps == 30 and len(hist.loss) == 30
    assert sum(hist.loss[-5:]) < sum(hist.loss[:5])
