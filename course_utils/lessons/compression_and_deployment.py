"""Exercises of notebook 07: ``from course_utils.lessons import compression_and_deployment as ex``.

* ``ex.scale_zero_point``: the scale and zero-point of affine (asymmetric) quantization.
* ``ex.per_channel``: symmetric int8 quantization of a weight, one scale per output channel.
* ``ex.distillation``: the T^2-scaled distillation loss plus cross-entropy.
* ``ex.cache_size``: how many values a streaming stack of dilated causal convolutions keeps.
* ``ex.resume``: restore a checkpoint (model, optimizer, scheduler, RNG) and return the epoch
  to resume at.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below.
"""

from __future__ import annotations

import inspect
import random
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.exercises import Case, Exercise, Incorrect, call_learner, match_variant

__all__ = [
    "cache_size",
    "cache_size_reference",
    "distillation",
    "distillation_reference",
    "per_channel",
    "per_channel_reference",
    "resume",
    "resume_reference",
    "scale_zero_point",
    "scale_zero_point_reference",
]


# ---------------------------------------------------------------- 1. scale and zero-point
def scale_zero_point_reference(x_min, x_max, q_min=0, q_max=255):
    """Affine quantization of the real range [x_min, x_max] onto the integers q_min..q_max."""
    scale = (x_max - x_min) / (q_max - q_min)  # real units per integer step
    zero_point = round(q_min - x_min / scale)  # the integer that stands for the real 0
    zero_point = max(q_min, min(q_max, zero_point))  # must itself be a storable integer
    return scale, zero_point


def _szp_diagnose(case, expected, received):
    if case is None or not isinstance(received, tuple | list) or len(received) != 2:
        return None
    x_min, x_max = case.args[:2]
    q_min = case.kwargs.get("q_min", 0)
    q_max = case.kwargs.get("q_max", 255)
    s, z = received
    if not isinstance(s, int | float) or not isinstance(z, int | float):
        return None
    scale = (x_max - x_min) / (q_max - q_min)
    raw = q_min - x_min / scale
    if abs(s - (x_max - x_min) / (q_max - q_min + 1)) < 1e-9 * max(1, abs(s)) and abs(s - scale) > 1e-12:
        return "There are q_max - q_min steps between q_min and q_max (255 for 8 bits), not 256: scale = (x_max - x_min) / (q_max - q_min)."
    if isinstance(z, float) and not float(z).is_integer() and abs(z - raw) < 1e-6 * max(1, abs(raw)):
        return "Your zero-point is not rounded: it must be an integer (the integer that represents 0.0), so round(q_min - x_min / scale)."
    if abs(z - round(raw)) < 1e-9 and not q_min <= z <= q_max:
        return f"Your zero-point {z} lies outside the storable integers [{q_min}, {q_max}]: clamp it (the range here does not contain 0)."
    flipped = round(q_min + x_min / scale)
    if abs(z - flipped) < 1e-9 or abs(z - max(q_min, min(q_max, flipped))) < 1e-9:
        return "Sign error: the real value x_min must map to q_min, so zero_point = q_min - x_min / scale (x_min is usually negative)."
    return None


scale_zero_point = Exercise(
    "scale_zero_point",
    title="Scale and zero-point of affine quantization",
    reference=scale_zero_point_reference,
    cases=[
        Case((-1.0, 1.0), label="a symmetric range"),
        Case((-0.3, 1.7), label="an asymmetric range"),
        Case((-2.5, 0.4), dict(q_min=-128, q_max=127), label="signed int8"),
        Case((0.5, 2.0), label="only positive values: the range does not contain 0"),
        Case((-3.0, -1.0), label="only negative values"),
        Case((-0.123, 5.0), dict(q_min=0, q_max=15), label="4 bits"),
    ],
    diagnose=_szp_diagnose,
    hints=[
        "The range x_max - x_min is cut into q_max - q_min steps: that is the scale. The zero-point is the integer to which the real 0.0 maps: solve x_min -> q_min for it.",
        "zero_point = round(q_min - x_min / scale), then clamp it into [q_min, q_max] with max(q_min, min(q_max, zero_point)).",
    ],
)


# ---------------------------------------------------------------- 2. per-channel quantization
def per_channel_reference(w):
    """Symmetric int8, one scale per output channel (axis 0): returns (q int8, scales float32 (C,))."""
    dims = tuple(range(1, w.ndim))  # every axis but the output channels
    scales = w.abs().amax(dim=dims) / 127  # (C,) the largest |w| of a channel maps to 127
    shape = (-1,) + (1,) * (w.ndim - 1)  # (C, 1, ...) to broadcast against w
    q = torch.round(w / scales.view(shape)).clamp(-128, 127).to(torch.int8)
    return q, scales


