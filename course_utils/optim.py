"""Optimizers and learning-rate schedules from scratch (notebook 06).

Each optimizer below is the update rule written out in a few lines, with the same argument
names and defaults as its ``torch.optim`` twin, so that after any number of steps it holds
the same parameters (the tests check 100 steps to 1e-6, weight decay included):

* :class:`SGD` (plain, heavy-ball momentum, Nesterov momentum, L2 weight decay through the
  gradient), :class:`Adam` (bias-corrected moments, L2 weight decay through the gradient),
  :class:`AdamW` (decoupled weight decay: the weights shrink directly, the moments never
  see the decay).
* the single-tensor update functions :func:`sgd_update`, :func:`adam_update` and
  :func:`adamw_update` the classes use: one step for one tensor, easy to read and test.
* :func:`warmup_cosine`: linear warm-up then cosine decay, equal to
  ``SequentialLR(LinearLR, CosineAnnealingLR)`` (see :func:`torch_warmup_cosine`).

Full-batch gradient descent uses the gradient of the loss over the *whole* training set;
mini-batch SGD uses the gradient over a random batch, an unbiased but noisy estimate of it.
The update rule ``w <- w - lr * g`` is the same; what changes is which ``g``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from course_utils.validate import check_int, check_number, check_tensor

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "adam_update",
    "adamw_update",
    "sgd_update",
    "torch_warmup_cosine",
    "warmup_cosine",
]


def _check_float(name: str, value: object, minimum: float = 0.0, maximum: float | None = None) -> float:
    if isinstance(value, float) and math.isinf(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value >= maximum) or math.isnan(value):
        hi = f" and < {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be >= {minimum}{hi}, got {value!r}")
    return float(value)


def _check_betas(betas: object) -> tuple[float, float]:
    if not (isinstance(betas, tuple | list) and len(betas) == 2):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return _check_float("betas[0]", betas[0], 0.0, 1.0), _check_float("betas[1]", betas[1], 0.0, 1.0)


# ------------------------------------------------------------------ single-tensor updates
@torch.no_grad()
def sgd_update(param: torch.Tensor, grad: torch.Tensor, buf: torch.Tensor | None, *, lr: float,
               momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
               dampening: float = 0.0) -> torch.Tensor | None:
    """One SGD step on ``param`` in place; returns the new momentum buffer (None without momentum).

    ``g = grad + weight_decay * param``; with momentum ``buf = momentum * buf + (1 - dampening) * g``
    (``buf = g`` at the first step), and the step direction is ``buf`` (heavy ball) or
    ``g + momentum * buf`` (Nesterov: look ahead along the velocity).
    """
    check_tensor("param", param, floating=True)
    check_tensor("grad", grad, floating=True)
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param {tuple(param.shape)}, got {tuple(grad.shape)}")
    if buf is not None:
        check_tensor("buf", buf, floating=True)
    check_number("lr", lr, minimum=0)
    check_number("momentum", momentum, minimum=0)
    check_number("weight_decay", weight_decay, minimum=0)
    check_number("dampening", dampening, minimum=0, maximum=1)
    g = grad + weight_decay * param if weight_decay else grad  # L2 through the gradient
    if momentum:
        buf = g.clone() if buf is None else buf.mul_(momentum).add_(g, alpha=1 - dampening)
        g = g + momentum * buf if nesterov else buf
    param.add_(g, alpha=-lr)
    return buf if momentum else None


@torch.no_grad()
def adam_update(param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: int, *,
                lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0) -> None:
    """One Adam step (Kingma & Ba, 2015) on ``param``; ``m`` and ``v`` are updated in place.

    ``step`` counts from 1. The moments start at zero, so they are biased towards zero for
    the first steps: divide by ``1 - beta**step`` (bias correction). Weight decay here is
    L2 regularisation added to the gradient (it then passes through the moments).
    """
    for _name, _t in (("param", param), ("grad", grad), ("m", m), ("v", v)):
        check_tensor(_name, _t, floating=True)
        if _t.shape != param.shape:
            raise ValueError(f"{_name} must have the shape of param {tuple(param.shape)}, got {tuple(_t.shape)}")
    check_int("step", step, minimum=1)
    check_number("lr", lr, minimum=0)
    check_number("eps", eps, minimum=0)
    check_number("weight_decay", weight_decay, minimum=0)
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for _i, _b in enumerate(betas):
        check_number(f"betas[{_i}]", _b, minimum=0, maximum=1, inclusive=True)
    b1, b2 = betas
    g = grad + weight_decay * param if weight_decay else grad
    m.mul_(b1).add_(g, alpha=1 - b1)  # first moment: running mean of g
    v.mul_(b2).addcmul_(g, g, value=1 - b2)  # second moment: running mean of g^2
    m_hat = m / (1 - b1**step)  # bias corrections
    v_hat = v / (1 - b2**step)
    param.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)


@torch.no_grad()
def adamw_update(param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: int, *,
                 lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
    """One AdamW step (Loshchilov & Hutter, 2019): decay the weights directly by
    ``lr * weight_decay``, then an Adam step on the *undecayed* gradient."""
    for _name, _t in (("param", param), ("grad", grad), ("m", m), ("v", v)):
        check_tensor(_name, _t, floating=True)
        if _t.shape != param.shape:
            raise ValueError(f"{_name} must have the shape of param {tuple(param.shape)}, got {tuple(_t.shape)}")
    check_int("step", step, minimum=1)
    check_number("lr", lr, minimum=0)
    check_number("eps", eps, minimum=0)
    check_number("weight_decay", weight_decay, minimum=0)
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for _i, _b in enumerate(betas):
        check_number(f"betas[{_i}]", _b, minimum=0, maximum=1, inclusive=True)
    param.mul_(1 - lr * weight_decay)  # decoupled weight decay
    adam_update(param, grad, m, v, step, lr=lr, betas=betas, eps=eps, weight_decay=0.0)


# ------------------------------------------------------------------------ optimizer classes
class _Optimizer:
    """Shared plumbing: a list of parameters, per-parameter state, ``zero_grad``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("params must contain at least one tensor (got an empty iterable)")
        if not all(isinstance(p, torch.Tensor) for p in self.params):
            raise TypeError("params must be tensors (e.g. model.parameters())")
        if not all(p.is_floating_point() for p in self.params):
            raise TypeError("params must be floating-point tensors (real weights, e.g. model.parameters())")
        self.lr = _check_float("lr", lr)
        self.state: dict[int, dict] = {i: {} for i in range(len(self.params))}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _with_grad(self):
        return [(i, p) for i, p in enumerate(self.params) if p.grad is not None]


