"""Exercises of notebook 08 (VAEs and diffusion): ``from course_utils.lessons import vae_and_diffusion as ex``.

* ``ex.reparameterize``: z = mu + sigma * eps from a mean and a *log*-variance.
* ``ex.gaussian_kl``: KL(N(mu, diag sigma^2) || N(0, I)) in closed form.
* ``ex.q_sample``: the forward process in one jump, x_t from x_0.
* ``ex.posterior_mean``: the mean of q(x_{t-1} | x_t, x_0), the DDPM reverse step's target.
* ``ex.guidance``: classifier-free guidance from the two noise predictions.
* ``ex.frechet``: the Fréchet distance between two Gaussians (FID's formula).
* ``ex.dit_tokens``: how many spacetime-patch tokens a latent video transformer sees.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_utils.exercises import Case, Exercise

__all__ = [
    "dit_tokens",
    "dit_tokens_reference",
    "frechet",
    "frechet_reference",
    "gaussian_kl",
    "gaussian_kl_reference",
    "guidance",
    "guidance_reference",
    "posterior_mean",
    "posterior_mean_reference",
    "q_sample",
    "q_sample_reference",
    "reparameterize",
    "reparameterize_reference",
]


def _close(a, b, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    try:
        a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    except (TypeError, ValueError, RuntimeError):
        return False
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def _first_match(received, expected, variants: dict) -> str | None:
    for text, value in variants.items():
        if _close(received, value) and not _close(value, expected):
            return text
    return None


# -------------------------------------------------------------- 1. reparameterize
def reparameterize_reference(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2); all three (N, D)."""
    return mu + torch.exp(0.5 * logvar) * eps


def _reparam_cases():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    return [
        Case((torch.zeros(2, 2, dtype=torch.float64), torch.full((2, 2), math.log(4.0), dtype=torch.float64),
              torch.ones(2, 2, dtype=torch.float64)), label="mu 0, variance 4 (sigma 2), eps 1"),
        Case((mu, torch.full((4, 3), math.log(4.0), dtype=torch.float64),
              torch.randn(4, 3, generator=g, dtype=torch.float64)), label="variance 4, so sigma 2"),
        Case((mu, torch.randn(4, 3, generator=g, dtype=torch.float64),
              torch.randn(4, 3, generator=g, dtype=torch.float64)), label="random, negative log-variances too"),
    ]


def _reparam_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    mu, logvar, eps = case.args
    return _first_match(received, expected, {
        "It looks like you used the log-variance itself as sigma (mu + logvar * eps). The encoder outputs log sigma^2: sigma = exp(logvar / 2).": mu + logvar * eps,
        "You used the variance exp(logvar) as the standard deviation. Take its square root: sigma = exp(0.5 * logvar).": mu + logvar.exp() * eps,
        "The noise is missing: z must be random, mu + sigma * eps.": mu,
    })


reparameterize = Exercise(
    "reparameterize",
    title="The reparameterization trick",
    reference=reparameterize_reference,
    cases=_reparam_cases,
    diagnose=_reparam_diagnose,
    hints=[
        "The encoder predicts log sigma^2 (it can be any real number); turn it into sigma first.",
        "sigma = torch.exp(0.5 * logvar); then z = mu + sigma * eps.",
    ],
)


