"""GANs from first principles: data, networks, one training step, measures (notebook 04).

Everything notebook ``04_gan_training`` builds, in one place:

* **Toy data**: :func:`ring_centers` / :func:`sample_ring`, the classic 2D ring of 8 Gaussians.
* **Networks**: :class:`MLPGenerator` / :class:`MLPDiscriminator` (any output shape),
  :class:`DCGANGenerator` / :class:`DCGANDiscriminator` for 32x32 images (the DCGAN
  guidelines: strided convolutions, batch norm, ReLU in G, LeakyReLU in D, tanh output),
  and :class:`VideoGenerator` / :class:`VideoDiscriminator`, a MoCoGAN-style clip GAN
  (a content latent per clip plus a recurrent motion latent per frame).
* **Losses**: :func:`discriminator_loss`, :func:`generator_loss` (non-saturating or
  saturating, always from logits) and :func:`gradient_penalty` (WGAN-GP).
* **One training step**: :func:`d_step`, :func:`g_step` and :func:`train_step` (both),
  reused by every experiment through :func:`train_gan`, which records losses, D(x),
  D(G(z)) and sample grids.
* **Measures**: :func:`ring_metrics` (modes hit, fraction of high-quality samples) and
  :func:`inception_like_score` / :func:`glyph_score` (an Inception-Score-like number from
  a small classifier trained on real glyphs, :class:`GlyphClassifier`).

Conventions: images and clips live in [-1, 1] inside a GAN (tanh output); use
:func:`to_gan_range` and :func:`from_gan_range` to convert from/to the datasets' [0, 1].
A generator has an attribute ``z_dim`` and maps noise (N, z_dim) to samples.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validate import (
    check_bool,
    check_elements,
    check_int,
    check_module,
    check_number,
    check_tensor,
)

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GANHistory",
    "GlyphClassifier",
    "MLPDiscriminator",
    "MLPGenerator",
    "PackedDiscriminator",
    "VideoDiscriminator",
    "VideoGenerator",
    "d_step",
    "discriminator_loss",
    "frechet_distance",
    "from_gan_range",
    "gaussian_frechet_distance",
    "g_step",
    "generator_loss",
    "glyph_score",
    "gradient_penalty",
    "inception_like_score",
    "intensity_centroids",
    "motion_travel",
    "init_dcgan_weights",
    "make_optimizers",
    "ring_centers",
    "ring_metrics",
    "sample_noise",
    "sample_ring",
    "shift_travel",
    "to_gan_range",
    "train_gan",
    "train_step",
]

LOSSES = ("nonsaturating", "saturating", "wgan-gp")


# ------------------------------------------------------------------------------ data
def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The centres of ``n_modes`` Gaussians evenly spaced on a circle: (n_modes, 2)."""
    if not isinstance(n_modes, int) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive int, got {n_modes!r}")
    check_number("radius", radius, minimum=0.0)
    check_elements("ring_centers(n_modes)", n_modes, 2)
    angles = torch.arange(n_modes, dtype=torch.float32) * (2 * math.pi / n_modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (K, 2)


def sample_ring(
    n: int,
    n_modes: int = 8,
    radius: float = 2.0,
    std: float = 0.05,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` points from a mixture of ``n_modes`` equal Gaussians on a ring: (n, 2).

    Each point picks a mode uniformly at random, then adds isotropic noise of ``std``.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    check_number("std", std, minimum=0.0)
    check_elements("sample_ring(n)", n, 2)
    centers = ring_centers(n_modes, radius)  # (K, 2)
    idx = torch.randint(0, n_modes, (n,), generator=generator)  # (n,)
    noise = torch.randn(n, 2, generator=generator) * std  # (n, 2)
    return centers[idx] + noise


def to_gan_range(x: torch.Tensor) -> torch.Tensor:
    """Map images in [0, 1] (float) or uint8 in [0, 255] to [-1, 1], the range of tanh.

    Other integer dtypes (int64 pixels would map 255 to 509) and bool are refused."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of images, got {type(x).__name__}")
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise TypeError(
            f"x must be float images in [0, 1] or uint8 in [0, 255], got dtype {x.dtype} "
            "(convert with x.to(torch.uint8) or x.float() / 255)"
        )
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    return x * 2.0 - 1.0


def from_gan_range(x: torch.Tensor) -> torch.Tensor:
    """Map generator output in [-1, 1] back to [0, 1] for display (clamped)."""
    check_tensor("x", x, floating=True)
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


def sample_noise(n: int, z_dim: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal noise z: (n, z_dim)."""
    check_int("n", n, minimum=0)
    check_int("z_dim", z_dim, minimum=1)
    check_elements("sample_noise(n, z_dim)", n, z_dim)
    return torch.randn(n, z_dim, generator=generator)


# -------------------------------------------------------------------------- networks
class MLPGenerator(nn.Module):
    """z (N, z_dim) -> samples (N, *out_shape); tanh output when ``tanh=True`` (images).

    ``hidden`` units per layer, ``depth`` hidden layers with ReLU.
    """

    def __init__(
        self,
        z_dim: int = 2,
        out_shape: tuple[int, ...] = (2,),
        hidden: int = 128,
        depth: int = 3,
        tanh: bool = False,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)  # (N, *out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N, *in_shape) -> one logit per sample (N,). LeakyReLU(0.2) hidden layers."""

    def __init__(self, in_shape: tuple[int, ...] = (2,), hidden: int = 128, depth: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(in_shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (N,)


class PackedDiscriminator(nn.Module):
    """PacGAN: judge *packs* of ``pack`` samples at once, a cure for mode collapse.

    samples (N, *shape) with N divisible by ``pack`` -> (N / pack, pack * prod(shape)) ->
    ``base`` -> one logit per pack (N / pack,). Real packs almost always span several modes;
    packs from a collapsed generator do not, so D can see the collapse and G is pushed to
    spread out (Lin et al. 2018). ``base`` must accept inputs of ``pack * prod(shape)``
    features, e.g. ``MLPDiscriminator(in_shape=(pack * 2,))`` for 2D points.
    """

    def __init__(self, base: nn.Module, pack: int = 4):
        super().__init__()
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be a positive int, got {pack!r}")
        self.base, self.pack = base, pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.pack:
            raise ValueError(f"the batch size ({len(x)}) must be divisible by pack={self.pack}")
        return self.base(x.reshape(len(x) // self.pack, -1))  # (N / pack,)


def init_dcgan_weights(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: conv weights N(0, 0.02), norm weights N(1, 0.02)."""
    for m in module.modules():
        if isinstance(
            m, nn.Conv2d | nn.ConvTranspose2d | nn.Conv3d | nn.ConvTranspose3d | nn.Linear
        ):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm3d | nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _check_size(size: int) -> int:
    check_int("size", size)
    if size not in (16, 32, 64):
        raise ValueError(f"size must be 16, 32 or 64, got {size!r}")
    return size


class DCGANGenerator(nn.Module):
    """DCGAN generator: z (N, z_dim) -> images (N, channels, size, size) in [-1, 1].

    For size 32: (N, z_dim, 1, 1) -> (N, 4f, 4, 4) -> (N, 2f, 8, 8) -> (N, f, 16, 16)
    -> (N, C, 32, 32). Transposed convolutions (kernel 4, stride 2, padding 1) double the
    size; batch norm and ReLU after each except the last, which is tanh (the DCGAN
    guidelines). ``size`` 16 drops one doubling, 64 adds one.
    """

    def __init__(self, z_dim: int = 32, width: int = 32, channels: int = 1, size: int = 32):
        super().__init__()
        check_int("z_dim", z_dim, minimum=1)
        check_int("width", width, minimum=1, maximum=4096)
        check_int("channels", channels, minimum=1)
        self.z_dim = z_dim
        n_up = int(math.log2(_check_size(size))) - 2  # doublings after the 4x4 start
        chans = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # e.g. [4f, 2f, f]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, chans[0], 4, 1, 0, bias=False),  # (N, 4f, 4, 4)
            nn.BatchNorm2d(chans[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),  # doubles H and W
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        layers += [
            nn.ConvTranspose2d(chans[-1], channels, 4, 2, 1),
            nn.Tanh(),
        ]  # (N, C, size, size)
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: images (N, C, size, size) -> one logit per image (N,).

    For size 32: (N, C, 32, 32) -> (N, f, 16, 16) -> (N, 2f, 8, 8) -> (N, 4f, 4, 4) -> (N,).
    Strided convolutions halve the size (no pooling), LeakyReLU(0.2), batch norm on the
    inner layers (``norm="batch"``), or none (``norm="none"``, required by WGAN-GP, whose
    penalty is per sample and must not mix samples through batch statistics).
    """

    def __init__(self, width: int = 32, channels: int = 1, norm: str = "batch", size: int = 32):
        super().__init__()
        check_int("width", width, minimum=1, maximum=4096)
        check_int("channels", channels, minimum=1)
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be 'batch' or 'none', got {norm!r}")
        n_down = int(math.log2(_check_size(size))) - 2
        self.size, self.channels = size, channels
        chans = [width * 2**i for i in range(n_down)]  # e.g. [f, 2f, 4f]
        layers: list[nn.Module] = [nn.Conv2d(channels, chans[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),  # halves H and W
                nn.BatchNorm2d(c_out) if norm == "batch" else nn.Identity(),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(chans[-1], 1, 4, 1, 0))  # (N, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.size
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, size, size):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"DCGANDiscriminator(size={size}, channels={self.channels}) takes images "
                f"(N, {self.channels}, {size}, {size}), got {got}: build it with size= the image size"
            )
        return self.net(x).flatten()  # (N,)


class VideoGenerator(nn.Module):
    """MoCoGAN-style clip generator: (N, z_dim) noise -> clips (N, T, C, size, size) in [-1, 1].

    The noise is split into a *content* code z_c (N, content_dim), the same for every frame
    (what the clip shows), and the initial state of a GRU that turns per-frame noise
    e_t (N, motion_dim) into a *motion* code z_m(t) (N, motion_dim) (how it moves). One
    shared image generator (:class:`DCGANGenerator`) renders each frame from [z_c, z_m(t)].
    ``z_dim = content_dim + motion_dim``; the per-frame noise is drawn inside ``forward``.
    """

    def __init__(
        self,
        content_dim: int = 24,
        motion_dim: int = 8,
        num_frames: int = 8,
        width: int = 24,
        channels: int = 1,
        size: int = 32,
    ):
        super().__init__()
        self.content_dim, self.motion_dim, self.num_frames = content_dim, motion_dim, num_frames
        self.z_dim = content_dim + motion_dim
        self.rnn = nn.GRUCell(motion_dim, motion_dim)
        self.frames = DCGANGenerator(z_dim=self.z_dim, width=width, channels=channels, size=size)

    def motion_codes(self, h0: torch.Tensor, num_frames: int | None = None) -> torch.Tensor:
        """Run the motion GRU from state h0 (N, motion_dim): codes (N, T, motion_dim)."""
        t_len = num_frames or self.num_frames
        h, codes = h0, []
        for _ in range(t_len):
            eps = torch.randn(len(h0), self.motion_dim, device=h0.device)  # (N, m)
            h = self.rnn(eps, h)  # (N, m)
            codes.append(h)
        return torch.stack(codes, dim=1)  # (N, T, m)

    def forward(self, z: torch.Tensor, num_frames: int | None = None) -> torch.Tensor:
        n = len(z)
        z_c, h0 = z[:, : self.content_dim], z[:, self.content_dim :]  # (N, c), (N, m)
        z_m = self.motion_codes(h0, num_frames)  # (N, T, m)
        t_len = z_m.shape[1]
        z_c = z_c.unsqueeze(1).expand(-1, t_len, -1)  # (N, T, c): same content in every frame
        codes = torch.cat([z_c, z_m], dim=2)  # (N, T, c + m)
        frames = self.frames(codes.reshape(n * t_len, -1))  # (N*T, C, H, W)
        return frames.view(n, t_len, *frames.shape[1:])  # (N, T, C, H, W)


class VideoDiscriminator(nn.Module):
    """3D-convolution clip discriminator: clips (N, T, C, size, size) -> one logit per clip (N,).

    It sees space *and* time at once, so it can reject clips whose frames are fine one by
    one but do not move coherently. Strided by 2 in space three times, and twice in time.
    """

    def __init__(self, width: int = 24, channels: int = 1, size: int = 32):
        super().__init__()
        f, s = width, _check_size(size) // 8
        self.net = nn.Sequential(
            nn.Conv3d(channels, f, (3, 4, 4), (1, 2, 2), (1, 1, 1)),  # (N, f, T, H/2, W/2)
            nn.LeakyReLU(0.2, True),
            nn.Conv3d(f, 2 * f, 4, 2, 1, bias=False),  # (N, 2f, T/2, H/4, W/4)
            nn.BatchNorm3d(2 * f),
            nn.LeakyReLU(0.2, True),
            nn.Conv3d(2 * f, 4 * f, 4, 2, 1, bias=False),  # (N, 4f, T/4, H/8, W/8)
            nn.BatchNorm3d(4 * f),
            nn.LeakyReLU(0.2, True),
            nn.AdaptiveAvgPool3d((1, s, s)),  # (N, 4f, 1, H/8, W/8)
            nn.Flatten(),
            nn.Linear(4 * f * s * s, 1),
        )
        init_dcgan_weights(self)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = clips.transpose(1, 2)  # (N, C, T, H, W), the layout Conv3d expects
        return self.net(x).squeeze(1)  # (N,)


class GlyphClassifier(nn.Module):
    """A small CNN digit classifier for 32x32 glyphs in [-1, 1]: (N, 1, 32, 32) -> logits (N, 10).

    Trained on real glyphs in a few seconds; :func:`glyph_score` uses it to judge samples.
    """

    def __init__(self, width: int = 16, num_classes: int = 10):
        super().__init__()
        f = width
        self.net = nn.Sequential(
            nn.Conv2d(1, f, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, f, 16, 16)
            nn.Conv2d(f, 2 * f, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 2f, 8, 8)
            nn.Conv2d(2 * f, 4 * f, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),  # (N, 4f, 1, 1)
            nn.Flatten(),
            nn.Linear(4 * f, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations (N, 4 * width): what :func:`frechet_distance` compares."""
        return self.net[:-1](x)


# ---------------------------------------------------------------------------- losses
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from logits: BCE(D(x), 1) + BCE(D(G(z)), 0), each a mean.

    Equals -[log sigma(a_real) + log(1 - sigma(a_fake))] averaged; computed with
    ``binary_cross_entropy_with_logits`` (stable for large |logits|), never Sigmoid + BCE.
    """
    check_tensor("real_logits", real_logits, floating=True, nonempty=True)
    check_tensor("fake_logits", fake_logits, floating=True, nonempty=True)
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator's loss from the discriminator's logits on fakes, a (N,) tensor.

    * ``"nonsaturating"``: -log D(G(z)) = BCE(logits, 1) = softplus(-a), the one to use.
    * ``"saturating"``: log(1 - D(G(z))) = -softplus(a), the original minimax form, whose
      gradient vanishes exactly when D confidently rejects the fakes (early training).
    * ``"wgan-gp"``: -mean critic score.
    """
    check_tensor("fake_logits", fake_logits, floating=True, nonempty=True)
    if kind == "nonsaturating":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if kind == "saturating":
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    if kind == "wgan-gp":
        return -fake_logits.mean()
    raise ValueError(f"kind must be one of {LOSSES}, got {kind!r}")


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates (a scalar).

    x_hat = alpha * real + (1 - alpha) * fake with alpha ~ U(0, 1) per sample: real and fake
    (N, ...), alpha (N,) (drawn if None). The gradient norm is taken per sample over all
    non-batch dimensions; ``create_graph=True`` so the penalty itself can be trained.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    n = len(real)
    if alpha is None:
        alpha = torch.rand(n, device=real.device)
    alpha = alpha.view(n, *([1] * (real.dim() - 1)))  # (N, 1, ...) broadcast over the sample
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)  # (N,)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (N, ...)
    norms = grad.flatten(1).norm(dim=1)  # (N,)
    return ((norms - 1.0) ** 2).mean()


# ----------------------------------------------------------------------- one step
def d_step(
    G: nn.Module,
    D: nn.Module,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    *,
    loss: str = "nonsaturating",
    gp_weight: float = 10.0,
) -> dict[str, float]:
    """One discriminator update on a real batch (N, ...). Only D's parameters change.

    Reads top to bottom: draw noise, make fakes *without* a graph back into G (``no_grad``:
    the D step must not backpropagate into G), zero D's gradients, compute the loss, step.
    Returns the loss and the mean D(x) and D(G(z)) (probabilities; raw critic scores for
    WGAN-GP).
    """
    n = len(real)
    z = torch.randn(n, G.z_dim)  # (N, z_dim)
    with torch.no_grad():  # same effect as G(z).detach(), and no graph is even built
        fake = G(z)  # (N, ...)
    opt_d.zero_grad(set_to_none=True)
    real_logits, fake_logits = D(real), D(fake)  # (N,), (N,)
    if loss == "wgan-gp":
        d_loss = (
            fake_logits.mean() - real_logits.mean() + gp_weight * gradient_penalty(D, real, fake)
        )
        d_real, d_fake = real_logits.mean().item(), fake_logits.mean().item()
    elif loss in ("nonsaturating", "saturating"):
        d_loss = discriminator_loss(real_logits, fake_logits)
        d_real, d_fake = (
            torch.sigmoid(real_logits).mean().item(),
            torch.sigmoid(fake_logits).mean().item(),
        )
    else:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    d_loss.backward()
    opt_d.step()
    return {"d_loss": d_loss.item(), "d_real": d_real, "d_fake": d_fake}


def g_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    batch_size: int,
    *,
    loss: str = "nonsaturating",
) -> dict[str, float]:
    """One generator update. Only G's parameters change; D's gradients are left untouched.

    D is frozen (``requires_grad_(False)``) while the loss flows *through* it into G, then
    each of D's parameters gets back the ``requires_grad`` it had (a parameter the caller
    froze stays frozen): D's ``.grad`` stay as they were.
    """
    check_int("batch_size", batch_size, minimum=1)
    was = [(p, p.requires_grad) for p in D.parameters()]
    D.requires_grad_(False)
    try:
        z = torch.randn(batch_size, G.z_dim)  # (N, z_dim)
        opt_g.zero_grad(set_to_none=True)
        g_loss = generator_loss(D(G(z)), kind=loss)  # labels "real": G wants D to say 1
        g_loss.backward()
        opt_g.step()
    finally:
        for p, flag in was:
            p.requires_grad_(flag)
    return {"g_loss": g_loss.item()}


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    *,
    loss: str = "nonsaturating",
    d_steps: int = 1,
    gp_weight: float = 10.0,
) -> dict[str, float]:
    """One GAN training step: ``d_steps`` discriminator updates on ``real``, then one G update.

    Returns ``{"d_loss", "g_loss", "d_real", "d_fake"}`` (the last D update's figures).
    """
    if not isinstance(d_steps, int) or d_steps < 1:
        raise ValueError(f"d_steps must be a positive int, got {d_steps!r}")
    for _ in range(d_steps):
        stats = d_step(G, D, opt_d, real, loss=loss, gp_weight=gp_weight)
    stats.update(g_step(G, D, opt_g, len(real), loss=loss))
    return stats


def make_optimizers(
    G: nn.Module,
    D: nn.Module,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Two separate Adam optimizers (one per player), DCGAN's betas by default."""
    return torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas), torch.optim.Adam(
        D.parameters(), lr=lr_d, betas=betas
    )


# --------------------------------------------------------------------------- the loop
@dataclass
class GANHistory:
    """What :func:`train_gan` records: per-step figures and periodic samples.

    ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``: lists, one value per step.
    ``samples``: list of ``(step, tensor)`` with G(z_fixed) on the CPU.
    ``seconds``: wall time spent; ``steps``: steps completed.
    """

    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    samples: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    def __getitem__(self, key: str) -> list:
        return getattr(self, key)

    def __repr__(self) -> str:
        return f"GANHistory(steps={self.steps}, snapshots={len(self.samples)})"


def train_gan(
    G: nn.Module,
    D: nn.Module,
    data: torch.Tensor | Callable[[int], torch.Tensor],
    *,
    steps: int = 1000,
    batch_size: int = 64,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    loss: str = "nonsaturating",
    d_steps: int = 1,
    gp_weight: float = 10.0,
    sample_every: int = 0,
    z_fixed: torch.Tensor | None = None,
    time_limit: float | None = None,
    progress: bool = True,
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
) -> GANHistory:
    """Train G against D for ``steps`` steps of :func:`train_step`; return a :class:`GANHistory`.

    Args:
        data: real samples as a tensor (M, ...) to draw random batches from, or a function
            ``batch_size -> (batch_size, ...)`` (e.g. ``sample_ring``).
        sample_every: every that many steps (and at step 0 and the end), store G(z_fixed).
        z_fixed: the noise used for the stored samples (default: 64 fixed draws).
        time_limit: stop early after that many seconds (the history says how far it got).
        optimizers: ``(opt_g, opt_d)`` to continue training; else two fresh Adams.
    """
    check_module("G", G)
    check_module("D", D)
    if not callable(data):
        check_tensor("data", data, ndim=range(2, 6), shape="(M, ...) real samples", floating=True, finite=True,
                     nonempty=True)
    check_int("steps", steps, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_elements("train_gan(batch_size)", batch_size, 2**16)
    check_number("lr_g", lr_g, minimum=0, inclusive=False)
    check_number("lr_d", lr_d, minimum=0, inclusive=False)
    check_int("d_steps", d_steps, minimum=1)
    check_number("gp_weight", gp_weight, minimum=0)
    check_int("sample_every", sample_every, minimum=0)
    check_bool("progress", progress)
    if time_limit is not None:
        check_number("time_limit", time_limit, minimum=0)
    if z_fixed is not None:
        check_tensor("z_fixed", z_fixed, ndim=2, shape="(M, z_dim)", floating=True, nonempty=True)
    if optimizers is not None and (not isinstance(optimizers, tuple | list) or len(optimizers) != 2
                                   or not all(isinstance(o, torch.optim.Optimizer) for o in optimizers)):
        raise TypeError("optimizers must be a pair (opt_g, opt_d) of torch.optim optimizers, or None")
    if optimizers is None:
        optimizers = make_optimizers(G, D, lr_g, lr_d, betas)
    opt_g, opt_d = optimizers
    if z_fixed is None:
        z_fixed = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(1234))
    if callable(data):
        draw = data
    else:

        def draw(b: int) -> torch.Tensor:
            return data[torch.randint(0, len(data), (b,))]

    hist = GANHistory()

    def snapshot(step: int) -> None:
        was_training = G.training
        G.eval()
        with torch.no_grad():
            hist.samples.append((step, G(z_fixed).cpu()))
        G.train(was_training)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"GAN ({loss})", leave=False)
    start = time.perf_counter()
    G.train()
    D.train()
    if sample_every:
        snapshot(0)
    for step in range(1, steps + 1):
        stats = train_step(
            G, D, opt_g, opt_d, draw(batch_size), loss=loss, d_steps=d_steps, gp_weight=gp_weight
        )
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            getattr(hist, key).append(stats[key])
        hist.steps = step
        if sample_every and step % sample_every == 0:
            snapshot(step)
        if bar is not None:
            bar.update(1)
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
    if sample_every and (not hist.samples or hist.samples[-1][0] != hist.steps):
        snapshot(hist.steps)
    hist.seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return hist


# --------------------------------------------------------------------------- measures
def ring_metrics(
    samples: torch.Tensor,
    n_modes: int = 8,
    radius: float = 2.0,
    std: float = 0.05,
    quality_stds: float = 3.0,
    min_fraction: float = 0.01,
) -> dict:
    """Mode coverage and sample quality on the ring of Gaussians (samples (N, 2)).

    A sample is *high quality* when it lies within ``quality_stds * std`` of its nearest
    mode centre. A mode is *hit* when at least ``min_fraction`` of all samples are
    high-quality samples of that mode. Returns ``{"modes_hit": int, "high_quality": float
    (fraction of samples), "counts": list[int] (high-quality samples per mode)}``.
    Known values: all samples on one centre -> 1 mode, quality 1.0; spread evenly over
    the centres -> n_modes, 1.0; far from every centre -> 0, 0.0.
    """
    if samples.dim() != 2 or samples.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2), got {tuple(samples.shape)}")
    centers = ring_centers(n_modes, radius).to(samples)  # (K, 2)
    dist = torch.cdist(samples.float(), centers.float())  # (N, K)
    nearest_d, nearest = dist.min(dim=1)  # (N,), (N,)
    good = nearest_d <= quality_stds * std  # (N,)
    counts = torch.bincount(nearest[good], minlength=n_modes)  # (K,)
    hit = counts >= max(1, math.ceil(min_fraction * len(samples)))
    return {
        "modes_hit": int(hit.sum()),
        "high_quality": float(good.float().mean()),
        "counts": counts.tolist(),
    }


def inception_like_score(probs: torch.Tensor, eps: float = 1e-12) -> float:
    """exp(E_x KL(p(y|x) || p(y))) from class probabilities (N, K): between 1 and K.

    High when each sample is classified confidently (low-entropy p(y|x)) *and* the samples
    cover the classes evenly (high-entropy marginal p(y)). Equals exp(H(p(y)) - E H(p(y|x))).
    Known values: one-hot, evenly spread over K classes -> K; all one class -> 1;
    uniform p(y|x) -> 1.
    """
    check_tensor("probs", probs, ndim=2, shape="(N, K)", floating=True, nonempty=True)
    check_number("eps", eps, minimum=0.0)
    p = probs.double().clamp_min(0)
    p = p / p.sum(dim=1, keepdim=True)
    marginal = p.mean(dim=0, keepdim=True)  # (1, K)
    kl = (p * ((p + eps).log() - (marginal + eps).log())).sum(dim=1)  # (N,)
    return float(kl.mean().exp())


@torch.no_grad()
def glyph_score(images: torch.Tensor, classifier: nn.Module, batch_size: int = 500) -> float:
    """The course's glyph score: :func:`inception_like_score` of a glyph classifier's softmax.

    ``images`` (N, 1, 32, 32) in [-1, 1] (generator output), ``classifier`` a trained
    :class:`GlyphClassifier`. 10 is the best possible (confident and all ten digits equally),
    1 the worst. Like the Inception Score it only asks "does a digit classifier recognise
    these, and all digits?": it cannot see blur it tolerates, copied training images, or
    diversity *within* a digit.
    """
    was = classifier.training
    classifier.eval()
    probs = torch.cat(
        [
            F.softmax(classifier(images[i : i + batch_size]), dim=1)
            for i in range(0, len(images), batch_size)
        ]
    )
    classifier.train(was)
    return inception_like_score(probs)


def gaussian_frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor,
                              sigma2: torch.Tensor) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1^{1/2} sigma2 sigma1^{1/2})^{1/2})``,
    FID's formula (Heusel et al. 2017). The matrix square root is taken of the symmetric
    PSD matrix ``sigma1^{1/2} sigma2 sigma1^{1/2}`` (same trace of the square root as
    ``(sigma1 sigma2)^{1/2}``), by eigendecomposition in float64: no complex round-off.

    Args:
        mu1, mu2: means (D,); sigma1, sigma2: covariances (D, D), symmetric PSD.
    """
    for name, mu in (("mu1", mu1), ("mu2", mu2)):
        if not isinstance(mu, torch.Tensor) or mu.dim() != 1:
            raise ValueError(f"{name} must be a 1-D tensor (D,), got {getattr(mu, 'shape', type(mu).__name__)}")
    d = mu1.shape[0]
    if mu2.shape[0] != d:
        raise ValueError(f"mu1 and mu2 must have the same length, got {d} and {mu2.shape[0]}")
    for name, s in (("sigma1", sigma1), ("sigma2", sigma2)):
        if not isinstance(s, torch.Tensor) or tuple(s.shape) != (d, d):
            raise ValueError(f"{name} must be a ({d}, {d}) covariance matrix, got {getattr(s, 'shape', type(s).__name__)}")
    mu1, mu2, sigma1, sigma2 = (t.detach().double() for t in (mu1, mu2, sigma1, sigma2))
    if not all(torch.isfinite(t).all() for t in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("means and covariances must be finite (no NaN or inf)")

    def psd_sqrt(m: torch.Tensor) -> torch.Tensor:
        vals, vecs = torch.linalg.eigh((m + m.T) / 2)  # symmetric: real eigen-pairs
        return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T

    root1 = psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1  # (D, D) symmetric PSD
    tr_covmean = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    diff = mu1 - mu2
    return float(diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2 * tr_covmean)


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """FID's number for two sets of feature vectors (N_a, D) and (N_b, D) (notebook 04).

    Fits a Gaussian (mean, unbiased covariance) to each set and returns
    :func:`gaussian_frechet_distance`. 0 for identical distributions; grows with a shift of
    the mean and with a change of spread. Biased upwards for small N (the covariance
    estimate is noisy): compare numbers only at the same N. FID proper uses Inception-v3
    pool features; the course uses :meth:`GlyphClassifier.features` (or a clip classifier's
    features: FVD's idea).
    """
    for name, f in (("features_a", features_a), ("features_b", features_b)):
        if isinstance(f, torch.Tensor) and not (f.is_floating_point() and f.device.type != "meta"):
            raise TypeError(f"{name} must be real floating-point features, got dtype {f.dtype} on {f.device.type}")
        if not isinstance(f, torch.Tensor) or f.dim() != 2:
            raise ValueError(f"{name} must be a (N, D) tensor, got {getattr(f, 'shape', type(f).__name__)}")
        if f.shape[0] < 2:
            raise ValueError(f"{name} needs at least 2 rows to estimate a covariance, got {f.shape[0]}")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same width D, got {features_a.shape[1]} and {features_b.shape[1]}")
    a, b = features_a.detach().double(), features_b.detach().double()
    return gaussian_frechet_distance(a.mean(0), torch.cov(a.T).reshape(a.shape[1], -1),
                                     b.mean(0), torch.cov(b.T).reshape(b.shape[1], -1))


def intensity_centroids(clips: torch.Tensor) -> torch.Tensor:
    """The brightness-weighted centre (x, y) of every frame, in pixels: (N, T, 2).

    ``clips`` (N, T, C, H, W) in [-1, 1] (generator range); channels are averaged.
    """
    if clips.dim() != 5:
        raise ValueError(f"clips must have shape (N, T, C, H, W), got {tuple(clips.shape)}")
    w = from_gan_range(clips).mean(dim=2)  # (N, T, H, W) weights in [0, 1]
    h, wd = w.shape[-2:]
    mass = w.sum(dim=(-1, -2)).clamp_min(1e-6)  # (N, T)
    xs = torch.arange(wd, dtype=w.dtype)
    ys = torch.arange(h, dtype=w.dtype)
    cx = (w.sum(dim=-2) * xs).sum(dim=-1) / mass  # (N, T)
    cy = (w.sum(dim=-1) * ys).sum(dim=-1) / mass  # (N, T)
    return torch.stack([cx, cy], dim=-1)  # (N, T, 2)


def motion_travel(clips: torch.Tensor) -> torch.Tensor:
    """How far each clip's brightness centre moves from the first to the last frame: (N, 2).

    A crude but honest motion measure: (dx, dy) in pixels, positive dx = to the right.
    A still clip gives (0, 0).
    """
    c = intensity_centroids(clips)  # (N, T, 2)
    return c[:, -1] - c[:, 0]


def shift_travel(clips: torch.Tensor, max_shift: int = 3) -> torch.Tensor:
    """Motion by frame matching: the summed best integer shift between consecutive frames (N, 2).

    For every pair of consecutive frames (N, T, C, H, W) in [-1, 1], try every shift
    (dx, dy) with |dx|, |dy| <= ``max_shift`` of frame t (zero fill) and keep the one with
    the smallest mean squared difference to frame t+1 (the smallest shift wins ties, so
    a still or empty clip gives 0). Returns the sum over the clip, in pixels, positive dx =
    to the right. Unlike :func:`motion_travel` (the brightness centre), a blob that fades
    out on the left while another fades in on the right does not count as motion: no
    shift explains the change better than no shift. Introduced in notebook 04.
    """
    if not isinstance(clips, torch.Tensor) or clips.dim() != 5:
        raise ValueError(f"clips must have shape (N, T, C, H, W), got {getattr(clips, 'shape', type(clips).__name__)}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 1:
        raise ValueError(f"max_shift must be a positive int, got {max_shift!r}")
    w = from_gan_range(clips.detach().float()).mean(dim=2)  # (N, T, H, W)
    h, wd = w.shape[-2:]
    prev, nxt = w[:, :-1], w[:, 1:]  # (N, T-1, H, W) each
    m = max_shift
    padded = F.pad(prev, (m, m, m, m))  # (N, T-1, H + 2m, W + 2m)
    shifts = sorted(((dx, dy) for dx in range(-m, m + 1) for dy in range(-m, m + 1)),
                    key=lambda s: (abs(s[0]) + abs(s[1]), s))  # (0, 0) first: ties go to no motion
    errors = torch.stack([
        ((padded[..., m - dy : m - dy + h, m - dx : m - dx + wd] - nxt) ** 2).mean(dim=(-1, -2))
        for dx, dy in shifts
    ], dim=-1)  # (N, T-1, K)
    best = errors.argmin(dim=-1)  # (N, T-1)
    table = torch.tensor(shifts, dtype=torch.float32)  # (K, 2)
    return table[best].sum(dim=1)  # (N, 2)
