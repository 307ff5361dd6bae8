"""Tests of course_utils.conv (notebook 01) against PyTorch: values, gradients, arithmetic."""

from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import conv as C

TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10)}
TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
OURS = {1: C.conv1d, 2: C.conv2d, 3: C.conv3d}
LOOPS = {1: C.conv1d_loop, 2: C.conv2d_loop, 3: C.conv3d_loop}


def _maybe_int(rng: random.Random, values: tuple[int, ...]):
    """Pass an int when all entries agree (half the time), else the tuple."""
    if len(set(values)) == 1 and rng.random() < 0.5:
        return values[0]
    return tuple(values)


def random_conv_config(rng: random.Random, nd: int) -> dict:
    """One random convolution problem: shapes and keyword arguments (always valid)."""
    kind = rng.random()
    if kind < 0.2:  # depthwise (possibly with a channel multiplier)
        c_in = rng.randint(1, 4)
        groups, c_out = c_in, c_in * rng.randint(1, 2)
    else:
        groups = rng.choice([1, 1, 2, 3])
        c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    kernel = tuple(rng.randint(1, 3 if nd == 3 else 4) for _ in range(nd))
    dilation = tuple(rng.choice([1, 1, 2]) for _ in range(nd))
    mode = rng.random()
    if mode < 0.25:
        padding, stride = "same", (1,) * nd
        pads = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    else:
        stride = tuple(rng.randint(1, 3) for _ in range(nd))
        if mode < 0.35:
            padding, pads = "valid", [0] * nd
        else:
            p = tuple(rng.randint(0, 2) for _ in range(nd))
            padding, pads = _maybe_int(rng, p), [2 * v for v in p]
    size = []
    for k, d, pad in zip(kernel, dilation, pads, strict=True):
        need = max(1, d * (k - 1) + 1 - pad)  # the kernel must fit in the padded input
        size.append(rng.randint(need, need + (3 if nd == 3 else 6)))
    batch = rng.choice([0, 1, 1, 2])  # 0 = unbatched input (C, *spatial)
    return dict(
        x_shape=((batch,) if batch else ()) + (c_in, *size),
        w_shape=(c_out, c_in // groups, *kernel),
        bias=rng.random() < 0.5,
        kwargs=dict(
            stride=_maybe_int(rng, stride),
            padding=padding,
            dilation=_maybe_int(rng, dilation),
            groups=groups,
        ),
    )


def make_tensors(cfg: dict, dtype: torch.dtype, gen: torch.Generator):
    x = torch.randn(cfg["x_shape"], dtype=dtype, generator=gen)
    w = torch.randn(cfg["w_shape"], dtype=dtype, generator=gen)
    b = torch.randn(cfg["w_shape"][0], dtype=dtype, generator=gen) if cfg["bias"] else None
    return x, w, b


N_CONFIGS = 120  # per dimensionality: 360 configurations in total, each in float32 and float64


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_matches_torch_on_random_configs(nd):
    rng, gen = random.Random(nd), torch.Generator().manual_seed(nd)
    seen = {
        "same": 0,
        "groups": 0,
        "batch1": 0,
        "nonsquare": 0,
        "bias": 0,
        "stride": 0,
        "dilation": 0,
    }
    for i in range(N_CONFIGS):
        cfg = random_conv_config(rng, nd)
        kw = cfg["kwargs"]
        seen["same"] += kw["padding"] == "same"
        seen["groups"] += kw["groups"] > 1
        seen["batch1"] += len(cfg["x_shape"]) == nd + 2 and cfg["x_shape"][0] == 1
        seen["nonsquare"] += len(set(cfg["w_shape"][2:])) > 1
        seen["bias"] += cfg["bias"]
        seen["stride"] += kw["stride"] not in (1, (1,) * nd)
        seen["dilation"] += kw["dilation"] not in (1, (1,) * nd)
        for dtype in (torch.float32, torch.float64):
            x, w, b = make_tensors(cfg, dtype, gen)
            expected = TORCH_CONV[nd](x, w, b, **kw)
            got = OURS[nd](x, w, b, **kw)
            torch.testing.assert_close(
                got, expected, **TOL[dtype], msg=lambda m, c=cfg, i=i: f"config {i}: {c}\n{m}"
            )
    if nd == 1:
        seen.pop("nonsquare")  # one-dimensional kernels are neither square nor not
    assert all(v >= 5 for v in seen.values()), seen


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_loop_versions_match_torch(nd):
    rng, gen = random.Random(100 + nd), torch.Generator().manual_seed(100 + nd)
    for _ in range(15 if nd < 3 else 8):
        cfg = random_conv_config(rng, nd)
        x, w, b = make_tensors(cfg, torch.float64, gen)
        expected = TORCH_CONV[nd](x, w, b, **cfg["kwargs"])
        torch.testing.assert_close(
            LOOPS[nd](x, w, b, **cfg["kwargs"]), expected, **TOL[torch.float64]
        )


def test_same_padding_even_kernel_puts_extra_after():
    x = torch.arange(6.0).reshape(1, 1, 6)
    w = torch.tensor([[[1.0, 0.0]]])  # picks the left tap: output[i] = x_padded[i]
    torch.testing.assert_close(C.conv1d(x, w, padding="same"), F.conv1d(x, w, padding="same"))
    torch.testing.assert_close(C.conv1d(x, w, padding="same"), x)


def test_im2col_and_col2im_match_unfold_and_fold():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 6, generator=gen)
    for kw in [
        dict(),
        dict(stride=2, padding=1),
        dict(dilation=(2, 1), padding=(2, 0), stride=(1, 2)),
    ]:
        cols = C.im2col(x, (3, 2), **kw)
        torch.testing.assert_close(cols, F.unfold(x, (3, 2), **kw))
        torch.testing.assert_close(
            C.col2im(cols, (7, 6), (3, 2), **kw), F.fold(cols, (7, 6), (3, 2), **kw)
        )


