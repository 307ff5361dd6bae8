"""Make a video classifier smaller and faster: quantization, pruning, distillation (notebook 07).

Everything notebook 07 builds from scratch lives here, named like its torch twin where one
exists:

* :func:`quant_params`, :func:`quantize`, :func:`dequantize`, :func:`quantize_per_channel`:
  affine (asymmetric) and symmetric int8 quantization, per tensor and per channel, equal to
  ``torch.quantize_per_tensor`` / ``torch.quantize_per_channel``; :func:`fake_quantize` is
  the straight-through version used by quantization-aware training (:func:`add_weight_fake_quant`,
  :func:`finalize_fake_quant`, against post-training :func:`quantize_weights`);
  :func:`int8_weight_bytes` counts the bytes of real int8 weight tensors.
* :class:`CausalVideoNet`: the lesson's video classifier, a per-frame CNN followed by a
  stack of dilated **causal** temporal convolutions, so the same weights classify a whole
  clip offline or a live stream frame by frame (:class:`StreamingClassifier`).
* :func:`prune_channels` (structured pruning: a genuinely smaller dense network),
  :func:`sparsity` and :func:`sparse_state_dict` (unstructured pruning needs a sparse format
  to save bytes).
* :func:`distillation_loss`: Hinton's T^2-scaled KL term plus cross-entropy.
* :func:`causal_cache_size`: how many values a streaming dilated causal stack must remember.
* :func:`onnx_int8`: real int8 through ONNX Runtime's quantizer (dynamic or static with a
  calibration reader).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validate import check_bool, check_int, check_module, check_number, check_tensor

__all__ = [
    "CausalVideoNet",
    "StreamingClassifier",
    "SymmetryAugment",
    "causal_cache_size",
    "dequantize",
    "distillation_loss",
    "WeightFakeQuant",
    "add_weight_fake_quant",
    "fake_quantize",
    "finalize_fake_quant",
    "int8_weight_bytes",
    "file_size",
    "model_bytes",
    "onnx_int8",
    "prune_channels",
    "quant_params",
    "quantize",
    "quantize_per_channel",
    "quantize_weights",
    "sparse_state_dict",
    "sparsity",
]

_QRANGE = {torch.quint8: (0, 255), torch.qint8: (-128, 127), torch.qint32: (-(2**31), 2**31 - 1)}


def _check_tensor(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _bits_range(bits: int, signed: bool) -> tuple[int, int]:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an int from 2 to 16, got {bits!r}")
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


# ------------------------------------------------------------------ quantization from scratch
def quant_params(x_min: float, x_max: float, bits: int = 8, symmetric: bool = False) -> tuple[float, int]:
    """Scale and zero-point that map the real range [x_min, x_max] onto ``bits``-bit integers.

    Affine (asymmetric), unsigned integers 0 .. 2^b - 1::

        scale = (x_max - x_min) / (2^b - 1),   zero_point = clamp(round(-x_min / scale), 0, 2^b - 1)

    Symmetric, signed integers -(2^(b-1)) .. 2^(b-1) - 1 and zero-point 0::

        scale = max(|x_min|, |x_max|) / (2^(b-1) - 1)

    The range is first widened to include 0, so that the real value 0 (zero padding, ReLU
    outputs) is represented exactly. Introduced in notebook 07.

    Returns:
        ``(scale, zero_point)``: a positive float and an int.
    """
    check_bool("symmetric", symmetric)
    for name, v in (("x_min", x_min), ("x_max", x_max)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if x_min > x_max:
        raise ValueError(f"x_min must be <= x_max, got x_min={x_min}, x_max={x_max}")
    x_min, x_max = min(float(x_min), 0.0), max(float(x_max), 0.0)
    if symmetric:
        _, q_max = _bits_range(bits, signed=True)
        scale = max(abs(x_min), abs(x_max)) / q_max
        return (scale if scale > 0 else 1.0), 0
    q_min, q_max = _bits_range(bits, signed=False)
    scale = (x_max - x_min) / (q_max - q_min)
    if scale == 0:
        return 1.0, 0
    zero_point = int(min(max(round(-x_min / scale) + q_min, q_min), q_max))
    return scale, zero_point


def quantize(x: torch.Tensor, scale: float | torch.Tensor, zero_point: int | torch.Tensor,
             dtype: torch.dtype = torch.quint8) -> torch.Tensor:
    """``q = clamp(round(x / scale) + zero_point, q_min, q_max)`` as integers (notebook 07).

    Mirrors ``torch.quantize_per_tensor(x, scale, zero_point, dtype).int_repr()``; ``scale``
    and ``zero_point`` may be tensors that broadcast against ``x`` (per-channel). Rounding is
    half to even, as in torch.

    Returns:
        uint8 (quint8), int8 (qint8) or int32 (qint32) tensor of the shape of ``x``.
    """
    if isinstance(scale, torch.Tensor):
        check_tensor("scale", scale, floating=True, finite=True, nonempty=True)
    else:
        check_number("scale", scale, minimum=0, inclusive=False)
    if isinstance(zero_point, torch.Tensor):
        if zero_point.is_floating_point() or zero_point.is_complex() or zero_point.dtype == torch.bool or not zero_point.numel():
            raise TypeError(f"zero_point must be an int or a non-empty integer tensor, got dtype {zero_point.dtype}")
    else:
        check_int("zero_point", zero_point)
    for _name, _t in (("scale", scale), ("zero_point", zero_point)):
        if isinstance(_t, torch.Tensor) and isinstance(x, torch.Tensor) and (_t.dim() > x.dim() or any(
                a not in (1, b) for a, b in zip(_t.shape[::-1], x.shape[::-1], strict=False))):
            raise ValueError(f"{_name} of shape {tuple(_t.shape)} does not broadcast against x {tuple(x.shape)}")
    _check_tensor(x, "x")
    if dtype not in _QRANGE:
        raise ValueError(f"dtype must be torch.quint8, torch.qint8 or torch.qint32, got {dtype}")
    q_min, q_max = _QRANGE[dtype]
    inv = 1.0 / torch.as_tensor(scale, dtype=torch.float32)
    q = torch.round(x.float() * inv) + torch.as_tensor(zero_point, dtype=torch.float32)
    out = {torch.quint8: torch.uint8, torch.qint8: torch.int8, torch.qint32: torch.int32}[dtype]
    return q.clamp(q_min, q_max).to(out)


def dequantize(q: torch.Tensor, scale: float | torch.Tensor, zero_point: int | torch.Tensor) -> torch.Tensor:
    """``x_hat = scale * (q - zero_point)`` in float32 (notebook 07)."""
    if isinstance(q, torch.Tensor) and q.is_complex():
        raise TypeError(f"q must hold integers (a quantized tensor's int_repr()), got dtype {q.dtype}")
    if isinstance(q, torch.Tensor) and q.is_floating_point() and not (
            bool(torch.isfinite(q).all()) and torch.equal(q, torch.round(q))):
        # a float tensor of whole numbers (torch.round's output) is a grid index too
        raise TypeError(f"q must hold integers (a quantized tensor's int_repr() or whole-number floats), got {q.dtype} values that are not whole numbers")
    if isinstance(scale, torch.Tensor):
        check_tensor("scale", scale, floating=True, finite=True, nonempty=True)
    else:
        check_number("scale", scale, minimum=0, inclusive=False)
    if isinstance(zero_point, torch.Tensor):
        if zero_point.is_floating_point() or zero_point.is_complex() or zero_point.dtype == torch.bool or not zero_point.numel():
            raise TypeError(f"zero_point must be an int or a non-empty integer tensor, got dtype {zero_point.dtype}")
    else:
        check_int("zero_point", zero_point)
    for _name, _t in (("scale", scale), ("zero_point", zero_point)):
        if isinstance(_t, torch.Tensor) and isinstance(q, torch.Tensor) and (_t.dim() > q.dim() or any(
                a not in (1, b) for a, b in zip(_t.shape[::-1], q.shape[::-1], strict=False))):
            raise ValueError(f"{_name} of shape {tuple(_t.shape)} does not broadcast against q {tuple(q.shape)}")
    if not isinstance(q, torch.Tensor):
        raise TypeError(f"q must be a torch.Tensor of integers, got {type(q).__name__}")
    return (q.float() - torch.as_tensor(zero_point, dtype=torch.float32)) * torch.as_tensor(scale, dtype=torch.float32)


def quantize_per_channel(w: torch.Tensor, axis: int = 0, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Symmetric per-channel quantization of weights: one scale per slice along ``axis``.

    Each output channel ``c`` gets ``scale_c = max|w_c| / (2^(b-1) - 1)`` (zero-point 0), so a
    channel of small weights is not crushed by the range of the largest channel.
    Equal to ``torch.quantize_per_channel(w, scales, zero_points, axis, torch.qint8)`` for 8 bits.
    Introduced in notebook 07.

    Returns:
        ``(q, scales, zero_points)``: int8 (or int16 above 8 bits) tensor of ``w``'s shape,
        float32 (C,) and int64 (C,).
    """
    _check_tensor(w, "w")
    if w.ndim < 1:
        raise ValueError("w must have at least one dimension (the channel axis)")
    if isinstance(axis, bool) or not isinstance(axis, int) or not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis must be an int in [{-w.ndim}, {w.ndim - 1}] for w of shape {tuple(w.shape)}, got {axis!r}")
    axis = axis % w.ndim
    q_min, q_max = _bits_range(bits, signed=True)
    dims = [d for d in range(w.ndim) if d != axis]
    amax = w.detach().abs().amax(dim=dims) if dims else w.detach().abs()  # (C,)
    scales = torch.where(amax > 0, amax / q_max, torch.ones_like(amax)).float()  # (C,)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = torch.round(w.float() * (1.0 / scales).view(shape)).clamp(q_min, q_max)  # times 1/s, as torch does
    q = q.to(torch.int8 if bits <= 8 else torch.int16)
    return q, scales, torch.zeros(len(scales), dtype=torch.int64)