# ----------------------------------------------------------------- 2. Gaussian KL
def gaussian_kl_reference(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) summed over the last dim: (N, D) -> (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def _kl_cases():
    g = torch.Generator().manual_seed(1)
    return [
        Case((torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)),
             label="posterior equals the prior: KL 0"),
        Case((torch.tensor([[1.0, -2.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)),
             label="shifted means, unit variance"),
        Case((torch.zeros(1, 2, dtype=torch.float64), torch.tensor([[math.log(4.0), math.log(0.25)]], dtype=torch.float64)),
             label="variance 4 and 1/4"),
        Case((torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)),
             label="random (N, D) = (5, 4)"),
    ]


def _kl_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    mu, lv = case.args
    if received.shape != expected.shape:
        if received.shape == mu.shape:
            return "Sum over the latent dimension (dim=-1): one KL per sample, shape (N,)."
        if received.dim() == 0:
            return "Keep one KL per sample (sum over dim=-1 only), shape (N,), not a single number."
        return None
    v = lv.exp()
    with np.errstate(all="ignore"):
        variants = {
            "It looks like you used the log-variance as the variance (logvar where exp(logvar) belongs, log(logvar) where logvar belongs).": 0.5 * (mu**2 + lv - 1 - lv.log()).sum(-1),
            "It looks like you treated logvar as the variance in the sigma^2 term: use exp(logvar) there.": 0.5 * (mu**2 + lv - 1 - lv).sum(-1),
            "The sign is flipped: KL is never negative, 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2).": -0.5 * (mu**2 + v - 1 - lv).sum(-1),
            "The factor 1/2 is missing.": (mu**2 + v - 1 - lv).sum(-1),
            "The log sigma^2 term has the wrong sign: it is - log sigma^2.": 0.5 * (mu**2 + v - 1 + lv).sum(-1),
            "You averaged over the latent dimension: the KL of independent dimensions is their *sum*.": 0.5 * (mu**2 + v - 1 - lv).mean(-1),
        }
    if not torch.isfinite(received).all():
        return "Not finite: log of a log-variance? logvar can be negative; the KL uses logvar directly and exp(logvar) for sigma^2."
    return _first_match(received, expected, variants)


gaussian_kl = Exercise(
    "gaussian_kl",
    title="The Gaussian KL in closed form",
    reference=gaussian_kl_reference,
    cases=_kl_cases,
    diagnose=_kl_diagnose,
    hints=[
        "For one dimension, KL(N(mu, s^2) || N(0, 1)) = 0.5 * (mu^2 + s^2 - 1 - log s^2). Dimensions are independent: sum them.",
        "With logvar = log s^2: s^2 = exp(logvar) and log s^2 = logvar. Sum over dim=-1.",
    ],
)


# ------------------------------------------------------------------- 3. q_sample
def q_sample_reference(x0, t, noise, alpha_bar):
    """x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) noise; x0, noise (N, ...), t (N,)."""
    ab = alpha_bar[t].view(-1, *([1] * (x0.dim() - 1)))  # (N, 1, ...) one value per sample
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def _schedule(num_steps: int) -> torch.Tensor:
    betas = torch.linspace(1e-3, 0.1, num_steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0)


def _q_cases():
    g = torch.Generator().manual_seed(2)
    ab = _schedule(50)
    return [
        Case((torch.ones(2, 3, dtype=torch.float64), torch.tensor([0, 49]), torch.randn(2, 3, generator=g, dtype=torch.float64), ab),
             label="the first and the last step"),
        Case((torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64), torch.tensor([5, 20, 49]),
              torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64), ab), label="images (N, C, H, W), a different t per image"),
        Case((torch.randn(2, 2, 1, 3, 3, generator=g, dtype=torch.float64), torch.tensor([10, 10]),
              torch.randn(2, 2, 1, 3, 3, generator=g, dtype=torch.float64), ab), label="clips (N, T, C, H, W)"),
    ]


def _q_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    x0, t, noise, ab_all = case.args
    ab = ab_all[t].view(-1, *([1] * (x0.dim() - 1)))
    return _first_match(received, expected, {
        "The square roots are missing: x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise scales the *standard deviations*, so the variances add up to 1.": ab * x0 + (1 - ab) * noise,
        "The square root on alpha_bar is missing in the signal term: sqrt(alpha_bar) * x0.": ab * x0 + (1 - ab).sqrt() * noise,
        "The square root on 1 - alpha_bar is missing in the noise term.": ab.sqrt() * x0 + (1 - ab) * noise,
        "Signal and noise are swapped: x0 gets sqrt(alpha_bar), the noise sqrt(1 - alpha_bar).": (1 - ab).sqrt() * x0 + ab.sqrt() * noise,
        "The noise weight is sqrt(1 - alpha_bar), not 1 - sqrt(alpha_bar).": ab.sqrt() * x0 + (1 - ab.sqrt()) * noise,
    })


