"""Optimizers and schedules from scratch equal torch.optim (notebook 06)."""

from __future__ import annotations

import pytest
import torch

from course_utils import optim

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, dampening=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.85, 0.95), weight_decay=0.3)),
]


def _problem(seed, dtype):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(40, 6, generator=g, dtype=dtype)
    y = torch.randn(40, 3, generator=g, dtype=dtype)
    W0 = torch.randn(6, 3, generator=g, dtype=dtype)
    b0 = torch.randn(3, generator=g, dtype=dtype)
    return A, y, W0, b0


def _run(make_opt, A, y, W0, b0, steps=100):
    W, b = W0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = make_opt([W, b])
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, len(A), (8,), generator=g)  # mini-batches: a noisy gradient
        loss = ((torch.tanh(A[idx] @ W + b) - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return W.detach(), b.detach()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_optimizer_equals_torch_after_100_steps(name, kw, dtype):
    for seed in (0, 1):
        A, y, W0, b0 = _problem(seed, dtype)
        ours = _run(lambda p: getattr(optim, name)(p, **kw), A, y, W0, b0)
        ref = _run(lambda p: getattr(torch.optim, name)(p, **kw, foreach=False), A, y, W0, b0)
        for a, r in zip(ours, ref, strict=True):
            assert (a - r).abs().max().item() < 1e-6
        assert not torch.equal(ours[0], W0)  # it did move


def test_decays_differ_adam_vs_adamw():
    A, y, W0, b0 = _problem(3, torch.float64)
    a = _run(lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1), A, y, W0, b0, steps=20)
    w = _run(lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1), A, y, W0, b0, steps=20)
    assert (a[0] - w[0]).abs().max() > 1e-4


def test_warmup_cosine_equals_torch_composition():
    for warm, total, sf, lo in [(5, 50, 0.1, 0.0), (1, 10, 0.5, 1e-4), (20, 100, 0.01, 0.001)]:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.4)
        sched = optim.torch_warmup_cosine(opt, warmup_steps=warm, total_steps=total, start_factor=sf, min_lr=lo)
        for step in range(total):
            ours = optim.warmup_cosine(step, base_lr=0.4, warmup_steps=warm, total_steps=total,
                                       start_factor=sf, min_lr=lo)
            assert abs(opt.param_groups[0]["lr"] - ours) < 1e-9, (step, opt.param_groups[0]["lr"], ours)
            opt.step()
            sched.step()


def test_bad_arguments_are_named():
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="lr"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(p, betas=(0.9,))
    with pytest.raises(ValueError, match="params"):
        optim.Adam([])
    with pytest.raises(ValueError, match="total_steps"):
        optim.warmup_cosine(0, base_lr=0.1, warmup_steps=5, total_steps=5)
    with pytest.raises(ValueError, match="step"):
        optim.warmup_cosine(-1, base_lr=0.1, warmup_steps=5, total_steps=10)