class _FakeQuantSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, z, q_min, q_max):  # noqa: D102
        q = torch.round(x / scale) + z
        inside = (q >= q_min) & (q <= q_max)
        ctx.save_for_backward(inside)
        return (torch.clamp(q, q_min, q_max) - z) * scale

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None, None, None  # straight through where not clamped


def fake_quantize(x: torch.Tensor, scale: float | torch.Tensor, zero_point: int | torch.Tensor = 0,
                  q_min: int = -128, q_max: int = 127) -> torch.Tensor:
    """Quantize then dequantize, with a straight-through gradient (quantization-aware training).

    Forward: ``scale * (clamp(round(x / scale) + z, q_min, q_max) - z)``, equal to
    ``torch.fake_quantize_per_tensor_affine``. Backward: the gradient passes through the
    rounding unchanged (its true derivative is 0 almost everywhere) and is zero where the
    value was clamped. Introduced in notebook 07.
    """
    if isinstance(scale, torch.Tensor):
        check_tensor("scale", scale, floating=True, finite=True, nonempty=True)
    else:
        check_number("scale", scale, minimum=0, inclusive=False)
    if isinstance(zero_point, torch.Tensor):
        if zero_point.is_floating_point() or zero_point.is_complex() or zero_point.dtype == torch.bool or not zero_point.numel():
            raise TypeError(f"zero_point must be an int or a non-empty integer tensor, got dtype {zero_point.dtype}")
    else:
        check_int("zero_point", zero_point)
    for _name, _t in (("scale", scale), ("zero_point", zero_point)):
        if isinstance(_t, torch.Tensor) and isinstance(x, torch.Tensor) and (_t.dim() > x.dim() or any(
                a not in (1, b) for a, b in zip(_t.shape[::-1], x.shape[::-1], strict=False))):
            raise ValueError(f"{_name} of shape {tuple(_t.shape)} does not broadcast against x {tuple(x.shape)}")
    check_int("q_min", q_min)
    check_int("q_max", q_max, minimum=q_min)
    _check_tensor(x, "x")
    scale = torch.as_tensor(scale, dtype=x.dtype)
    z = torch.as_tensor(zero_point, dtype=x.dtype)
    return _FakeQuantSTE.apply(x, scale, z, q_min, q_max)


