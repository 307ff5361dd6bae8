"""Exercises of notebook 01 (``01_convolution.ipynb``): convolution arithmetic and code.

Use in the notebook::

    from course_utils.lessons import convolution as ex
    ex.output_size.check(my_output_size)
    ex.output_size.hint()
    ex.output_size.solution()

Exercises (in notebook order): ``output_size``, ``conv2d_scratch``, ``receptive_field``,
``conv_input_grad``, ``conv3d_params``, ``mid_channels``, ``temporal_difference``. Each reference solution is
the function ``<name>_reference`` below (``temporal_difference_reference`` is a tensor).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.exercises import Case, Exercise, Incorrect, compare

__all__ = [
    "conv2d_scratch",
    "conv2d_scratch_reference",
    "conv3d_params",
    "conv3d_params_reference",
    "conv_input_grad",
    "conv_input_grad_reference",
    "mid_channels",
    "mid_channels_reference",
    "output_size",
    "output_size_reference",
    "receptive_field",
    "receptive_field_reference",
    "temporal_difference",
    "temporal_difference_reference",
]


def _arg(case: Case | None, i: int, name: str, default):
    """Argument ``i`` (or keyword ``name``) of a case, for diagnoses."""
    if case is None:
        return default
    if len(case.args) > i:
        return case.args[i]
    return case.kwargs.get(name, default)


# ------------------------------------------------------------------ 1. output size
def output_size_reference(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a convolution: input n, kernel k, stride s, padding p, dilation d."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _output_size_diagnose(case, expected, received):
    n, k = case.args[:2]
    s, p, d = (
        _arg(case, i, name, dflt) for i, name, dflt in [(2, "s", 1), (3, "p", 0), (4, "d", 1)]
    )
    if isinstance(received, float):
        return "Sizes are whole numbers: use floor division `//`, not `/`."
    if not isinstance(received, int):
        return None
    if p > 0 and received == (n + p - d * (k - 1) - 1) // s + 1:
        return "Padding is added on *both* sides: use 2 * p."
    if d > 1 and received == (n + 2 * p - k) // s + 1:
        return "A dilated kernel spans d * (k - 1) + 1 inputs, not k."
    if received == -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1:
        return "A window that does not fully fit is dropped: round down (floor), not up."
    if received == expected - 1:
        return "Off by one: the first window position counts too, so add 1 after dividing."
    return None


output_size = Exercise(
    "output_size",
    title="Output size of a convolution",
    reference=output_size_reference,
    cases=[
        Case((5, 3), label="no padding"),
        Case((32, 3), dict(p=1), label="'same' padding for k=3"),
        Case((7, 3), dict(s=2, p=1), label="stride 2"),
        Case((8, 3), dict(s=2), label="stride does not divide evenly"),
        Case((10, 3), dict(d=2), label="dilation 2"),
        Case((9, 2), dict(s=3), label="stride larger than the kernel"),
        Case((1, 1), label="length-1 input, 1x1 kernel"),
        Case((224, 7), dict(s=2, p=3), label="ResNet stem"),
        Case((16, 3), dict(s=2, p=1, d=2), label="everything at once"),
        Case((6, 4), dict(p=2), label="even kernel"),
    ],
    hints=[
        "Slide the window from the left edge: how many starting positions keep it inside the "
        "(padded) input? The padded input has n + 2p entries, and a dilated kernel covers "
        "d(k - 1) + 1 of them.",
        "After the first window, each stride of s is one more output: "
        "floor((n + 2p - d(k - 1) - 1) / s) + 1. Use `//`.",
    ],
    diagnose=_output_size_diagnose,
)


# --------------------------------------------------------------- 2. conv2d from scratch
def conv2d_scratch_reference(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Valid, stride-1 conv2d: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,)."""
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    out = x.new_zeros(n, c_out, h - kh + 1, wd - kw + 1)  # (N, C_out, H_out, W_out)
    for i in range(h - kh + 1):
        for j in range(wd - kw + 1):
            window = x[:, :, i : i + kh, j : j + kw]  # (N, C_in, kH, kW)
            out[:, :, i, j] = torch.einsum("nchw,ochw->no", window, w)  # no kernel flip
    return out + b.view(1, c_out, 1, 1)


