"""Exercises of notebook 01: every solution passes, typical wrong answers fail helpfully."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import conv as C
from course_utils.exercises import ____
from course_utils.lessons import convolution as ex

FUNCTION_EXERCISES = [
    "output_size",
    "conv2d_scratch",
    "receptive_field",
    "conv3d_params",
    "mid_channels",
]


@pytest.mark.parametrize("name", FUNCTION_EXERCISES + ["temporal_difference"])
def test_reference_solution_passes(name):
    exercise = getattr(ex, name)
    verdict = exercise.evaluate(getattr(ex, f"{name}_reference"))
    assert verdict.correct, verdict.message
    assert exercise.hints and exercise.solution_text()


@pytest.mark.parametrize("name", FUNCTION_EXERCISES)
def test_blank_and_crash_are_reported_not_raised(name):
    exercise = getattr(ex, name)
    assert exercise.evaluate(...).outcome == "not attempted"
    assert exercise.evaluate(____).outcome == "not attempted"

    def blank(*args, **kwargs): ...

    assert exercise.evaluate(blank).outcome == "not attempted"

    def crashing(*args, **kwargs):
        return args[0][999]  # IndexError / TypeError inside the learner's code

    verdict = exercise.evaluate(crashing)
    assert verdict.outcome == "incorrect" and "raised" in verdict.message, verdict.message
    verdict = exercise.evaluate(42)
    assert verdict.outcome == "incorrect" and "expects a function" in verdict.message


def _incorrect(exercise, answer, *fragments):
    verdict = exercise.evaluate(answer)
    assert verdict.outcome == "incorrect", verdict
    for fragment in fragments:
        assert fragment in verdict.message, verdict.message
    return verdict


# ---------------------------------------------------------------------- output size
def test_output_size_wrong_answers():
    def no_plus_one(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * (k - 1) - 1) // s

    def one_sided_padding(n, k, s=1, p=0, d=1):
        return (n + p - d * (k - 1) - 1) // s + 1

    def true_division(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * (k - 1) - 1) / s + 1

    def no_dilation(n, k, s=1, p=0, d=1):
        return (n + 2 * p - k) // s + 1

    def ceil(n, k, s=1, p=0, d=1):
        return math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1

    _incorrect(ex.output_size, no_plus_one, "Expected 3", "add 1")
    _incorrect(ex.output_size, one_sided_padding, "both", "2 * p")
    _incorrect(ex.output_size, true_division, "floor division")
    _incorrect(ex.output_size, no_dilation, "d * (k - 1) + 1")
    _incorrect(ex.output_size, ceil, "round down")
    assert ex.output_size.evaluate(
        lambda n, k, s=1, p=0, d=1: C.conv_output_size(n, k, s, p, d)
    ).correct


# ------------------------------------------------------------------- conv2d scratch
def test_conv2d_scratch_wrong_answers():
    def flipped(x, w, b):
        return F.conv2d(x, w.flip(-1, -2), b)

    def no_bias(x, w, b):
        return F.conv2d(x, w)

    def off_by_one(x, w, b):
        return F.conv2d(x, w, b)[:, :, :-1, :-1]

    def bias_per_tap(x, w, b):
        return F.conv2d(x, w) + b.view(1, -1, 1, 1) * w[0, 0].numel()

    def returns_numpy(x, w, b):
        return F.conv2d(x, w, b).numpy()

    _incorrect(ex.conv2d_scratch, flipped, "cross-correlation")
    _incorrect(ex.conv2d_scratch, no_bias, "bias")
    _incorrect(ex.conv2d_scratch, off_by_one, "shape", "H - kH + 1")
    _incorrect(ex.conv2d_scratch, bias_per_tap, "once per output value")
    _incorrect(ex.conv2d_scratch, returns_numpy, "torch.Tensor")
    # the course's own implementations pass; a float32 result for float64 inputs does not
    # (dtype is compared in stages, before the values)
    assert ex.conv2d_scratch.evaluate(lambda x, w, b: C.conv2d(x, w, b)).correct
    _incorrect(
        ex.conv2d_scratch, lambda x, w, b: C.conv2d_loop(x.float(), w.float(), b.float()), "dtype float64"
    )


# ------------------------------------------------------------------ receptive field
def test_receptive_field_wrong_answers():
    def ignores_stride(layers):
        return 1 + sum(k - 1 for k, _ in layers)

    def jump_too_early(layers):
        rf, jump = 1, 1
        for k, s in layers:
            jump *= s
            rf += (k - 1) * jump
        return rf

    def starts_at_zero(layers):
        return ex.receptive_field_reference(layers) - 1

    _incorrect(ex.receptive_field, ignores_stride, "Strides matter")
    _incorrect(ex.receptive_field, jump_too_early, "before")
    _incorrect(ex.receptive_field, starts_at_zero, "start from a receptive field of 1")
    assert ex.receptive_field.evaluate(lambda layers: C.receptive_field(layers)).correct


def test_receptive_field_reference_matches_real_layers():
    for layers in [[(3, 1), (2, 2), (3, 1)], [(7, 2), (3, 2), (3, 1), (3, 1)]]:
        stack = nn.Sequential(*[nn.Conv1d(1, 1, k, s) for k, s in layers])
        assert C.receptive_field(stack) == ex.receptive_field_reference(layers)


# -------------------------------------------------------------------- conv3d params
def test_conv3d_params_wrong_answers():
    def no_bias(c_in, c_out, k, bias=True, groups=1):
        return c_out * (c_in // groups) * math.prod(k)

    def ignores_groups(c_in, c_out, k, bias=True, groups=1):
        return c_out * c_in * math.prod(k) + (c_out if bias else 0)

    def two_d(c_in, c_out, k, bias=True, groups=1):
        return c_out * (c_in // groups) * k[1] * k[2] + (c_out if bias else 0)

    def always_bias(c_in, c_out, k, bias=True, groups=1):
        return c_out * (c_in // groups) * math.prod(k) + c_out

    _incorrect(ex.conv3d_params, no_bias, "bias")
    _incorrect(ex.conv3d_params, ignores_groups, "in_channels / g")
    _incorrect(ex.conv3d_params, two_d, "kT")
    _incorrect(ex.conv3d_params, always_bias, "bias=False")


def test_conv3d_params_reference_matches_torch():
    for case in ex.conv3d_params._cases():
        c_in, c_out, k = case.args
        layer = nn.Conv3d(c_in, c_out, k, **case.kwargs, device="meta")
        assert ex.conv3d_params_reference(*case.args, **case.kwargs) == sum(
            p.numel() for p in layer.parameters()
        )


# --------------------------------------------------------------------- mid channels
def test_mid_channels_wrong_answers():
    def rounds(n_in, n_out, t=3, d=3):
        return round(t * d * d * n_in * n_out / (d * d * n_in + t * n_out))

    def swapped(n_in, n_out, t=3, d=3):
        return (t * d * d * n_in * n_out) // (t * n_in + d * d * n_out)

    def float_answer(n_in, n_out, t=3, d=3):
        return t * d * d * n_in * n_out / (d * d * n_in + t * n_out)

    def forgot_t(n_in, n_out, t=3, d=3):
        return (d * d * n_in * n_out) // (d * d * n_in + t * n_out)

    _incorrect(ex.mid_channels, rounds, "Round down")
    _incorrect(ex.mid_channels, swapped, "d*d*N_in + t*N_out")
    _incorrect(ex.mid_channels, float_answer, "whole number")
    _incorrect(ex.mid_channels, forgot_t, "forget t")


def test_mid_channels_matches_torchvision_and_budget():
    from torchvision.models.video.resnet import Conv2Plus1D

    for n_in, n_out in [(64, 64), (64, 128), (128, 256), (256, 512)]:
        m = ex.mid_channels_reference(n_in, n_out)
        block = Conv2Plus1D(n_in, n_out, m)
        assert block[0].out_channels == m
        full = 27 * n_in * n_out
        factorized = sum(p.numel() for p in block[0].parameters()) + sum(
            p.numel() for p in block[3].parameters()
        )
        assert factorized <= full < factorized + 9 * n_in + 3 * n_out  # within one mid channel


# -------------------------------------------------------------- temporal difference
def test_temporal_difference_wrong_answers():
    ex_td = ex.temporal_difference
    assert ex_td.evaluate(torch.tensor([-1.0, 1.0]).view(1, 1, 2, 1, 1)).correct
    _incorrect(ex_td, torch.tensor([1.0, -1.0]).view(1, 1, 2, 1, 1), "sign is flipped")
    _incorrect(ex_td, torch.tensor([-1.0, 1.0]).view(1, 1, 1, 2, 1), "space, not time")
    _incorrect(ex_td, torch.tensor([-1.0, 1.0]), "5 dimensions")
    _incorrect(ex_td, [-1.0, 1.0], "torch.Tensor")
    _incorrect(ex_td, torch.tensor([-0.5, 0.5]).view(1, 1, 2, 1, 1), "Values differ")
    assert ex_td.evaluate(...).outcome == "not attempted"
    assert ex_td.evaluate(____).outcome == "not attempted"


def test_conv_input_grad_reference_matches_autograd_and_finite_differences():
    from course_utils import conv as C

    for case in ex._grad_cases():
        gy, w, (h, wd) = case.args
        s, p = case.kwargs["stride"], case.kwargs["padding"]
        x = torch.randn(gy.shape[0], w.shape[1], h, wd, dtype=torch.float64, requires_grad=True)
        (auto,) = torch.autograd.grad(torch.nn.functional.conv2d(x, w, stride=s, padding=p), x, gy)
        assert torch.allclose(ex.conv_input_grad_reference(gy, w, (h, wd), stride=s, padding=p), auto, atol=1e-10)
    gy, w, (h, wd) = ex._grad_cases()[0].args
    x0 = torch.randn(1, 1, h, wd, dtype=torch.float64)
    numeric = C.numeric_gradient(lambda t: (torch.nn.functional.conv2d(t, w) * gy).sum(), x0)
    assert torch.allclose(numeric, ex.conv_input_grad_reference(gy, w, (h, wd)), atol=1e-7)


def test_conv_input_grad_outcomes():
    ref = ex.conv_input_grad_reference
    assert ex.conv_input_grad.evaluate(ref).correct

    def blank(grad_output, weight, input_size, stride=1, padding=0):
        ...

    assert ex.conv_input_grad.evaluate(blank).outcome == "not attempted"
    crash = ex.conv_input_grad.evaluate(lambda *a, **k: 1 / 0)
    assert crash.outcome == "incorrect" and "ZeroDivisionError" in crash.message

    def keeps_padding(gy, w, size, stride=1, padding=0):
        from course_utils.conv import col2im

        cols = w.reshape(w.shape[0], -1).T @ gy.reshape(gy.shape[0], gy.shape[1], -1)
        return col2im(cols, (size[0] + 2 * padding, size[1] + 2 * padding), tuple(w.shape[2:]), stride=stride)

    v = ex.conv_input_grad.evaluate(keeps_padding)
    assert v.outcome == "incorrect" and "padding" in v.message, v.message
    v = ex.conv_input_grad.evaluate(lambda gy, w, size, stride=1, padding=0: ref(gy, w.flip(-1, -2), size, stride, padding))
    assert v.outcome == "incorrect" and "flipped" in v.message, v.message
    v = ex.conv_input_grad.evaluate(lambda gy, w, size, stride=1, padding=0: 0 * ref(gy, w, size, stride, padding))
    assert v.outcome == "incorrect" and "zeros" in v.message, v.message