class WeightFakeQuant(nn.Module):
    """Symmetric per-output-channel fake quantization of a weight, as a parametrization (notebook 07).

    ``forward(w)`` returns ``scale_c * clamp(round(w / scale_c), -(2^(b-1) - 1), 2^(b-1) - 1)``
    with ``scale_c = max|w_c| / (2^(b-1) - 1)`` recomputed from the current weight (the
    scale is treated as a constant by autograd), the same grid as
    :func:`quantize_per_channel`. The rounding passes its gradient straight through
    (:func:`fake_quantize`). Register it with
    ``torch.nn.utils.parametrize.register_parametrization(layer, "weight", WeightFakeQuant(4))``
    (see :func:`add_weight_fake_quant`).
    """

    def __init__(self, bits: int = 4):
        super().__init__()
        _, self.q_max = _bits_range(bits, signed=True)
        self.bits = bits

    def forward(self, w: torch.Tensor) -> torch.Tensor:  # noqa: D102
        dims = tuple(range(1, w.ndim))
        amax = w.detach().abs().amax(dim=dims, keepdim=True) if dims else w.detach().abs()  # (C, 1, ...)
        scale = torch.where(amax > 0, amax / self.q_max, torch.ones_like(amax))
        return _FakeQuantSTE.apply(w, scale, torch.zeros((), dtype=w.dtype), -self.q_max, self.q_max)


