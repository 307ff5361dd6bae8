"""Exercises of notebook 06: references pass, typical wrong answers fail with their own diagnosis."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import optim
from course_utils.exercises import ____
from course_utils.lessons import efficient_training as ex

EXERCISES = {
    "adam_step": ex.adam_step_reference,
    "adamw_step": ex.adamw_step_reference,
    "warmup_cosine": ex.warmup_cosine_reference,
    "accumulate": ex.accumulate_reference,
    "ring_allreduce_bytes": ex.ring_allreduce_bytes_reference,
    "zero_memory": ex.zero_memory_reference,
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
    assert exercise.evaluate(42).outcome == "incorrect"
    assert exercise.solution_text().startswith("def ")
    assert len(exercise.hints) >= 2


def test_references_agree_with_the_course_and_torch():
    p, g = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    for update, ref, kw in [(optim.adam_update, ex.adam_step_reference, {}),
                            (optim.adamw_update, ex.adamw_step_reference, dict(weight_decay=0.2))]:
        q, m, v = p.clone(), torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
        update(q, g, m, v, 1, lr=0.1, **kw)
        out = ref(p, g, torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), 1, lr=0.1, **kw)
        assert torch.allclose(out[0], q) and torch.allclose(out[1], m) and torch.allclose(out[2], v)
    for step in range(40):
        assert math.isclose(ex.warmup_cosine_reference(step, 0.4, 5, 40),
                            optim.warmup_cosine(step, base_lr=0.4, warmup_steps=5, total_steps=40), rel_tol=1e-12)
    assert ex.ring_allreduce_bytes_reference(100.0, 4) == 150.0
    assert ex.zero_memory_reference(1.0, 4, 0) == 16 and ex.zero_memory_reference(1.0, 4, 3) == 4


# ------------------------------------------------------------------ typical wrong answers
def _adam(kind):
    def adam_step(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        b1, b2 = betas
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        if kind == "no_bias":
            return param - lr * m / (v.sqrt() + eps), m, v
        if kind == "eps_inside":
            return param - lr * (m / (1 - b1**step)) / (v / (1 - b2**step) + eps).sqrt(), m, v
        if kind == "step0":
            return param - lr * (m / (1 - b1 ** (step + 1))) / ((v / (1 - b2 ** (step + 1))).sqrt() + eps), m, v
        if kind == "m_only":
            return param - lr * (m / (1 - b1**step)) / (v.sqrt() + eps), m, v
        if kind == "swapped":
            m2 = b2 * m + (1 - b2) * grad
            return param - lr * m2 / (v.sqrt() + eps), m2, v
        return param

    return adam_step


@pytest.mark.parametrize("kind,words", [
    ("no_bias", "WITHOUT bias correction"), ("eps_inside", "inside the square root"),
    ("step0", "step + 1"), ("m_only", "not v"), ("swapped", "Values differ"), ("one", "Expected a tuple of 3"),
])
def test_adam_wrong_answers(kind, words):
    v = ex.adam_step.evaluate(_adam(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


def _adamw(kind):
    def adamw_step(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        if kind == "l2":
            return ex.adam_step_reference(param, grad + weight_decay * param, m, v, step, lr, betas, eps)
        if kind == "after":
            p, m, v = ex.adam_step_reference(param, grad, m, v, step, lr, betas, eps)
            return p * (1 - lr * weight_decay), m, v
        if kind == "no_lr":
            return ex.adam_step_reference(param * (1 - weight_decay), grad, m, v, step, lr, betas, eps)
        return ex.adam_step_reference(param, grad, m, v, step, lr, betas, eps)

    return adamw_step


@pytest.mark.parametrize("kind,words", [("l2", "L2 regularisation"), ("after", "after the Adam step"),
                                        ("no_lr", "ignores the learning rate"), ("none", "no weight decay")])
def test_adamw_wrong_answers(kind, words):
    v = ex.adamw_step.evaluate(_adamw(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


def _wc(kind):
    def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1):
        if step < warmup_steps:
            if kind == "plus1":
                return base_lr * (start_factor + (1 - start_factor) * (step + 1) / warmup_steps)
            if kind == "from0":
                return base_lr * step / warmup_steps
            return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
        if kind == "total":
            return base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
        return base_lr * 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))

    return warmup_cosine


@pytest.mark.parametrize("kind,words", [("plus1", "one step ahead"), ("from0", "starts at 0"), ("total", "after the warm-up")])
def test_warmup_cosine_wrong_answers(kind, words):
    v = ex.warmup_cosine.evaluate(_wc(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


def _acc(kind):
    def accumulate(model, loss_fn, x, y, k):
        model.zero_grad()
        for xb, yb in zip(x.chunk(k), y.chunk(k), strict=True):
            if kind == "zero_inside":
                model.zero_grad()
            loss = loss_fn(model(xb), yb)
            (loss if kind in ("no_div", "zero_inside") else loss / k).backward()
        if kind == "zero_inside":
            for p in model.parameters():
                p.grad /= k
        grads = [p.grad.clone() for p in model.parameters()]
        return grads[:1] if kind == "short" else grads

    return accumulate


@pytest.mark.parametrize("kind,words", [("no_div", "times the full-batch gradient"), ("zero_inside", "last micro-batch"),
                                        ("short", "Return a list of 4 gradient")])
def test_accumulate_wrong_answers(kind, words):
    v = ex.accumulate.evaluate(_acc(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize("fn,words", [
    (lambda b, n: 2 * b, "2(n-1)/n"),
    (lambda b, n: (n - 1) / n * b, "one phase"),
    (lambda b, n: (n - 1) * b, "naive"),
    (lambda b, n: 2 * (n - 1) * b / n + 1, "Expected"),
])
def test_ring_wrong_answers(fn, words):
    def ring_allreduce_bytes(grad_bytes, n):
        return fn(grad_bytes, n)

    v = ex.ring_allreduce_bytes.evaluate(ring_allreduce_bytes)
    assert v.outcome == "incorrect" and words in v.message, v.message


def _zero(kind):
    def zero_memory(num_params, n_gpus, stage):
        p, n = num_params, n_gpus
        opt = {"no_master": 8, "fp32_grads": 12}.get(kind, 12) * p
        grads = (4 if kind == "fp32_grads" else 2) * p
        params = 2 * p
        if kind == "all":
            return 16 * p / n
        if stage >= 1:
            opt /= n
        if stage >= 2:
            grads /= n
        if stage >= 3:
            params /= n
        return params + grads + opt

    return zero_memory


@pytest.mark.parametrize("kind,words", [("no_master", "fp32 master copy"), ("fp32_grads", "4 bytes per gradient"),
                                        ("all", "shards everything")])
def test_zero_wrong_answers(kind, words):
    v = ex.zero_memory.evaluate(_zero(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message
