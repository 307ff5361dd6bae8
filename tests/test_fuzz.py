"""Fuzz (fixed seed, a few seconds): every exercise's check() with the odd answers of issue 18,
and every public function with a table of bad inputs. Zero escapes from check(), zero
"Checker error" for a learner's mistake, zero obscure errors from the API."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import sys

import pytest
import torch

import course_utils.lessons as lessons_pkg
from course_utils import quiz
from course_utils.exercises import CHECKER_ERROR, Exercise


def _all_exercises() -> list[Exercise]:
    found = {}
    for info in pkgutil.iter_modules(lessons_pkg.__path__):
        mod = importlib.import_module(f"course_utils.lessons.{info.name}")
        for value in vars(mod).values():
            if isinstance(value, Exercise):
                found[id(value)] = value
    code = [q.id for q in quiz.questions(types=["code"])][:3]
    return list(found.values()) + [quiz.exercise(qid) for qid in code]


EXERCISES = _all_exercises()


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("repr is broken")

    __str__ = __repr__


class _BadGetattr:
    def __getattr__(self, name):
        raise RuntimeError(f"no attribute {name} for you")

    def __call__(self, *args, **kwargs):
        return _BadGetattr()


def _meta():
    return torch.empty(2, 3, device="meta")


ODD_VALUES = {
    "nan tensor": lambda: torch.full((2, 3), float("nan")),
    "inf tensor": lambda: torch.full((2, 3), float("inf")),
    "empty tensor": lambda: torch.empty(0),
    "meta tensor": _meta,
    "complex tensor": lambda: torch.ones(2, 3, dtype=torch.complex64),
    "complex weight": lambda: torch.tensor([-1.0 + 1j, 1.0]).reshape(1, 1, 2, 1, 1),
    "huge int": lambda: 10**400,
    "nan float": lambda: float("nan"),
    "bad repr": _BadRepr,
    "bad getattr": _BadGetattr,
    "string": lambda: "hello",
    "nested list": lambda: [[1, [2]], "x"],
}


def _function_answers():
    def returning(make):
        return lambda *args, **kwargs: make()

    out = {f"returns {k}": returning(make) for k, make in ODD_VALUES.items()}

    def exits(*args, **kwargs):
        sys.exit(3)

    def in_place(*args, **kwargs):
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, torch.Tensor) and a.is_floating_point():
                a.mul_(2)
                return a
        return args[0] if args else None

    def wrapped(*args, **kwargs):
        return 1

    wrapped.__wrapped__ = wrapped  # a __wrapped__ loop: inspect.unwrap raises ValueError

    @functools.wraps(wrapped)
    def wrapper(*args, **kwargs):
        return wrapped(*args, **kwargs)

    def recursion(*args, **kwargs):
        return recursion(*args, **kwargs)

    out.update({"sys.exit": exits, "in place": in_place, "wrapped loop": wrapped, "wrapper": wrapper,
                "callable with bad getattr": _BadGetattr(), "recursion": recursion})
    return out


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_odd_answers_get_a_verdict_never_a_checker_error(exercise, capsys):
    answers = dict(_function_answers())
    if not exercise.expects_function:
        answers.update({k: make() for k, make in ODD_VALUES.items()})
    for label, answer in answers.items():
        verdict = exercise.evaluate(answer)  # must not raise
        assert verdict.outcome != CHECKER_ERROR, (exercise.name, label, verdict.message)
        assert str(verdict) and verdict._repr_html_()


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.reference is not None], ids=lambda e: e.name)
def test_interrupt_goes_through_and_leaves_the_exercise_usable(exercise, capsys):
    def never_returns(*args, **kwargs):
        raise KeyboardInterrupt

    torch.set_grad_enabled(True)
    with pytest.raises(KeyboardInterrupt):
        exercise.check(never_returns)
    assert "Interrupted" in capsys.readouterr().out
    assert torch.is_grad_enabled()
    assert exercise.evaluate(exercise.reference).correct


# ------------------------------------------------------------------- the public API
def _api_table():
    from torch import nn

    from course_utils import attention as A
    from course_utils import conv as C
    from course_utils import gan as G
    from course_utils import rnn as R
    from course_utils import sampling as S
    from course_utils import training as T

    g = torch.Generator().manual_seed(0)
    x4 = torch.rand(2, 3, 6, 6, generator=g)
    w4 = torch.rand(4, 3, 3, 3, generator=g)
    x5 = torch.rand(1, 2, 4, 5, 5, generator=g)
    w5 = torch.rand(3, 2, 2, 3, 3, generator=g)
    seq = torch.rand(5, 2, 3, generator=g)  # (T, N, I)
    cell_x, h = torch.rand(2, 3, generator=g), torch.rand(2, 4, generator=g)
    wih, whh = torch.rand(4, 3, generator=g), torch.rand(4, 4, generator=g)
    q = torch.rand(2, 4, 8, generator=g)
    tokens = torch.rand(2, 3, 4, 8, generator=g)  # (N, T, P, D)
    mha = A.MultiHeadAttention(8, 2, batch_first=True)
    logits = torch.randn(4, 3, generator=g)
    labels = torch.tensor([0, 1, 2, 0])
    return [
        (C.conv2d, (x4, w4), {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}),
        (C.conv3d, (x5, w5), {"stride": 1, "padding": 0}),
        (C.conv1d, (torch.rand(1, 2, 7), torch.rand(3, 2, 3)), {"stride": 2}),
        (C.conv2d_loop, (x4[:1, :, :4, :4], w4), {"padding": 0}),
        (C.im2col, (x4,), {"kernel_size": 3, "stride": 1, "padding": 0}),
        (C.max_pool2d, (x4,), {"kernel_size": 2, "stride": 2}),
        (C.avg_pool2d, (x4,), {"kernel_size": 2}),
        (C.conv_output_size, (7, 3), {"stride": 1, "padding": 0, "dilation": 1}),
        (C.conv_params, (3, 64, 3), {"groups": 1, "dims": 2}),
        (C.conv_flops, (3, 64, 3, (8, 8)), {}),
        (C.mid_channels_2plus1d, (3, 64), {"t": 3, "d": 3}),
        (C.numeric_gradient, (lambda t: (t**2).sum(), torch.rand(3, dtype=torch.float64)), {"eps": 1e-6}),
        (C.receptive_field, ([(3, 1), (3, 2)],), {}),
        (A.safe_softmax, (q,), {"dim": -1}),
        (A.causal_mask, (4, 5), {}),
        (A.scaled_dot_product_attention, (q, q, q), {"scale": None}),
        (A.split_heads, (q, 2), {}),
        (A.merge_heads, (tokens,), {}),
        (A.sinusoidal_positional_encoding, (6, 8), {"base": 10000.0}),
        (A.attention_cost, (8, 4, 4), {}),
        (A.MultiHeadAttention, (8, 2), {"dropout": 0.0}),
        (mha.forward, (q, q, q), {}),
        (A.PatchEmbedding(3, 8, 2).forward, (x4,), {}),
        (A.TubeletEmbedding(2, 8, (2, 5, 5)).forward, (torch.rand(1, 4, 2, 5, 5),), {}),
        (A.joint_attention, (tokens, A.MultiHeadAttention(8, 2, batch_first=True)), {}),
        (R.rnn_cell, (cell_x, h, wih, whh), {"nonlinearity": "tanh"}),
        (R.gru_cell, (cell_x, torch.rand(2, 4), torch.rand(12, 3), torch.rand(12, 4)), {}),
        (R.lstm_cell, (cell_x, (h, h), torch.rand(16, 3), torch.rand(16, 4)), {}),
        (R.rnn, (seq, nn.RNN(3, 4)), {}),
        (R.lstm, (seq, nn.LSTM(3, 4)), {}),
        (R.gru, (seq, nn.GRU(3, 4)), {}),
        (R.lstm_num_params, (3, 4), {"num_layers": 1}),
        (R.linear_rnn_weight, (4, 0.9), {}),
        (G.ring_centers, (8,), {"radius": 2.0}),
        (G.sample_ring, (16,), {}),
        (G.to_gan_range, (torch.rand(2, 1, 4, 4),), {}),
        (G.from_gan_range, (torch.rand(2, 1, 4, 4),), {}),
        (G.sample_noise, (4, 8), {}),
        (G.discriminator_loss, (torch.randn(4), torch.randn(4)), {}),
        (G.generator_loss, (torch.randn(4),), {"kind": "nonsaturating"}),
        (G.inception_like_score, (torch.softmax(logits, 1),), {}),
        (G.frechet_distance, (torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 3, dtype=torch.float64)), {}),
        (G.DCGANDiscriminator, (), {"width": 8, "size": 32}),
        (G.DCGANGenerator, (), {"z_dim": 8, "width": 8, "size": 16}),
        (S.uniform_indices, (20, 4), {}),
        (S.random_indices, (20, 4), {"stride": 2}),
        (S.segment_indices, (20, 4), {}),
        (T.accuracy, (logits, labels), {}),
    ]


BAD_VALUES = [
    None, "x", -1, 0, 2.5, float("nan"), float("inf"), True, [1, 2], object(),
    torch.empty(0), torch.ones(2, dtype=torch.int64), torch.ones(1, 1, 1, 1, 1, 1),
    torch.ones(2, 3, dtype=torch.complex64),
]


def test_public_functions_refuse_bad_arguments_clearly():
    """Every argument of every function replaced in turn by each bad value: the call either
    works or raises ValueError/TypeError (a clear message), never an obscure error."""
    obscure = []
    calls = 0
    for fn, args, kwargs in _api_table():
        fn(*args, **kwargs)  # the good call works
        slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
        for kind, slot in slots:
            for bad in BAD_VALUES:
                a, kw = list(args), dict(kwargs)
                if kind == "arg":
                    a[slot] = bad
                else:
                    kw[slot] = bad
                calls += 1
                try:
                    fn(*a, **kw)
                except (ValueError, TypeError):
                    pass
                except Exception as exc:  # noqa: BLE001
                    name = getattr(fn, "__qualname__", fn)
                    obscure.append(f"{name} {kind} {slot}={_short(bad)}: {type(exc).__name__}: {str(exc)[:80]}")
    assert calls > 1000
    assert obscure == [], "\n".join(obscure)


def _short(value):
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}{value.dtype}"
    return repr(value)[:30]


def test_empty_batches_work_or_are_refused_clearly():
    """N=0, which torch accepts: each tensor argument cut to zero rows."""
    obscure = []
    for fn, args, kwargs in _api_table():
        for i, a in enumerate(args):
            if isinstance(a, torch.Tensor) and a.dim() >= 2:
                b = list(args)
                b[i] = a[:0]
                try:
                    fn(*b, **kwargs)
                except (ValueError, TypeError):
                    pass
                except Exception as exc:  # noqa: BLE001
                    obscure.append(f"{getattr(fn, '__qualname__', fn)} arg {i} N=0: {type(exc).__name__}: {str(exc)[:80]}")
    assert obscure == [], "\n".join(obscure)
