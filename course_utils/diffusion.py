"""Denoising diffusion from first principles: schedules, sampling, guidance, video (notebook 08).

Everything notebook ``08_vae_and_diffusion`` builds for the diffusion half of the lesson
(the VAE half is :mod:`course_utils.vae`; the Fréchet distance is
:func:`course_utils.gan.frechet_distance`, built in notebook 04):

* **Schedules**: :func:`linear_schedule`, :func:`cosine_schedule` (betas), the
  :class:`Schedule` that holds alphas, alpha-bars and the signal-to-noise ratio.
* **The forward process**: :func:`q_sample` (the closed form of q(x_t | x_0)) and
  :func:`simulate_chain` (the same, one noising step at a time).
* **The reverse process**: :func:`posterior_mean` (the mean of q(x_{t-1} | x_t, x_0)),
  :func:`guided_eps` (classifier-free guidance), :func:`ddpm_sample` (ancestral sampling)
  and :func:`ddim_sample` (deterministic, far fewer steps).
* **Networks**: :class:`Denoiser`, a small U-Net for 16x16 images with a sinusoidal time
  embedding and a class embedding (one extra "null" class for guidance), and
  :class:`VideoDenoiser`, the same with factorized (2+1)D convolutions for clips.
* **Training**: :func:`diffusion_loss` (noise prediction) and :func:`train_diffusion`.
* **Video scoring and cost**: :class:`ClipClassifier` (a (2+1)D clip classifier whose
  features give the FVD-like distance) and :func:`dit_tokens` (the token count of a clip
  for a DiT over spacetime patches).

Conventions: images and clips in [-1, 1]; images (N, C, H, W), clips (N, T, C, H, W);
timesteps are integers 0..T-1 where t = 0 is the first noising step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validate import check_int, check_number, check_tensor

__all__ = [
    "ClipClassifier",
    "Denoiser",
    "DiffusionHistory",
    "Schedule",
    "VideoDenoiser",
    "clip_diversity",
    "cosine_schedule",
    "ddim_sample",
    "ddpm_sample",
    "diffusion_loss",
    "dit_tokens",
    "guided_eps",
    "linear_schedule",
    "posterior_mean",
    "q_sample",
    "simulate_chain",
    "timestep_embedding",
    "train_diffusion",
]


# ------------------------------------------------------------------------ schedules
def linear_schedule(num_steps: int, beta_start: float | None = None,
                    beta_end: float | None = None) -> torch.Tensor:
    """DDPM's linear betas (num_steps,) in float64.

    Defaults scale Ho et al.'s 1e-4 -> 0.02 (for 1000 steps) by 1000 / num_steps, so that
    any number of steps ends near pure noise (the scaling of Nichol & Dhariwal 2021).
    """
    if not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"num_steps must be an int >= 2, got {num_steps!r}")
    scale = 1000 / num_steps
    lo = 1e-4 * scale if beta_start is None else beta_start
    hi = 0.02 * scale if beta_end is None else beta_end
    if not 0 < lo <= hi < 1:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {lo} and {hi}")
    return torch.linspace(lo, hi, num_steps, dtype=torch.float64)


def cosine_schedule(num_steps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal's cosine betas (num_steps,) in float64.

    alpha_bar(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2) / (same at 0), and
    beta_t = 1 - alpha_bar(t + 1) / alpha_bar(t), clipped at ``max_beta``.
    """
    check_number("s", s, minimum=0)
    check_number("max_beta", max_beta, minimum=0, maximum=1, inclusive=False)
    if not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"num_steps must be an int >= 2, got {num_steps!r}")
    x = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = torch.cos((x + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]  # (T + 1,)
    return (1 - ab[1:] / ab[:-1]).clamp(max=max_beta)


@dataclass
class Schedule:
    """A noise schedule: ``betas`` (T,) and what follows from them (all float64).

    ``alphas = 1 - betas``; ``alpha_bar[t] = prod_{s <= t} alphas[s]``, the signal kept
    after step t; ``snr = alpha_bar / (1 - alpha_bar)``.
    """

    betas: torch.Tensor
    alphas: torch.Tensor = field(init=False)
    alpha_bar: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        b = self.betas
        if not isinstance(b, torch.Tensor) or b.dim() != 1 or len(b) < 2:
            raise ValueError("betas must be a 1-D tensor (T,) with T >= 2")
        if not bool(((b > 0) & (b < 1)).all()):
            raise ValueError("betas must lie in (0, 1)")
        self.betas = b.double()
        self.alphas = 1 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, dim=0)

    @classmethod
    def make(cls, kind: str = "cosine", num_steps: int = 200) -> Schedule:
        """``Schedule.make("linear" | "cosine", num_steps)``."""
        if kind == "linear":
            return cls(linear_schedule(num_steps))
        if kind == "cosine":
            return cls(cosine_schedule(num_steps))
        raise ValueError(f"kind must be 'linear' or 'cosine', got {kind!r}")

    @property
    def num_steps(self) -> int:
        return len(self.betas)

    @property
    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio of x_t, alpha_bar / (1 - alpha_bar): (T,)."""
        return self.alpha_bar / (1 - self.alpha_bar)

    def __repr__(self) -> str:
        return f"Schedule(T={self.num_steps}, alpha_bar[-1]={float(self.alpha_bar[-1]):.2e})"


def _expand(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) -> (N, 1, 1, ...) in ``like``'s dtype, to broadcast over a sample."""
    return v.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