class SGD(_Optimizer):
    """``torch.optim.SGD`` written out (notebook 06): momentum, Nesterov, L2 weight decay."""

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _check_float("momentum", momentum)
        self.dampening = _check_float("dampening", dampening)
        self.weight_decay = _check_float("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def step(self) -> None:
        for i, p in self._with_grad():
            st = self.state[i]
            st["momentum_buffer"] = sgd_update(
                p, p.grad, st.get("momentum_buffer"), lr=self.lr, momentum=self.momentum,
                weight_decay=self.weight_decay, nesterov=self.nesterov, dampening=self.dampening)


class Adam(_Optimizer):
    """``torch.optim.Adam`` written out (notebook 06); weight decay is L2 through the gradient."""

    _update = staticmethod(adam_update)

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = _check_float("eps", eps)
        self.weight_decay = _check_float("weight_decay", weight_decay)

    def step(self) -> None:
        for i, p in self._with_grad():
            st = self.state[i]
            if not st:
                st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
            st["step"] += 1
            self._update(p, p.grad, st["exp_avg"], st["exp_avg_sq"], st["step"], lr=self.lr,
                         betas=self.betas, eps=self.eps, weight_decay=self.weight_decay)


class AdamW(Adam):
    """``torch.optim.AdamW`` written out (notebook 06): decoupled weight decay (default 0.01)."""

    _update = staticmethod(adamw_update)

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


# ------------------------------------------------------------------------------- schedules
def warmup_cosine(step: int, *, base_lr: float, warmup_steps: int, total_steps: int,
                  start_factor: float = 0.1, min_lr: float = 0.0) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up, then cosine decay (notebook 06).

    * ``step < warmup_steps``: ``base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)``
    * afterwards, with ``e = step - warmup_steps`` and ``T = total_steps - warmup_steps``:
      ``min_lr + (base_lr - min_lr) * (1 + cos(pi * e / T)) / 2``

    Equal to ``SequentialLR([LinearLR(start_factor, total_iters=warmup_steps),
    CosineAnnealingLR(T_max=T, eta_min=min_lr)], milestones=[warmup_steps])``.
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be an int >= 0, got {step!r}")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 1:
        raise ValueError(f"warmup_steps must be an int >= 1, got {warmup_steps!r}")
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= warmup_steps:
        raise ValueError(f"total_steps must be an int > warmup_steps ({warmup_steps}), got {total_steps!r}")
    base_lr = _check_float("base_lr", base_lr)
    start_factor = _check_float("start_factor", start_factor)
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    e, t = step - warmup_steps, total_steps - warmup_steps
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * e / t)) / 2


def torch_warmup_cosine(optimizer: torch.optim.Optimizer, *, warmup_steps: int, total_steps: int,
                        start_factor: float = 0.1, min_lr: float = 0.0):
    """The same schedule composed from ``torch.optim.lr_scheduler`` (call ``.step()`` once per step)."""
    from torch.optim import lr_scheduler as S

    warm = S.LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    cos = S.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return S.SequentialLR(optimizer, [warm, cos], milestones=[warmup_steps])