def _conv2d_cases() -> list[Case]:
    shapes = [
        ((1, 1, 5, 5), (1, 1, 3, 3), "one channel"),
        ((2, 3, 6, 7), (4, 3, 3, 3), "several channels"),
        ((1, 2, 6, 5), (3, 2, 2, 4), "non-square kernel"),
        ((2, 4, 4, 4), (5, 4, 1, 1), "1x1 kernel"),
        ((1, 2, 3, 4), (2, 2, 3, 4), "kernel as large as the input"),
    ]
    cases = []
    for seed, (xs, ws, label) in enumerate(shapes):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(xs, generator=g, dtype=torch.float64)
        w = torch.randn(ws, generator=g, dtype=torch.float64)
        b = torch.randn(ws[0], generator=g, dtype=torch.float64)
        cases.append(Case((x, w, b), label=label))
    return cases


def _close(a, b) -> bool:
    return (
        isinstance(a, Tensor)
        and a.shape == b.shape
        and bool(torch.allclose(a.detach().double(), b.double(), rtol=1e-5, atol=1e-5))
    )


def _conv2d_diagnose(case, expected, received):
    if case is None or not isinstance(received, Tensor):
        return None
    x, w, b = case.args
    if received.shape == expected.shape:
        if _close(received, F.conv2d(x, w.flip(-1, -2), b)):
            return (
                "You computed a true convolution (kernel flipped). Deep-learning 'convolution' "
                "is cross-correlation: multiply the window by w as it is."
            )
        if _close(received, expected - b.view(1, -1, 1, 1)):
            return "Everything but the bias is right: add b[o] to output channel o."
        if _close(received, expected + b.view(1, -1, 1, 1) * (w[0, 0].numel() - 1)):
            return "The bias is added once per output value, not once per kernel entry."
    elif received.dim() == 4 and tuple(received.shape[2:]) == tuple(
        s - k for s, k in zip(x.shape[2:], w.shape[2:], strict=True)
    ):
        return (
            "Off by one: a valid convolution has H - kH + 1 output rows (and W - kW + 1 columns)."
        )
    return None


conv2d_scratch = Exercise(
    "conv2d_scratch",
    title="conv2d from scratch",
    reference=conv2d_scratch_reference,
    cases=_conv2d_cases,
    hints=[
        "The output has shape (N, C_out, H - kH + 1, W - kW + 1). Loop over output positions "
        "(i, j); the window x[:, :, i:i+kH, j:j+kW] has shape (N, C_in, kH, kW).",
        "For each position, multiply the window by every kernel and sum over (C_in, kH, kW): "
        "`torch.einsum('nchw,ochw->no', window, w)` gives (N, C_out). Add b.view(1, -1, 1, 1) at the end.",
    ],
    diagnose=_conv2d_diagnose,
    atol=1e-5,
)


# --------------------------------------------------------------- 3. receptive field
def receptive_field_reference(layers: list[tuple[int, int]]) -> int:
    """Receptive field of a stack of (kernel, stride) layers, first layer first."""
    rf, jump = 1, 1  # one input sees itself; neighbours are 1 input apart
    for k, s in layers:
        rf += (k - 1) * jump  # k - 1 more neighbours, each `jump` inputs apart
        jump *= s  # after a stride s, neighbours are s times further apart
    return rf


def _rf_diagnose(case, expected, received):
    layers = case.args[0]
    if not isinstance(received, int):
        return None
    if received == 1 + sum(k - 1 for k, _ in layers):
        return "Strides matter: after a stride-s layer, one step in the next layer covers s inputs."
    wrong, jump = 1, 1
    for k, s in layers:
        jump *= s
        wrong += (k - 1) * jump
    if received == wrong:
        return "Use the jump *before* the current layer: a layer's own stride does not widen its own window."
    if received == expected - 1:
        return "Off by one: start from a receptive field of 1 (a pixel sees itself)."
    return None


