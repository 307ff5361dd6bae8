"""The autograder's score: the same cases, run by the same check code as ``check()``.

Used by the test cells of the nbgrader course (``build nbgrader``)::

    from course_utils.build.grading import score
    score(ex.output_size, my_output_size, points=10)

For an exercise with a reference and cases, each case is one point: the exercise is checked
on each case alone (``Exercise.evaluate`` on a copy holding that one case), so a learner
whose ``check()`` says Correct gets every point, and one whose ``check()`` names a failing
case loses at least that case's point. An exercise with a judge (a training loop to run,
a value to inspect) is all or nothing, worth :data:`JUDGE_POINTS`. The cell's last value is
the score: nbgrader reads a number there as partial credit.
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from typing import Any

import torch

from course_utils.exercises import Exercise, Verdict

JUDGE_POINTS = 5


def cases_of(exercise: Exercise) -> list | None:
    """The exercise's cases as its check generates them (same seed), or None for a judge."""
    if exercise.reference is None or exercise.cases is None:
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return exercise._cases()


def points_of(exercise: Exercise) -> int:
    """Maximum points: one per case, or :data:`JUDGE_POINTS` for a judged exercise."""
    cases = cases_of(exercise)
    return JUDGE_POINTS if cases is None else len(cases)


def case_verdicts(exercise: Exercise, answer: Any) -> list[Verdict]:
    """One verdict per case (or a single verdict for a judged exercise)."""
    cases = cases_of(exercise)
    if cases is None:
        return [exercise.evaluate(answer)]
    verdicts = []
    for case in cases:
        one = copy.copy(exercise)
        one.cases = [case]
        verdicts.append(one.evaluate(answer))
    return verdicts


def score(exercise: Exercise, answer: Any, points: float | None = None) -> float:
    """Points earned by ``answer`` (printed case by case; returned for nbgrader)."""
    if not isinstance(exercise, Exercise):
        raise TypeError(f"exercise must be an Exercise, got {type(exercise).__name__}")
    total = points_of(exercise) if points is None else points
    sink = io.StringIO()  # nbgrader gives 0 to a test cell that writes to stderr
    with warnings.catch_warnings(), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        verdicts = case_verdicts(exercise, answer)
    passed = sum(v.correct for v in verdicts)
    for i, v in enumerate(verdicts, 1):
        label = "passed" if v.correct else str(v)
        print(f"case {i}/{len(verdicts)}: {label}" if len(verdicts) > 1 else label)
    earned = round(total * passed / len(verdicts), 2)
    print(f"{exercise.title}: {earned:g} / {total:g} points")
    return earned