def _weight_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Linear)]


def add_weight_fake_quant(model: nn.Module, bits: int = 4) -> nn.Module:
    """Quantization-aware training: fake-quantize every conv/linear weight of ``model`` (in place).

    Each layer's ``weight`` becomes ``WeightFakeQuant(bits)(raw_weight)``: the forward pass
    sees only the ``bits``-bit per-channel grid, the optimizer updates the float weights
    behind it through the straight-through estimator. :func:`finalize_fake_quant` then
    keeps the quantized values. Introduced in notebook 07.
    """
    from torch.nn.utils import parametrize

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    _bits_range(bits, signed=True)
    for m in _weight_layers(model):
        parametrize.register_parametrization(m, "weight", WeightFakeQuant(bits))
    return model


def finalize_fake_quant(model: nn.Module) -> nn.Module:
    """Remove the parametrizations of :func:`add_weight_fake_quant`, keeping the quantized weights."""
    from torch.nn.utils import parametrize

    check_module("model", model)
    for m in _weight_layers(model):
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


def quantize_weights(model: nn.Module, bits: int = 4) -> nn.Module:
    """Post-training quantization of the weights: a copy whose conv/linear weights are rounded
    to the symmetric ``bits``-bit per-channel grid of :func:`quantize_per_channel`
    (dequantized back to float for a float runtime; biases stay float). Notebook 07.
    """
    import copy

    check_module("model", model)
    _bits_range(bits, signed=True)
    out = copy.deepcopy(model)
    with torch.no_grad():
        for m in _weight_layers(out):
            q, scales, _ = quantize_per_channel(m.weight, axis=0, bits=bits)
            m.weight.copy_(q.float() * scales.view(-1, *([1] * (m.weight.ndim - 1))))
    return out


