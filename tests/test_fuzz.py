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
