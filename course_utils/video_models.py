"""The video model zoo of notebook 05, built from torch layers.

Earlier notebooks wrote every block from scratch (convolutions in 01, the GRU in 02,
attention in 03). Here the blocks come from ``torch.nn`` and are assembled into the classic
video architectures, all sharing one input convention and one size knob ``width``:

* clips are ``(N, T, C, H, W)`` (the course's dataset format), logits ``(N, K)``;
* :class:`SingleFrame` (the middle frame through a 2D CNN), :class:`TSN` (2D CNN per frame,
  temporal average), :class:`EarlyFusion` (frames stacked as channels), :class:`TSM` (the TSN
  network with a temporal shift of part of the channels), :class:`CNN3D` (C3D-style 3D
  convolutions, also the target of I3D inflation), :class:`R2Plus1D`, :class:`CNNGRU` and
  :class:`VideoViT` (space-only, joint or divided space-time attention);
* :func:`temporal_shift`, :func:`inflate_2d_to_3d`, :func:`count_macs` (the course's MAC
  counter, extended to GRUs and attention) and :func:`width_for_params` (the widest model
  under a parameter budget).

Every model has ``build_model(name, ...)`` as a factory; :data:`ZOO` lists the names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.conv import count_flops, mid_channels_2plus1d
from course_utils.validate import check_int, check_tensor

__all__ = [
    "CNN3D",
    "CNNGRU",
    "TSM",
    "TSN",
    "ZOO",
    "EarlyFusion",
    "FrameCNN",
    "PatchConv2d",
    "R2Plus1D",
    "SingleFrame",
    "SelfAttention",
    "TemporalShift",
    "VideoViT",
    "build_model",
    "count_macs",
    "downsample_clips",
    "from_time_sequences",
    "inflate_2d_to_3d",
    "mean_sd",
    "temporal_shift",
    "to_time_sequences",
    "width_for_params",
]


def _check_clips(x: object, name: str = "clips") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a tensor (N, T, C, H, W), got {type(x).__name__}")
    if x.dim() != 5:
        raise ValueError(f"{name} must have shape (N, T, C, H, W), got {tuple(x.shape)}")
    return x


def _check_pos_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def downsample_clips(clips: Tensor, frames: int = 8, size: int = 16) -> Tensor:
    """Keep ``frames`` evenly spaced frames and average-pool each to ``size x size`` (notebook 05).

    clips (N, T, C, H, W) -> (N, frames, C, size, size); ``H`` and ``W`` must be multiples of
    ``size``. Integer clips (uint8) are scaled to [0, 1] floats first.
    """
    _check_clips(clips)
    n, t, c, h, w = clips.shape
    _check_pos_int(frames, "frames")
    _check_pos_int(size, "size")
    if frames > t:
        raise ValueError(f"frames={frames} must be <= the clip length T={t}")
    if h % size or w % size:
        raise ValueError(f"size={size} must divide the frame size ({h}, {w})")
    x = clips.float() / 255.0 if not clips.is_floating_point() else clips
    idx = torch.linspace(0, t - 1, frames).round().long()
    x = x[:, idx]  # (N, frames, C, H, W)
    x = F.avg_pool2d(x.flatten(0, 1), (h // size, w // size))  # (N*frames, C, size, size)
    return x.unflatten(0, (n, frames))


# ----------------------------------------------------------------- temporal shift
def temporal_shift(x: Tensor, fold_div: int = 8) -> Tensor:
    """TSM's temporal shift (Lin et al., 2019) on features (N, T, C, H, W) (notebook 05).

    The first ``C // fold_div`` channels of frame ``t`` take their values from frame
    ``t + 1`` (shifted back in time), the next ``C // fold_div`` from frame ``t - 1``
    (shifted forward); the rest stay. Frames shifted in from outside the clip are zeros.
    No parameters, no multiplications: only memory moves.
    """
    _check_clips(x, "x")
    _check_pos_int(fold_div, "fold_div")
    fold = x.shape[2] // fold_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]  # frame t sees frame t+1
    out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # frame t sees frame t-1
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
    return out


class TemporalShift(nn.Module):
    """:func:`temporal_shift` as a layer working on frames folded into the batch.

    Input (N*T, C, H, W) with ``num_frames = T``; output the same shape. Zero parameters.
    """

    def __init__(self, num_frames: int, fold_div: int = 8):
        super().__init__()
        self.num_frames = _check_pos_int(num_frames, "num_frames")
        self.fold_div = _check_pos_int(fold_div, "fold_div")

    def forward(self, x: Tensor) -> Tensor:
        y = x.unflatten(0, (-1, self.num_frames))  # (N, T, C, H, W)
        return temporal_shift(y, self.fold_div).flatten(0, 1)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, fold_div={self.fold_div}"


# ----------------------------------------------------------------- 2D backbone
class FrameCNN(nn.Module):
    """The 2D CNN every frame-based model shares: three 3x3 conv-BN-ReLU layers.

    (B, C, H, W) -> features (B, 2 * width). Layers: conv(C -> w) pool2, conv(w -> 2w)
    pool2, conv(2w -> 2w), global average pool. ``shift`` (a :class:`TemporalShift`) is
    inserted before the second and third convolutions when given (TSM); it adds no weights.
    """

    def __init__(self, in_channels: int = 1, width: int = 16, shift: nn.Module | None = None):
        super().__init__()
        w = _check_pos_int(width, "width")
        self.out_features = 2 * w

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        shift_layer = [shift] if shift is not None else []
        self.features = nn.Sequential(
            *block(in_channels, w), nn.MaxPool2d(2),
            *shift_layer, *block(w, 2 * w), nn.MaxPool2d(2),
            *shift_layer, *block(2 * w, 2 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)  # (B, 2w)


class SingleFrame(nn.Module):
    """The floor: the middle frame through :class:`FrameCNN`, then a linear classifier."""

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8):
        super().__init__()
        self.cnn = FrameCNN(in_channels, width)
        self.head = nn.Linear(self.cnn.out_features, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        middle = clips[:, clips.shape[1] // 2]  # (N, C, H, W)
        return self.head(self.cnn(middle))


class TSN(nn.Module):
    """TSN-style late fusion (Wang et al., 2016): a 2D CNN per frame, scores averaged over time.

    Frames fold into the batch (N*T, C, H, W); the per-frame logits (N, T, K) are averaged.
    The average is the same for any order of the frames: blind to the arrow of time.
    """

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8):
        super().__init__()
        self.cnn = self._backbone(in_channels, width, num_frames)
        self.head = nn.Linear(self.cnn.out_features, num_classes)

    def _backbone(self, in_channels, width, num_frames):
        return FrameCNN(in_channels, width)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        n, t = clips.shape[:2]
        logits = self.head(self.cnn(clips.flatten(0, 1)))  # (N*T, K)
        return logits.unflatten(0, (n, t)).mean(dim=1)  # (N, K)


class TSM(TSN):
    """TSN plus a temporal shift before the 2nd and 3rd convolutions (Lin et al., 2019).

    Exactly the parameters and multiply-adds of :class:`TSN`; the shift lets each frame's
    features mix with its neighbours', so stacked layers see motion. ``num_frames`` must be
    the clip length T.
    """

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8, fold_div: int = 4):
        self.fold_div = fold_div
        super().__init__(num_classes, in_channels=in_channels, width=width, num_frames=num_frames)

    def _backbone(self, in_channels, width, num_frames):
        return FrameCNN(in_channels, width, shift=TemporalShift(num_frames, self.fold_div))


class EarlyFusion(nn.Module):
    """Early fusion (Karpathy et al., 2014): the T frames stacked as T*C input channels.

    Time is mixed once, in the first layer; the rest is :class:`FrameCNN`.
    """

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8):
        super().__init__()
        self.num_frames = num_frames
        self.cnn = FrameCNN(in_channels * num_frames, width)
        self.head = nn.Linear(self.cnn.out_features, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        if clips.shape[1] != self.num_frames:
            raise ValueError(f"EarlyFusion was built for T={self.num_frames} frames, got {clips.shape[1]}")
        return self.head(self.cnn(clips.flatten(1, 2)))  # (N, T*C, H, W)


class CNNGRU(nn.Module):
    """2D CNN features per frame, a GRU over time, the last hidden state classified (notebook 02's model)."""

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8, hidden: int | None = None):
        super().__init__()
        self.cnn = FrameCNN(in_channels, width)
        hidden = hidden or self.cnn.out_features
        self.gru = nn.GRU(self.cnn.out_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        n, t = clips.shape[:2]
        feats = self.cnn(clips.flatten(0, 1)).unflatten(0, (n, t))  # (N, T, F)
        _, h = self.gru(feats)  # h (1, N, hidden)
        return self.head(h[0])


# ----------------------------------------------------------------- 3D CNNs
class TimePad(nn.Module):
    """Pad the time axis of (N, C, T, H, W) by repeating the first and last frames.

    With it, a 3D convolution on a clip of identical frames sees identical frames at the
    borders too: the "boring video" property of inflated kernels holds exactly.
    """

    def __init__(self, pad: int):
        super().__init__()
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        if self.pad == 0:
            return x
        first, last = x[:, :, :1], x[:, :, -1:]
        return torch.cat([first] * self.pad + [x] + [last] * self.pad, dim=2)


class CNN3D(nn.Module):
    """C3D-style network: :class:`FrameCNN`'s layers with ``t x 3 x 3`` kernels (Tran et al., 2015).

    clips (N, T, C, H, W) -> (N, C, T, H, W); conv3d-BN-ReLU x 3, pooling in space only
    (1, 2, 2), global average over (T, H, W). Time is padded by repeating border frames
    (:class:`TimePad`), so :func:`inflate_2d_to_3d` of a :class:`FrameCNN` gives a network
    whose output on a clip of one repeated frame equals the 2D network's on that frame.
    """

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8, t: int = 3):
        super().__init__()
        w = _check_pos_int(width, "width")
        if t % 2 == 0:
            raise ValueError(f"t (the temporal kernel size) must be odd, got {t}")
        self.t = t

        def block(cin, cout):
            return [TimePad(t // 2), nn.Conv3d(cin, cout, (t, 3, 3), padding=(0, 1, 1), bias=False),
                    nn.BatchNorm3d(cout), nn.ReLU()]  # fmt: skip

        self.features = nn.Sequential(
            *block(in_channels, w), nn.MaxPool3d((1, 2, 2)),
            *block(w, 2 * w), nn.MaxPool3d((1, 2, 2)),
            *block(2 * w, 2 * w),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(2 * w, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        return self.head(self.features(clips.transpose(1, 2)))  # (N, C, T, H, W)


class R2Plus1D(nn.Module):
    """R(2+1)D (Tran et al., 2018): each ``3 x 3 x 3`` conv of :class:`CNN3D` factorized.

    A ``1 x 3 x 3`` spatial conv to ``M`` channels, BN, ReLU, then a ``3 x 1 x 1`` temporal
    conv; ``M = mid_channels_2plus1d(C_in, C_out)`` (notebook 01) keeps each block's
    parameters equal to the 3D conv's, and adds a nonlinearity in between.
    """

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 16, num_frames: int = 8):
        super().__init__()
        w = _check_pos_int(width, "width")

        def block(cin, cout):
            m = mid_channels_2plus1d(cin, cout)
            return [
                nn.Conv3d(cin, m, (1, 3, 3), padding=(0, 1, 1), bias=False), nn.BatchNorm3d(m), nn.ReLU(),
                nn.Conv3d(m, cout, (3, 1, 1), padding=(1, 0, 0), bias=False), nn.BatchNorm3d(cout), nn.ReLU(),
            ]  # fmt: skip

        self.features = nn.Sequential(
            *block(in_channels, w), nn.MaxPool3d((1, 2, 2)),
            *block(w, 2 * w), nn.MaxPool3d((1, 2, 2)),
            *block(2 * w, 2 * w),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(2 * w, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        return self.head(self.features(clips.transpose(1, 2)))


@torch.no_grad()
def inflate_2d_to_3d(net2d: nn.Module, net3d: CNN3D) -> CNN3D:
    """I3D inflation (Carreira & Zisserman, 2017): copy a 2D network into a 3D one (notebook 05).

    ``net2d`` is a :class:`SingleFrame` or :class:`TSN` (a ``cnn`` :class:`FrameCNN` and a
    ``head``); ``net3d`` a :class:`CNN3D` of the same width. Each 2D kernel ``(O, I, k, k)``
    is repeated ``t`` times along time and divided by ``t``: on a clip whose frames are all
    the same, every temporal window sums ``t`` copies of the frame's 2D response divided by
    ``t``, i.e. the 2D response itself. BatchNorm statistics and the head are copied.
    Returns ``net3d`` (modified in place).
    """
    if not isinstance(net3d, CNN3D):
        raise TypeError(f"net3d must be a CNN3D, got {type(net3d).__name__}")
    cnn = getattr(net2d, "cnn", None)
    if not isinstance(cnn, FrameCNN) or cnn.features[0].weight.shape[0] != net3d.head.in_features // 2:
        raise ValueError("net2d must have a FrameCNN `cnn` of the same width as net3d")
    convs2d = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
    bns2d = [m for m in cnn.modules() if isinstance(m, nn.BatchNorm2d)]
    convs3d = [m for m in net3d.modules() if isinstance(m, nn.Conv3d)]
    bns3d = [m for m in net3d.modules() if isinstance(m, nn.BatchNorm3d)]
    for c2, c3 in zip(convs2d, convs3d, strict=True):
        t = c3.kernel_size[0]
        c3.weight.copy_(c2.weight.unsqueeze(2).repeat(1, 1, t, 1, 1) / t)  # (O, I, t, k, k)
    for b2, b3 in zip(bns2d, bns3d, strict=True):
        b3.load_state_dict(b2.state_dict())
    net3d.head.load_state_dict(net2d.head.state_dict())
    return net3d


# ----------------------------------------------------------------- video transformer
class SelfAttention(nn.Module):
    """Multi-head self-attention on (B, L, D) from torch layers: one ``Linear(D, 3D)`` for
    q, k, v, ``F.scaled_dot_product_attention`` per head, an output ``Linear(D, D)``.

    The same parameters and arithmetic as ``nn.MultiheadAttention`` (notebook 03 built it
    from scratch), in fewer operations: these models are small, so per-operation overhead
    is what costs time on a CPU.
    """

    def __init__(self, dim: int, heads: int):
        check_int("dim", dim, minimum=1)
        check_int("heads", heads, minimum=1)
        super().__init__()
        if dim % heads:
            raise ValueError(f"heads={heads} must divide dim={dim}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, length, d = x.shape
        qkv = self.qkv(x).reshape(b, length, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, h, L, d/h)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, h, L, d/h)
        return self.out(y.transpose(1, 2).reshape(b, length, d))


def to_time_sequences(x: Tensor) -> Tensor:
    """Tokens (N, T, P, D) -> (N*P, T, D): one sequence over time per patch position."""
    check_tensor("x", x, ndim=4, shape="(N, T, P, D)")
    n, t, p, d = x.shape
    return x.transpose(1, 2).reshape(n * p, t, d)


def from_time_sequences(y: Tensor, n: int) -> Tensor:
    """The inverse of :func:`to_time_sequences`: (N*P, T, D) -> (N, T, P, D)."""
    check_tensor("y", y, ndim=3, shape="(N*P, T, D)")
    check_int("n", n, minimum=1)
    if y.shape[0] % n:
        raise ValueError(f"n={n} must divide the first dimension of y (N*P = {y.shape[0]})")
    np_, t, d = y.shape
    return y.reshape(n, np_ // n, t, d).transpose(1, 2)


class _Block(nn.Module):
    """Pre-norm transformer block on tokens (N, T, P, D); ``mode`` groups them for attention."""

    def __init__(self, dim: int, heads: int, mode: str, mlp_ratio: float):
        super().__init__()
        self.mode = mode
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        if mode == "divided":
            self.norm_t = nn.LayerNorm(dim)
            self.attn_t = SelfAttention(dim, heads)
        hidden = int(dim * mlp_ratio)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor) -> Tensor:
        n, t, p, d = x.shape
        if self.mode == "divided":  # time first: N*P sequences of T tokens
            x = x + from_time_sequences(self.attn_t(to_time_sequences(self.norm_t(x))), n)
        if self.mode == "joint":  # one sequence of T*P tokens per clip
            x = x + self.attn(self.norm1(x).reshape(n, t * p, d)).reshape(n, t, p, d)
        else:  # space (also divided's second step): N*T sequences of P tokens
            x = x + self.attn(self.norm1(x).reshape(n * t, p, d)).reshape(n, t, p, d)
        return x + self.mlp(self.norm2(x))


class PatchConv2d(nn.Conv2d):
    """A patch embedding: ``nn.Conv2d`` with kernel = stride = ``patch`` and no padding
    (notebook 05), computed as what it is, one matrix product on non-overlapping patches.

    The same parameters, initialization and output (N, D, H/patch, W/patch) as the
    convolution (equal to float rounding), and counted the same way by :func:`count_macs`
    and ``FlopCounterMode``; on one CPU thread its backward pass is several times faster
    than the convolution kernel's for these tiny images.
    """

    def __init__(self, in_channels: int, out_channels: int, patch: int):
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        patch = check_int("patch", patch, minimum=1)
        super().__init__(in_channels, out_channels, patch, stride=patch)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        p = self.kernel_size[0]
        if h % p or w % p:
            raise ValueError(f"PatchConv2d: patch={p} must divide the image size, got {h}x{w}")
        patches = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)  # (N, h, w, C, p, p)
        out = F.linear(patches.reshape(n, h // p, w // p, c * p * p), self.weight.reshape(self.out_channels, -1), self.bias)
        return out.permute(0, 3, 1, 2)  # (N, D, h, w)


def sinusoidal_encoding(positions: int, dim: int) -> Tensor:
    """Fixed sin/cos position codes (Vaswani et al., 2017; notebook 03): (positions, dim)."""
    pos = torch.arange(positions, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    pe = torch.zeros(positions, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class VideoViT(nn.Module):
    """A small video transformer: space-only, joint or divided space-time attention (notebook 05).

    Each frame is embedded on its own: a 3x3 conv stem (``stem_channels``, ReLU; 0 for ViT's
    plain linear patches) and a patch convolution (``patch x patch`` pixels, stride = kernel)
    give P tokens of width ``width``. A learned spatial position (P, D) is added, and a
    temporal position (T, D), learned or ``time_encoding="sinusoidal"``, except in space-only
    mode (as TimeSformer's space-only model: its frames never meet before the final average,
    so the model is exactly blind to frame order). Then ``depth`` pre-norm blocks, LayerNorm,
    the mean over all tokens and a linear head. ``mode``:

    * ``"space"``: each frame's P patches attend to each other only;
    * ``"joint"``: all T*P tokens attend to each other (ViViT model 1);
    * ``"divided"``: time attention (each patch position over the T frames) then space
      attention, two attention layers per block (TimeSformer).

    ``mlp_ratio`` defaults to 4 for space/joint and 2 for divided, so that the three have
    nearly the same parameters (divided's extra attention layer costs what the wider MLP does).
    Input clips (N, T, C, H, W) with T = ``num_frames``; output logits (N, num_classes).
    """

    MODES = ("space", "joint", "divided")

    def __init__(self, num_classes: int = 8, *, in_channels: int = 1, width: int = 32, num_frames: int = 8,
                 image_size: int = 16, patch: int = 8, depth: int = 2, heads: int = 2, mode: str = "divided",
                 mlp_ratio: float | None = None, pos_std: float = 0.5, stem_channels: int = 4,
                 stem_layers: int = 1, time_encoding: str = "learned"):  # fmt: skip
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        if image_size % patch:
            raise ValueError(f"patch={patch} must divide image_size={image_size}")
        dim = _check_pos_int(width, "width")
        self.mode, self.num_frames = mode, num_frames
        self.num_patches = (image_size // patch) ** 2
        if stem_channels:  # a small convolutional stem (the "hybrid" ViT): 3x3 conv, pool, 3x3 conv
            if patch % 2:
                raise ValueError(f"patch must be even with a convolutional stem, got {patch}")
            c = stem_channels
            if stem_layers == 1:
                self.embed = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1), nn.ReLU(),
                                           PatchConv2d(c, dim, patch))  # fmt: skip
            else:
                stem = [nn.Conv2d(in_channels, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU()]  # fmt: skip
                self.embed = nn.Sequential(*stem, PatchConv2d(2 * c, dim, patch // 2))
        else:  # ViT's linear patch embedding
            self.embed = PatchConv2d(in_channels, dim, patch)
        self.pos_space = nn.Parameter(torch.randn(self.num_patches, dim) * pos_std)  # (P, D)
        # space-only has no temporal position (as TimeSformer's space-only model): its frames
        # never meet before the final average, so a time embedding could only tag them
        if mode == "space":
            self.pos_time = None
        elif time_encoding == "sinusoidal":  # fixed: informative from the first step
            self.register_buffer("pos_time", sinusoidal_encoding(num_frames, dim)[:, None], persistent=False)
        else:
            self.pos_time = nn.Parameter(torch.randn(num_frames, 1, dim) * pos_std)  # (T, 1, D)
        ratio = mlp_ratio if mlp_ratio is not None else (2.0 if mode == "divided" else 4.0)
        self.blocks = nn.Sequential(*(_Block(dim, heads, mode, ratio) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, clips: Tensor) -> Tensor:
        _check_clips(clips)
        n, t = clips.shape[:2]
        if t != self.num_frames:
            raise ValueError(f"VideoViT was built for T={self.num_frames} frames, got {t}")
        x = self.embed(clips.flatten(0, 1))  # (N*T, D, h, w)
        x = x.flatten(2).transpose(1, 2).unflatten(0, (n, t))  # (N, T, P, D)
        x = x + self.pos_space
        if self.pos_time is not None:
            x = x + self.pos_time
        x = self.blocks(x)
        return self.head(self.norm(x).mean(dim=(1, 2)))


# ----------------------------------------------------------------- factory and counting
ZOO: dict[str, Callable[..., nn.Module]] = {
    "single frame": SingleFrame,
    "TSN": TSN,
    "early fusion": EarlyFusion,
    "TSM": TSM,
    "C3D": CNN3D,
    "R(2+1)D": R2Plus1D,
    "CNN+GRU": CNNGRU,
    "ViT space": lambda **kw: VideoViT(mode="space", **kw),
    "ViT joint": lambda **kw: VideoViT(mode="joint", **kw),
    "ViT divided": lambda **kw: VideoViT(mode="divided", **kw),
}


def build_model(name: str, **kwargs) -> nn.Module:
    """A zoo model by name (see :data:`ZOO`); keyword arguments go to its constructor."""
    if name not in ZOO:
        raise ValueError(f"name must be one of {list(ZOO)}, got {name!r}")
    return ZOO[name](**kwargs)


def width_for_params(name: str, budget: int, *, multiple_of: int = 1, **kwargs) -> int:
    """The largest ``width`` (a multiple of ``multiple_of``) whose zoo model ``name`` has at
    most ``budget`` parameters (notebook 05). Parameters grow with the width: a bisection."""
    _check_pos_int(budget, "budget")
    _check_pos_int(multiple_of, "multiple_of")

    def params(k):
        return sum(p.numel() for p in build_model(name, width=k * multiple_of, **kwargs).parameters())

    low, high = 1, 512 // multiple_of
    if params(low) > budget:
        raise ValueError(f"even width={multiple_of} has more than budget={budget} parameters")
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if params(mid) <= budget else (low, mid - 1)
    return low * multiple_of


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-adds of one forward pass (notebook 05), extending notebook 01's counter.

    Convolutions and linear layers (the q, k, v and output projections of attention
    included) are counted by :func:`course_utils.conv.count_flops` (shapes recorded on the
    meta device). What it does not see is added from formulas, with hooks on one forward
    pass of zeros:

    * ``nn.GRU``: per time step and sample ``3 (I H + H H)`` (the input and hidden
      projections of the three gates; the gate products are element-wise);
    * :class:`SelfAttention` on B sequences of L tokens of width E: the two products
      ``Q K^T`` and ``A V``, ``2 B L^2 E``.

    Element-wise work (activations, normalization, softmax, the temporal shift) is not
    counted, as in notebook 01 and in ``torch.utils.flop_counter``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, Sequence) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in input_shape
    ):
        raise ValueError(f"input_shape must be a sequence of positive ints, got {input_shape!r}")
    extra = 0

    def gru_hook(m, inputs, output):
        nonlocal extra
        n, t = inputs[0].shape[:2]  # (N, T, I), batch_first
        extra += n * t * 3 * (m.input_size * m.hidden_size + m.hidden_size**2)

    def attention_hook(m, inputs, output):
        nonlocal extra
        b, length, e = inputs[0].shape  # (B, L, E)
        extra += 2 * b * length * length * e

    handles = [
        m.register_forward_hook(gru_hook if isinstance(m, nn.GRU) else attention_hook)
        for m in model.modules()
        if isinstance(m, nn.GRU | SelfAttention)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return int(count_flops(model, input_shape) + extra)


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1) of a few numbers (seeds)."""
    v = [float(x) for x in values]
    if not v:
        raise ValueError("values must not be empty")
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, sd