def _pc_diagnose(case, expected, received):
    if case is None or not isinstance(received, tuple | list) or len(received) != 2:
        return None
    (w,) = case.args
    q, scales = received
    if not isinstance(q, torch.Tensor) or not isinstance(scales, torch.Tensor):
        return None
    if scales.numel() == 1 or (scales.numel() == w.shape[0] and torch.allclose(scales.float(), torch.full_like(scales.float(), float(w.abs().max()) / 127))):
        return "That is one scale for the whole tensor (per-tensor): take the max |w| of each output channel separately, w.abs().amax(dim=(1, ...)) over every axis but 0."
    if scales.numel() == w[0].numel() or (w.ndim == 2 and scales.numel() == w.shape[1]):
        return "Your scales run along the wrong axis: one scale per output channel means reducing over every axis except axis 0."
    if scales.shape == expected[1].shape and torch.allclose(scales.float(), expected[1] * 127 / 128):
        return "Symmetric int8 uses -127..127 around 0 so that 0 stays exact: divide the channel max by 127, not 128."
    if scales.shape == expected[1].shape and torch.allclose(scales.float(), expected[1] * 127 / 255):
        return "Symmetric int8 has 127 positive levels: divide by 127, not 255."
    if q.shape == w.shape and torch.equal(q.to(torch.int64), (w / expected[1].view((-1,) + (1,) * (w.ndim - 1))).to(torch.int8).to(torch.int64)):
        return "Casting with .to(torch.int8) truncates toward zero: round first with torch.round(...)."
    return None


def _pc_cases():
    g = torch.Generator().manual_seed(7)
    spread = torch.tensor([0.01, 0.1, 1.0, 10.0])
    return [
        Case((torch.randn(4, 6, generator=g) * spread[:, None],), label="a Linear weight (4, 6) whose rows differ 1000x in size"),
        Case((torch.randn(8, 3, 3, 3, generator=g),), label="a Conv2d weight (8, 3, 3, 3)"),
        Case((torch.randn(5, 2, 3, generator=g) * 0.02,), label="a Conv1d weight (5, 2, 3)"),
        Case((torch.randn(3, 1, 1, 1, 1, generator=g),), label="a Conv3d weight with one number per channel"),
    ]


per_channel = Exercise(
    "per_channel",
    title="Per-channel int8 quantization of a weight",
    reference=per_channel_reference,
    cases=_pc_cases,
    diagnose=_pc_diagnose,
    hints=[
        "Each output channel c (w[c]) gets its own scale: the largest |w[c]| maps to 127. Reduce with amax over every axis except 0.",
        "scales = w.abs().amax(dim=tuple(range(1, w.ndim))) / 127; then q = torch.round(w / scales.view(-1, 1, ...)).clamp(-128, 127).to(torch.int8).",
    ],
)


# ---------------------------------------------------------------- 3. distillation loss
def distillation_reference(student_logits, teacher_logits, labels, T=4.0, alpha=0.5):
    """alpha * T^2 * KL(softmax(z_t/T) || softmax(z_s/T)) + (1 - alpha) * CE(z_s, y), batch mean."""
    log_p_s = F.log_softmax(student_logits / T, dim=1)  # (N, K) softened student
    p_t = F.softmax(teacher_logits / T, dim=1)  # (N, K) softened teacher, the target
    soft = F.kl_div(log_p_s, p_t, reduction="batchmean")  # sum over classes, mean over the batch
    hard = F.cross_entropy(student_logits, labels)
    return alpha * T * T * soft + (1 - alpha) * hard


def _distill_variants(zs, zt, y, T, alpha):
    ls, lt = F.log_softmax(zs / T, 1), F.log_softmax(zt / T, 1)
    kl = F.kl_div(ls, lt, reduction="batchmean", log_target=True)
    hard = F.cross_entropy(zs, y)
    yield "no_T2", alpha * kl + (1 - alpha) * hard
    yield "T_once", alpha * T * kl + (1 - alpha) * hard
    yield "reversed", alpha * T * T * F.kl_div(lt, ls, reduction="batchmean", log_target=True) + (1 - alpha) * hard
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that 'mean' is not the KL divergence: that is the point
        mean = F.kl_div(ls, lt, reduction="mean", log_target=True)
    yield "mean", alpha * T * T * mean + (1 - alpha) * hard
    yield "teacher_unsoftened", alpha * T * T * F.kl_div(ls, F.log_softmax(zt, 1), reduction="batchmean", log_target=True) + (1 - alpha) * hard
    yield "ce_soft", alpha * T * T * F.kl_div(F.log_softmax(zs, 1), F.log_softmax(zt, 1), reduction="batchmean", log_target=True) + (1 - alpha) * hard
    yield "no_ce", alpha * T * T * kl
    yield "weights_swapped", (1 - alpha) * T * T * kl + alpha * hard