receptive_field = Exercise(
    "receptive_field",
    title="Receptive field of a stack",
    reference=receptive_field_reference,
    cases=[
        Case(([(3, 1)],), label="one layer"),
        Case(([(3, 1), (3, 1), (3, 1)],), label="three 3x3 layers (VGG)"),
        Case(([(3, 1), (2, 2), (3, 1)],), label="conv, pool, conv"),
        Case(([(7, 2), (3, 2), (3, 1), (3, 1)],), label="ResNet stem and a block"),
        Case(([(1, 1)],), label="1x1 conv"),
        Case(([(2, 2)] * 5,), label="five stride-2 pools"),
        Case(([],), label="no layers"),
        Case(([(5, 3), (4, 1)],), label="stride larger than the kernel"),
    ],
    hints=[
        "Track two numbers from the input up: rf (inputs seen by one unit, start 1) and jump "
        "(input distance between neighbouring units, start 1).",
        "For each layer (k, s): rf += (k - 1) * jump, then jump *= s. The order matters.",
    ],
    diagnose=_rf_diagnose,
)


# ----------------------------------------------------------- 4. Conv3d parameter count
def conv3d_params_reference(
    in_channels: int,
    out_channels: int,
    kernel_size: tuple[int, int, int],
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Parameters of nn.Conv3d(in_channels, out_channels, kernel_size, bias=bias, groups=groups)."""
    kt, kh, kw = kernel_size
    weights = out_channels * (in_channels // groups) * kt * kh * kw
    return weights + (out_channels if bias else 0)


def _params_diagnose(case, expected, received):
    c_in, c_out, (kt, kh, kw) = case.args[:3]
    bias = _arg(case, 3, "bias", True)
    groups = _arg(case, 4, "groups", 1)
    if not isinstance(received, int | float):
        return None
    b = c_out if bias else 0
    if received == expected - b and bias:
        return "Each output channel also has one bias."
    if received == expected + c_out and not bias:
        return "This layer has bias=False: no bias parameters."
    if groups > 1 and received == c_out * c_in * kt * kh * kw + b:
        return "With groups=g, each filter only sees in_channels / g input channels."
    if received == c_out * (c_in // groups) * kh * kw + b and kt > 1:
        return "A 3D kernel has a temporal extent too: multiply by kT."
    if received == c_out * (c_in // groups) * kt * kh * kw * 2 and bias:
        return "One bias per output channel, not one per weight."
    return None


conv3d_params = Exercise(
    "conv3d_params",
    title="Parameters of a Conv3d",
    reference=conv3d_params_reference,
    cases=[
        Case((3, 64, (3, 7, 7)), label="R3D stem"),
        Case((64, 64, (3, 3, 3)), dict(bias=False), label="no bias"),
        Case((64, 128, (1, 3, 3)), label="spatial-only kernel"),
        Case((128, 128, (3, 1, 1)), label="temporal-only kernel"),
        Case((32, 32, (3, 3, 3)), dict(groups=32), label="depthwise"),
        Case((16, 8, (2, 2, 2)), dict(groups=4, bias=False), label="groups, no bias"),
        Case((1, 1, (1, 1, 1)), label="the smallest layer"),
    ],
    hints=[
        "Each output channel has one kernel of shape (in_channels / groups, kT, kH, kW), plus one bias.",
        "out_channels * (in_channels // groups) * kT * kH * kW, plus out_channels if bias.",
    ],
    diagnose=_params_diagnose,
)


# ------------------------------------------------------- 5. (2+1)D mid channels
def mid_channels_reference(in_channels: int, out_channels: int, t: int = 3, d: int = 3) -> int:
    """Mid channels M of a (2+1)D block with about the parameters of a t x d x d Conv3d."""
    # full 3D: t*d*d*N_in*N_out; (2+1)D: M*d*d*N_in + t*M*N_out  -> solve for M, round down
    return (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)


def _mid_diagnose(case, expected, received):
    n_in, n_out = case.args[:2]
    t = _arg(case, 2, "t", 3)
    d = _arg(case, 3, "d", 3)
    exact = t * d * d * n_in * n_out / (d * d * n_in + t * n_out)
    if isinstance(received, float):
        return "A channel count is a whole number: round down with `//` (as R(2+1)D and torchvision do)."
    if not isinstance(received, int):
        return None
    if received == math.ceil(exact) or received == round(exact):
        return "Round down (floor), so the (2+1)D block never exceeds the 3D budget."
    if received == (t * d * d * n_in * n_out) // (t * n_in + d * d * n_out):
        return (
            "The spatial conv maps N_in -> M channels with d*d kernels and the temporal conv "
            "M -> N_out with t kernels: the denominator is d*d*N_in + t*N_out."
        )
    if received == (d * d * n_in * n_out) // (d * d * n_in + t * n_out):
        return "The 3D budget has t*d*d*N_in*N_out weights: did you forget t?"
    return None


mid_channels = Exercise(
    "mid_channels",
    title="(2+1)D mid channels with the budget of a 3D conv",
    reference=mid_channels_reference,
    cases=[
        Case((64, 64), label="first R(2+1)D stage"),
        Case((64, 128), label="channels double"),
        Case((128, 256)),
        Case((256, 512)),
        Case((3, 64), dict(t=3, d=7), label="a stem-like layer"),
        Case((16, 16), dict(t=5, d=3), label="longer temporal kernel"),
        Case((32, 32), dict(t=3, d=1), label="a purely temporal kernel (d = 1)"),
    ],
    hints=[
        "Count both sides. Full 3D: t * d * d * N_in * N_out weights. (2+1)D: a 1 x d x d conv "
        "N_in -> M (M * d * d * N_in weights) then a t x 1 x 1 conv M -> N_out (t * M * N_out).",
        "Set them equal and solve for M: M = t*d*d*N_in*N_out / (d*d*N_in + t*N_out), rounded down with //.",
    ],
    diagnose=_mid_diagnose,
)


# ------------------------------------------------ 6. a kernel that lights up motion
temporal_difference_reference = torch.tensor([-1.0, 1.0]).reshape(1, 1, 2, 1, 1)
"""Conv3d weight (C_out=1, C_in=1, kT=2, kH=1, kW=1): out[t] = x[t + 1] - x[t]."""


def _temporal_difference_judge(answer) -> None:
    if not isinstance(answer, Tensor):
        raise Incorrect(
            f"Expected a torch.Tensor weight of shape (1, 1, 2, 1, 1), but received a {type(answer).__name__}."
        )
    if answer.dim() != 5:
        raise Incorrect(
            f"A Conv3d weight has 5 dimensions (C_out, C_in, kT, kH, kW); received shape {tuple(answer.shape)}."
        )
    if tuple(answer.shape) != (1, 1, 2, 1, 1):
        raise Incorrect(
            f"Expected shape (1, 1, 2, 1, 1): two taps along time (kT=2), one pixel in space; "
            f"received {tuple(answer.shape)}."
            + (
                " Your kernel spans space, not time: time is dimension 2."
                if answer.shape[2] == 1
                else ""
            )
        )
    g = torch.Generator().manual_seed(0)
    clip = torch.rand(2, 1, 5, 6, 6, generator=g)  # (N, C, T, H, W)
    expected = clip[:, :, 1:] - clip[:, :, :-1]
    received = F.conv3d(clip, answer.to(clip.dtype))
    if torch.allclose(received, -expected, atol=1e-6):
        raise Incorrect(
            "Your kernel computes x[t] - x[t+1]: the sign is flipped. Remember conv3d does not "
            "flip the kernel: the first tap multiplies the earlier frame."
        )
    compare(expected, received, where="when applied to a random clip with F.conv3d")


temporal_difference = Exercise(
    "temporal_difference",
    title="A kernel that lights up motion",
    judge=_temporal_difference_judge,
    expects_function=False,
    hints=[
        "The weight has shape (C_out, C_in, kT, kH, kW) = (1, 1, 2, 1, 1): two numbers along time.",
        "Cross-correlation multiplies the first tap by frame t and the second by frame t + 1.",
    ],
    solution="torch.tensor([-1.0, 1.0]).reshape(1, 1, 2, 1, 1)  # (C_out, C_in, kT, kH, kW)",
)


# ------------------------------------------- 2b. backward: the input gradient with col2im
def conv_input_grad_reference(grad_output: Tensor, weight: Tensor, input_size, stride=1, padding=0) -> Tensor:
    """dL/dx of ``F.conv2d(x, weight, stride=stride, padding=padding)`` (groups 1, no dilation).

    grad_output (N, C_out, H_out, W_out), weight (C_out, C_in, kH, kW), input_size (H, W).
    dL/dcols = W^T @ dL/dY, shape (N, C_in * kH * kW, L); col2im adds every column back where
    its window came from (overlapping windows add up); the padding is cut off at the end.
    """
    from course_utils.conv import col2im

    n, c_out = grad_output.shape[:2]
    kh, kw = weight.shape[2:]
    grad_cols = weight.reshape(c_out, -1).T @ grad_output.reshape(n, c_out, -1)  # (N, C_in*kH*kW, L)
    h, w = input_size
    p = padding
    full = col2im(grad_cols, (h + 2 * p, w + 2 * p), (kh, kw), stride=stride)  # (N, C_in, H + 2p, W + 2p)
    return full[:, :, p : p + h, p : p + w]


def _grad_cases() -> list[Case]:
    g = torch.Generator().manual_seed(11)
    out = []
    for (n, c_in, c_out, h, w, k, s, p), label in [
        ((1, 1, 1, 5, 5, 3, 1, 0), "one channel, no padding"),
        ((2, 3, 4, 6, 5, 3, 1, 1), "padding 1"),
        ((2, 2, 3, 7, 7, 3, 2, 1), "stride 2, padding 1"),
        ((1, 2, 2, 6, 6, 2, 2, 0), "kernel 2, stride 2: windows do not overlap"),
        ((1, 3, 2, 5, 4, (1, 3), 1, 0), "a 1x3 kernel"),
    ]:
        kh, kw = (k, k) if isinstance(k, int) else k
        h_out, w_out = (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
        gy = torch.randn(n, c_out, h_out, w_out, generator=g, dtype=torch.float64)
        wt = torch.randn(c_out, c_in, kh, kw, generator=g, dtype=torch.float64)
        out.append(Case((gy, wt, (h, w)), dict(stride=s, padding=p), label=label))
    return out


def _grad_diagnose(case, expected, received):
    if case is None or not isinstance(received, Tensor):
        return None
    gy, wt, (h, w) = case.args
    s, p = case.kwargs["stride"], case.kwargs["padding"]
    if received.shape != expected.shape:
        if received.dim() == 4 and tuple(received.shape[2:]) == (h + 2 * p, w + 2 * p):
            return "Your gradient still includes the padding: cut p rows and columns off each side (the padded pixels are not inputs)."
        if tuple(received.shape) == tuple(wt.shape):
            return "That has the weight's shape: the exercise asks for the gradient with respect to the input x."
        return None
    flipped = conv_input_grad_reference(gy, wt.flip(-1, -2), (h, w), s, p)
    if torch.allclose(received, flipped, atol=1e-8):
        return "Your kernel is flipped: the forward is a cross-correlation (no flip), and the columns map back with W^T, not the flipped W."
    if torch.allclose(received, 0 * expected, atol=1e-12):
        return "Your gradient is all zeros: W^T @ dL/dY gives one column per output position; col2im must *add* them into the image."
    return None


conv_input_grad = Exercise(
    "conv_input_grad",
    title="The input gradient of conv2d, with col2im",
    reference=conv_input_grad_reference,
    cases=_grad_cases,
    diagnose=_grad_diagnose,
    rtol=1e-7,
    atol=1e-9,
    hints=[
        "Forward: Y = W_flat @ cols with W_flat = weight.reshape(C_out, -1). Backward: dL/dcols = W_flat.T @ dY, with dY reshaped to (N, C_out, L).",
        "C.col2im(grad_cols, (H + 2p, W + 2p), (kH, kW), stride=s) puts every column back where its window came from, adding overlaps; then crop [p:p+H, p:p+W].",
    ],
)