def int8_weight_bytes(model: nn.Module) -> dict[str, int]:
    """Real storage of a model's weights as int8 per channel: bytes of actual tensors (notebook 07).

    Every conv/linear weight is quantized with :func:`quantize_per_channel` to an **int8
    tensor**, and the bytes counted are ``numel * element_size`` of the tensors that would
    be stored: ``int8`` (the weights, 1 byte each), ``scales`` (float32, one per output
    channel) and ``float32`` (biases and any other parameter, 4 bytes each). Compare
    ``fp32`` (every parameter as float32).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    layers = _weight_layers(model)
    weights = {id(m.weight) for m in layers}
    out = {"int8": 0, "scales": 0, "float32": 0, "fp32": 0}
    for m in layers:
        q, scales, _ = quantize_per_channel(m.weight.detach(), axis=0, bits=8)
        assert q.dtype == torch.int8
        out["int8"] += q.numel() * q.element_size()
        out["scales"] += scales.numel() * scales.element_size()
    for p in model.parameters():
        out["fp32"] += p.numel() * 4
        if id(p) not in weights:
            out["float32"] += p.numel() * p.element_size()
    return out


# ------------------------------------------------------------------ the lesson's video model
class CausalVideoNet(nn.Module):
    """Per-frame CNN + dilated causal temporal convolutions (notebook 07).

    Input (N, T, C, H, W) with H = W = 32; each frame is stacked with its difference to
    the previous frame (the first frame's difference is 0), encoded to a ``dim`` vector by
    three stride-2 convolutions (the (w3, 4, 4) map is flattened so positions are kept),
    then ``len(dilations)`` residual causal Conv1d layers mix time: output step t sees
    only frames <= t. The clip's logits are read at the last step. Because nothing looks
    ahead, the same model can run frame by frame (:class:`StreamingClassifier`).

    Args:
        widths: channels of the three frame convolutions.
        dim: width of the temporal features.
        kernel_size, dilations: the causal temporal stack.
        classes: number of classes; in_channels: channels of a frame (1 = gray).
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 32), dim: int = 64, kernel_size: int = 3,
                 dilations: Sequence[int] = (1, 2, 4), classes: int = 8, in_channels: int = 1, size: int = 32):
        for _name, _v in (("dim", dim), ("kernel_size", kernel_size), ("classes", classes), ("in_channels", in_channels), ("size", size)):
            check_int(_name, _v, minimum=1)
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 3 or min(widths) < 1:
            raise ValueError(f"widths must be three positive ints, got {widths!r}")
        if size % 8:
            raise ValueError(f"size must be a multiple of 8, got {size}")
        self.config = dict(widths=list(widths), dim=int(dim), kernel_size=int(kernel_size),
                           dilations=list(int(d) for d in dilations), classes=int(classes),
                           in_channels=int(in_channels), size=int(size))
        w1, w2, w3 = widths
        s = size // 8
        self.conv1 = nn.Conv2d(2 * in_channels, w1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(w2, w3, 3, stride=2, padding=1)
        self.proj = nn.Linear(w3 * s * s, dim)
        self.temporal = nn.ModuleList(nn.Conv1d(dim, dim, kernel_size, dilation=d) for d in dilations)
        self.head = nn.Linear(dim, classes)

    def encode(self, frames: torch.Tensor, diffs: torch.Tensor) -> torch.Tensor:
        """(M, C, H, W) frames and their differences -> (M, dim) features."""
        x = torch.cat([frames, diffs], dim=1)  # (M, 2C, H, W)
        x = F.relu(self.conv1(x))  # (M, w1, H/2, W/2)
        x = F.relu(self.conv2(x))  # (M, w2, H/4, W/4)
        x = F.relu(self.conv3(x))  # (M, w3, H/8, W/8)
        return F.relu(self.proj(x.flatten(1)))  # (M, dim)

    def temporal_step(self, i: int, window: torch.Tensor) -> torch.Tensor:
        """Layer i on a (N, dim, L) input already padded on the left: (N, dim, L - (k-1) d)."""
        conv = self.temporal[i]
        k, d = conv.kernel_size[0], conv.dilation[0]
        return window[:, :, (k - 1) * d:] + F.relu(conv(window))  # residual

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, T, C, H, W) -> (N, dim, T): causal features of every time step."""
        if not isinstance(clips, torch.Tensor) or clips.ndim != 5:
            raise ValueError(f"clips must be a tensor of shape (N, T, C, H, W), got {getattr(clips, 'shape', type(clips).__name__)}")
        N, T = clips.shape[:2]
        prev = torch.cat([clips[:, :1], clips[:, :-1]], dim=1)  # (N, T, C, H, W): frame t-1 (frame 0 for t=0)
        f = self.encode(clips.flatten(0, 1), (clips - prev).flatten(0, 1))  # (N*T, dim)
        f = f.reshape(N, T, -1).transpose(1, 2)  # (N, dim, T)
        for i, conv in enumerate(self.temporal):
            pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
            f = self.temporal_step(i, F.pad(f, (pad, 0)))  # zeros stand for "before the clip"
        return f

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, T, C, H, W) -> logits (N, classes), read at the last time step."""
        return self.head(self.features(clips)[:, :, -1])


