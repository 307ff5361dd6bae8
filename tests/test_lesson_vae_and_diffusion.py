"""Exercises of notebook 08: every solution passes, typical wrong answers fail helpfully."""

from __future__ import annotations

import math

import torch

from course_utils.lessons import vae_and_diffusion as ex

EXERCISES = [
    ex.reparameterize,
    ex.gaussian_kl,
    ex.q_sample,
    ex.posterior_mean,
    ex.guidance,
    ex.frechet,
    ex.dit_tokens,
]
REFERENCES = {
    "reparameterize": ex.reparameterize_reference,
    "gaussian_kl": ex.gaussian_kl_reference,
    "q_sample": ex.q_sample_reference,
    "posterior_mean": ex.posterior_mean_reference,
    "guidance": ex.guidance_reference,
    "frechet": ex.frechet_reference,
    "dit_tokens": ex.dit_tokens_reference,
}


def _verdict(exercise, answer):
    v = exercise.evaluate(answer)
    assert v.outcome != "checker error", v.message
    return v


def _wrong(exercise, answer, *needles):
    v = _verdict(exercise, answer)
    assert v.outcome == "incorrect", (exercise.name, v.outcome, v.message)
    for needle in needles:
        assert needle in v.message, (exercise.name, v.message)


def test_references_pass():
    assert len(EXERCISES) >= 5
    for exercise in EXERCISES:
        v = exercise.evaluate(REFERENCES[exercise.name])
        assert v.correct, (exercise.name, v.message)


def test_library_versions_pass_too():
    from course_utils import diffusion, gan, vae

    assert ex.reparameterize.evaluate(vae.reparameterize).correct
    assert ex.gaussian_kl.evaluate(vae.gaussian_kl).correct
    assert ex.q_sample.evaluate(diffusion.q_sample).correct
    assert ex.guidance.evaluate(diffusion.guided_eps).correct
    assert ex.frechet.evaluate(gan.gaussian_frechet_distance).correct

    def via_schedule(x0, xt, t, betas):
        return diffusion.posterior_mean(x0, xt, t, diffusion.Schedule(betas))

    assert ex.posterior_mean.evaluate(via_schedule).correct

    def tokens(f, h, w, vt, vs, pt, ps):
        return diffusion.dit_tokens(f, h, w, vae_time=vt, vae_space=vs, patch_time=pt, patch_space=ps)

    assert ex.dit_tokens.evaluate(tokens).correct


def test_blanks_are_not_attempted():
    def blank(*args): ...

    def not_impl(*args):
        raise NotImplementedError

    for exercise in EXERCISES:
        assert exercise.evaluate(...).outcome == "not attempted"
        assert exercise.evaluate(blank).outcome == "not attempted", exercise.name
        assert exercise.evaluate(not_impl).outcome == "not attempted", exercise.name


def test_crashing_answers_are_reported_not_raised():
    def crash(*args):
        raise RuntimeError("boom")

    for exercise in EXERCISES:
        v = _verdict(exercise, crash)
        assert v.outcome == "incorrect" and "boom" in v.message, (exercise.name, v.message)


def test_reparameterize_wrong_answers():
    _wrong(ex.reparameterize, lambda mu, logvar, eps: mu + logvar * eps, "log-variance itself as sigma")
    _wrong(ex.reparameterize, lambda mu, logvar, eps: mu + logvar.exp() * eps, "variance exp(logvar)")
    _wrong(ex.reparameterize, lambda mu, logvar, eps: mu, "noise is missing")


def test_gaussian_kl_wrong_answers():
    def logvar_as_variance(mu, logvar):
        return 0.5 * (mu**2 + logvar - 1 - logvar.log()).sum(-1)

    v = _verdict(ex.gaussian_kl, logvar_as_variance)
    assert v.outcome == "incorrect" and ("log-variance" in v.message or "Not finite" in v.message), v.message

    def logvar_as_variance_linear(mu, logvar):
        return 0.5 * (mu**2 + logvar - 1 - logvar).sum(-1)

    _wrong(ex.gaussian_kl, logvar_as_variance_linear, "logvar as the variance")
    _wrong(ex.gaussian_kl, lambda mu, lv: -0.5 * (mu**2 + lv.exp() - 1 - lv).sum(-1), "sign is flipped")
    _wrong(ex.gaussian_kl, lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(-1), "1/2")
    _wrong(ex.gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).mean(-1), "sum")
    _wrong(ex.gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), "dim=-1")
    _wrong(ex.gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(), "per sample")


def _ab(alpha_bar, t, x0):
    return alpha_bar[t].view(-1, *([1] * (x0.dim() - 1)))