# ------------------------------------------------------------------------------ pooling
def random_pool_config(rng: random.Random) -> dict:
    k = (rng.randint(1, 4), rng.randint(1, 4))
    stride = rng.choice([None, (rng.randint(1, 3), rng.randint(1, 3)), rng.randint(1, 3)])
    padding = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
    dilation = (rng.choice([1, 2]), rng.choice([1, 2]))
    size = [
        rng.randint(max(1, d * (kk - 1) + 1 - 2 * p), 9)
        for kk, d, p in zip(k, dilation, padding, strict=True)
    ]
    return dict(
        shape=(rng.choice([1, 2]), rng.randint(1, 3), *size) if rng.random() < 0.8 else (2, *size),
        k=k if rng.random() < 0.7 or k[0] != k[1] else k[0],
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=rng.random() < 0.4,
        count_include_pad=rng.random() < 0.5,
        divisor_override=rng.choice([None, None, None, 3]),
    )


def test_pooling_matches_torch_on_random_configs():
    rng, gen = random.Random(7), torch.Generator().manual_seed(7)
    n_max = n_avg = 0
    for _ in range(200):
        c = random_pool_config(rng)
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(c["shape"], dtype=dtype, generator=gen)
            try:
                exp = F.max_pool2d(
                    x,
                    c["k"],
                    c["stride"],
                    c["padding"],
                    c["dilation"],
                    c["ceil_mode"],
                    return_indices=True,
                )
            except RuntimeError:
                exp = None
            if exp is not None:
                got = C.max_pool2d(
                    x,
                    c["k"],
                    c["stride"],
                    c["padding"],
                    c["dilation"],
                    c["ceil_mode"],
                    return_indices=True,
                )
                torch.testing.assert_close(got[0], exp[0], **TOL[dtype])
                real = exp[0] > -math.inf  # windows that see only padding have no true argmax
                torch.testing.assert_close(got[1][real], exp[1][real])
                n_max += 1
            else:
                with pytest.raises(ValueError):
                    C.max_pool2d(
                        x, c["k"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"]
                    )
            args = (
                c["k"],
                c["stride"],
                c["padding"],
                c["ceil_mode"],
                c["count_include_pad"],
                c["divisor_override"],
            )
            try:
                exp = F.avg_pool2d(x, *args)
            except RuntimeError:
                with pytest.raises(ValueError):
                    C.avg_pool2d(x, *args)
                continue
            torch.testing.assert_close(C.avg_pool2d(x, *args), exp, **TOL[dtype])
            n_avg += 1
    assert n_max >= 300 and n_avg >= 300, (n_max, n_avg)


def test_pooling_default_stride_and_errors():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(C.max_pool2d(x, 2), torch.tensor([[[[5.0, 7.0], [13.0, 15.0]]]]))
    torch.testing.assert_close(C.avg_pool2d(x, 2), F.avg_pool2d(x, 2))
    with pytest.raises(ValueError, match="half of the kernel"):
        C.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        C.max_pool2d(torch.zeros(4, 4), 2)


# ----------------------------------------------------------------------------- backward
def test_backward_matches_autograd_on_random_configs():
    rng, gen = random.Random(11), torch.Generator().manual_seed(11)
    for _ in range(60):
        cfg = random_conv_config(rng, 2)
        x, w, b = make_tensors(cfg, torch.float64, gen)
        x.requires_grad_(True)
        w.requires_grad_(True)
        if b is not None:
            b.requires_grad_(True)
        y = F.conv2d(x, w, b, **cfg["kwargs"])
        gy = torch.randn(y.shape, dtype=torch.float64, generator=gen)
        grads = torch.autograd.grad(y, [x, w] + ([b] if b is not None else []), gy)
        gx, gw, gb = C.conv2d_backward(gy, x.detach(), w.detach(), **cfg["kwargs"])
        torch.testing.assert_close(gx, grads[0], **TOL[torch.float64])
        torch.testing.assert_close(gw, grads[1], **TOL[torch.float64])
        if b is not None:
            torch.testing.assert_close(gb, grads[2], **TOL[torch.float64])


def test_manual_backward_passes_gradcheck_and_numeric_gradient():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(1, 4, 5, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(4, 2, 3, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=gen, requires_grad=True)
    for kw in [
        dict(groups=2),
        dict(stride=2, padding=1, groups=2),
        dict(padding="same", dilation=(2, 1), groups=2),
    ]:
        assert torch.autograd.gradcheck(
            lambda x, w, b, kw=kw: C.conv2d_manual(x, w, b, **kw), (x, w, b), fast_mode=True
        )
    # the teaching numeric gradient agrees with the hand-written one
    xs = torch.randn(1, 2, 4, 4, dtype=torch.float64, generator=gen)
    ws = torch.randn(3, 2, 2, 2, dtype=torch.float64, generator=gen)
    gy = torch.randn(1, 3, 3, 3, dtype=torch.float64, generator=gen)
    loss_x = lambda t: (C.conv2d(t, ws, stride=2, padding=1) * gy).sum()  # noqa: E731
    loss_w = lambda t: (C.conv2d(xs, t, stride=2, padding=1) * gy).sum()  # noqa: E731
    gx, gw, _ = C.conv2d_backward(gy, xs, ws, stride=2, padding=1)
    torch.testing.assert_close(C.numeric_gradient(loss_x, xs), gx, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(C.numeric_gradient(loss_w, ws), gw, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: C.conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(4, 2, 3, 3)),
            "input has 3 channels",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 4, 5, 5), torch.zeros(3, 2, 3, 3), groups=2),
            "does not divide the 3 output",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(4, 1, 3, 3), groups=2),
            "does not divide the 3 input",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 2, 5), torch.zeros(1, 1, 3, 3)),
            "larger than the padded input",
        ),
        (
            lambda: C.conv3d(torch.zeros(1, 1, 5, 5, 5), torch.zeros(1, 1, 3, 3, 3), dilation=3),
            "larger than the padded input",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 1, 5, 5), torch.zeros(1, 1, 3, 3)),
            "4 or 3 dimensions",
        ),
        (
            lambda: C.conv1d(torch.zeros(1, 1, 5), torch.zeros(1, 1, 3, 3)),
            "weight must have 3 dimensions",
        ),
        (
            lambda: C.conv2d(
                torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), stride=2, padding="same"
            ),
            "strided",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(2, 1, 3, 3), torch.zeros(3)),
            "bias must have shape",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), stride=(1, 2, 3)),
            "tuple of 2 ints",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), stride=0),
            "stride must be >= 1",
        ),
        (
            lambda: C.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding="full"),
            "'valid' or 'same'",
        ),
    ],
)
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_errors_happen_where_torch_errors():
    """Each bad call also fails in torch, so the messages explain real mistakes."""
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(4, 2, 3, 3))
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, 2, 5), torch.zeros(1, 1, 3, 3))
    with pytest.raises(TypeError):
        C.conv2d(torch.zeros(1, 1, 5, 5, dtype=torch.float64), torch.zeros(1, 1, 3, 3))
    with pytest.raises(TypeError):
        C.conv2d([[1.0]], torch.zeros(1, 1, 1, 1))