def _check_t(t: torch.Tensor, n: int, num_steps: int) -> None:
    if not isinstance(t, torch.Tensor) or t.dim() != 1 or len(t) != n:
        raise ValueError(f"t must be a 1-D integer tensor (N,) with N = {n}, got {getattr(t, 'shape', t)!r}")
    if t.dtype.is_floating_point or int(t.min()) < 0 or int(t.max()) >= num_steps:
        raise ValueError(f"t must hold integers in [0, {num_steps - 1}]")


# ------------------------------------------------------------------ forward process
def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
             alpha_bar: torch.Tensor) -> torch.Tensor:
    """x_t = sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise, per sample.

    x0, noise (N, ...); t (N,) integer steps; alpha_bar (T,). The closed form of T noising
    steps q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) (notebook 08, section 4).
    """
    check_tensor("x0", x0, shape="(N, ...)", floating=True)
    check_tensor("noise", noise, shape="(N, ...) like x0", floating=True)
    check_tensor("alpha_bar", alpha_bar, ndim=1, shape="(T,)", floating=True, nonempty=True)
    if x0.shape != noise.shape:
        raise ValueError(f"x0 and noise must have the same shape, got {tuple(x0.shape)} and {tuple(noise.shape)}")
    _check_t(t, len(x0), len(alpha_bar))
    ab = _expand(alpha_bar[t], x0)  # (N, 1, ...)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def simulate_chain(x0: torch.Tensor, num_steps: int, betas: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Run the forward chain step by step: x_{s} = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps.

    Returns x after ``num_steps`` steps (steps 0..num_steps-1), the same shape as x0; its
    distribution equals :func:`q_sample` at t = num_steps - 1.
    """
    check_tensor("x0", x0, shape="(N, ...)", floating=True)
    check_tensor("betas", betas, ndim=1, shape="(T,)", floating=True, finite=True, nonempty=True)
    if not isinstance(num_steps, int) or not 1 <= num_steps <= len(betas):
        raise ValueError(f"num_steps must be an int in [1, {len(betas)}], got {num_steps!r}")
    x = x0
    for s in range(num_steps):
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = (1 - betas[s]).sqrt().to(x.dtype) * x + betas[s].sqrt().to(x.dtype) * eps
    return x


# ------------------------------------------------------------------ reverse process
def posterior_mean(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor,
                   schedule: Schedule) -> torch.Tensor:
    """The mean of q(x_{t-1} | x_t, x_0) for t >= 1 (for t = 0 it is x0):

    sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) * x0
    + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * x_t.
    x0, xt (N, ...); t (N,).
    """
    check_tensor("x0", x0, shape="(N, ...)", floating=True)
    check_tensor("xt", xt, shape="(N, ...) like x0", floating=True)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule (e.g. Schedule(linear_schedule(100))), got {type(schedule).__name__}")
    if x0.shape != xt.shape:
        raise ValueError(f"x0 and xt must have the same shape, got {tuple(x0.shape)} and {tuple(xt.shape)}")
    _check_t(t, len(x0), schedule.num_steps)
    ab = schedule.alpha_bar[t]
    ab_prev = torch.where(t > 0, schedule.alpha_bar[(t - 1).clamp(min=0)], torch.ones_like(ab))
    c0 = ab_prev.sqrt() * schedule.betas[t] / (1 - ab)
    ct = schedule.alphas[t].sqrt() * (1 - ab_prev) / (1 - ab)
    return _expand(c0, x0) * x0 + _expand(ct, xt) * xt


def posterior_variance(t: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t: (N,) (0 at t = 0)."""
    ab = schedule.alpha_bar[t]
    ab_prev = torch.where(t > 0, schedule.alpha_bar[(t - 1).clamp(min=0)], torch.ones_like(ab))
    return (1 - ab_prev) / (1 - ab) * schedule.betas[t]