class StreamingClassifier:
    """Run a :class:`CausalVideoNet` one frame at a time with a cache (notebook 07).

    The cache holds the previous frame (for the difference channel) and, for temporal layer
    l with kernel k and dilation d, the last (k - 1) * d feature vectors of its input: all
    that layer will ever need from the past. It starts as zeros, exactly what the offline
    model's left padding feeds it, so the logits after frame t equal the offline model's
    logits on the clip's first t + 1 frames.
    """

    def __init__(self, model: CausalVideoNet):
        if not isinstance(model, CausalVideoNet):
            raise TypeError(f"model must be a CausalVideoNet, got {type(model).__name__}")
        self.model = model.eval()
        self.reset()

    def reset(self) -> None:
        self.prev: torch.Tensor | None = None
        self.caches: list[torch.Tensor] | None = None

    def cache_numel(self) -> int:
        """Values held in the temporal caches (per clip)."""
        return 0 if self.caches is None else sum(c[0].numel() for c in self.caches)

    @torch.no_grad()
    def step(self, frame: torch.Tensor) -> torch.Tensor:
        """One new frame (N, C, H, W) -> logits (N, classes) of the stream so far."""
        if not isinstance(frame, torch.Tensor) or frame.ndim != 4:
            raise ValueError(f"frame must be a tensor of shape (N, C, H, W), got {getattr(frame, 'shape', type(frame).__name__)}")
        prev = frame if self.prev is None else self.prev
        f = self.model.encode(frame, frame - prev)  # (N, dim)
        self.prev = frame
        return self.step_features(f)

    @torch.no_grad()
    def step_features(self, f: torch.Tensor) -> torch.Tensor:
        """The temporal stack and head only, on one step's frame features (N, dim) -> (N, classes)."""
        m = self.model
        f = f[:, :, None]  # (N, dim, 1)
        if self.caches is None:
            self.caches = [f.new_zeros(f.shape[0], f.shape[1], (c.kernel_size[0] - 1) * c.dilation[0]) for c in m.temporal]
        for i in range(len(m.temporal)):
            window = torch.cat([self.caches[i], f], dim=2)  # (N, dim, (k-1) d + 1)
            self.caches[i] = window[:, :, 1:]  # drop the oldest
            f = m.temporal_step(i, window)  # (N, dim, 1)
        return m.head(f[:, :, -1])


