"""Exercises of notebook 06 (efficient training): ``from course_utils.lessons import efficient_training as ex``.

* ``ex.adam_step``: one Adam step, bias correction included.
* ``ex.adamw_step``: one AdamW step, weight decay decoupled from the gradient.
* ``ex.warmup_cosine``: the learning rate of a warm-up + cosine schedule at a step.
* ``ex.accumulate``: gradients of k micro-batches that equal one big batch.
* ``ex.ring_allreduce_bytes``: bytes each GPU sends in a ring all-reduce.
* ``ex.zero_memory``: memory per GPU of data parallel vs ZeRO-1/2/3 with Adam in mixed precision.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

from course_utils.exercises import Case, Exercise, Incorrect, call_learner, compare

__all__ = [
    "accumulate",
    "accumulate_reference",
    "adam_step",
    "adam_step_reference",
    "adamw_step",
    "adamw_step_reference",
    "ring_allreduce_bytes",
    "ring_allreduce_bytes_reference",
    "warmup_cosine",
    "warmup_cosine_reference",
    "zero_memory",
    "zero_memory_reference",
]


def _close(a, b, tol=1e-6) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and bool(torch.allclose(a.double(), b.double(), rtol=1e-5, atol=tol)))


def _tuple_close(a, b) -> bool:
    return (isinstance(a, tuple | list) and len(a) == len(b) == 3
            and all(_close(x, y) for x, y in zip(a, b, strict=True)))


# ---------------------------------------------------------------- 1. Adam
def adam_step_reference(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step; returns (new_param, new_m, new_v). ``step`` counts from 1."""
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad  # running mean of the gradient
    v = b2 * v + (1 - b2) * grad**2  # running mean of its square
    m_hat = m / (1 - b1**step)  # bias correction: m and v start at 0
    v_hat = v / (1 - b2**step)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


