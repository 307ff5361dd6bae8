"""Convolution from first principles: the reference code of notebook 01 (``01_convolution``).

Every function here is written to be read. The names, arguments, defaults and shapes
mirror PyTorch, so each one can be checked against its twin:

==============================  ==========================================
this module                     PyTorch
==============================  ==========================================
``conv1d``, ``conv2d``,         ``torch.nn.functional.conv1d/2d/3d``
``conv3d``                      (vectorized: im2col + one matrix multiply)
``conv1d_loop`` ...             the same maths with plain Python loops
``im2col``                      ``torch.nn.functional.unfold`` (2D)
``conv2d_backward``             the gradients autograd computes for conv2d
``conv2d_manual``               conv2d whose backward is ``conv2d_backward``
``max_pool2d``, ``avg_pool2d``  ``torch.nn.functional.max_pool2d/avg_pool2d``
==============================  ==========================================

and the arithmetic of convolutional networks: ``conv_output_size``, ``receptive_field``,
``conv_params``, ``conv_flops`` (multiply-adds), ``count_parameters`` and ``count_flops``
for whole models, ``mid_channels_2plus1d`` for the (2+1)D factorization of R(2+1)D.

Conventions: like PyTorch (and every deep-learning library), "convolution" means
*cross-correlation*: the kernel is not flipped. Inputs are batched ``(N, C, *spatial)``
or unbatched ``(C, *spatial)``; weights are ``(C_out, C_in / groups, *kernel)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.validate import check_int

__all__ = [
    "Conv2dFunction",
    "avg_pool2d",
    "col2im",
    "conv1d",
    "conv1d_loop",
    "conv2d",
    "conv2d_backward",
    "conv2d_loop",
    "conv2d_manual",
    "conv3d",
    "conv3d_loop",
    "conv_flops",
    "conv_output_size",
    "conv_params",
    "count_flops",
    "count_parameters",
    "im2col",
    "max_pool2d",
    "mid_channels_2plus1d",
    "numeric_gradient",
    "plot_receptive_field",
    "plot_sliding_window",
    "receptive_field",
    "receptive_field_table",
]

IntOrTuple = int | Sequence[int]
_KERNEL_NAMES = {1: "kL", 2: "kH, kW", 3: "kT, kH, kW"}


# =============================================================================== checks
def _ntuple(value: Any, n: int, name: str, minimum: int = 0) -> tuple[int, ...]:
    """``3 -> (3, 3)``; checks a tuple has ``n`` ints, each at least ``minimum``."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        values: tuple[int, ...] = (value,) * n
    elif isinstance(value, tuple | list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        if len(value) == 1:
            values = (int(value[0]),) * n
        elif len(value) == n:
            values = tuple(int(v) for v in value)
        else:
            raise ValueError(
                f"{name} must be an int or a tuple of {n} ints (one per spatial dimension), "
                f"got {tuple(value)!r} with {len(value)} items"
            )
    else:
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be >= {minimum} in every dimension, got {value!r}")
    return values


def _pad_pairs(
    padding: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> list[tuple[int, int]]:
    """Padding as a (before, after) pair per spatial dimension; handles 'valid'/'same'."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    "padding='same' is not supported for strided convolutions "
                    f"(stride={tuple(stride)}); use stride=1 or an explicit padding"
                )
            pairs = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)  # what 'same' must add in total
                pairs.append((total // 2, total - total // 2))  # the extra one goes after
            return pairs
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return [(p, p) for p in _ntuple(padding, n, "padding", minimum=0)]


def _check_conv_args(
    input: Tensor, weight: Tensor, bias: Tensor | None, nd: int, groups: int, fn: str
) -> bool:
    """Validate shapes and return True when the input is unbatched ``(C, *spatial)``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a torch.Tensor, got {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fn}: weight must be a torch.Tensor, got {type(weight).__name__}")
    names = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, T, H, W)"}[nd]
    if input.dim() not in (nd + 1, nd + 2):
        raise ValueError(
            f"{fn}: input must be {names} or unbatched without N, i.e. {nd + 2} or {nd + 1} "
            f"dimensions, got shape {tuple(input.shape)} ({input.dim()} dimensions)"
        )
    if weight.dim() != nd + 2:
        raise ValueError(
            f"{fn}: weight must have {nd + 2} dimensions (C_out, C_in / groups, "
            f"{_KERNEL_NAMES[nd]}), got shape {tuple(weight.shape)}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    c_in = input.shape[-nd - 1]
    c_out, c_in_per_group = weight.shape[:2]
    if c_in % groups:
        raise ValueError(f"{fn}: groups={groups} does not divide the {c_in} input channels")
    if c_out % groups:
        raise ValueError(
            f"{fn}: groups={groups} does not divide the {c_out} output channels "
            f"(weight shape {tuple(weight.shape)})"
        )
    if c_in_per_group * groups != c_in:
        raise ValueError(
            f"{fn}: the input has {c_in} channels but the weight {tuple(weight.shape)} with "
            f"groups={groups} expects {c_in_per_group * groups} "
            f"(= weight.shape[1] * groups = {c_in_per_group} * {groups})"
        )
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{fn}: bias must be a torch.Tensor or None, got {type(bias).__name__}")
        if tuple(bias.shape) != (c_out,):
            raise ValueError(
                f"{fn}: bias must have shape ({c_out},), one per output channel, "
                f"got {tuple(bias.shape)}"
            )
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(
            f"{fn}: input, weight and bias must share a dtype, got input {input.dtype}, "
            f"weight {weight.dtype}" + (f", bias {bias.dtype}" if bias is not None else "")
        )
    return input.dim() == nd + 1


def _check_fits(
    spatial: Sequence[int],
    pads: Sequence[tuple[int, int]],
    kernel: Sequence[int],
    dilation: Sequence[int],
    fn: str,
) -> None:
    for i, (n, (lo, hi), k, d) in enumerate(zip(spatial, pads, kernel, dilation, strict=True)):
        span = d * (k - 1) + 1
        if span > n + lo + hi:
            raise ValueError(
                f"{fn}: the kernel ({span} wide with dilation, in spatial dimension {i}) is "
                f"larger than the padded input ({n} + {lo} + {hi} = {n + lo + hi}); "
                "use a smaller kernel or more padding"
            )


def _pad(x: Tensor, pads: Sequence[tuple[int, int]], value: float = 0.0) -> Tensor:
    """Pad the trailing spatial dimensions; ``pads`` is in natural (first dim first) order."""
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad wants last dim first
    if not any(flat):
        return x
    return F.pad(x, flat, value=value)


def _windows(
    x: Tensor, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Tensor:
    """All sliding windows as a view: ``(N, C, *spatial) -> (N, C, *out, *kernel)``.

    ``Tensor.unfold(dim, size, step)`` adds one window axis per spatial dimension without
    copying; a dilated kernel is a window of ``d * (k - 1) + 1`` taken every ``d``-th entry.
    """
    nd = len(kernel)
    for i in range(nd):
        span = dilation[i] * (kernel[i] - 1) + 1
        x = x.unfold(2 + i, span, stride[i])
    return x[(..., *[slice(None, None, d) for d in dilation])]


# ========================================================================= convolution
def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd: int, fn: str) -> Tensor:
    """The vectorized N-d convolution: im2col (one copy) + one batched matrix multiply."""
    unbatched = _check_conv_args(input, weight, bias, nd, groups, fn)
    x = input.unsqueeze(0) if unbatched else input
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(stride, nd, "stride", minimum=1)
    dilation = _ntuple(dilation, nd, "dilation", minimum=1)
    pads = _pad_pairs(padding, kernel, stride, dilation)
    _check_fits(x.shape[2:], pads, kernel, dilation, fn)

    n, c_in = x.shape[:2]
    c_out = weight.shape[0]
    cg, k = c_in // groups, math.prod(kernel)
    patches = _windows(_pad(x, pads), kernel, stride, dilation)  # (N, C_in, *out, *kernel)
    out_size = patches.shape[2 : 2 + nd]
    patches = patches.reshape(n, groups, cg, *out_size, *kernel)  # split channels by group
    order = [0, 1, 2, *range(3 + nd, 3 + 2 * nd), *range(3, 3 + nd)]
    cols = patches.permute(order).reshape(n, groups, cg * k, math.prod(out_size))  # (N, G, C_in/G * K, L)
    w = weight.reshape(groups, c_out // groups, cg * k)  # (G, C_out/G, C_in/G * K)
    out = (w @ cols).reshape(n, c_out, *out_size)  # (N, G, C_out/G, L) -> (N, C_out, *out)
    if bias is not None:
        out = out + bias.reshape(1, c_out, *([1] * nd))
    return out.squeeze(0) if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """1D convolution (cross-correlation), like ``torch.nn.functional.conv1d``. Notebook 01.

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, kL)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or 1-tuple; padding may be ``'valid'`` or ``'same'``.
        groups: split the channels into ``groups`` independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = (L + 2p - d (kL - 1) - 1) // s + 1``.
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """2D convolution (cross-correlation), like ``torch.nn.functional.conv2d``. Notebook 01.

    Vectorized with im2col: every window is copied into a column of a matrix, and one
    matrix multiply by the flattened kernels does all the work.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or ``(h, w)``; padding may be ``'valid'`` or ``'same'``.
        groups: ``groups = C_in = C_out`` gives a depthwise convolution.

    Returns:
        ``(N, C_out, H_out, W_out)``.
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """3D convolution, like ``torch.nn.functional.conv3d``: the video convolution. Notebook 01.

    Args:
        input: ``(N, C_in, T, H, W)`` or ``(C_in, T, H, W)``; note channels come *before*
            time, unlike the ``(N, T, C, H, W)`` clips of the datasets (``permute(0, 2, 1, 3, 4)``).
        weight: ``(C_out, C_in / groups, kT, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or ``(t, h, w)``; padding may be ``'valid'``/``'same'``.
        groups: as in ``conv2d``.

    Returns:
        ``(N, C_out, T_out, H_out, W_out)``.
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_loop_nd(
    input, weight, bias, stride, padding, dilation, groups, nd: int, fn: str
) -> Tensor:
    unbatched = _check_conv_args(input, weight, bias, nd, groups, fn)
    x = input.unsqueeze(0) if unbatched else input
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(stride, nd, "stride", minimum=1)
    dilation = _ntuple(dilation, nd, "dilation", minimum=1)
    pads = _pad_pairs(padding, kernel, stride, dilation)
    _check_fits(x.shape[2:], pads, kernel, dilation, fn)
    x = _pad(x, pads)
    n_batch, c_in = x.shape[:2]
    c_out = weight.shape[0]
    cg, og = c_in // groups, c_out // groups
    out_size = [
        (x.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(nd)
    ]
    out = x.new_zeros(n_batch, c_out, *out_size)
    for n in range(n_batch):
        for co in range(c_out):
            g = co // og  # the group this output channel belongs to
            xg = x[n, g * cg : (g + 1) * cg]  # the input channels it sees
            for pos in itertools.product(*[range(o) for o in out_size]):
                window = xg[
                    (slice(None),)
                    + tuple(
                        slice(p * s, p * s + d * (k - 1) + 1, d)
                        for p, s, d, k in zip(pos, stride, dilation, kernel, strict=True)
                    )
                ]
                value = (window * weight[co]).sum()
                if bias is not None:
                    value = value + bias[co]
                out[(n, co, *pos)] = value
    return out.squeeze(0) if unbatched else out


def conv1d_loop(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``conv1d`` with plain Python loops over batch, output channel and position (notebook 01; slow)."""
    return _conv_loop_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d_loop")


def conv2d_loop(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """``conv2d`` written as the definition, with plain loops (for tiny inputs). Notebook 01.

    ``out[n, o, i, j] = b[o] + sum_{c, u, v} x[n, c, i*s + u*d, j*s + v*d] * w[o, c, u, v]``
    where ``c`` runs over the input channels of ``o``'s group.
    """
    unbatched = _check_conv_args(input, weight, bias, 2, groups, "conv2d_loop")
    x = input.unsqueeze(0) if unbatched else input
    kh, kw = weight.shape[2:]
    sh, sw = _ntuple(stride, 2, "stride", minimum=1)
    dh, dw = _ntuple(dilation, 2, "dilation", minimum=1)
    pads = _pad_pairs(padding, (kh, kw), (sh, sw), (dh, dw))
    _check_fits(x.shape[2:], pads, (kh, kw), (dh, dw), "conv2d_loop")
    x = _pad(x, pads)  # (N, C_in, H + pads, W + pads)
    n_batch, c_in, h, w = x.shape
    c_out = weight.shape[0]
    cg, og = c_in // groups, c_out // groups
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    out = x.new_zeros(n_batch, c_out, h_out, w_out)
    for n in range(n_batch):
        for o in range(c_out):
            g = o // og
            xg = x[n, g * cg : (g + 1) * cg]  # (C_in / groups, H, W)
            for i in range(h_out):
                for j in range(w_out):
                    window = xg[
                        :,
                        i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                        j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                    ]  # (C_in/G, kH, kW)
                    out[n, o, i, j] = (window * weight[o]).sum()
            if bias is not None:
                out[n, o] += bias[o]
    return out.squeeze(0) if unbatched else out


def conv3d_loop(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``conv3d`` with plain Python loops (notebook 01; slow, for checking on tiny clips)."""
    return _conv_loop_nd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d_loop")


# ================================================================================ im2col
def im2col(
    input: Tensor,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Tensor:
    """Copy every window into a column: ``(N, C, H, W) -> (N, C * kH * kW, L)``. Notebook 01.

    Same argument order and result as ``torch.nn.functional.unfold``; ``L`` is the number
    of output positions ``H_out * W_out``. Then ``conv2d = weight.view(C_out, -1) @ cols``.
    """
    if not isinstance(input, Tensor) or input.dim() not in (3, 4):
        raise ValueError(
            f"im2col: input must be (N, C, H, W) or (C, H, W), got {getattr(input, 'shape', input)!r}"
        )
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    k = _ntuple(kernel_size, 2, "kernel_size", minimum=1)
    d = _ntuple(dilation, 2, "dilation", minimum=1)
    s = _ntuple(stride, 2, "stride", minimum=1)
    pads = _pad_pairs(padding, k, s, d)
    _check_fits(x.shape[2:], pads, k, d, "im2col")
    patches = _windows(_pad(x, pads), k, s, d)  # (N, C, H_out, W_out, kH, kW)
    n, c = x.shape[:2]
    cols = patches.permute(0, 1, 4, 5, 2, 3).reshape(n, c * k[0] * k[1], patches.shape[2] * patches.shape[3])
    return cols.squeeze(0) if unbatched else cols


def col2im(
    cols: Tensor,
    output_size: IntOrTuple,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Tensor:
    """The adjoint of :func:`im2col`: add every column back where its window came from (notebook 01).

    ``(N, C * kH * kW, L) -> (N, C, H, W)`` like ``torch.nn.functional.fold``; entries
    covered by several windows receive the sum. This is the backward pass of im2col.
    """
    h, w = _ntuple(output_size, 2, "output_size", minimum=1)
    kh, kw = _ntuple(kernel_size, 2, "kernel_size", minimum=1)
    dh, dw = _ntuple(dilation, 2, "dilation", minimum=1)
    sh, sw = _ntuple(stride, 2, "stride", minimum=1)
    (pt, pb), (pl, pr) = _pad_pairs(padding, (kh, kw), (sh, sw), (dh, dw))
    unbatched = cols.dim() == 2
    cols = cols.unsqueeze(0) if unbatched else cols
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    hp, wp = h + pt + pb, w + pl + pr
    h_out = (hp - dh * (kh - 1) - 1) // sh + 1
    w_out = (wp - dw * (kw - 1) - 1) // sw + 1
    if cols.shape[1] != c * kh * kw or cols.shape[2] != h_out * w_out:
        raise ValueError(
            f"col2im: expected cols of shape (N, C * {kh * kw}, {h_out * w_out}), "
            f"got {tuple(cols.shape)}"
        )
    cols = cols.reshape(n, c, kh, kw, h_out, w_out)
    out = cols.new_zeros(n, c, hp, wp)
    for u in range(kh):  # one strided add per kernel offset: kH * kW slices, no Python loop
        for v in range(kw):  # over positions
            out[
                :,
                :,
                u * dh : u * dh + sh * (h_out - 1) + 1 : sh,
                v * dw : v * dw + sw * (w_out - 1) + 1 : sw,
            ] += cols[:, :, u, v]
    out = out[:, :, pt : pt + h, pl : pl + w]
    return out.squeeze(0) if unbatched else out


# ============================================================================== backward
def conv2d_backward(
    grad_output: Tensor,
    input: Tensor,
    weight: Tensor,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> tuple[Tensor, Tensor, Tensor]:
    """Hand-written gradients of ``conv2d`` (notebook 01).

    With ``cols = im2col(x)`` of shape ``(N, G, C_in/G * K, L)`` and ``W`` viewed as
    ``(G, C_out/G, C_in/G * K)``, the forward is ``Y = W @ cols (+ b)``. So, for an
    upstream gradient ``dY`` of shape ``(N, C_out, H_out, W_out)``:

    * ``dW = sum_n dY @ cols^T``  (same shape as ``weight``)
    * ``db = dY.sum over (N, H_out, W_out)``  (shape ``(C_out,)``)
    * ``dX = col2im(W^T @ dY)``  (same shape as ``input``): every window sends its share
      of the gradient back to the pixels it read.

    Returns:
        ``(grad_input, grad_weight, grad_bias)``.
    """
    unbatched = _check_conv_args(input, weight, None, 2, groups, "conv2d_backward")
    x = input.unsqueeze(0) if unbatched else input
    gy = grad_output.unsqueeze(0) if unbatched else grad_output
    kernel = tuple(weight.shape[2:])
    s = _ntuple(stride, 2, "stride", minimum=1)
    d = _ntuple(dilation, 2, "dilation", minimum=1)
    pads = _pad_pairs(padding, kernel, s, d)
    n, c_in, h, w = x.shape
    c_out = weight.shape[0]
    cg, k = c_in // groups, kernel[0] * kernel[1]
    patches = _windows(_pad(x, pads), kernel, s, d)  # (N, C_in, H_out, W_out, kH, kW)
    h_out, w_out = patches.shape[2:4]
    if tuple(gy.shape) != (n, c_out, h_out, w_out):
        raise ValueError(
            f"conv2d_backward: grad_output must have the output's shape "
            f"{(n, c_out, h_out, w_out)}, got {tuple(gy.shape)}"
        )
    cols = patches.reshape(n, groups, cg, h_out, w_out, *kernel)
    cols = cols.permute(0, 1, 2, 5, 6, 3, 4).reshape(n, groups, cg * k, h_out * w_out)
    gy_g = gy.reshape(n, groups, c_out // groups, h_out * w_out)  # (N, G, C_out/G, L)
    w_g = weight.reshape(groups, c_out // groups, cg * k)  # (G, C_out/G, C_in/G * K)

    grad_weight = (gy_g @ cols.transpose(-1, -2)).sum(0).reshape(weight.shape)
    grad_bias = gy.sum(dim=(0, 2, 3))
    grad_cols = w_g.transpose(-1, -2) @ gy_g  # (N, G, C_in/G * K, L)
    grad_cols = grad_cols.reshape(n, c_in * k, h_out * w_out)
    (pt, pb), (pl, pr) = pads
    grad_padded = col2im(
        grad_cols, (h + pt + pb, w + pl + pr), kernel, dilation=d, padding=0, stride=s
    )
    grad_input = grad_padded[:, :, pt : pt + h, pl : pl + w]
    if unbatched:
        grad_input = grad_input.squeeze(0)
    return grad_input, grad_weight, grad_bias


class Conv2dFunction(torch.autograd.Function):
    """``conv2d`` as an autograd Function whose backward is :func:`conv2d_backward` (notebook 01)."""

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, dilation, groups):  # noqa: D102
        ctx.save_for_backward(input, weight)
        ctx.conf = (stride, padding, dilation, groups, bias is not None)
        return conv2d(input, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_output):  # noqa: D102
        input, weight = ctx.saved_tensors
        stride, padding, dilation, groups, has_bias = ctx.conf
        gx, gw, gb = conv2d_backward(grad_output, input, weight, stride, padding, dilation, groups)
        return gx, gw, (gb if has_bias else None), None, None, None, None


def conv2d_manual(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``conv2d`` that uses the hand-written backward; check it with ``gradcheck`` (notebook 01)."""
    return Conv2dFunction.apply(input, weight, bias, stride, padding, dilation, groups)


def numeric_gradient(f, x: Tensor, eps: float = 1e-6) -> Tensor:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` of a scalar ``f`` (notebook 01).

    One pair of evaluations per entry of ``x``: only for tiny float64 tensors. ``x`` may be
    non-contiguous; integer and half-precision tensors are refused (a step of ``eps`` is
    lost in their rounding, so the "gradient" would be wrong).
    """
    if not callable(f):
        raise TypeError(f"f must be a function of x returning a scalar, got {type(f).__name__}")
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"x must be float64 (or float32), got dtype {x.dtype}: use x.double()")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a small positive number, got {eps!r}")
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros_like(x)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = float(f(x))
        flat[i] = old - eps
        minus = float(f(x))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


# =============================================================================== pooling
def _pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, with its ceil-mode rule (last window starts inside)."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_prepare(input, kernel_size, stride, padding, dilation, ceil_mode, fn):
    if not isinstance(input, Tensor) or input.dim() not in (3, 4):
        raise ValueError(
            f"{fn}: input must be (N, C, H, W) or (C, H, W), got "
            f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    k = _ntuple(kernel_size, 2, "kernel_size", minimum=1)
    s = (
        k
        if stride is None or (isinstance(stride, tuple | list) and len(stride) == 0)
        else _ntuple(stride, 2, "stride", minimum=1)
    )
    p = _ntuple(padding, 2, "padding", minimum=0)
    d = _ntuple(dilation, 2, "dilation", minimum=1)
    for ki, pi in zip(k, p, strict=True):
        if 2 * pi > ki:
            raise ValueError(
                f"{fn}: padding should be at most half of the kernel size, got padding={p} "
                f"for kernel_size={k}"
            )
    out = [
        _pool_out(n, ki, si, pi, di, ceil_mode)
        for n, ki, si, pi, di in zip(x.shape[2:], k, s, p, d, strict=True)
    ]
    if any(o < 1 for o in out):
        raise ValueError(
            f"{fn}: the output would be empty ({tuple(out)}) for input {tuple(x.shape[2:])}, "
            f"kernel_size={k}, stride={s}, padding={p}, dilation={d}"
        )
    # pad before by p; after by p plus whatever the last (ceil-mode) window needs
    pads = []
    for n, ki, si, pi, di, oi in zip(x.shape[2:], k, s, p, d, out, strict=True):
        need = (oi - 1) * si + di * (ki - 1) + 1
        pads.append((pi, max(pi, need - n - pi)))
    return x, unbatched, k, s, p, d, out, pads


def max_pool2d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling like ``torch.nn.functional.max_pool2d`` (notebook 01).

    ``(N, C, H, W) -> (N, C, H_out, W_out)``; ``stride`` defaults to ``kernel_size``;
    padding counts as ``-inf`` (it never wins). With ``return_indices`` also returns the
    flat index ``h * W + w`` of each maximum in its input channel.
    """
    x, unbatched, k, s, _, d, out, pads = _pool_prepare(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    win = _windows(_pad(x, pads, value=-math.inf), k, s, d)[:, :, : out[0], : out[1]]
    win = win.reshape(*win.shape[:4], k[0] * k[1])  # (N, C, H_out, W_out, kH * kW)
    values, arg = win.max(dim=-1)
    if unbatched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    h, w = x.shape[2:]
    index = torch.arange(h * w, device=x.device).reshape(1, 1, h, w).to(torch.float64)
    iwin = _windows(_pad(index, pads, value=-1.0), k, s, d)[:, :, : out[0], : out[1]]
    iwin = iwin.reshape(*iwin.shape[:4], k[0] * k[1]).expand(*win.shape)
    indices = iwin.gather(-1, arg.unsqueeze(-1)).squeeze(-1).to(torch.int64)
    return values, (indices.squeeze(0) if unbatched else indices)


def avg_pool2d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average pooling like ``torch.nn.functional.avg_pool2d`` (notebook 01).

    The divisor of each window is its size, counting zero padding when
    ``count_include_pad`` (PyTorch's default) but never the extra cells a ``ceil_mode``
    window hangs over the padded border; ``divisor_override`` replaces it.
    """
    x, unbatched, k, s, p, d, out, pads = _pool_prepare(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, int)
        or divisor_override == 0
    ):
        raise ValueError(
            f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}"
        )
    win = _windows(_pad(x, pads), k, s, d)[:, :, : out[0], : out[1]]
    total = win.sum(dim=(-2, -1))  # (N, C, H_out, W_out)
    if divisor_override is not None:
        result = total / divisor_override
    else:
        h, w = x.shape[2:]
        mask = torch.zeros(1, 1, h + sum(pads[0]), w + sum(pads[1]), dtype=x.dtype, device=x.device)
        if count_include_pad:  # the input and its nominal padding count, not ceil overhang
            mask[:, :, : h + 2 * p[0], : w + 2 * p[1]] = 1
        else:  # only real pixels count
            mask[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = 1
        count = _windows(mask, k, s, d)[:, :, : out[0], : out[1]].sum(dim=(-2, -1))
        result = total / count
    return result.squeeze(0) if unbatched else result


# ============================================================================ arithmetic
def conv_output_size(
    n: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> int | tuple[int, ...]:
    """Output length of a convolution (or pooling with ``ceil_mode``). Notebook 01.

    ``floor((n + 2p - d (k - 1) - 1) / s) + 1``: the effective kernel spans
    ``d (k - 1) + 1`` inputs, and we count how many strides fit after the first window.
    Ints give an int; a tuple in any argument gives a tuple per dimension.
    """
    args = (n, kernel_size, stride, dilation) + ((padding,) if not isinstance(padding, str) else ())
    dims = max((len(a) for a in args if isinstance(a, tuple | list)), default=0)
    nd = max(dims, 1)
    ns = _ntuple(n, nd, "n", minimum=0)
    ks = _ntuple(kernel_size, nd, "kernel_size", minimum=1)
    ss = _ntuple(stride, nd, "stride", minimum=1)
    ds = _ntuple(dilation, nd, "dilation", minimum=1)
    pads = _pad_pairs(padding, ks, ss, ds)
    out = []
    for ni, ki, si, (lo, hi), di in zip(ns, ks, ss, pads, ds, strict=True):
        if ceil_mode:
            if lo != hi:
                raise ValueError("ceil_mode needs symmetric padding")
            o = _pool_out(ni, ki, si, lo, di, True)
        else:
            o = (ni + lo + hi - di * (ki - 1) - 1) // si + 1
        if o < 1:
            raise ValueError(
                f"conv_output_size: the kernel ({di * (ki - 1) + 1} wide) does not fit in the "
                f"padded input ({ni + lo + hi})"
            )
        out.append(o)
    return out[0] if dims == 0 else tuple(out)


def _layer_spec(layer: Any) -> list[tuple[Any, Any, Any, str]]:
    """Normalize one layer description to [(kernel, stride, dilation, name)]."""
    if isinstance(layer, nn.Module):
        if isinstance(layer, nn.Sequential | nn.ModuleList):
            return [spec for child in layer for spec in _layer_spec(child)]
        if hasattr(layer, "kernel_size"):
            stride = getattr(layer, "stride", None)
            stride = layer.kernel_size if stride is None else stride
            dilation = getattr(layer, "dilation", 1)
            return [(layer.kernel_size, stride, dilation, type(layer).__name__)]
        if any(True for _ in layer.children()):
            return [spec for child in layer.children() for spec in _layer_spec(child)]
        return []  # pointwise layers (ReLU, BatchNorm, Dropout ...) keep the field
    if isinstance(layer, dict):
        unknown = set(layer) - {"kernel_size", "stride", "dilation", "name"}
        if "kernel_size" not in layer or unknown:
            raise ValueError(
                f"a layer dict needs 'kernel_size' (and optional 'stride', 'dilation', 'name'), got {layer!r}"
            )
        return [
            (
                layer["kernel_size"],
                layer.get("stride", 1),
                layer.get("dilation", 1),
                layer.get("name", "layer"),
            )
        ]
    if isinstance(layer, int) and not isinstance(layer, bool):
        return [(layer, 1, 1, f"k{layer}")]
    if (
        isinstance(layer, tuple | list)
        and 1 <= len(layer) <= 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in layer)
    ):
        k, s, d = (*layer, 1, 1)[:3]
        return [(k, s, d, f"k{k}s{s}" + (f"d{d}" if d != 1 else ""))]
    raise TypeError(
        "each layer must be a kernel size, a (kernel, stride[, dilation]) tuple, a dict "
        f"or a torch.nn conv/pool module, got {layer!r}"
    )


def receptive_field_table(layers: Iterable[Any]) -> list[dict[str, Any]]:
    """Layer by layer: the receptive field and the jump (input pixels per output step). Notebook 01.

    Recurrence: ``jump_l = jump_{l-1} * s_l`` and ``rf_l = rf_{l-1} + d_l (k_l - 1) jump_{l-1}``,
    starting from ``rf_0 = jump_0 = 1`` (one input pixel sees itself).
    """
    specs = [spec for layer in layers for spec in _layer_spec(layer)]
    nd = max((len(v) for spec in specs for v in spec[:3] if isinstance(v, tuple | list)), default=1)
    rf, jump = [1] * nd, [1] * nd
    rows = []
    for kernel, stride, dilation, name in specs:
        k = _ntuple(kernel, nd, "kernel_size", minimum=1)
        s = _ntuple(stride, nd, "stride", minimum=1)
        d = _ntuple(dilation, nd, "dilation", minimum=1)
        rf = [r + di * (ki - 1) * j for r, ki, di, j in zip(rf, k, d, jump, strict=True)]
        jump = [j * si for j, si in zip(jump, s, strict=True)]
        rows.append(
            {
                "layer": name,
                "kernel_size": k[0] if nd == 1 else k,
                "stride": s[0] if nd == 1 else s,
                "dilation": d[0] if nd == 1 else d,
                "rf": rf[0] if nd == 1 else tuple(rf),
                "jump": jump[0] if nd == 1 else tuple(jump),
            }
        )
    return rows


def receptive_field(layers: Iterable[Any]) -> int | tuple[int, ...]:
    """How many input pixels one output of a stack of conv/pool layers can see. Notebook 01.

    ``layers`` is a sequence of: kernel sizes (``3``), ``(kernel, stride)`` or
    ``(kernel, stride, dilation)`` tuples, dicts with those keys, or torch modules
    (``nn.Conv2d``, ``nn.MaxPool2d``, an ``nn.Sequential`` of them; pointwise layers are
    skipped). Multi-dimensional kernels (modules, dicts) give one size per dimension.
    """
    rows = receptive_field_table(layers)
    return rows[-1]["rf"] if rows else 1


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrTuple,
    groups: int = 1,
    bias: bool = True,
    dims: int = 2,
) -> int:
    """Number of learnable parameters of a ``Conv{dims}d`` layer. Notebook 01.

    ``C_out * (C_in / groups) * prod(kernel) + C_out`` (the last term if ``bias``).
    A tuple ``kernel_size`` sets the dimensionality; an int is repeated ``dims`` times.
    """
    check_int("in_channels", in_channels, minimum=1)
    check_int("out_channels", out_channels, minimum=1)
    check_int("groups", groups, minimum=1)
    check_int("dims", dims, minimum=1, maximum=3)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    k = (
        kernel_size
        if isinstance(kernel_size, tuple | list)
        else _ntuple(kernel_size, dims, "kernel_size", 1)
    )
    k = _ntuple(tuple(k), len(k), "kernel_size", minimum=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
        )
    return out_channels * (in_channels // groups) * math.prod(k) + (out_channels if bias else 0)


def conv_flops(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrTuple,
    input_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    batch_size: int = 1,
) -> int:
    """Multiply-adds (MACs) of one convolution layer; FLOPs are about twice this. Notebook 01.

    Every output value costs ``(C_in / groups) * prod(kernel)`` multiply-adds, and there
    are ``N * C_out * prod(output_size)`` of them. (The bias adds are not counted.)
    ``input_size`` is ``L``, ``(H, W)`` or ``(T, H, W)``; the dimensionality follows it.
    """
    check_int("in_channels", in_channels, minimum=1)
    check_int("out_channels", out_channels, minimum=1)
    check_int("groups", groups, minimum=1)
    check_int("batch_size", batch_size, minimum=0)
    if not (isinstance(input_size, int) or (isinstance(input_size, tuple | list) and 1 <= len(input_size) <= 3)):
        raise TypeError(f"input_size must be an int L or a tuple (H, W) or (T, H, W), got {input_size!r}")
    size = (input_size,) if isinstance(input_size, int) else tuple(input_size)
    nd = len(size)
    k = _ntuple(kernel_size, nd, "kernel_size", minimum=1)
    out = conv_output_size(
        size,
        k,
        _ntuple(stride, nd, "stride", 1),
        padding if isinstance(padding, str) else _ntuple(padding, nd, "padding", 0),
        _ntuple(dilation, nd, "dilation", 1),
    )
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
        )
    return batch_size * out_channels * math.prod(out) * (in_channels // groups) * math.prod(k)


def mid_channels_2plus1d(in_channels: int, out_channels: int, t: int = 3, d: int = 3) -> int:
    """Mid channels ``M`` of a (2+1)D block with the parameters of a ``t x d x d`` 3D conv.

    Tran et al. (2018), R(2+1)D: ``M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out))``,
    so that ``M d^2 N_in + t M N_out ~= t d^2 N_in N_out``. Notebook 01.
    """
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("t", t), ("d", d)):
        check_int(name, value, minimum=1)
    return (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)


def count_parameters(model: nn.Module, by_type: bool = False) -> int | dict[str, int]:
    """Parameters of a model computed from each layer's *hyperparameters* (notebook 01).

    Conv layers use :func:`conv_params`, ``nn.Linear`` ``in * out + out``, batch/group/layer
    norms ``2 * C`` when affine. It never reads ``p.numel()``, so comparing with
    ``sum(p.numel() for p in model.parameters())`` is an honest check. With ``by_type``,
    returns a dict of totals per layer type.
    """
    totals: dict[str, int] = {}
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if not own:
            continue
        if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            n = conv_params(
                module.in_channels,
                module.out_channels,
                tuple(module.kernel_size),
                groups=module.groups,
                bias=module.bias is not None,
            )
        elif isinstance(module, nn.Linear):
            n = module.in_features * module.out_features + (
                module.out_features if module.bias is not None else 0
            )
        elif isinstance(module, nn.modules.batchnorm._NormBase | nn.GroupNorm):
            c = module.num_features if hasattr(module, "num_features") else module.num_channels
            n = 2 * c if module.affine else 0
        elif isinstance(module, nn.LayerNorm):
            n = math.prod(module.normalized_shape) * (
                (module.weight is not None) + (module.bias is not None)
            )
        else:
            raise TypeError(
                f"count_parameters does not know the layer {name!r} ({type(module).__name__})"
            )
        key = _base_name(module)
        totals[key] = totals.get(key, 0) + n
    return totals if by_type else sum(totals.values())


def _base_name(module: nn.Module) -> str:
    """The torch.nn class a layer is (``Conv3d`` for torchvision's ``Conv3DSimple``)."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.modules"):
            return cls.__name__
    return type(module).__name__


def count_flops(
    model: nn.Module, input_shape: Sequence[int], by_type: bool = False
) -> int | dict[str, int]:
    """Multiply-adds of a model's conv and linear layers for one input (notebook 01).

    Runs the model once on the ``meta`` device (shapes only, no arithmetic, no memory),
    records each layer's output shape and applies :func:`conv_flops`' formula. Build the
    model inside ``with torch.device("meta"):`` to skip initialization too.
    """
    import copy

    meta_model = (
        model if all(p.is_meta for p in model.parameters()) else copy.deepcopy(model).to("meta")
    )
    totals: dict[str, int] = {}

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            macs = (
                output.numel()
                * (module.in_channels // module.groups)
                * math.prod(module.kernel_size)
            )
        else:
            macs = output.numel() * module.in_features
        key = _base_name(module)
        totals[key] = totals.get(key, 0) + macs

    handles = [
        m.register_forward_hook(hook)
        for m in meta_model.modules()
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d | nn.Linear)
    ]
    try:
        with torch.no_grad():
            meta_model(torch.empty(*input_shape, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return totals if by_type else sum(totals.values())


# =============================================================================== figures
def plot_sliding_window(
    size: int = 7,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    out_index: tuple[int, int] = (0, 0),
    ax=None,
):
    """Draw a square input (padding shaded) with the window that makes one output cell.

    Left: the ``size x size`` input plus its zero padding, the ``kernel_size`` taps of the
    window for output ``out_index`` highlighted. Right: the output grid with that cell
    marked. Returns the matplotlib Figure. Used by the notebook's stride/padding/dilation
    widget (notebook 01).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    i, j = (min(max(out_index[0], 0), out - 1), min(max(out_index[1], 0), out - 1))
    full = size + 2 * padding
    if ax is None:
        fig, axes = plt.subplots(
            1, 2, figsize=(7.5, 3.8), gridspec_kw={"width_ratios": [full, max(out, 1)]}
        )
    else:
        fig, axes = ax[0].figure, ax
    a, b = axes
    for r in range(full):
        for c in range(full):
            pad = not (padding <= r < padding + size and padding <= c < padding + size)
            a.add_patch(
                Rectangle(
                    (c, r),
                    1,
                    1,
                    facecolor="#eeeeee" if pad else "white",
                    edgecolor="#999999",
                    lw=0.8,
                )
            )
    for u in range(kernel_size):
        for v in range(kernel_size):
            r, c = i * stride + u * dilation, j * stride + v * dilation
            a.add_patch(
                Rectangle((c, r), 1, 1, facecolor="#f4a261", edgecolor="#9c4a00", lw=1.2, alpha=0.9)
            )
    a.add_patch(Rectangle((padding, padding), size, size, fill=False, edgecolor="black", lw=2))
    a.set_xlim(-0.1, full + 0.1)  # a margin so the border lines are not clipped
    a.set_ylim(full + 0.1, -0.1)
    a.set_aspect("equal")
    a.axis("off")
    a.set_title(
        f"input {size}x{size}, pad {padding} (grey)\nk={kernel_size}, s={stride}, d={dilation}",
        fontsize=9,
    )
    for r in range(out):
        for c in range(out):
            hit = (r, c) == (i, j)
            b.add_patch(
                Rectangle(
                    (c, r),
                    1,
                    1,
                    facecolor="#f4a261" if hit else "white",
                    edgecolor="#999999",
                    lw=0.8,
                )
            )
    b.set_xlim(-0.1, out + 0.1)
    b.set_ylim(out + 0.1, -0.1)
    b.set_aspect("equal")
    b.axis("off")
    b.set_title(f"output {out}x{out}\ncell ({i}, {j})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_receptive_field(layers: Sequence[Any], ax=None):
    """Draw, in 1D, which inputs feed the centre output of a stack of layers (notebook 01).

    Rows are the input and each layer's output; lines join every unit to the units of the
    layer below that it reads. Only units that influence the top centre unit are drawn.
    """
    import matplotlib.pyplot as plt

    rows = receptive_field_table(layers)
    specs = [(r["kernel_size"], r["stride"], r["dilation"]) for r in rows]
    if any(not isinstance(v, int) for spec in specs for v in spec):
        raise ValueError(
            "plot_receptive_field draws 1D stacks: give (kernel, stride[, dilation]) ints"
        )
    rf = rows[-1]["rf"] if rows else 1
    # walk down from one top unit: the set of units each level uses
    used = [{0}]
    for k, s, d in reversed(specs):
        below = {u * s + t * d for u in used[-1] for t in range(k)}
        used.append(below)
    used = used[::-1]  # used[0] is the input level
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.7 * (len(specs) + 1)))
    else:
        fig = ax.figure
    lo = min(used[0])

    def x_of(level, u):  # centre each level's units over the inputs they cover
        jump, span = 1, 0
        for k, s, d in specs[:level]:
            span += d * (k - 1) * jump
            jump *= s
        return u * jump + span / 2 - lo

    from matplotlib.collections import LineCollection

    segments = []
    for level in range(1, len(specs) + 1):
        k, s, d = specs[level - 1]
        for u in used[level]:
            for t in range(k):
                segments.append(
                    [(x_of(level, u), level), (x_of(level - 1, u * s + t * d), level - 1)]
                )
    ax.add_collection(LineCollection(segments, colors="#f4a261", linewidths=1, zorder=1))
    for level, units in enumerate(used):
        xs = [x_of(level, u) for u in sorted(units)]
        ax.scatter(xs, [level] * len(xs), s=30, color="#264653" if level else "#2a9d8f", zorder=2)
    ax.set_yticks(range(len(specs) + 1))
    ax.set_yticklabels(["input"] + [r["layer"] for r in rows], fontsize=8)
    ax.set_xticks([])
    ax.grid(False)
    n_used = len(used[0])
    ax.set_title(
        f"receptive field of one top unit: spans {rf} inputs"
        + (f", of which {n_used} feed it (dilation leaves gaps)" if n_used != rf else ""),
        fontsize=10,
    )
    fig.tight_layout()
    return fig
