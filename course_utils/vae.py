"""Variational autoencoders from first principles (notebook 08).

Everything notebook ``08_vae_and_diffusion`` builds for the VAE half of the lesson:

* **The two formulas**: :func:`reparameterize` (z = mu + sigma * eps, sigma = exp(logvar / 2))
  and :func:`gaussian_kl` (KL(N(mu, diag sigma^2) || N(0, I)) in closed form).
* **Gradient estimators**: :func:`score_function_grad` (REINFORCE) and
  :func:`reparam_grad`, per-sample estimates of d/dmu E[f(z)] whose variances the notebook
  compares.
* **A small convolutional VAE** for 16x16 (or 32x32) single-channel images:
  :class:`ConvVAE`, its loss :func:`vae_loss` (negative ELBO with a beta weight on the KL)
  and the loop :func:`train_vae`.

Conventions: images in [-1, 1] (as in :mod:`course_utils.gan`); the decoder outputs the
mean of a Gaussian with fixed variance, so the reconstruction term is a squared error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from course_utils.validate import check_int, check_number, check_tensor

__all__ = [
    "ConvVAE",
    "VAEHistory",
    "gaussian_kl",
    "reparam_grad",
    "reparameterize",
    "score_function_grad",
    "train_vae",
    "vae_loss",
]


def _check_pair(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise TypeError(
            f"mu and logvar must be tensors, got {type(mu).__name__} and {type(logvar).__name__}"
        )
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape (N, D), got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None
) -> torch.Tensor:
    """A differentiable sample z ~ N(mu, diag exp(logvar)): z = mu + exp(logvar / 2) * eps.

    mu, logvar (N, D) (any equal shapes); eps the standard normal noise, drawn if None.
    The randomness lives in eps, outside the graph, so gradients flow to mu and logvar
    (notebook 08, section 2).
    """
    _check_pair(mu, logvar)
    if eps is None:
        eps = torch.randn_like(mu)
    elif eps.shape != mu.shape:
        raise ValueError(f"eps must have the shape of mu {tuple(mu.shape)}, got {tuple(eps.shape)}")
    return mu + torch.exp(0.5 * logvar) * eps  # (N, D)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over the last dimension: (N,).

    0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2), the closed form (notebook 08, section 1);
    equal to ``torch.distributions.kl_divergence`` of the two Normals (tested).
    """
    _check_pair(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


# ------------------------------------------------------------ gradient estimators
def score_function_grad(
    f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float, n: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """n per-sample REINFORCE estimates of d/dmu E_{z ~ N(mu, sigma^2)}[f(z)]: (n,).

    f(z) * d/dmu log N(z; mu, sigma^2) = f(z) * (z - mu) / sigma^2. Unbiased, needs only
    values of f (no gradient of f), but its variance is large (notebook 08, section 2).
    """
    if not callable(f):
        raise TypeError(f"f must be a function of a tensor, got {type(f).__name__}")
    check_number("mu", mu)
    check_number("sigma", sigma, minimum=0, inclusive=False)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    z = mu + sigma * torch.randn(n, generator=generator, dtype=torch.float64)  # (n,)
    return f(z) * (z - mu) / sigma**2


def reparam_grad(
    f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float, n: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """n per-sample reparameterization estimates of d/dmu E[f(z)], z = mu + sigma * eps: (n,).

    d/dmu f(mu + sigma * eps) = f'(z), computed by autograd through the sample.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of a tensor, got {type(f).__name__}")
    check_number("mu", mu)
    check_number("sigma", sigma, minimum=0, inclusive=False)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    m = torch.full((n,), float(mu), dtype=torch.float64, requires_grad=True)  # one mu per sample
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    (g,) = torch.autograd.grad(f(m + sigma * eps).sum(), m)
    return g  # (n,)


# ------------------------------------------------------------------------- the model
class ConvVAE(nn.Module):
    """A small convolutional VAE: images (N, C, S, S) <-> latent codes (N, z_dim).

    Encoder: two stride-2 convolutions (S -> S/4), then linear layers to mu and logvar.
    Decoder: linear to (N, 2f, S/4, S/4), two transposed convolutions back to S, tanh
    (images in [-1, 1]). ``size`` must be divisible by 4 (16 or 32 in the course).
    """

    def __init__(self, z_dim: int = 16, width: int = 32, channels: int = 1, size: int = 16):
        check_int("z_dim", z_dim, minimum=1)
        check_int("width", width, minimum=1)
        check_int("channels", channels, minimum=1)
        check_int("size", size, minimum=8)
        super().__init__()
        if size % 4 or size < 8:
            raise ValueError(f"size must be a multiple of 4 and >= 8, got {size!r}")
        self.z_dim, self.size, self.channels = z_dim, size, channels
        f, s = width, size // 4
        self.enc = nn.Sequential(
            nn.Conv2d(channels, f, 4, 2, 1), nn.SiLU(),  # (N, f, S/2, S/2)
            nn.Conv2d(f, 2 * f, 4, 2, 1), nn.SiLU(),  # (N, 2f, S/4, S/4)
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(2 * f * s * s, 2 * z_dim)  # mu and logvar
        self.from_z = nn.Linear(z_dim, 2 * f * s * s)
        self.dec = nn.Sequential(
            nn.SiLU(),
            nn.Unflatten(1, (2 * f, s, s)),
            nn.ConvTranspose2d(2 * f, f, 4, 2, 1), nn.SiLU(),  # (N, f, S/2, S/2)
            nn.ConvTranspose2d(f, channels, 4, 2, 1), nn.Tanh(),  # (N, C, S, S)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (N, C, S, S) -> (mu, logvar), each (N, z_dim)."""
        mu, logvar = self.to_stats(self.enc(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, z_dim) -> images (N, C, S, S) in [-1, 1]."""
        return self.dec(self.from_z(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction (N, C, S, S), mu and logvar (N, z_dim) of a batch."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images from the prior: z ~ N(0, I) -> decoder: (n, C, S, S)."""
        return self.decode(torch.randn(n, self.z_dim, generator=generator))


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
    beta: float = 1.0, sigma_x: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative ELBO per image (averaged over the batch), with beta on the KL term.

    recon, x (N, C, H, W); mu, logvar (N, z_dim). Reconstruction term: the Gaussian
    negative log-likelihood ||x - recon||^2 / (2 sigma_x^2) (constants dropped), summed
    over pixels. Returns (loss, recon term, KL term), each a 0-dim tensor.
    """
    check_tensor("recon", recon, shape="(N, C, H, W)", floating=True)
    check_tensor("x", x, shape="(N, C, H, W)", floating=True)
    check_number("beta", beta, minimum=0)
    check_number("sigma_x", sigma_x, minimum=0, inclusive=False)
    if recon.shape != x.shape:
        raise ValueError(f"recon and x must have the same shape, got {tuple(recon.shape)} and {tuple(x.shape)}")
    rec = (recon - x).pow(2).flatten(1).sum(1).mean() / (2 * sigma_x**2)
    kl = gaussian_kl(mu, logvar).mean()
    return rec + beta * kl, rec, kl


@dataclass
class VAEHistory:
    """Per-step ``loss``, ``recon`` and ``kl`` of :func:`train_vae`; ``seconds``, ``steps``."""

    loss: list[float] = field(default_factory=list)
    recon: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    def __repr__(self) -> str:
        return f"VAEHistory(steps={self.steps})"


def train_vae(
    model: ConvVAE, data: torch.Tensor, *, steps: int = 1000, batch_size: int = 64,
    lr: float = 2e-3, beta: float = 1.0, sigma_x: float = 0.5,
    generator: torch.Generator | None = None,
) -> VAEHistory:
    """Train ``model`` on images ``data`` (M, C, S, S) in [-1, 1] with Adam; return the history.

    Random batches (drawn with ``generator``); the loss is :func:`vae_loss`.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if data.dim() != 4:
        raise ValueError(f"data must have shape (M, C, H, W), got {tuple(data.shape)}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = VAEHistory()
    start = time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        x = data[torch.randint(0, len(data), (batch_size,), generator=generator)]
        recon, mu, logvar = model(x)
        loss, rec, kl = vae_loss(recon, x, mu, logvar, beta=beta, sigma_x=sigma_x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist.loss.append(loss.item())
        hist.recon.append(rec.item())
        hist.kl.append(kl.item())
        hist.steps = step
    hist.seconds = time.perf_counter() - start
    model.eval()
    return hist