# --------------------------------------------------------------------------- arithmetic
def test_output_size_params_and_flops_match_real_layers():
    rng = random.Random(5)
    layers = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
    for _ in range(90):
        nd = rng.choice([1, 2, 3])
        cfg = random_conv_config(rng, nd)
        kw = cfg["kwargs"]
        c_out, cg, *kernel = cfg["w_shape"]
        c_in = cg * kw["groups"]
        size = cfg["x_shape"][-nd:]
        with torch.device("meta"):
            layer = layers[nd](c_in, c_out, tuple(kernel), bias=cfg["bias"], **kw)
            y = layer(torch.empty(2, c_in, *size))
        out = C.conv_output_size(
            tuple(size), tuple(kernel), kw["stride"], kw["padding"], kw["dilation"]
        )
        assert tuple(y.shape[2:]) == out
        if nd == 1:  # plain ints give a plain int
            first = lambda v: v if isinstance(v, int | str) else v[0]  # noqa: E731
            assert (
                C.conv_output_size(
                    size[0],
                    kernel[0],
                    first(kw["stride"]),
                    first(kw["padding"]),
                    first(kw["dilation"]),
                )
                == out[0]
            )
        n_params = sum(p.numel() for p in layer.parameters())
        assert (
            C.conv_params(c_in, c_out, tuple(kernel), groups=kw["groups"], bias=cfg["bias"])
            == n_params
        )
        macs = C.conv_flops(
            c_in,
            c_out,
            tuple(kernel),
            tuple(size),
            kw["stride"],
            kw["padding"],
            kw["dilation"],
            kw["groups"],
            batch_size=2,
        )
        assert macs == y.numel() * cg * math.prod(kernel)
    # torch's own FLOP counter (2 FLOPs per multiply-add) agrees on a few real layers
    from torch.utils.flop_counter import FlopCounterMode

    for nd, k, s, p, g in [
        (2, 3, 1, 1, 1),
        (2, (1, 5), 2, (0, 2), 2),
        (3, (3, 1, 1), (2, 1, 1), 0, 1),
        (1, 4, 3, 2, 4),
    ]:
        layer = layers[nd](8, 16, k, stride=s, padding=p, groups=g)
        size = (11,) * nd
        with FlopCounterMode(display=False) as counter:
            layer(torch.zeros(3, 8, *size))
        assert (
            2 * C.conv_flops(8, 16, k, size, s, p, groups=g, batch_size=3)
            == counter.get_total_flops()
        )