_DISTILL_REMARKS = {
    "no_T2": "The T^2 factor is missing: softening by T shrinks the soft term's gradients by 1/T^2, so multiply the KL term by T * T to keep its weight independent of T.",
    "T_once": "Multiply by T squared (T * T), not by T: the soft gradients shrink like 1/T^2.",
    "reversed": "Your KL runs the wrong way: the teacher's distribution is the target, KL(p_teacher || p_student), i.e. F.kl_div(log p_student, p_teacher).",
    "mean": "reduction='mean' divides by N*K (every entry); the KL divergence sums over classes: use reduction='batchmean'.",
    "teacher_unsoftened": "Soften the teacher too: both logits are divided by T before the softmax.",
    "ce_soft": "The KL term compares the temperature-softened distributions: divide both logits by T.",
    "no_ce": "The cross-entropy with the true labels is missing: add (1 - alpha) * F.cross_entropy(student_logits, labels).",
    "weights_swapped": "alpha weighs the soft (teacher) term and 1 - alpha the hard (label) term.",
}


def _distill_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.numel() != 1:
        return None
    zs, zt, y = case.args
    T, alpha = case.kwargs.get("T", 4.0), case.kwargs.get("alpha", 0.5)
    variants = ((_DISTILL_REMARKS[name], value) for name, value in _distill_variants(zs, zt, y, T, alpha))
    return match_variant(received.reshape(()), expected.reshape(()), variants)  # the shared matcher (exercises.py)


def _distill_cases():
    g = torch.Generator().manual_seed(11)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    y = lambda n, k: torch.randint(0, k, (n,), generator=g)  # noqa: E731
    return [
        Case((r(4, 5), 3 * r(4, 5), y(4, 5)), label="defaults T=4, alpha=0.5"),
        Case((r(8, 10), 3 * r(8, 10), y(8, 10)), dict(T=2.0, alpha=0.7), label="T=2, alpha=0.7"),
        Case((r(3, 8), 5 * r(3, 8), y(3, 8)), dict(T=8.0, alpha=0.9), label="a high temperature"),
        Case((r(6, 4), 2 * r(6, 4), y(6, 4)), dict(T=3.0, alpha=0.3)),
    ]


distillation = Exercise(
    "distillation",
    title="The distillation loss",
    reference=distillation_reference,
    cases=_distill_cases,
    diagnose=_distill_diagnose,
    hints=[
        "Soften both: log_softmax(student / T) and softmax(teacher / T). F.kl_div(input=log p_student, target=p_teacher, reduction='batchmean') is KL(p_teacher || p_student).",
        "Multiply that KL by T * T (its gradients shrink like 1/T^2), weight it by alpha, and add (1 - alpha) * F.cross_entropy(student_logits, labels).",
    ],
    rtol=1e-4,
    atol=1e-6,
)


# ---------------------------------------------------------------- 4. cache size
def cache_size_reference(kernel_size, dilations, channels):
    """Values a streaming stack of causal Conv1d layers keeps between frames."""
    per_layer = [(kernel_size - 1) * d for d in dilations]  # past inputs each layer still needs
    return channels * sum(per_layer)


def _cache_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    k, dil, c = case.args
    s = sum(dil)
    if received == c * k * s:
        return "Off by one: a kernel of size k needs the new input plus k - 1 past ones, so each layer caches (k - 1) * d inputs, not k * d."
    if received == c * ((k - 1) * s + 1) or received == c * ((k - 1) * s + len(dil)):
        return "Off by one: the current frame arrives with the step, it is not cached. Cache (k - 1) * d past inputs per layer (the receptive field is that sum plus one)."
    if received == (k - 1) * s:
        return "Each cached step is a vector of `channels` values: multiply by channels."
    if received == c * (k - 1) * max(dil) or received == c * (k - 1) * dil[-1]:
        return "Every layer keeps its own cache: sum (k - 1) * d over all layers, not only the last or widest."
    return None


cache_size = Exercise(
    "cache_size",
    title="Cache of a streaming dilated causal stack",
    reference=cache_size_reference,
    cases=[
        Case((3, [1, 2, 4], 64), label="the lesson's stack"),
        Case((2, [1], 1), label="one layer, kernel 2"),
        Case((3, [1, 1, 1], 8), label="no dilation"),
        Case((5, [1, 3, 9], 16)),
        Case((1, [1, 2], 4), label="kernel 1 needs no past at all"),
        Case((4, [2, 8], 32)),
    ],
    diagnose=_cache_diagnose,
    hints=[
        "A causal layer with kernel k and dilation d computes y_t from x_t, x_{t-d}, ..., x_{t-(k-1)d}. Which of these does it have to remember from earlier steps?",
        "(k - 1) * d past input vectors per layer, each of `channels` values; add up the layers.",
    ],
)


