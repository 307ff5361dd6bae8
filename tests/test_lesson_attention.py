"""Exercises of notebook 03: references pass, typical wrong answers fail with a helpful message."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.exercises import ____
from course_utils.lessons import attention as ex

EXERCISES = {
    "attention": ex.attention_reference,
    "causal_mask": ex.causal_mask_reference,
    "split_heads": ex.split_heads_reference,
    "mha_params": ex.mha_params_reference,
    "attention_scores": ex.attention_scores_reference,
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


def test_reference_matches_the_course_attention():
    from course_utils.attention import scaled_dot_product_attention

    q, k, v = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 5)
    mask = torch.rand(4, 6) < 0.6
    mask[:, 0] = True
    assert torch.allclose(
        ex.attention_reference(q, k, v, mask),
        scaled_dot_product_attention(q, k, v, mask),
        atol=1e-6,
    )


# ------------------------------------------------------------------ typical wrong answers
def _attention(scale="sqrt", dim=-1, mask_mode="right"):
    def attention(q, k, v, mask=None):
        d = q.shape[-1]
        s = {"sqrt": math.sqrt(d), "none": 1.0, "d": d, "dv": math.sqrt(v.shape[-1])}[scale]
        scores = q @ k.transpose(-2, -1) / s
        if mask is not None and mask_mode == "right":
            scores = scores.masked_fill(~mask, float("-inf"))
        if mask is not None and mask_mode == "inverted":
            scores = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(scores, dim=dim) @ v

    return attention


@pytest.mark.parametrize(
    "answer, words",
    [
        (_attention(scale="none"), "without* the 1/sqrt(d_k)"),
        (_attention(scale="d"), "square root"),
        (_attention(scale="dv"), "d_k = q.shape[-1]"),
        (_attention(dim=-2), "wrong axis"),
        (_attention(mask_mode="inverted"), "mask is inverted"),
        (_attention(mask_mode="ignored"), "ignores the mask"),
        (lambda q, k, v, mask=None: q @ k.transpose(-2, -1), "Expected shape"),
        (lambda q, k, v, mask=None: (_attention()(q, k, v, mask), None), "Expected a torch.Tensor"),
    ],
    ids=[
        "no_scale",
        "scale_d",
        "scale_dv",
        "wrong_axis",
        "mask_inverted",
        "mask_ignored",
        "scores_only",
        "tuple",
    ],
)
def test_attention_wrong_answers(answer, words):
    v = ex.attention.evaluate(answer)
    assert v.outcome == "incorrect", v
    assert words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda L: ~torch.ones(L, L, dtype=torch.bool).tril(), "inverted"),
        (lambda L: torch.ones(L, L, dtype=torch.bool).tril(-1), "attend to itself"),
        (lambda L: torch.ones(L, L, dtype=torch.bool).triu(), "future"),
        (lambda L: torch.ones(L, L).tril(), "dtype"),
        (lambda L: torch.ones(L, L, dtype=torch.bool).tril().numpy(), "torch.Tensor"),
    ],
    ids=["inverted", "strict", "upper", "float", "numpy"],
)
def test_causal_mask_wrong_answers(answer, words):
    v = ex.causal_mask.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h), "reshaped straight"),
        (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h), "transpose(1, 2)"),
        (
            lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2),
            "contiguous block",
        ),
    ],
    ids=["straight_reshape", "no_transpose", "strided_heads"],
)
def test_split_heads_wrong_answers(answer, words):
    v = ex.split_heads.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda E, h, bias=True: 3 * E * E + (3 * E if bias else 0), "output projection"),
        (lambda E, h, bias=True: 4 * E * E, "biases"),
        (lambda E, h, bias=True: h * (4 * E * E + (4 * E if bias else 0)), "do not multiply"),
        (lambda E, h, bias=True: 4 * E * (E // h) + (4 * E if bias else 0), "as a whole"),
    ],
    ids=["no_out_proj", "no_bias", "times_heads", "per_head"],
)
def test_mha_params_wrong_answers(answer, words):
    v = ex.mha_params.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


def test_mha_params_reference_agrees_with_torch():
    for E, h, bias in [(8, 2, True), (64, 4, False), (512, 8, True)]:
        m = torch.nn.MultiheadAttention(E, h, bias=bias)
        assert ex.mha_params_reference(E, h, bias=bias) == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda T, H, W: (T * H * W, H * W * T**2 + T * (H * W) ** 2), "number of tokens"),
        (lambda T, H, W: ((T * H * W) ** 2, T**2 + (H * W) ** 2), "once per patch position"),
        (lambda T, H, W: ((T * H * W) ** 2, T * (H * W) ** 2), "two steps"),
        (lambda T, H, W: (H * W * T**2 + T * (H * W) ** 2, (T * H * W) ** 2), "swapped"),
        (lambda T, H, W: ((T * H) ** 2, H * W * T**2 + T * (H * W) ** 2), "P = H*W"),
    ],
    ids=["joint_not_squared", "divided_no_multiplicity", "divided_one_step", "swapped", "wrong_P"],
)
def test_attention_scores_wrong_answers(answer, words):
    v = ex.attention_scores.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


def test_attention_scores_reference_agrees_with_cost_calculator():
    from course_utils.attention import attention_cost

    for T, H, W in [(8, 4, 4), (16, 14, 14), (1, 2, 3)]:
        joint, divided = ex.attention_scores_reference(T, H, W)
        assert joint == attention_cost(T, H, W, mode="joint")["scores"]
        assert divided == attention_cost(T, H, W, mode="divided")["scores"]


def test_float_causal_mask_is_told_that_float_masks_are_added():
    v = ex.causal_mask.evaluate(lambda L: torch.ones(L, L).tril())
    assert v.outcome == "incorrect" and "added" in v.message and "bool" in v.message, v.message


def test_from_scratch_attention_rejects_the_fused_library_call():
    import torch.nn.functional as F

    def uses_library(q, k, v, mask=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    v = ex.attention.evaluate(uses_library)
    assert v.outcome == "incorrect" and "write it yourself" in v.message, v.message
    assert F.scaled_dot_product_attention.__name__ == "scaled_dot_product_attention"  # restored
    assert ex.attention.evaluate(ex.attention_reference).correct