def test_conv_output_size_classics():
    assert C.conv_output_size(5, 3) == 3
    assert C.conv_output_size(7, 3, stride=2, padding=1) == 4
    assert C.conv_output_size(32, 3, padding="same") == 32
    assert C.conv_output_size(8, 3, dilation=2) == 4
    assert C.conv_output_size((16, 112, 112), (3, 7, 7), (1, 2, 2), (1, 3, 3)) == (16, 56, 56)
    assert C.conv_output_size(6, 2, 2, ceil_mode=True) == 3
    assert C.conv_output_size(5, 2, 2, ceil_mode=True) == 3
    with pytest.raises(ValueError):
        C.conv_output_size(2, 3)


def measured_receptive_field(stack: nn.Module, length: int = 101) -> int:
    """The span of inputs with a non-zero gradient for the centre output (positive weights)."""
    for m in stack.modules():
        if isinstance(m, nn.Conv1d):
            nn.init.constant_(m.weight, 1.0)
    x = torch.ones(1, 1, length, requires_grad=True)  # positive everywhere: ReLUs pass gradients
    y = stack(x)
    y[0, 0, y.shape[-1] // 2].backward()
    nz = torch.nonzero(x.grad[0, 0]).flatten()
    return int(nz.max() - nz.min() + 1)


def test_receptive_field_matches_gradient_of_real_stacks():
    rng = random.Random(9)
    for _ in range(25):
        specs, mods = [], []
        for _ in range(rng.randint(1, 4)):
            k, s, d = rng.randint(1, 4), rng.randint(1, 2), rng.choice([1, 1, 2])
            if rng.random() < 0.25:
                specs.append((k, s))
                mods += [nn.AvgPool1d(k, s)]
            else:
                specs.append((k, s, d))
                mods += [nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False), nn.ReLU()]
        stack = nn.Sequential(*mods)
        rf = C.receptive_field(specs)
        assert C.receptive_field(stack) == rf
        assert measured_receptive_field(stack) == rf, specs