q_sample = Exercise(
    "q_sample",
    title="The forward process in one jump",
    reference=q_sample_reference,
    cases=_q_cases,
    diagnose=_q_diagnose,
    hints=[
        "Pick each sample's alpha_bar with alpha_bar[t] (N,), then reshape it to (N, 1, 1, ...) so it broadcasts over the sample.",
        "ab = alpha_bar[t].view(-1, *([1] * (x0.dim() - 1))); return ab.sqrt() * x0 + (1 - ab).sqrt() * noise.",
    ],
)


# ---------------------------------------------------------------- 4. posterior mean
def posterior_mean_reference(x0, xt, t, betas):
    """Mean of q(x_{t-1} | x_t, x_0) for t >= 1; x0, xt (N, ...), t (N,), betas (T,)."""
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, dim=0)
    shape = (-1, *([1] * (x0.dim() - 1)))
    ab, ab_prev = alpha_bar[t].view(shape), alpha_bar[t - 1].view(shape)
    b, a = betas[t].view(shape), alphas[t].view(shape)
    return ab_prev.sqrt() * b / (1 - ab) * x0 + a.sqrt() * (1 - ab_prev) / (1 - ab) * xt


def _pm_cases():
    g = torch.Generator().manual_seed(3)
    betas = torch.linspace(0.01, 0.2, 20, dtype=torch.float64)
    return [
        Case((torch.ones(2, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64), torch.tensor([1, 19]), betas),
             label="x_t = 0: only the x0 term"),
        Case((torch.zeros(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64), torch.tensor([3, 10]), betas),
             label="x0 = 0: only the x_t term"),
        Case((torch.randn(3, 1, 3, 3, generator=g, dtype=torch.float64), torch.randn(3, 1, 3, 3, generator=g, dtype=torch.float64),
              torch.tensor([1, 7, 19]), betas), label="images, a different t per image"),
    ]


def _pm_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    x0, xt, t, betas = case.args
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)
    shape = (-1, *([1] * (x0.dim() - 1)))
    ab, abp = abar[t].view(shape), abar[t - 1].view(shape)
    b, a = betas[t].view(shape), alphas[t].view(shape)
    return _first_match(received, expected, {
        "The square root on alpha_bar_{t-1} is missing in the x0 coefficient.": abp * b / (1 - ab) * x0 + a.sqrt() * (1 - abp) / (1 - ab) * xt,
        "The square root on alpha_t is missing in the x_t coefficient.": abp.sqrt() * b / (1 - ab) * x0 + a * (1 - abp) / (1 - ab) * xt,
        "In the x_t coefficient, use sqrt(alpha_t) (one step), not sqrt(alpha_bar_t).": abp.sqrt() * b / (1 - ab) * x0 + ab.sqrt() * (1 - abp) / (1 - ab) * xt,
        "alpha_bar_{t-1} and alpha_bar_t are swapped (off by one).": ab.sqrt() * b / (1 - abp) * x0 + a.sqrt() * (1 - ab) / (1 - abp) * xt,
        "The two coefficients are swapped between x0 and x_t.": abp.sqrt() * b / (1 - ab) * xt + a.sqrt() * (1 - abp) / (1 - ab) * x0,
    })