def _adam_variants(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m1 = b1 * m + (1 - b1) * grad
    v1 = b2 * v + (1 - b2) * grad**2
    yield "no_bias", (param - lr * m1 / (v1.sqrt() + eps), m1, v1)
    yield "m_only", (param - lr * (m1 / (1 - b1**step)) / (v1.sqrt() + eps), m1, v1)
    yield "step0", (param - lr * (m1 / (1 - b1 ** (step + 1))) / ((v1 / (1 - b2 ** (step + 1))).sqrt() + eps), m1, v1)
    yield "eps_inside", (param - lr * (m1 / (1 - b1**step)) / (v1 / (1 - b2**step) + eps).sqrt(), m1, v1)
    yield "no_square", (param - lr * (m1 / (1 - b1**step)) / (v1 / (1 - b2**step) + eps), m1, v1)


_ADAM_REMARKS = {
    "no_bias": "Your step matches Adam WITHOUT bias correction: m and v start at zero, so early on they are too small; divide m by (1 - beta1**step) and v by (1 - beta2**step) before the update.",
    "m_only": "You bias-corrected m but not v: divide v by (1 - beta2**step) too.",
    "step0": "Your bias correction uses step + 1: here `step` already counts from 1 (the first update has step = 1).",
    "eps_inside": "You put eps inside the square root; torch.optim.Adam adds it after: sqrt(v_hat) + eps.",
    "no_square": "You divided by v_hat instead of its square root: the denominator is sqrt(v_hat) + eps.",
}


def _adam_diagnose(case, expected, received, variants=_adam_variants, remarks=_ADAM_REMARKS):
    if case is None:
        return None
    for name, out in variants(*case.args, **case.kwargs):
        if _tuple_close(out, received) and not _tuple_close(out, expected):
            return remarks[name]
    return None


def _adam_cases(with_decay: bool = False):
    g = torch.Generator().manual_seed(6)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    cases = []
    for step, lr, betas, shape in [(1, 1e-2, (0.9, 0.999), (5,)), (2, 1e-1, (0.9, 0.999), (3, 4)),
                                    (3, 5e-2, (0.8, 0.99), (2, 3)), (50, 1e-2, (0.9, 0.95), (6,))]:
        kw = dict(lr=lr, betas=betas)
        if with_decay:
            kw["weight_decay"] = 0.3
        m = r(*shape) * 0.1 if step > 1 else torch.zeros(shape, dtype=torch.float64)
        v = r(*shape).abs() * 0.01 if step > 1 else torch.zeros(shape, dtype=torch.float64)
        cases.append(Case((r(*shape), r(*shape), m, v, step), kw, label=f"step {step}, lr {lr}, betas {betas}"))
    kw = dict(lr=0.1, eps=1e-3, **({"weight_decay": 0.1} if with_decay else {}))
    z = torch.zeros(4, dtype=torch.float64)
    cases.append(Case((r(4), r(4) * 1e-3, z, z.clone(), 1), kw, label="tiny gradients, eps 1e-3"))
    return cases


adam_step = Exercise(
    "adam_step",
    title="One Adam step, with bias correction",
    reference=adam_step_reference,
    cases=_adam_cases,
    diagnose=_adam_diagnose,
    hints=[
        "Update the moments first: m = b1*m + (1-b1)*g and v = b2*v + (1-b2)*g**2.",
        "Then bias-correct (m / (1 - b1**step), v / (1 - b2**step)) and step: param - lr * m_hat / (sqrt(v_hat) + eps). Return the un-corrected m and v.",
    ],
    atol=1e-9,
)


# ---------------------------------------------------------------- 2. AdamW
def adamw_step_reference(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One AdamW step: shrink the weights by lr * weight_decay, then Adam on the raw gradient."""
    param = param * (1 - lr * weight_decay)  # decoupled decay, applied first (as torch does)
    return adam_step_reference(param, grad, m, v, step, lr, betas, eps)


def _adamw_variants(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    yield "l2", adam_step_reference(param, grad + weight_decay * param, m, v, step, lr, betas, eps)
    p, m1, v1 = adam_step_reference(param, grad, m, v, step, lr, betas, eps)
    yield "after", (p * (1 - lr * weight_decay), m1, v1)
    yield "no_lr", adam_step_reference(param * (1 - weight_decay), grad, m, v, step, lr, betas, eps)
    yield "none", (p, m1, v1)


_ADAMW_REMARKS = {
    "l2": "You added weight_decay * param to the gradient: that is Adam with L2 regularisation, whose decay is then divided by sqrt(v_hat). AdamW decays the weights directly: param * (1 - lr * weight_decay), and the moments see only the raw gradient.",
    "after": "You decayed the weights after the Adam step; torch.optim.AdamW decays first (param * (1 - lr * weight_decay)) and then applies the Adam update.",
    "no_lr": "Your decay ignores the learning rate: the weights shrink by a factor (1 - lr * weight_decay) per step.",
    "none": "Your step has no weight decay at all: shrink the weights by (1 - lr * weight_decay) first.",
}

adamw_step = Exercise(
    "adamw_step",
    title="One AdamW step: decoupled weight decay",
    reference=adamw_step_reference,
    cases=lambda: _adam_cases(with_decay=True),
    diagnose=lambda c, e, r: _adam_diagnose(c, e, r, _adamw_variants, _ADAMW_REMARKS),
    hints=[
        "AdamW = shrink the weights, then a plain Adam step whose gradient has no decay term.",
        "param = param * (1 - lr * weight_decay); then the Adam step of exercise 1 on (param, grad).",
    ],
    atol=1e-9,
)


# ---------------------------------------------------------------- 3. warm-up + cosine
def warmup_cosine_reference(step, base_lr, warmup_steps, total_steps, start_factor=0.1):
    """LR at 0-based ``step``: linear from start_factor*base_lr to base_lr, then cosine to 0."""
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 -> 1 after warm-up
    return base_lr * 0.5 * (1 + math.cos(math.pi * progress))


def _wc_variants(step, base_lr, warmup_steps, total_steps, start_factor=0.1):
    if step < warmup_steps:
        yield "warm_plus1", base_lr * (start_factor + (1 - start_factor) * (step + 1) / warmup_steps)
        yield "warm_from0", base_lr * step / warmup_steps
    else:
        yield "cos_total", base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
        yield "cos_nohalf", base_lr * math.cos(math.pi / 2 * (step - warmup_steps) / (total_steps - warmup_steps))


_WC_REMARKS = {
    "warm_plus1": "Your warm-up is one step ahead: at step 0 the rate is start_factor * base_lr (LinearLR starts there), so use step, not step + 1.",
    "warm_from0": "Your warm-up starts at 0: torch's LinearLR starts at start_factor * base_lr (a rate of 0 would waste the first step).",
    "cos_total": "Your cosine runs over total_steps from step 0: it must start after the warm-up, with progress (step - warmup_steps) / (total_steps - warmup_steps).",
    "cos_nohalf": "Your decay is a quarter cosine; the schedule is the half cosine 0.5 * (1 + cos(pi * progress)).",
}


def _wc_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    for name, out in _wc_variants(*case.args, **case.kwargs):
        if math.isclose(out, received, rel_tol=1e-6, abs_tol=1e-12) and not math.isclose(out, expected, rel_tol=1e-6, abs_tol=1e-12):
            return _WC_REMARKS[name]
    return None


def _wc_cases():
    cases = []
    for step in (0, 1, 4, 5, 6, 20, 39):
        cases.append(Case((step, 0.4, 5, 40), label=f"step {step} of 40, warm-up 5"))
    cases.append(Case((2, 1.0, 10, 100), dict(start_factor=0.01), label="start_factor 0.01"))
    cases.append(Case((55, 1.0, 10, 100), dict(start_factor=0.01), label="mid-cosine"))
    return cases


warmup_cosine = Exercise(
    "warmup_cosine",
    title="Warm-up then cosine decay",
    reference=warmup_cosine_reference,
    cases=_wc_cases,
    diagnose=_wc_diagnose,
    hints=[
        "Two branches: step < warmup_steps (a straight line from start_factor*base_lr towards base_lr) and after (a half cosine from base_lr down to 0).",
        "After the warm-up, progress = (step - warmup_steps) / (total_steps - warmup_steps) and lr = base_lr * 0.5 * (1 + cos(pi * progress)).",
    ],
    atol=1e-12,
    rtol=1e-9,
)


# ---------------------------------------------------------------- 4. gradient accumulation
def accumulate_reference(model, loss_fn, x, y, k):
    """Gradients (a list, one per parameter) of the mean loss over the whole batch (x, y),
    computed from k micro-batches of equal size."""
    model.zero_grad()
    for xb, yb in zip(x.chunk(k), y.chunk(k), strict=True):
        loss = loss_fn(model(xb), yb) / k  # each micro-batch's mean loss counts 1/k
        loss.backward()  # .grad accumulates (adds) across backward calls
    return [p.grad.clone() for p in model.parameters()]


def _accumulate_judge(answer):
    if not callable(answer):
        raise Incorrect("Pass your function itself: accumulate(model, loss_fn, x, y, k).")
    g = torch.Generator().manual_seed(11)
    for k in (1, 2, 4):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
        x = torch.randn(8, 5, generator=g, dtype=torch.float64)
        y = torch.randint(0, 3, (8,), generator=g)
        loss_fn = nn.CrossEntropyLoss()
        model.zero_grad()
        loss_fn(model(x), y).backward()
        full = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        got = call_learner(answer, model, loss_fn, x, y, k, name="accumulate")
        if not isinstance(got, list | tuple) or len(got) != len(full):
            raise Incorrect(f"Return a list of {len(full)} gradient tensors (one per parameter, in model.parameters() order); received {type(got).__name__}.")
        if k > 1 and all(_close(a, b * k) for a, b in zip(got, full, strict=True)):
            raise Incorrect(f"With k = {k} your gradients are {k} times the full-batch gradient: divide each micro-batch's loss by k (the full-batch loss is a mean over all samples).")
        if k > 1:
            last = x.chunk(k)[-1], y.chunk(k)[-1]
            model.zero_grad()
            (loss_fn(model(last[0]), last[1]) / k).backward()
            only_last = [p.grad.clone() for p in model.parameters()]
            if all(_close(a, b) for a, b in zip(got, only_last, strict=True)):
                raise Incorrect("Your gradients are those of the last micro-batch only: do not zero the gradients between micro-batches; backward() adds into .grad.")
        compare(full, [t for t in got], rtol=1e-6, atol=1e-9, where=f"(gradients, k = {k}, batch 8)")


accumulate = Exercise(
    "accumulate",
    title="Gradient accumulation equals one large batch",
    judge=_accumulate_judge,
    solution=inspect.getsource(accumulate_reference),
    expects_function=True,
    hints=[
        "Split x and y into k chunks (x.chunk(k)); call backward() once per chunk without zeroing in between: .grad adds up.",
        "The big batch's loss is the mean over all samples = the mean of the k micro-batch means, so scale each micro-batch loss by 1/k.",
    ],
)


# ---------------------------------------------------------------- 5. ring all-reduce traffic
def ring_allreduce_bytes_reference(grad_bytes, n):
    """Bytes each of n GPUs sends in a ring all-reduce of a grad_bytes buffer:
    reduce-scatter (n-1 chunks of grad_bytes/n) then all-gather (n-1 more)."""
    return 2 * (n - 1) / n * grad_bytes


def _ring_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    b, n = case.args
    wrong = {
        "Your answer is 2 x the gradient bytes: the ring sends chunks of size bytes/n, n - 1 times in each of its two phases, so the factor is 2(n-1)/n.": 2 * b,
        "Your answer counts only one phase (the reduce-scatter): an all-reduce also all-gathers the reduced chunks, which doubles the traffic: 2(n-1)/n.": (n - 1) / n * b,
        "Your answer is what a naive all-to-all (or a parameter server's hub) sends; the ring sends only 2(n-1)/n times the gradient bytes per GPU.": (n - 1) * b,
    }
    for remark, value in wrong.items():
        if math.isclose(value, received, rel_tol=1e-9) and not math.isclose(value, expected, rel_tol=1e-9):
            return remark
    return None


ring_allreduce_bytes = Exercise(
    "ring_allreduce_bytes",
    title="Ring all-reduce: bytes sent per GPU",
    reference=ring_allreduce_bytes_reference,
    cases=[Case((100e6, 8), label="100 MB of gradients on 8 GPUs"), Case((4e9, 64), label="4 GB on 64 GPUs"),
           Case((1000.0, 2), label="2 GPUs"), Case((1000.0, 1), label="one GPU: nothing to send"),
           Case((12.0, 3), label="3 GPUs")],
    diagnose=_ring_diagnose,
    hints=["The ring cuts the buffer into n chunks. Phase 1 (reduce-scatter) takes n - 1 hops, phase 2 (all-gather) n - 1 more.",
           "Each hop sends one chunk of grad_bytes / n: total 2 (n - 1) grad_bytes / n."],
    rtol=1e-9,
)


# ---------------------------------------------------------------- 6. ZeRO memory
def zero_memory_reference(num_params, n_gpus, stage):
    """Bytes of model states per GPU for Adam in mixed precision (ZeRO paper, Rajbhandari et al., 2020):
    fp16 params (2), fp16 grads (2), fp32 master params + Adam m + v (4 + 4 + 4 = 12) per parameter.
    stage 0 = plain data parallel; 1 shards the optimizer states, 2 also the gradients, 3 also the params."""
    p, n = num_params, n_gpus
    params, grads, opt = 2 * p, 2 * p, 12 * p
    if stage >= 1:
        opt /= n
    if stage >= 2:
        grads /= n
    if stage >= 3:
        params /= n
    return params + grads + opt


def _zero_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    p, n, s = case.args
    shard = lambda x, k: x / n if s >= k else x  # noqa: E731
    wrong = {
        "You left out the fp32 master copy of the weights: Adam in mixed precision keeps fp32 params, m and v (12 bytes per parameter), beside the fp16 params and grads (2 + 2).": shard(2 * p, 3) + shard(2 * p, 2) + shard(8 * p, 1),
        "Your answer counts 4 bytes per gradient: in mixed precision the gradients are fp16 (2 bytes); the fp32 copies are the master weights and Adam's m and v.": shard(2 * p, 3) + shard(4 * p, 2) + shard(12 * p, 1),
        "Each stage shards one more thing: stage 1 the optimizer states, stage 2 also the gradients, stage 3 also the parameters. Your answer shards everything already.": 16 * p / n,
    }
    for remark, value in wrong.items():
        if math.isclose(value, received, rel_tol=1e-9) and not math.isclose(value, expected, rel_tol=1e-9):
            return remark
    return None


zero_memory = Exercise(
    "zero_memory",
    title="Memory per GPU: data parallel vs ZeRO-1/2/3",
    reference=zero_memory_reference,
    cases=[Case((1e9, 8, s), label=f"1B params, 8 GPUs, stage {s}") for s in (0, 1, 2, 3)]
    + [Case((7.5e9, 64, s), label=f"7.5B params, 64 GPUs, stage {s}") for s in (1, 2, 3)],
    diagnose=_zero_diagnose,
    hints=["Per parameter: fp16 weight 2 B, fp16 gradient 2 B, fp32 master weight 4 B, Adam m 4 B, Adam v 4 B: 16 B in all.",
           "Stage 1 divides the 12 optimizer bytes by n; stage 2 also the 2 gradient bytes; stage 3 also the 2 weight bytes."],
    rtol=1e-9,
)