def test_receptive_field_forms():
    assert C.receptive_field([3, 3, 3]) == 7
    assert C.receptive_field([(3, 1), (2, 2), (3, 1)]) == 8
    assert C.receptive_field([(3, 1, 2), (3, 1, 4)]) == 13
    assert C.receptive_field([]) == 1
    two_d = nn.Sequential(nn.Conv2d(1, 1, (3, 5)), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3))
    assert C.receptive_field(two_d) == (8, 10)
    assert C.receptive_field([dict(kernel_size=(3, 1, 1), stride=(1, 2, 2))] * 2) == (5, 1, 1)
    table = C.receptive_field_table([(3, 2), (3, 2)])
    assert [(r["rf"], r["jump"]) for r in table] == [(3, 2), (7, 4)]
    with pytest.raises(TypeError):
        C.receptive_field(["conv"])


def test_video_models_parameters_and_flops():
    from torch.utils.flop_counter import FlopCounterMode
    from torchvision.models import video

    for name, expected in [("r3d_18", 33371472), ("mc3_18", 11695440), ("r2plus1d_18", 31505325)]:
        with torch.device("meta"):
            model = getattr(video, name)(weights=None)
        n = sum(p.numel() for p in model.parameters())
        assert C.count_parameters(model) == n == expected, name
        by_type = C.count_parameters(model, by_type=True)
        assert sum(by_type.values()) == n and set(by_type) == {"Conv3d", "BatchNorm3d", "Linear"}
        with FlopCounterMode(display=False) as counter:  # shapes only: the model is on "meta"
            model(torch.empty(1, 3, 16, 112, 112, device="meta"))
        assert 2 * C.count_flops(model, (1, 3, 16, 112, 112)) == counter.get_total_flops()
    # (2+1)D mid channels are torchvision's midplanes
    from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D

    block = BasicBlock(64, 128, Conv2Plus1D, stride=2, downsample=nn.Identity())
    mid = block.conv1[0][0].out_channels
    assert mid == C.mid_channels_2plus1d(64, 128) == (64 * 128 * 27) // (64 * 9 + 3 * 128)


def test_count_flops_matches_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    model = nn.Sequential(
        nn.Conv3d(3, 8, (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2)),
        nn.ReLU(),
        nn.Conv3d(8, 8, 3, padding=1, groups=4),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(8, 5),
    )
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(2, 3, 4, 16, 16))
    assert 2 * C.count_flops(model, (2, 3, 4, 16, 16)) == counter.get_total_flops()
    with pytest.raises(TypeError, match="does not know"):
        C.count_parameters(nn.Sequential(nn.Embedding(3, 2)))


def test_plots_run():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = C.plot_sliding_window(6, 3, 2, 1, 1, (1, 2))
    fig2 = C.plot_receptive_field([(3, 1), (3, 2), (3, 1, 2)])
    assert fig.axes and fig2.axes
    plt.close("all")