posterior_mean = Exercise(
    "posterior_mean",
    title="The DDPM posterior mean",
    reference=posterior_mean_reference,
    cases=_pm_cases,
    diagnose=_pm_diagnose,
    hints=[
        "Build alphas = 1 - betas and alpha_bar = cumprod(alphas); pick alpha_bar[t], alpha_bar[t - 1], betas[t], alphas[t] and reshape each to (N, 1, ...).",
        "mean = sqrt(ab_prev) * beta_t / (1 - ab_t) * x0 + sqrt(alpha_t) * (1 - ab_prev) / (1 - ab_t) * x_t.",
    ],
)


# ------------------------------------------------------------------ 5. guidance
def guidance_reference(eps_cond, eps_uncond, scale):
    """Classifier-free guidance: eps_uncond + scale * (eps_cond - eps_uncond)."""
    return eps_uncond + scale * (eps_cond - eps_uncond)


def _guid_cases():
    g = torch.Generator().manual_seed(4)
    c = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
    u = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
    return [
        Case((c, u, 1.0), label="scale 1: the plain conditional model"),
        Case((c, u, 0.0), label="scale 0: the unconditional model"),
        Case((c, u, 3.0), label="scale 3"),
        Case((torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64), 2.5), label="scale 2.5"),
    ]


def _guid_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    c, u, s = case.args
    return _first_match(received, expected, {
        "The guidance weight multiplies the wrong term: start from the *unconditional* prediction and move by scale * (cond - uncond). Your formula does not give the plain conditional model at scale 1.": c + s * (c - u),
        "The difference points the wrong way: guidance moves *towards* the condition, scale * (eps_cond - eps_uncond).": u + s * (u - c),
        "The weight is on the unconditional prediction: eps_uncond + scale * (eps_cond - eps_uncond) is the formula.": s * u + (c - u),
        "Weights swapped: (1 - scale) belongs to eps_uncond and scale to eps_cond.": (1 - s) * c + s * u,
        "That is scale * eps_cond alone: the unconditional prediction must be subtracted, (1 - scale) * eps_uncond + scale * eps_cond.": s * c,
    })


guidance = Exercise(
    "guidance",
    title="Classifier-free guidance",
    reference=guidance_reference,
    cases=_guid_cases,
    diagnose=_guid_diagnose,
    hints=[
        "Scale 0 must give eps_uncond and scale 1 must give eps_cond: it is a line through the two predictions.",
        "eps_uncond + scale * (eps_cond - eps_uncond): scale > 1 extrapolates beyond the conditional prediction.",
    ],
)


