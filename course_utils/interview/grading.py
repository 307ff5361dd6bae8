"""Grading: :func:`grade` judges one answer and returns a :class:`Result` (notebook 09).

Never raises on a learner's input: malformed input is ``outcome == "invalid"``.

* ``choice``: a letter or 0-based index; ``numeric``: a number or its text (``1,024``,
  ``25%``); ``short``: whether the learner knew it (self-graded flashcard).
* ``code``: a function or its source, run against the question's tests.
* ``bug``: the numbers of the faulty lines. The canonical ``bug_lines`` or any set of
  ``alternatives`` is accepted; a partly right answer is told which lines were right,
  which are missing and which are not faulty.
* ``design``: self-graded against the rubric: the points covered (1-based numbers, or one
  bool per point); the score is covered/total, correct at 70 % or more.

Depends on :mod:`~course_utils.interview.text` and :mod:`~course_utils.interview.bank`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from course_utils.interview.bank import Question, get_question
from course_utils.interview.text import (
    check_lang,
    colon,
    expected_lines,
    lines_phrase,
    ui,
)

__all__ = [
    "DESIGN_PASS",
    "Result",
    "exercise",
    "grade",
    "parse_lines",
    "parse_number",
    "parse_points",
    "run_code_tests",
]

#: the share of rubric points a design answer must cover to count as correct
DESIGN_PASS = 0.7


@dataclass
class Result:
    """The verdict on one answer: ``outcome`` is correct / incorrect / invalid.

    ``score`` is the share of rubric points covered (design cases, else None); ``detail``
    holds what a view needs to explain the verdict (the accepted line set a bug answer was
    compared with, the rubric points ticked)."""

    outcome: str
    message: str = ""
    score: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.outcome == "correct"

    @property
    def valid(self) -> bool:
        return self.outcome != "invalid"


# ---------------------------------------------------------------------------- parsing
def parse_number(text: Any) -> float:
    """Parse a learner's numeric answer: ``42``, ``0.5``, ``1e-3``, ``1,024``, ``25%``."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip().replace("_", "").replace("，", ",")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    pct = s.endswith("%")
    if pct:
        s = s[:-1].strip()
    value = float(s)  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value / 100 if pct else value


def parse_lines(text: Any, n_lines: int) -> set[int]:
    """Parse ``"3, 5"`` / ``[3, 5]`` into a set of 1-based line numbers (ValueError if bad)."""
    if isinstance(text, int) and not isinstance(text, bool):
        items = [text]
    elif isinstance(text, Iterable) and not isinstance(text, str):
        items = list(text)
    else:
        parts = [p for p in re.split(r"[\s,;，、]+", str(text).strip()) if p]
        if not parts:
            raise ValueError("no line numbers")
        items = [int(p) for p in parts]
    out = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= n_lines:
            raise ValueError(f"{item!r} is not a line number from 1 to {n_lines}")
        out.add(item)
    return out


def parse_points(answer: Any, n: int) -> set[int]:
    """The rubric points (1-based) a design answer covered: one bool per point (the
    widget's checkboxes), numbers (``[1, 3]``), or text (``"1 3 4"``; ``"0"`` for none)."""
    if isinstance(answer, bool):
        raise ValueError("a boolean is not a list of points")
    if isinstance(answer, Iterable) and not isinstance(answer, str):
        items = list(answer)
        if items and all(isinstance(x, bool) for x in items):
            if len(items) != n:
                raise ValueError(f"expected {n} ticks, got {len(items)}")
            return {i + 1 for i, x in enumerate(items) if x}
        if items == [0]:
            return set()
        return parse_lines(items, n) if items else set()
    s = str(answer).strip()
    if s in {"0", "none", "无"}:
        return set()
    return parse_lines(s, n)


def _choice_index(answer: Any, n: int) -> int:
    if isinstance(answer, bool):
        raise ValueError("not a choice")
    if isinstance(answer, int):
        idx = answer
    else:
        s = str(answer).strip().upper()
        if len(s) == 1 and "A" <= s <= "Z":
            idx = ord(s) - ord("A")
        else:
            raise ValueError("not a choice letter")
    if not 0 <= idx < n:
        raise ValueError("choice out of range")
    return idx