def causal_cache_size(kernel_size: int, dilations: Sequence[int], channels: int = 1) -> int:
    """Values a streaming stack of causal Conv1d layers must cache (notebook 07).

    Layer l (kernel k, dilation d_l) computes y_t from x_t, x_{t-d}, ..., x_{t-(k-1)d}: it
    needs the last (k - 1) * d_l inputs besides the new one. Summed over layers and times
    ``channels``: ``channels * (k - 1) * sum(d_l)``. The receptive field is that plus one frame.
    """
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"kernel_size must be a positive int, got {kernel_size!r}")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dilations):
        raise ValueError(f"dilations must be positive ints, got {dilations!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    return channels * (kernel_size - 1) * sum(dilations)


class SymmetryAugment(torch.utils.data.Dataset):
    """Motion clips with random symmetries and relabelling, as in notebook 02 (used in 07).

    Each item is flipped in time, left-right, up-down and/or transposed (each with
    probability 1/2), and its label mapped accordingly (reversing time turns "right" into
    "left", a left-right flip turns "clockwise" into "counterclockwise", ...).

    Args:
        clips: uint8 (N, T, 1, H, W); labels: int64 (N,) in the order of ``MOTION_CLASSES``.
    """

    _MAPS = (
        (torch.tensor([1, 0, 3, 2, 5, 4, 7, 6]), lambda c: c.flip(0)),  # reverse time
        (torch.tensor([1, 0, 2, 3, 5, 4, 6, 7]), lambda c: c.flip(-1)),  # left-right
        (torch.tensor([0, 1, 3, 2, 5, 4, 6, 7]), lambda c: c.flip(-2)),  # up-down
        (torch.tensor([2, 3, 0, 1, 5, 4, 6, 7]), lambda c: c.transpose(-1, -2)),  # swap x and y
    )

    def __init__(self, clips: torch.Tensor, labels: torch.Tensor, augment: bool = True):
        if not isinstance(clips, torch.Tensor) or clips.ndim != 5:
            raise ValueError(f"clips must be a tensor (N, T, C, H, W), got {getattr(clips, 'shape', type(clips).__name__)}")
        if not isinstance(labels, torch.Tensor) or labels.shape != clips.shape[:1]:
            raise ValueError(f"labels must be a tensor ({clips.shape[0]},), got {getattr(labels, 'shape', type(labels).__name__)}")
        self.clips, self.labels, self.augment = clips, labels, augment

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        clip = self.clips[i].float() / 255 if self.clips.dtype == torch.uint8 else self.clips[i]  # (T, C, H, W)
        y = int(self.labels[i])
        if self.augment:
            for labels, fn in self._MAPS:
                if torch.rand(()) < 0.5:
                    clip, y = fn(clip), int(labels[y])
        return clip, y


# ------------------------------------------------------------------ pruning
def sparsity(model: nn.Module) -> float:
    """Fraction of exactly-zero entries among the weights (not biases) of conv and linear layers."""
    check_module("model", model)
    zeros = total = 0
    for m in model.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Linear):
            w = m.weight.detach()
            zeros += int((w == 0).sum())
            total += w.numel()
    return zeros / max(total, 1)


@torch.no_grad()
def prune_channels(model: CausalVideoNet, keep: float) -> CausalVideoNet:
    """Structured pruning: a new, smaller :class:`CausalVideoNet` (notebook 07).

    Each frame convolution keeps the ``keep`` fraction of its output channels with the
    largest L1 norm; the next layer loses the matching input channels (for the flattened
    map before ``proj``: the matching groups of columns). The result is an ordinary dense
    network with fewer channels, so every kernel does less work.
    """
    if not isinstance(model, CausalVideoNet):
        raise TypeError(f"model must be a CausalVideoNet, got {type(model).__name__}")
    if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    convs = [model.conv1, model.conv2, model.conv3]
    kept = []
    for conv in convs:
        n = max(1, round(keep * conv.out_channels))
        norms = conv.weight.abs().sum(dim=(1, 2, 3))  # (out,)
        kept.append(norms.topk(n).indices.sort().values)
    cfg = dict(model.config, widths=[len(k) for k in kept])
    small = CausalVideoNet(**cfg)
    prev = torch.arange(2 * cfg["in_channels"])
    for conv, new, idx in zip(convs, [small.conv1, small.conv2, small.conv3], kept, strict=True):
        new.weight.copy_(conv.weight[idx][:, prev])
        new.bias.copy_(conv.bias[idx])
        prev = idx
    s = cfg["size"] // 8
    cols = (prev[:, None] * s * s + torch.arange(s * s)).flatten()  # channel-major flatten
    small.proj.weight.copy_(model.proj.weight[:, cols])
    small.proj.bias.copy_(model.proj.bias)
    small.temporal.load_state_dict(model.temporal.state_dict())
    small.head.load_state_dict(model.head.state_dict())
    return small