def guided_eps(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance: eps_uncond + scale * (eps_cond - eps_uncond).

    ``scale`` 0 is the unconditional model, 1 the conditional one, > 1 extrapolates away
    from the unconditional prediction (sharper, more typical of the class, less diverse).
    """
    check_tensor("eps_cond", eps_cond, shape="(N, ...)", floating=True)
    check_tensor("eps_uncond", eps_uncond, shape="(N, ...) like eps_cond", floating=True)
    if not isinstance(scale, torch.Tensor):
        check_number("scale", scale)
    else:
        check_tensor("scale", scale, floating=True)
        if scale.dim() and (scale.dim() > eps_cond.dim() or any(a not in (1, b) for a, b in zip(scale.shape[::-1], eps_cond.shape[::-1], strict=False))):
            raise ValueError(f"scale must be a number or a tensor that broadcasts to {tuple(eps_cond.shape)}, got shape {tuple(scale.shape)}")
    if eps_cond.shape != eps_uncond.shape:
        raise ValueError(f"eps_cond and eps_uncond must have the same shape, got {tuple(eps_cond.shape)} and {tuple(eps_uncond.shape)}")
    return eps_uncond + scale * (eps_cond - eps_uncond)


# ------------------------------------------------------------------------- networks
def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer steps t (N,) -> (N, dim), as in transformers."""
    check_tensor("t", t, ndim=1, shape="(N,) integer steps")
    if t.is_complex():
        raise TypeError(f"t must hold real step numbers, got dtype {t.dtype}")
    check_int("dim", dim, minimum=2)
    check_number("max_period", max_period, minimum=1)
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]  # (N, half)
    return torch.cat([args.sin(), args.cos()], dim=1)  # (N, dim)


class _Embed(nn.Module):
    """Time (sinusoidal + MLP) plus class embedding; class ``num_classes`` is "no class"."""

    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        self.dim, self.num_classes = dim, num_classes
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.cls = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        e = self.mlp(timestep_embedding(t, self.dim))  # (N, dim)
        if self.cls is not None:
            if labels is None:
                labels = torch.full_like(t, self.num_classes)
            e = e + self.cls(labels)
        return e