# ------------------------------------------------------------------------ code answers
def _namespace() -> dict[str, Any]:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    return {"torch": torch, "nn": nn, "F": F, "math": math, "__name__": "__quiz__"}


class _ReturnedNone(Exception):
    pass


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a learner's exception whose __str__ raises
        return f"<{type(exc).__name__}>"


def run_code_tests(q: Question, answer: Callable | str, lang: str = "en") -> Result:
    """Run a code question's tests on the learner's function (or its source code)."""
    ns = _namespace()
    entry = q.raw["entry"]
    if isinstance(answer, str):
        try:
            exec(compile(answer, f"<your {entry}>", "exec"), ns)
        except KeyboardInterrupt:
            raise
        except SystemExit:
            return Result("incorrect", ui(lang, "code_exit"))
        except BaseException as exc:  # noqa: BLE001 - the learner's syntax or runtime error
            return Result("incorrect", ui(lang, "code_no_run", err=f"{type(exc).__name__}: {_text(exc)}"))
        if entry not in ns or not callable(ns[entry]):
            return Result("incorrect", ui(lang, "code_define", entry=entry))
        fn = ns[entry]
    elif callable(answer):
        fn = answer
    else:
        return Result("invalid", ui(lang, "code_pass_fn", entry=entry))

    def checked(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        if out is None and q.raw.get("returns", True):
            raise _ReturnedNone
        return out

    ns[entry] = checked
    try:
        exec(compile(q.raw["tests"], f"<tests of {q.id}>", "exec"), ns)
    except _ReturnedNone:
        return Result("incorrect", ui(lang, "code_none", entry=entry))
    except AssertionError as exc:
        msg = _text(exc)
        return Result("incorrect", ui(lang, "code_failed", err=msg) if msg else ui(lang, "code_failed_bare"))
    except KeyboardInterrupt:
        raise
    except SystemExit:
        return Result("incorrect", ui(lang, "code_exit"))
    except BaseException as exc:  # noqa: BLE001 - whatever the learner's code raises is reported
        return Result("incorrect", ui(lang, "code_raised", err=f"{type(exc).__name__}: {_text(exc)}"))
    return Result("correct", ui(lang, "code_ok"))


# --------------------------------------------------------------------------- bug items
def _grade_bug(q: Question, answer: Any, lang: str) -> Result:
    n = len(q.raw["code"].splitlines())
    try:
        lines = parse_lines(answer, n)
    except (ValueError, TypeError):
        return Result("invalid", ui(lang, "not_lines", n=n))
    accepted = [frozenset(a["bug_lines"]) for a in q.accepted_answers()]
    if lines in accepted:
        k = accepted.index(lines)
        others = [s for i, s in enumerate(accepted) if i != k and s != lines]
        msg = expected_lines(lines, lang)
        if others:
            msg += " " + ui(lang, "also_accepted", x="; ".join(lines_phrase(s, lang) for s in others))
        return Result("correct", msg, detail={"accepted": k})
    covered = [s for s in accepted if s <= lines]
    if len(covered) >= 2 and frozenset().union(*covered) == lines:  # two answers in one
        phrase = lines_phrase(lines, lang)
        parts = [ui(lang, "several_fixes", x=phrase[0].upper() + phrase[1:])]
        parts += [expected_lines(accepted[0], lang)]
        others = [s for s in accepted[1:]]
        parts.append(ui(lang, "also_accepted", x="; ".join(lines_phrase(s, lang) for s in others)))
        return Result("incorrect", " ".join(parts), detail={"accepted": 0})
    # the accepted set closest to the answer: most lines in common, then fewest differences
    k = max(range(len(accepted)), key=lambda i: (len(accepted[i] & lines), -len(accepted[i] ^ lines), -i))
    best = accepted[k]
    parts = []
    if lines & best:
        parts.append(ui(lang, "right_lines", x=lines_phrase(lines & best, lang)))
    if best - lines and lines & best:  # partly right: what is still missing
        parts.append(ui(lang, "missing_lines", x=lines_phrase(best - lines, lang)))
    if lines - best:
        parts.append(ui(lang, "extra_lines", x=lines_phrase(lines - best, lang)))
    parts.append(expected_lines(best, lang))
    others = [s for i, s in enumerate(accepted) if i != k]
    if others:
        parts.append(ui(lang, "also_accepted", x="; ".join(lines_phrase(s, lang) for s in others)))
    return Result("incorrect", " ".join(parts), detail={"accepted": k})


# ------------------------------------------------------------------------ design cases
def _grade_design(q: Question, answer: Any, lang: str) -> Result:
    rubric = q.rubric(lang)
    n = len(rubric)
    try:
        ticked = parse_points(answer, n)
    except (ValueError, TypeError):
        return Result("invalid", ui(lang, "not_points", n=n))
    k = len(ticked)
    need = math.ceil(DESIGN_PASS * n - 1e-9)
    msg = ui(lang, "design_score", k=k, n=n, pct=round(100 * k / n), need=need)
    missed = [i for i in range(1, n + 1) if i not in ticked]
    if missed:
        sep = "；" if lang == "zh" else "; "
        msg += " " + ui(lang, "design_missed", x=sep.join(f"{i}. {rubric[i - 1]}" for i in missed))
    outcome = "correct" if k >= need else "incorrect"
    return Result(outcome, msg, score=k / n, detail={"ticked": sorted(ticked)})


# ------------------------------------------------------------------------------ grade
def grade(q: Question, answer: Any, lang: str = "en") -> Result:
    """Judge ``answer`` to question ``q`` in ``lang`` (the messages' language).

    choice: a letter (``"B"``) or 0-based index; numeric: a number or its text; bug: line
    numbers (``"3, 5"`` or a list); code: a function or its source; short: ``True``/``"y"``
    if the learner knew it; design: the rubric points covered (``[1, 3]``, ``"1 3"``, or
    one bool per point). Malformed input gives ``outcome == "invalid"``.
    """
    check_lang(lang)
    t = q.type
    if t == "choice":
        n = len(q.choices(lang))
        try:
            idx = _choice_index(answer, n)
        except (ValueError, TypeError):
            letters = "/".join(chr(ord("A") + i) for i in range(n))
            return Result("invalid", ui(lang, "not_choice", letters=letters))
        good = q.raw["correct"]
        if idx == good:
            return Result("correct", "")
        return Result(
            "incorrect",
            f"{ui(lang, 'answer')}{colon(lang)}{chr(ord('A') + good)}. {q.choices(lang)[good]}",
        )
    if t == "numeric":
        try:
            value = parse_number(answer)
        except (ValueError, TypeError):
            return Result("invalid", ui(lang, "not_number"))
        target = float(q.raw["value"])
        tol = float(q.raw.get("tolerance", 0))
        if abs(value - target) <= tol + 1e-9 * max(1.0, abs(target)):
            return Result("correct", "")
        return Result("incorrect", f"{ui(lang, 'answer')}{colon(lang)}{q.text('answer', lang)}")
    if t == "bug":
        return _grade_bug(q, answer, lang)
    if t == "code":
        return run_code_tests(q, answer, lang)
    if t == "short":
        if isinstance(answer, bool):
            knew = answer
        else:
            s = str(answer).strip().lower()
            if s in {"y", "yes", "是", "对", "1", "true"}:
                knew = True
            elif s in {"n", "no", "否", "不", "0", "false"}:
                knew = False
            else:
                return Result("invalid", ui(lang, "not_yn"))
        return Result("correct" if knew else "incorrect", ui(lang, "self_graded"))
    if t == "design":
        return _grade_design(q, answer, lang)
    raise ValueError(f"unknown question type {t!r} for {q.id}")


def exercise(qid: str):
    """A code question of the bank as an :class:`~course_utils.exercises.Exercise`:
    ``check(your_function)``, ``hint()``, ``solution()`` (notebook 09)."""
    from course_utils.exercises import Exercise, Incorrect

    q = get_question(qid)
    if q.type != "code":
        raise ValueError(f"{qid} is a {q.type!r} question; only 'code' questions are exercises")

    def judge(answer: Any) -> None:
        res = run_code_tests(q, answer)
        if not res.correct:
            raise Incorrect(res.message)

    return Exercise(
        q.raw["entry"],
        title=f"{qid}: {q.raw['entry']}",
        judge=judge,
        hints=[q.text("explanation", "en"), f"The idea in one line: {q.text('answer', 'en')}"],
        solution=q.raw["solution"],
        expects_function=True,
    )

