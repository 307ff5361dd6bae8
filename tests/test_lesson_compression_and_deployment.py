"""Exercises of notebook 07: references pass, typical wrong answers fail with a helpful message."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import compression as C
from course_utils.exercises import ____
from course_utils.lessons import compression_and_deployment as ex

warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models run fastest on one thread (as in the notebooks); restore afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

EXERCISES = {
    "scale_zero_point": ex.scale_zero_point_reference,
    "per_channel": ex.per_channel_reference,
    "distillation": ex.distillation_reference,
    "cache_size": ex.cache_size_reference,
    "resume": ex.resume_reference,
}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_blank_is_not_attempted_crash_is_reported(name):
    exercise = getattr(ex, name)
    verdict = exercise.evaluate(EXERCISES[name])
    assert verdict.correct, verdict.message
    assert exercise.evaluate(...).outcome == "not attempted"
    assert exercise.evaluate(____).outcome == "not attempted"

    def blank(*args, **kwargs): ...

    def unfinished(*args, **kwargs):
        raise NotImplementedError

    def crashing(*args, **kwargs):
        return 1 / 0

    assert exercise.evaluate(blank).outcome == "not attempted"
    assert exercise.evaluate(unfinished).outcome == "not attempted"
    v = exercise.evaluate(crashing)
    assert v.outcome == "incorrect" and "ZeroDivisionError" in v.message
    assert exercise.evaluate(42).outcome == "incorrect"  # not a function
    assert exercise.solution_text().startswith("def ")
    assert len(exercise.hints) >= 2


def test_references_agree_with_the_course_code():
    w = torch.randn(8, 4, 3, 3)
    q, scales = ex.per_channel_reference(w)
    q2, s2, _ = C.quantize_per_channel(w)
    assert torch.equal(q, q2) and torch.allclose(scales, s2)
    ref = torch.quantize_per_channel(w, scales, torch.zeros(8, dtype=torch.long), 0, torch.qint8).int_repr()
    assert torch.equal(q, ref)
    zs, zt, y = torch.randn(5, 6), torch.randn(5, 6), torch.randint(0, 6, (5,))
    assert torch.allclose(ex.distillation_reference(zs, zt, y, 3.0, 0.6), C.distillation_loss(zs, zt, y, 3.0, 0.6), atol=1e-6)
    assert ex.cache_size_reference(3, [1, 2, 4], 64) == C.causal_cache_size(3, [1, 2, 4], 64)
    s, z = ex.scale_zero_point_reference(-0.7, 1.3)
    assert (s, z) == pytest.approx(C.quant_params(-0.7, 1.3))
    assert torch.equal(C.quantize(torch.tensor([0.0]), s, z), torch.quantize_per_tensor(torch.tensor([0.0]), s, z, torch.quint8).int_repr())


# ------------------------------------------------------------------ 1. scale and zero-point
def _szp(rounded=True, clamped=True, steps=None, sign=1):
    def scale_zero_point(x_min, x_max, q_min=0, q_max=255):
        n = (q_max - q_min) if steps is None else steps(q_min, q_max)
        scale = (x_max - x_min) / n
        z = q_min - sign * x_min / scale
        if rounded:
            z = round(z)
        if clamped:
            z = max(q_min, min(q_max, z))
        return scale, z

    return scale_zero_point


@pytest.mark.parametrize(
    "answer, words",
    [
        (_szp(rounded=False), "not rounded"),
        (_szp(clamped=False), "clamp it"),
        (_szp(steps=lambda lo, hi: hi - lo + 1), "not 256"),
        (_szp(sign=-1), "Sign error"),
    ],
)
def test_scale_zero_point_wrong_answers(answer, words):
    v = ex.scale_zero_point.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


# ------------------------------------------------------------------ 2. per channel
def _pc(kind):
    def per_channel(w):
        dims = tuple(range(1, w.ndim))
        if kind == "per_tensor":
            scales = torch.full((w.shape[0],), float(w.abs().max()) / 127)
        elif kind == "by128":
            scales = w.abs().amax(dim=dims) / 128
        elif kind == "by255":
            scales = w.abs().amax(dim=dims) / 255
        else:
            scales = w.abs().amax(dim=dims) / 127
        shaped = scales.view(-1, *([1] * (w.ndim - 1)))
        if kind == "truncate":
            return (w / shaped).to(torch.int8), scales
        return torch.round(w / shaped).clamp(-128, 127).to(torch.int8), scales

    return per_channel


def _pc_wrong_axis(w):
    scales = w.abs().amax(dim=0) / 127  # (in, ...) instead of (out,)
    return torch.round(w / scales).clamp(-128, 127).to(torch.int8), scales.flatten()


@pytest.mark.parametrize(
    "answer, words",
    [
        (_pc("per_tensor"), "per-tensor"),
        (_pc("by128"), "not 128"),
        (_pc("by255"), "not 255"),
        (_pc("truncate"), "truncates"),
        (_pc_wrong_axis, "wrong axis"),
    ],
)
def test_per_channel_wrong_answers(answer, words):
    v = ex.per_channel.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


# ------------------------------------------------------------------ 3. distillation
def _kd(kind):
    def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.5):
        zt = teacher_logits if kind == "teacher_raw" else teacher_logits / T
        log_ps, pt = F.log_softmax(student_logits / T, 1), F.softmax(zt, 1)
        reduction = "mean" if kind == "mean" else "batchmean"
        if kind == "reversed":
            soft = F.kl_div(F.log_softmax(zt, 1), log_ps.exp(), reduction=reduction)
        else:
            soft = F.kl_div(log_ps, pt, reduction=reduction)
        factor = {"no_T2": 1.0, "T_once": T}.get(kind, T * T)
        hard = F.cross_entropy(student_logits, labels)
        if kind == "no_ce":
            return alpha * factor * soft
        return alpha * factor * soft + (1 - alpha) * hard

    return distillation_loss


@pytest.mark.parametrize(
    "kind, words",
    [
        ("no_T2", "T^2 factor is missing"),
        ("T_once", "T squared"),
        ("reversed", "wrong way"),
        ("mean", "batchmean"),
        ("teacher_raw", "Soften the teacher"),
        ("no_ce", "cross-entropy"),
    ],
)
def test_distillation_wrong_answers(kind, words):
    v = ex.distillation.evaluate(_kd(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


# ------------------------------------------------------------------ 4. cache size
@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda k, dil, c: c * k * sum(dil), "(k - 1) * d inputs, not k * d"),
        (lambda k, dil, c: c * ((k - 1) * sum(dil) + 1), "not cached"),
        (lambda k, dil, c: (k - 1) * sum(dil), "multiply by channels"),
        (lambda k, dil, c: c * (k - 1) * max(dil), "Every layer keeps its own cache"),
    ],
)
def test_cache_size_wrong_answers(answer, words):
    def cache_size(kernel_size, dilations, channels):
        return answer(kernel_size, dilations, channels)

    v = ex.cache_size.evaluate(cache_size)
    assert v.outcome == "incorrect" and words in v.message, v.message


# ------------------------------------------------------------------ 5. resume
def _resume(skip=(), epoch_shift=0):
    def resume(path, model, optimizer, scheduler):
        ckpt = torch.load(path, weights_only=False)
        if "model" not in skip:
            model.load_state_dict(ckpt["model"])
        if "optimizer" not in skip:
            optimizer.load_state_dict(ckpt["optimizer"])
        if "scheduler" not in skip:
            scheduler.load_state_dict(ckpt["scheduler"])
        if "rng" not in skip:
            torch.set_rng_state(ckpt["rng"]["torch"])
            np.random.set_state(ckpt["rng"]["numpy"])
            random.setstate(ckpt["rng"]["python"])
        return ckpt["epoch"] + epoch_shift

    return resume


@pytest.mark.parametrize(
    "answer, words",
    [
        (_resume(epoch_shift=1), "Off by one"),
        (_resume(epoch_shift=-1), "Off by one"),
        (_resume(skip=("model",)), "model's weights were not restored"),
        (_resume(skip=("optimizer",)), "optimizer was not restored"),
        (_resume(skip=("scheduler",)), "scheduler was not restored"),
        (_resume(skip=("rng",)), "random number generators"),
    ],
)
def test_resume_wrong_answers(answer, words):
    v = ex.resume.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


def test_resume_check_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    ex.resume.evaluate(ex.resume_reference)
    assert torch.equal(torch.rand(3), want)