# --------------------------------------------------------------- 6. Fréchet distance
def _sqrtm_psd(m):
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_reference(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1^1/2 sigma2 sigma1^1/2)^1/2), a float."""
    r1 = _sqrtm_psd(sigma1)
    covmean = _sqrtm_psd(r1 @ sigma2 @ r1)  # same trace as (sigma1 sigma2)^1/2
    diff = mu1 - mu2
    return float(diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2 * torch.trace(covmean))


def _spd(d: int, g: torch.Generator) -> torch.Tensor:
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def _fr_cases():
    g = torch.Generator().manual_seed(5)
    eye = torch.eye(3, dtype=torch.float64)
    z = torch.zeros(3, dtype=torch.float64)
    mu = torch.randn(4, generator=g, dtype=torch.float64)
    return [
        Case((z, eye, z, eye), label="two identical Gaussians: 0"),
        Case((z, eye, torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64), eye), label="same covariance, means 5 apart"),
        Case((z, eye, z, 4 * eye), label="same mean, sigma 1 vs 2"),
        Case((mu, _spd(4, g), torch.randn(4, generator=g, dtype=torch.float64), _spd(4, g)), label="random 4-D Gaussians"),
    ]


def _fr_diagnose(case, expected, received):
    if case is None:
        return None
    try:
        r = float(received)
    except (TypeError, ValueError, RuntimeError):
        return None
    mu1, s1, mu2, s2 = case.args
    diff = mu1 - mu2
    tr = float(torch.trace(_sqrtm_psd(_sqrtm_psd(s1) @ s2 @ _sqrtm_psd(s1))))
    base = float(torch.trace(s1) + torch.trace(s2))
    m2 = float(diff @ diff)
    elementwise = float((s1 * s2).clamp_min(0).sqrt().sum())
    variants = {
        "The trace term's sign is flipped: it is tr(sigma1 + sigma2 - 2 sqrt(...)), the square-root term is *subtracted*.": m2 + base + 2 * tr,
        "The mean term must be the *squared* distance ||mu1 - mu2||^2, not the distance.": math.sqrt(m2) + base - 2 * tr,
        "The factor 2 in front of the matrix square root is missing.": m2 + base - tr,
        "The mean term is missing.": base - 2 * tr,
        "You took an elementwise square root of sigma1 * sigma2: the formula needs the *matrix* square root of the product (e.g. by eigendecomposition, or scipy.linalg.sqrtm).": m2 + base - 2 * elementwise,
    }
    for text, value in variants.items():
        if math.isclose(r, value, rel_tol=1e-6, abs_tol=1e-8) and not math.isclose(r, expected, rel_tol=1e-6, abs_tol=1e-8):
            return text
    return None


frechet = Exercise(
    "frechet",
    title="The Fréchet distance between two Gaussians",
    reference=frechet_reference,
    cases=_fr_cases,
    diagnose=_fr_diagnose,
    rtol=1e-6,
    atol=1e-8,
    hints=[
        "Two parts: the squared distance of the means, plus a trace of covariances: tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).",
        "A matrix square root of a symmetric PSD matrix M: vals, vecs = torch.linalg.eigh(M); vecs @ diag(sqrt(vals)) @ vecs.T. "
        "Use M = S1^(1/2) S2 S1^(1/2): it is symmetric and its square root has the same trace as (S1 S2)^(1/2).",
    ],
)


# ------------------------------------------------------------- 7. DiT token count
def dit_tokens_reference(frames, height, width, vae_time, vae_space, patch_time, patch_space):
    """Tokens of a clip after a video VAE and spacetime patchification (an int)."""
    t = frames // vae_time // patch_time
    h = height // vae_space // patch_space
    w = width // vae_space // patch_space
    return t * h * w


_DIT_CASES = [
    Case((16, 256, 256, 4, 8, 1, 2), label="16 frames of 256x256, VAE 4x8x8, patches 1x2x2"),
    Case((32, 512, 512, 4, 8, 2, 2), label="patches 2x2x2"),
    Case((8, 64, 128, 1, 8, 1, 4), label="a wide clip, no VAE compression in time"),
    Case((48, 720, 1280, 4, 8, 1, 2), label="48 frames of 720p"),
]


def _dit_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float | np.integer | np.floating):
        return None
    f, h, w, vt, vs, pt, ps = case.args
    variants = {
        "You forgot the VAE: it compresses the clip before patchification (T / vae_time, H / vae_space, W / vae_space).": (f // pt) * (h // ps) * (w // ps),
        "You forgot the patch size in time (patch_time).": (f // vt) * (h // vs // ps) * (w // vs // ps),
        "The spatial patch covers patch_space x patch_space latent pixels: divide both height and width by it.": (f // vt // pt) * (h // vs) * (w // vs) // ps,
        "You forgot to divide the frames at all: a token covers vae_time * patch_time frames.": f * (h // vs // ps) * (w // vs // ps),
    }
    for text, value in variants.items():
        if value != expected and float(received) == value:
            return text
    return None


dit_tokens = Exercise(
    "dit_tokens",
    title="Tokens of a latent video transformer",
    reference=dit_tokens_reference,
    cases=_DIT_CASES,
    diagnose=_dit_diagnose,
    hints=[
        "First the VAE: the latent is (T / vae_time, H / vae_space, W / vae_space). Then cut it into patch_time x patch_space x patch_space blocks.",
        "tokens = (T // vae_time // patch_time) * (H // vae_space // patch_space) * (W // vae_space // patch_space).",
    ],
)