class _ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, plus the embedding added per channel; residual skip.

    ``conv`` builds the convolutions (2D, or factorized (2+1)D for video).
    """

    def __init__(self, c_in: int, c_out: int, emb_dim: int, conv: Callable[[int, int], nn.Module]):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(math.gcd(8, c_in), c_in), conv(c_in, c_out)
        self.emb = nn.Linear(emb_dim, c_out)
        self.n2, self.c2 = nn.GroupNorm(math.gcd(8, c_out), c_out), conv(c_out, c_out)
        self.skip = _conv_1x1(c_in, c_out, conv) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.emb(e).view(len(e), -1, *([1] * (h.dim() - 2)))
        h = self.c2(F.silu(self.n2(h)))
        return h + self.skip(x)


def _conv_1x1(c_in: int, c_out: int, conv: Callable) -> nn.Module:
    return nn.Conv3d(c_in, c_out, 1) if conv is _conv2p1d else nn.Conv2d(c_in, c_out, 1)


def _conv2d(c_in: int, c_out: int) -> nn.Module:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


def _conv2p1d(c_in: int, c_out: int) -> nn.Module:
    """(2+1)D: a 1x3x3 spatial convolution, then a 3x1x1 temporal one (R(2+1)D, Tran 2018)."""
    return nn.Sequential(
        nn.Conv3d(c_in, c_out, (1, 3, 3), padding=(0, 1, 1)),  # space, frame by frame
        nn.Conv3d(c_out, c_out, (3, 1, 1), padding=(1, 0, 0)),  # time, pixel by pixel
    )


class Denoiser(nn.Module):
    """A small U-Net eps_theta(x_t, t, y): images (N, C, S, S) -> predicted noise, same shape.

    S -> S/2 -> S/4 and back with skip connections; every residual block receives the
    time embedding plus the class embedding (``labels=None`` or label ``num_classes`` means
    "no class": the unconditional model of classifier-free guidance). S divisible by 4.
    """

    def __init__(self, channels: int = 1, width: int = 32, num_classes: int = 10,
                 emb_dim: int = 64):
        super().__init__()
        w = width
        self.num_classes = num_classes
        self.embed = _Embed(emb_dim, num_classes)
        self.inp = nn.Conv2d(channels, w, 3, padding=1)
        self.b1 = _ResBlock(w, w, emb_dim, _conv2d)  # (N, w, S, S)
        self.down1 = nn.Conv2d(w, 2 * w, 4, 2, 1)  # (N, 2w, S/2, S/2)
        self.b2 = _ResBlock(2 * w, 2 * w, emb_dim, _conv2d)
        self.down2 = nn.Conv2d(2 * w, 2 * w, 4, 2, 1)  # (N, 2w, S/4, S/4)
        self.mid = _ResBlock(2 * w, 2 * w, emb_dim, _conv2d)
        self.up2 = nn.ConvTranspose2d(2 * w, 2 * w, 4, 2, 1)  # (N, 2w, S/2, S/2)
        self.b3 = _ResBlock(4 * w, 2 * w, emb_dim, _conv2d)  # after concat with b2's output
        self.up1 = nn.ConvTranspose2d(2 * w, w, 4, 2, 1)  # (N, w, S, S)
        self.b4 = _ResBlock(2 * w, w, emb_dim, _conv2d)
        self.out = nn.Sequential(nn.GroupNorm(8, w), nn.SiLU(), nn.Conv2d(w, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"x must have shape (N, C, H, W) with H, W divisible by 4, got {tuple(x.shape)}")
        e = self.embed(t, labels)  # (N, emb)
        h1 = self.b1(self.inp(x), e)  # (N, w, S, S)
        h2 = self.b2(self.down1(h1), e)  # (N, 2w, S/2, S/2)
        h = self.mid(self.down2(h2), e)  # (N, 2w, S/4, S/4)
        h = self.b3(torch.cat([self.up2(h), h2], dim=1), e)  # (N, 2w, S/2, S/2)
        h = self.b4(torch.cat([self.up1(h), h1], dim=1), e)  # (N, w, S, S)
        return self.out(h)


class VideoDenoiser(nn.Module):
    """eps_theta for clips: (N, T, C, S, S) -> predicted noise, same shape.

    The :class:`Denoiser`'s U-Net idea with every 3x3 convolution replaced by a factorized
    (2+1)D one (1x3x3 in space, then 3x1x1 in time), one spatial down/up-sampling and no
    downsampling in time. The temporal convolutions let the frames agree on one motion;
    the class embedding says which motion. With ``patch`` = 2 each frame is first cut into
    2x2 patches stacked as channels (``pixel_unshuffle``, like a DiT's patchification: 4x
    fewer positions, cheaper, but it learns fine detail more slowly).
    """

    def __init__(self, channels: int = 1, width: int = 16, num_classes: int = 4,
                 emb_dim: int = 64, patch: int = 1):
        super().__init__()
        if patch not in (1, 2):
            raise ValueError(f"patch must be 1 or 2, got {patch!r}")
        w, c = width, channels * patch * patch
        self.num_classes, self.patch = num_classes, patch
        self.embed = _Embed(emb_dim, num_classes)
        self.inp = _conv2p1d(c, w)
        self.b1 = _ResBlock(w, w, emb_dim, _conv2p1d)  # (N, w, T, S', S'), S' = S / patch
        self.down = nn.Conv3d(w, 2 * w, (1, 4, 4), (1, 2, 2), (0, 1, 1))  # (N, 2w, T, S'/2, S'/2)
        self.b2 = _ResBlock(2 * w, 2 * w, emb_dim, _conv2p1d)
        self.mid = _ResBlock(2 * w, 2 * w, emb_dim, _conv2p1d)
        self.up = nn.ConvTranspose3d(2 * w, w, (1, 4, 4), (1, 2, 2), (0, 1, 1))  # (N, w, T, S', S')
        self.b3 = _ResBlock(2 * w, w, emb_dim, _conv2p1d)
        self.out = nn.Sequential(nn.GroupNorm(math.gcd(8, w), w), nn.SiLU(), nn.Conv3d(w, c, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        p = self.patch
        if x.dim() != 5 or x.shape[-1] % (2 * p) or x.shape[-2] % (2 * p):
            raise ValueError(f"x must have shape (N, T, C, H, W) with H, W divisible by {2 * p}, got {tuple(x.shape)}")
        n, t_len, c, hgt, wid = x.shape
        e = self.embed(t, labels)
        h = x
        if p > 1:  # (N*T, C, H, W) -> (N*T, p*p*C, H/p, W/p)
            h = F.pixel_unshuffle(x.reshape(n * t_len, c, hgt, wid), p)
            h = h.view(n, t_len, c * p * p, hgt // p, wid // p)
        h = h.transpose(1, 2)  # (N, C', T, H', W'), the layout Conv3d expects
        h1 = self.b1(self.inp(h), e)  # (N, w, T, H', W')
        h = self.mid(self.b2(self.down(h1), e), e)  # (N, 2w, T, H'/2, W'/2)
        h = self.b3(torch.cat([self.up(h), h1], dim=1), e)  # (N, w, T, H', W')
        h = self.out(h).transpose(1, 2)  # (N, T, C', H', W')
        if p > 1:
            h = F.pixel_shuffle(h.reshape(n * t_len, c * p * p, hgt // p, wid // p), p)
        return h.reshape(n, t_len, c, hgt, wid)  # (N, T, C, H, W)


# ------------------------------------------------------------------------- training
def diffusion_loss(model: nn.Module, x0: torch.Tensor, schedule: Schedule,
                   labels: torch.Tensor | None = None, p_uncond: float = 0.0,
                   generator: torch.Generator | None = None, context_frames: int = 0) -> torch.Tensor:
    """The noise-prediction loss E_{t, eps} ||eps - eps_theta(x_t, t, y)||^2 (a 0-dim tensor).

    t uniform in [0, T); x_t from :func:`q_sample`. With ``p_uncond`` > 0 each label is
    replaced by the null class with that probability (classifier-free guidance training).
    With ``context_frames`` = k > 0 (clips (N, T, C, H, W) only), the first k frames stay
    clean in x_t and are left out of the loss: the model learns to generate the rest of a
    clip *given* its first frames (image-to-video; :func:`ddim_sample` with ``context``).
    """
    n = len(x0)
    k = _check_context_frames(context_frames, x0)
    t = torch.randint(0, schedule.num_steps, (n,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    xt = q_sample(x0, t, noise, schedule.alpha_bar)
    if k:
        xt = torch.cat([x0[:, :k], xt[:, k:]], dim=1)  # (N, T, C, H, W): known frames clean
    if labels is not None and p_uncond > 0:
        drop = torch.rand(n, generator=generator) < p_uncond
        labels = torch.where(drop, torch.full_like(labels, model.num_classes), labels)
    return F.mse_loss(model(xt, t, labels)[:, k:], noise[:, k:])


def _check_context_frames(k: int, x: torch.Tensor) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"context_frames must be an int >= 0, got {k!r}")
    if k and (x.dim() != 5 or k >= x.shape[1]):
        raise ValueError(f"context_frames = {k} needs clips (N, T, C, H, W) with T > {k}, got {tuple(x.shape)}")
    return k


@dataclass
class DiffusionHistory:
    """Per-step ``loss`` of :func:`train_diffusion`; ``seconds`` and ``steps``."""

    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    def __repr__(self) -> str:
        return f"DiffusionHistory(steps={self.steps})"


def train_diffusion(model: nn.Module, data: torch.Tensor, schedule: Schedule, *,
                    labels: torch.Tensor | None = None, steps: int = 1000, batch_size: int = 64,
                    lr: float = 2e-3, p_uncond: float = 0.1,
                    generator: torch.Generator | None = None, context_frames: int = 0) -> DiffusionHistory:
    """Train a noise predictor on ``data`` (M, ...) in [-1, 1] (with ``labels`` (M,) if given).

    Adam with a linear warm-up over the first 5% of steps, then a cosine decay to 0;
    gradients clipped at norm 1. ``context_frames``: see :func:`diffusion_loss`. Returns a
    :class:`DiffusionHistory`; leaves the model in eval mode.
    """
    _check_context_frames(context_frames, data)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if labels is not None and len(labels) != len(data):
        raise ValueError(f"labels must have one entry per sample ({len(data)}), got {len(labels)}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    hist = DiffusionHistory()
    start = time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(data), (batch_size,), generator=generator)
        y = labels[idx] if labels is not None else None
        loss = diffusion_loss(model, data[idx], schedule, y, p_uncond, generator, context_frames)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.loss.append(loss.item())
        hist.steps = step
    hist.seconds = time.perf_counter() - start
    model.eval()
    return hist


# ------------------------------------------------------------------------- sampling
def _predict_eps(model: nn.Module, x: torch.Tensor, t: int, labels: torch.Tensor | None,
                 guidance: float) -> torch.Tensor:
    tt = torch.full((len(x),), t, dtype=torch.long)
    if labels is None or guidance == 1.0:
        return model(x, tt, labels)
    null = torch.full_like(labels, model.num_classes)
    both = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([labels, null]))  # one batch
    eps_c, eps_u = both.chunk(2)
    return guided_eps(eps_c, eps_u, guidance)


@torch.no_grad()
def ddpm_sample(model: nn.Module, schedule: Schedule, shape: tuple[int, ...], *,
                labels: torch.Tensor | None = None, guidance: float = 1.0,
                clip_x0: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """DDPM ancestral sampling: T reverse steps from x_T ~ N(0, I); returns x_0 of ``shape``.

    Each step predicts eps, forms x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t) (clamped
    to [-1, 1] when ``clip_x0``), takes the :func:`posterior_mean` and adds noise of
    variance beta_tilde_t (none at the last step). ``guidance``: :func:`guided_eps` scale.
    """
    model.eval()
    x = torch.randn(shape, generator=generator)
    for t in range(schedule.num_steps - 1, -1, -1):
        eps = _predict_eps(model, x, t, labels, guidance)
        ab = float(schedule.alpha_bar[t])
        x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
        if clip_x0:
            x0 = x0.clamp(-1, 1)
        tt = torch.full((len(x),), t, dtype=torch.long)
        mean = posterior_mean(x0, x, tt, schedule)
        if t > 0:
            var = float(posterior_variance(tt[:1], schedule))
            x = mean + math.sqrt(var) * torch.randn(shape, generator=generator)
        else:
            x = mean
    return x


@torch.no_grad()
def ddim_sample(model: nn.Module, schedule: Schedule, shape: tuple[int, ...], *,
                steps: int = 20, labels: torch.Tensor | None = None, guidance: float = 1.0,
                eta: float = 0.0, clip_x0: bool = True,
                generator: torch.Generator | None = None,
                trajectory: list | None = None, context: torch.Tensor | None = None) -> torch.Tensor:
    """DDIM sampling (Song et al. 2021) on ``steps`` evenly spaced timesteps of the schedule.

    x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps_hat + sigma z, with
    sigma = eta * sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)). eta = 0: deterministic
    given x_T (the same model as DDPM, no retraining, far fewer network calls).

    If ``trajectory`` is a list, one ``(t, x_t, x0_hat)`` triple per step is appended to it
    (the noisy sample the network saw and its estimate of the clean sample, both of
    ``shape``): what notebook 08's slider over the sampling steps shows.

    ``context`` (N, k, C, H, W): known first frames of every clip (a model trained with
    ``context_frames = k``); they are written into x at the start and after every step.
    """
    if not isinstance(steps, int) or not 1 <= steps <= schedule.num_steps:
        raise ValueError(f"steps must be an int in [1, {schedule.num_steps}], got {steps!r}")
    if trajectory is not None and not isinstance(trajectory, list):
        raise TypeError(f"trajectory must be a list (or None), got {type(trajectory).__name__}")
    model.eval()
    ts = torch.linspace(schedule.num_steps - 1, 0, steps).round().long().tolist()
    x = torch.randn(shape, generator=generator)
    k = 0
    if context is not None:
        if not isinstance(context, torch.Tensor) or context.dim() != len(shape) or len(shape) != 5 \
                or context.shape[0] != shape[0] or context.shape[2:] != tuple(shape[2:]) or not 0 < context.shape[1] < shape[1]:
            raise ValueError(f"context must have shape (N, k, C, H, W) matching shape {tuple(shape)} with 0 < k < T, "
                             f"got {getattr(context, 'shape', type(context).__name__)}")
        k = context.shape[1]
        x[:, :k] = context
    for i, t in enumerate(ts):
        eps = _predict_eps(model, x, t, labels, guidance)
        ab = float(schedule.alpha_bar[t])
        ab_prev = float(schedule.alpha_bar[ts[i + 1]]) if i + 1 < len(ts) else 1.0
        x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
        if clip_x0:
            x0 = x0.clamp(-1, 1)
            eps = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)  # consistent with the clamped x0
        if trajectory is not None:
            trajectory.append((t, x.detach().clone(), x0.detach().clone()))
        sigma = eta * math.sqrt(max(0.0, (1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)))
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(0.0, 1 - ab_prev - sigma**2)) * eps
        if sigma > 0:
            x = x + sigma * torch.randn(shape, generator=generator)
        if k:
            x[:, :k] = context
    return x


# ------------------------------------------------------------------ video scoring, cost
class ClipClassifier(nn.Module):
    """A small (2+1)D CNN clip classifier: clips (N, T, C, S, S) -> logits (N, num_classes).

    Trained on real clips, its penultimate activations (:meth:`features`) play the role
    of I3D's features in FVD: the Fréchet distance between real and generated clips'
    features (notebook 08, section 10).
    """

    def __init__(self, num_classes: int = 8, width: int = 16, channels: int = 1):
        super().__init__()
        f = width
        self.net = nn.Sequential(
            _conv2p1d(channels, f), nn.ReLU(),
            nn.MaxPool3d((1, 2, 2)),  # (N, f, T, S/2, S/2)
            _conv2p1d(f, 2 * f), nn.ReLU(),
            nn.MaxPool3d((2, 2, 2)),  # (N, 2f, T/2, S/4, S/4)
            _conv2p1d(2 * f, 2 * f), nn.ReLU(),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(),  # (N, 2f)
            nn.Linear(2 * f, num_classes),
        )

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        if clips.dim() != 5:
            raise ValueError(f"clips must have shape (N, T, C, H, W), got {tuple(clips.shape)}")
        return self.net(clips.transpose(1, 2))

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """The penultimate activations (N, 2 * width)."""
        return self.net[:-1](clips.transpose(1, 2))


def clip_diversity(clips: torch.Tensor) -> float:
    """Mean RMS pixel distance between two different clips of a set (notebook 08).

    ``clips`` (N, T, C, H, W) in [-1, 1], N >= 2; pixels are mapped to [0, 1] first. The
    same per-set diversity measure as notebook 04's video section: near 0 for a collapsed
    generator that repeats one clip, about as large as the real clips' value for a varied one.
    """
    if not isinstance(clips, torch.Tensor) or clips.dim() != 5 or clips.shape[0] < 2:
        raise ValueError(f"clips must have shape (N, T, C, H, W) with N >= 2, got {getattr(clips, 'shape', type(clips).__name__)}")
    x = ((clips.detach().double() + 1) / 2).flatten(1)  # (N, T*C*H*W) in [0, 1]
    d = torch.cdist(x, x) / x.shape[1] ** 0.5  # (N, N)
    return d[torch.triu_indices(len(x), len(x), 1).unbind()].mean().item()


def dit_tokens(frames: int, height: int, width: int, *, vae_time: int = 4, vae_space: int = 8,
               patch_time: int = 1, patch_space: int = 2) -> int:
    """Tokens a DiT sees for a clip: (T / (vae_time * patch_time)) * (H / (vae_space * patch_space))
    * (W / (vae_space * patch_space)).

    The video VAE shrinks time by ``vae_time`` and space by ``vae_space``; the transformer
    then cuts the latent into patch_time x patch_space x patch_space spacetime patches, one
    token each. Every size must divide exactly (ValueError otherwise). Full self-attention
    then costs tokens^2 pairs per layer.
    """
    args = dict(frames=frames, height=height, width=width, vae_time=vae_time,
                vae_space=vae_space, patch_time=patch_time, patch_space=patch_space)
    for name, v in args.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if frames % (vae_time * patch_time):
        raise ValueError(f"frames ({frames}) must be divisible by vae_time * patch_time ({vae_time * patch_time})")
    for name, v in (("height", height), ("width", width)):
        if v % (vae_space * patch_space):
            raise ValueError(f"{name} ({v}) must be divisible by vae_space * patch_space ({vae_space * patch_space})")
    return (frames // (vae_time * patch_time)) * (height // (vae_space * patch_space)) * (
        width // (vae_space * patch_space)
    )