def test_q_sample_wrong_answers():
    def no_sqrt_signal(x0, t, noise, alpha_bar):
        ab = _ab(alpha_bar, t, x0)
        return ab * x0 + (1 - ab).sqrt() * noise

    _wrong(ex.q_sample, no_sqrt_signal, "square root on alpha_bar is missing")

    def no_sqrt(x0, t, noise, alpha_bar):
        ab = _ab(alpha_bar, t, x0)
        return ab * x0 + (1 - ab) * noise

    _wrong(ex.q_sample, no_sqrt, "square roots are missing")

    def swapped(x0, t, noise, alpha_bar):
        ab = _ab(alpha_bar, t, x0)
        return (1 - ab).sqrt() * x0 + ab.sqrt() * noise

    _wrong(ex.q_sample, swapped, "swapped")

    def no_broadcast(x0, t, noise, alpha_bar):  # (N,) against (N, ...) fails to broadcast
        ab = alpha_bar[t]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    assert _verdict(ex.q_sample, no_broadcast).outcome == "incorrect"


def test_posterior_mean_wrong_answers():
    def make(variant):
        def answer(x0, xt, t, betas):
            a = 1 - betas
            abar = torch.cumprod(a, 0)
            shape = (-1, *([1] * (x0.dim() - 1)))
            ab, abp = abar[t].view(shape), abar[t - 1].view(shape)
            b, at = betas[t].view(shape), a[t].view(shape)
            return variant(x0, xt, ab, abp, b, at)

        return answer

    _wrong(ex.posterior_mean, make(lambda x0, xt, ab, abp, b, a: abp * b / (1 - ab) * x0 + a.sqrt() * (1 - abp) / (1 - ab) * xt),
           "alpha_bar_{t-1} is missing")
    _wrong(ex.posterior_mean, make(lambda x0, xt, ab, abp, b, a: abp.sqrt() * b / (1 - ab) * x0 + ab.sqrt() * (1 - abp) / (1 - ab) * xt),
           "not sqrt(alpha_bar_t)")
    _wrong(ex.posterior_mean, make(lambda x0, xt, ab, abp, b, a: abp.sqrt() * b / (1 - ab) * xt + a.sqrt() * (1 - abp) / (1 - ab) * x0),
           "swapped between x0 and x_t")


def test_guidance_wrong_answers():
    _wrong(ex.guidance, lambda c, u, s: c + s * (c - u), "wrong term")
    _wrong(ex.guidance, lambda c, u, s: u + s * (u - c), "wrong way")
    _wrong(ex.guidance, lambda c, u, s: s * u + (c - u), "unconditional prediction")
    _wrong(ex.guidance, lambda c, u, s: (1 - s) * c + s * u, "swapped")


def _sqrtm(m):
    vals, vecs = torch.linalg.eigh(m)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def test_frechet_wrong_answers():
    def plus_trace(mu1, s1, mu2, s2):
        r = _sqrtm(s1)
        d = mu1 - mu2
        return float(d @ d + s1.trace() + s2.trace() + 2 * _sqrtm(r @ s2 @ r).trace())

    _wrong(ex.frechet, plus_trace, "sign is flipped")

    def not_squared(mu1, s1, mu2, s2):
        r = _sqrtm(s1)
        return float((mu1 - mu2).norm() + s1.trace() + s2.trace() - 2 * _sqrtm(r @ s2 @ r).trace())

    _wrong(ex.frechet, not_squared, "squared")

    def elementwise(mu1, s1, mu2, s2):
        d = mu1 - mu2
        return float(d @ d + s1.trace() + s2.trace() - 2 * (s1 * s2).clamp_min(0).sqrt().sum())

    _wrong(ex.frechet, elementwise, "elementwise")

    def as_tensor(mu1, s1, mu2, s2):  # a 0-dim tensor is accepted like a float
        return torch.tensor(ex.frechet_reference(mu1, s1, mu2, s2))

    assert ex.frechet.evaluate(as_tensor).correct


def test_frechet_with_scipy_passes():
    import numpy as np
    import scipy.linalg

    def with_scipy(mu1, s1, mu2, s2):
        covmean = scipy.linalg.sqrtm(s1.numpy() @ s2.numpy())
        d = (mu1 - mu2).numpy()
        return float(d @ d + np.trace(s1.numpy()) + np.trace(s2.numpy()) - 2 * np.trace(covmean).real)

    assert ex.frechet.evaluate(with_scipy).correct


def test_dit_tokens_wrong_answers():
    _wrong(ex.dit_tokens, lambda f, h, w, vt, vs, pt, ps: (f // pt) * (h // ps) * (w // ps), "forgot the VAE")
    _wrong(ex.dit_tokens, lambda f, h, w, vt, vs, pt, ps: (f // vt) * (h // vs // ps) * (w // vs // ps), "patch size in time")
    _wrong(ex.dit_tokens, lambda f, h, w, vt, vs, pt, ps: (f // vt // pt) * (h // vs) * (w // vs) // ps, "both height and width")
    assert ex.dit_tokens_reference(16, 256, 256, 4, 8, 1, 2) == 4 * 16 * 16
    assert math.isclose(ex.dit_tokens_reference(48, 720, 1280, 4, 8, 1, 2), 12 * 45 * 80)