def sparse_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict with every weight stored in a compressed sparse row (CSR) format.

    Each weight is viewed as a matrix (out, rest) and stored as its non-zero values (float32),
    their column indices (int32) and one row pointer per row (int32): about 8 bytes per
    non-zero instead of 4 bytes per entry, so it pays above 50% sparsity (notebook 07).
    The original shape is ``state[key + ".shape"]``.
    """
    import warnings

    out: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        if k.endswith("weight") and v.ndim >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
                csr = v.reshape(v.shape[0], -1).to_sparse_csr()
                out[k] = torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values(),
                                                 size=csr.shape, check_invariants=False)
            out[k + ".shape"] = torch.tensor(v.shape)
        else:
            out[k] = v
    return out


def model_bytes(obj: object, compress: bool = False) -> int:
    """Bytes of ``torch.save(obj)`` (a state dict, usually); with ``compress``, after zlib level 9."""
    check_bool("compress", compress)
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    if compress:
        import zlib

        return len(zlib.compress(data, 9))
    return len(data)


def file_size(path: str | Path) -> int:
    """Size of a file on disk in bytes."""
    return Path(path).stat().st_size


# ------------------------------------------------------------------ distillation
def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float = 4.0, alpha: float = 0.5) -> torch.Tensor:
    """Knowledge distillation (Hinton et al., 2015), notebook 07::

        alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) + (1 - alpha) * CE(z_s, y)

    The KL term is averaged over the batch (``reduction='batchmean'``). Its gradient scales
    like 1 / T^2, so the T^2 factor keeps the soft term's weight independent of T.

    Args:
        student_logits, teacher_logits: (N, K); labels: (N,) int64.
    """
    check_number("T", T, minimum=0, inclusive=False)
    check_number("alpha", alpha, minimum=0, maximum=1)
    if not isinstance(student_logits, torch.Tensor) or student_logits.ndim != 2:
        raise ValueError(f"student_logits must be a tensor (N, K), got {getattr(student_logits, 'shape', type(student_logits).__name__)}")
    if not isinstance(teacher_logits, torch.Tensor) or teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher_logits must have the student's shape {tuple(student_logits.shape)}, got {getattr(teacher_logits, 'shape', type(teacher_logits).__name__)}")
    if not isinstance(T, int | float) or T <= 0:
        raise ValueError(f"T must be a positive number, got {T!r}")
    if not isinstance(alpha, int | float) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.log_softmax(teacher_logits.detach() / T, dim=1),
                    reduction="batchmean", log_target=True)
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


# ------------------------------------------------------------------ int8 with ONNX Runtime
def onnx_int8(src: str | Path, dst: str | Path, *, calibration: torch.Tensor | None = None,
              per_channel: bool = True) -> Path:
    """Real int8 weights (and activations) with ONNX Runtime's quantizer (notebook 07).

    Without ``calibration``: **dynamic** quantization (``quantize_dynamic``): weights are
    stored as int8; activation scales are computed on the fly at every call.
    With ``calibration`` (a (N, ...) batch of typical inputs): **static** quantization
    (``quantize_static``, QDQ format): activation ranges are measured once on these inputs
    (min/max) and frozen into the model, weights int8 per channel.

    Returns:
        ``dst``, the quantized ONNX file.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"no ONNX file at {src}")
    prepped = dst.with_suffix(".prep.onnx")
    quant_pre_process(str(src), str(prepped), skip_symbolic_shape=True)
    try:
        if calibration is None:
            quantize_dynamic(str(prepped), str(dst), weight_type=QuantType.QInt8, per_channel=per_channel)
            return dst
        if not isinstance(calibration, torch.Tensor):
            raise TypeError(f"calibration must be a tensor batch of inputs, got {type(calibration).__name__}")

        import onnx

        name = onnx.load(str(prepped), load_external_data=False).graph.input[0].name

        class _Reader(CalibrationDataReader):
            def __init__(self):
                self.items = iter([{name: calibration[i:i + 16].numpy()} for i in range(0, len(calibration), 16)])

            def get_next(self):
                return next(self.items, None)

        quantize_static(str(prepped), str(dst), _Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        return dst
    finally:
        prepped.unlink(missing_ok=True)