# ---------------------------------------------------------------- 5. resume from a checkpoint
def resume_reference(path, model, optimizer, scheduler):
    """Restore a checkpoint written by course_utils.deploy.save_checkpoint; return the epoch to start at."""
    ckpt = torch.load(path, weights_only=False)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])  # Adam's moments and step counts
    scheduler.load_state_dict(ckpt["scheduler"])  # where the learning-rate schedule is
    torch.set_rng_state(ckpt["rng"]["torch"])  # dropout masks and shuffling continue identically
    np.random.set_state(ckpt["rng"]["numpy"])
    random.setstate(ckpt["rng"]["python"])
    return ckpt["epoch"]  # epochs completed = the index of the next epoch


def _make_run(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    return model, optimizer, scheduler


def _train_epoch(model, optimizer, scheduler, x, y):
    model.train()
    for _ in range(0, len(x), 8):
        idx = torch.randperm(len(x))[:8]  # global RNG
        optimizer.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        optimizer.step()
    scheduler.step()


def _resume_judge(answer):
    from course_utils.deploy import save_checkpoint

    if not callable(answer):
        raise Incorrect("Pass your function resume(path, model, optimizer, scheduler) itself.")
    with torch.random.fork_rng(devices=[]):
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            g = torch.Generator().manual_seed(0)
            x, y = torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)
            model, opt, sched = _make_run(1)
            for _ in range(3):
                _train_epoch(model, opt, sched, x, y)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "ckpt.pt"
                save_checkpoint(path, model, opt, sched, 3)
                saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
                _train_epoch(model, opt, sched, x, y)  # the uninterrupted run's epoch 4 ...
                want_params = [p.detach().clone() for p in model.parameters()]
                want_lr = opt.param_groups[0]["lr"]
                torch.manual_seed(999)  # ... and a fresh process after the crash
                np.random.seed(999)
                random.seed(999)
                model2, opt2, sched2 = _make_run(2)
                start = call_learner(answer, path, model2, opt2, sched2, name="resume")
            if isinstance(start, bool) or not (isinstance(start, int) or (isinstance(start, torch.Tensor) and start.numel() == 1 and not start.is_floating_point() and not start.is_complex())) or int(start) != 3:
                if isinstance(start, int) and start in (2, 4):
                    raise Incorrect(f"resume returned {start}, expected 3. Off by one: the checkpoint's 'epoch' counts the epochs already completed (0, 1, 2 done), which is also the index of the next epoch: return it as it is.")
                raise Incorrect(f"resume should return the epoch to resume at, the checkpoint's 'epoch' (3 here); it returned {start!r}.")
            restored = model2.state_dict()
            if not all(torch.equal(restored[k], v) for k, v in saved.items()):
                raise Incorrect("The model's weights were not restored: call model.load_state_dict(ckpt['model']).")
            if sched2.last_epoch != 3:
                raise Incorrect(f"The scheduler was not restored: its last_epoch is {sched2.last_epoch}, the checkpoint's is 3, so the learning rate would restart from its initial value. Call scheduler.load_state_dict(ckpt['scheduler']).")
            if not opt2.state:
                raise Incorrect("The optimizer was not restored: Adam's moment estimates are empty, so the next steps would differ from the uninterrupted run. Call optimizer.load_state_dict(ckpt['optimizer']).")
            _train_epoch(model2, opt2, sched2, x, y)
            got = [p.detach() for p in model2.parameters()]
            if not all(torch.equal(a, b) for a, b in zip(got, want_params, strict=True)):
                raise Incorrect("After your resume, one more epoch does not give the uninterrupted run's weights bit for bit: the random number generators were not restored (dropout masks and shuffling differ). Restore torch, numpy and python RNG states from ckpt['rng'].")
            if opt2.param_groups[0]["lr"] != want_lr:
                raise Incorrect("The learning rate after resuming differs from the uninterrupted run's: restore the scheduler's state.")
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


resume = Exercise(
    "resume",
    title="Resume training from a checkpoint",
    judge=_resume_judge,
    expects_function=True,
    solution=inspect.getsource(resume_reference),
    hints=[
        "ckpt = torch.load(path, weights_only=False) is a dict with 'model', 'optimizer', 'scheduler', 'epoch' and 'rng' (with 'torch', 'numpy', 'python'). Each object has load_state_dict.",
        "Load all three state dicts, then torch.set_rng_state, np.random.set_state and random.setstate; return ckpt['epoch'] (epochs completed) unchanged.",
    ],
)
