"""The Exercise API: ``check(answer)``, ``hint()``, ``solution()``.

Introduced in notebook 00; every lesson registers its exercises in ``course_utils.lessons``.

A check never raises on a learner's answer. It returns (and, in a notebook, displays) a
:class:`Verdict` with one of four outcomes:

* **Correct**.
* **Incorrect**: the reason and the first failing case in words (inputs, expected,
  received), compared in stages: type, then dtype, then shape, then values.
* **Not attempted**: the blank (``...``, ``____``), a function whose body is still
  ``pass``/``...``, or one that raises ``NotImplementedError``.
* **Checker error**: something unexpected inside the checker itself (a course bug).

Exercises are built from a *reference* (the solution, shown by ``solution()``) and a list
of :class:`Case` objects, or from a custom ``judge`` function for answers that need more
than a comparison (a training loop to run, a set of lines to fix).

Example (what a lesson module does)::

    def _ref(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * (k - 1) - 1) // s + 1

    output_size = Exercise(
        "output_size",
        title="Output size of a convolution",
        reference=_ref,
        cases=[Case((5, 3)), Case((7, 3), dict(s=2, p=1))],
        hints=["Count how many window positions fit.", "Use floor division."],
    )
"""

from __future__ import annotations

import ast
import html
import inspect
import math
import textwrap
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = [
    "Blank",
    "____",
    "Case",
    "Exercise",
    "Incorrect",
    "LearnerError",
    "Verdict",
    "call_learner",
    "compare",
    "describe",
]

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
CHECKER_ERROR = "checker error"


class Blank:
    """The placeholder ``____`` a learner replaces with an answer."""

    _instance: Blank | None = None

    def __new__(cls) -> Blank:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"


____ = Blank()


class Incorrect(Exception):
    """Raised by a judge (or a comparison) to say the learner's answer is wrong.

    The message is shown to the learner as it is, so write it as a friendly sentence.
    """


class NotAttempted(Exception):
    """Raised when the learner's answer is still the blank."""


class LearnerError(Exception):
    """The learner's own code raised; ``call`` describes the call that caused it."""

    def __init__(self, exc: BaseException, call: str):
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.exc = exc
        self.call = call


# ----------------------------------------------------------------------------- verdicts
@dataclass
class Verdict:
    """The outcome of a check; ``bool(verdict)`` is True only when correct."""

    outcome: str
    message: str
    title: str = ""

    @property
    def correct(self) -> bool:
        return self.outcome == CORRECT

    def __bool__(self) -> bool:
        return self.correct

    _ICONS = {CORRECT: "✅", INCORRECT: "❌", NOT_ATTEMPTED: "✏️", CHECKER_ERROR: "🐞"}
    _LABELS = {
        CORRECT: "Correct",
        INCORRECT: "Incorrect",
        NOT_ATTEMPTED: "Not attempted",
        CHECKER_ERROR: "Checker error",
    }
    _COLORS = {
        CORRECT: "#1b7f3b",
        INCORRECT: "#b3261e",
        NOT_ATTEMPTED: "#8a6d00",
        CHECKER_ERROR: "#6b3fa0",
    }

    def __str__(self) -> str:
        head = f"{self._LABELS[self.outcome]}"
        if self.title:
            head += f" ({self.title})"
        return f"{head}: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        color = self._COLORS[self.outcome]
        label = self._LABELS[self.outcome]
        body = html.escape(self.message).replace("\n", "<br>")
        return (
            f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
            f'<b style="color:{color}">{self._ICONS[self.outcome]} {label}</b>'
            f"{' &middot; ' + html.escape(self.title) if self.title else ''}<br>"
            f'<span style="font-family:monospace;white-space:pre-wrap">{body}</span></div>'
        )


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _show(obj: Any, markdown: str | None = None) -> None:
    """Display rich output in Jupyter, plain text elsewhere."""
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(markdown) if markdown is not None else obj)
    else:
        print(obj if markdown is None else markdown)


# ------------------------------------------------------------------------- descriptions
def describe(value: Any, limit: int = 120) -> str:
    """A short, readable description of a value for a verdict message."""
    if isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        text = f"tensor of shape {shape}, dtype {str(value.dtype).replace('torch.', '')}"
        if value.numel() <= 12:
            vals = value.detach().cpu().flatten().tolist()
            text += f", values {[_short(v) for v in vals]}"
        return text
    if isinstance(value, np.ndarray):
        text = f"numpy array of shape {value.shape}, dtype {value.dtype}"
        if value.size <= 12:
            text += f", values {[_short(v) for v in value.flatten().tolist()]}"
        return text
    if value is None:
        return "None"
    if callable(value) and not isinstance(value, type):
        return f"function {getattr(value, '__name__', repr(value))}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _short(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v


def _format_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [describe(a, 60) if isinstance(a, torch.Tensor | np.ndarray) else repr(a) for a in args]
    parts += [
        f"{k}={describe(v, 60) if isinstance(v, torch.Tensor | np.ndarray) else repr(v)}"
        for k, v in kwargs.items()
    ]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) < 300 else text[:297] + "..."


# --------------------------------------------------------------------------- comparison
def _type_name(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "torch.Tensor"
    if isinstance(value, np.ndarray):
        return "numpy array"
    return type(value).__name__


def compare(expected: Any, received: Any, rtol: float = 1e-5, atol: float = 1e-6, where: str = "") -> None:
    """Raise :class:`Incorrect` describing the first difference between two values.

    Staged like a teacher would check: type, then dtype, then shape, then values.
    Handles tensors, numpy arrays, numbers, booleans, strings and (nested) tuples/lists/dicts.
    """
    at = f" {where}" if where else ""
    if received is None and expected is not None:
        raise Incorrect(
            f"Expected {describe(expected)}{at}, but received None. "
            "Did you forget a `return` statement?"
        )
    if isinstance(expected, torch.Tensor):
        if not isinstance(received, torch.Tensor):
            hint = " (convert with torch.as_tensor)" if isinstance(received, np.ndarray | list) else ""
            raise Incorrect(
                f"Expected a torch.Tensor{at}, but received a {_type_name(received)}{hint}."
            )
        if expected.dtype != received.dtype and not (
            expected.is_floating_point() and received.is_floating_point()
        ):
            raise Incorrect(
                f"Expected dtype {expected.dtype}{at}, but received dtype {received.dtype}."
            )
        if tuple(expected.shape) != tuple(received.shape):
            raise Incorrect(
                f"Expected shape {tuple(expected.shape)}{at}, but received shape "
                f"{tuple(received.shape)}."
            )
        exp = expected.detach().to(torch.float64) if expected.is_floating_point() else expected.detach()
        rec = received.detach().to(exp.dtype)
        if exp.numel() == 0:
            return
        if exp.is_floating_point():
            bad = ~torch.isclose(rec, exp, rtol=rtol, atol=atol, equal_nan=True)
        else:
            bad = rec != exp
        if bool(bad.any()):
            idx = tuple(int(i) for i in torch.nonzero(bad)[0])
            err = (rec - exp).abs().max().item() if exp.is_floating_point() else None
            msg = (
                f"Values differ{at}: {int(bad.sum())} of {exp.numel()} entries are wrong. "
                f"First at index {idx}: expected {_short(exp[idx].item())}, "
                f"received {_short(rec[idx].item())}."
            )
            if err is not None:
                msg += f" Max abs error {err:.3g}."
            raise Incorrect(msg)
        return
    if isinstance(expected, np.ndarray):
        compare(torch.as_tensor(expected), torch.as_tensor(received) if isinstance(received, np.ndarray) else received, rtol, atol, where)
        return
    if isinstance(expected, bool):
        if not isinstance(received, bool | np.bool_):
            raise Incorrect(f"Expected True or False{at}, but received {describe(received)}.")
        if bool(received) != expected:
            raise Incorrect(f"Expected {expected}{at}, but received {bool(received)}.")
        return
    if isinstance(expected, int | np.integer):
        if isinstance(received, torch.Tensor) and received.numel() == 1:
            received = received.item()
        if isinstance(received, bool) or not isinstance(received, int | float | np.integer | np.floating):
            raise Incorrect(f"Expected a whole number{at}, but received {describe(received)}.")
        if isinstance(received, float | np.floating) and not float(received).is_integer():
            raise Incorrect(f"Expected the whole number {expected}{at}, but received {received}.")
        if int(received) != int(expected):
            raise Incorrect(f"Expected {int(expected)}{at}, but received {int(received)}.")
        return
    if isinstance(expected, float | np.floating):
        if isinstance(received, torch.Tensor) and received.numel() == 1:
            received = received.item()
        if isinstance(received, bool) or not isinstance(received, int | float | np.integer | np.floating):
            raise Incorrect(f"Expected a number{at}, but received {describe(received)}.")
        if not math.isclose(float(received), float(expected), rel_tol=rtol, abs_tol=atol):
            raise Incorrect(f"Expected {_short(float(expected))}{at}, but received {_short(float(received))}.")
        return
    if isinstance(expected, tuple | list):
        if not isinstance(received, tuple | list):
            raise Incorrect(
                f"Expected a {type(expected).__name__} of {len(expected)} items{at}, "
                f"but received {describe(received)}."
            )
        if len(received) != len(expected):
            raise Incorrect(
                f"Expected {len(expected)} items{at}, but received {len(received)}: {describe(received)}."
            )
        for i, (e, r) in enumerate(zip(expected, received, strict=True)):
            compare(e, r, rtol, atol, where=f"in item {i}{at}")
        return
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            raise Incorrect(f"Expected a dict{at}, but received {describe(received)}.")
        missing = [k for k in expected if k not in received]
        if missing:
            raise Incorrect(f"The key {missing[0]!r} is missing{at}.")
        for k in expected:
            compare(expected[k], received[k], rtol, atol, where=f"under key {k!r}{at}")
        return
    if expected != received:
        raise Incorrect(f"Expected {describe(expected)}{at}, but received {describe(received)}.")


# ------------------------------------------------------------------------- learner code
def _is_blank(answer: Any) -> bool:
    return answer is Ellipsis or isinstance(answer, Blank)


def _body_is_blank(fn: Callable) -> bool:
    """True when a function's body (docstring aside) is only pass / ... / raise NotImplementedError."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return True
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Name) and stmt.value.id == "____":
            continue
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True


def call_learner(fn: Callable, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call the learner's function; wrap anything it raises in :class:`LearnerError`."""
    label = name or getattr(fn, "__name__", "your function")
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(str(exc)) from exc
    except Exception as exc:  # the learner's bug, reported not raised
        raise LearnerError(exc, _format_call(label, args, kwargs)) from exc
    if _is_blank(result):
        raise NotAttempted("returned the blank")
    return result


# -------------------------------------------------------------------------- exercises
@dataclass
class Case:
    """One test case: the arguments to call the learner's function with.

    ``expected`` is computed from the exercise's reference when left as None. ``label``
    names the case in messages ("stride larger than the kernel").
    """

    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    label: str = ""


def _clone(value: Any) -> Any:
    """Copy tensors so a learner's in-place edit cannot change the reference's inputs."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_clone(v) for v in value)
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


class Exercise:
    """One exercise with ``check(answer)``, ``hint(level)`` and ``solution()``.

    Three ways to build one:

    * ``reference`` + ``cases``: the answer is a function; it is called on every case
      (a list, or a callable returning one) and compared with the reference's result.
    * ``expected``: the answer is a value (a number, a tuple, a tensor).
    * ``judge``: a function ``judge(answer) -> None`` that raises :class:`Incorrect`
      with a learner-facing message (use :func:`call_learner` to call learner code).

    ``diagnose(case, expected, received) -> str | None`` adds a targeted remark for a
    known wrong answer ("off by one: did you forget the +1?"). ``solution`` is the text
    shown by ``solution()``; by default the reference's source code.
    """

    def __init__(
        self,
        name: str,
        *,
        title: str = "",
        reference: Callable | None = None,
        cases: Sequence[Case] | Callable[[], Iterable[Case]] | None = None,
        expected: Any = None,
        judge: Callable[[Any], None] | None = None,
        hints: Sequence[str] = (),
        solution: str | None = None,
        diagnose: Callable[[Case | None, Any, Any], str | None] | None = None,
        rtol: float = 1e-5,
        atol: float = 1e-6,
        expects_function: bool | None = None,
    ):
        modes = sum(x is not None for x in (reference, expected, judge))
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        if modes != 1:
            raise ValueError("give exactly one of reference (with cases), expected, or judge")
        if reference is not None and cases is None:
            raise ValueError("an exercise with a reference needs cases")
        self.name = name
        self.title = title or name.replace("_", " ")
        self.reference = reference
        self.cases = cases
        self.expected = expected
        self.judge = judge
        self.hints = list(hints)
        self._solution = solution
        self.diagnose = diagnose
        self.rtol, self.atol = rtol, atol
        self.expects_function = reference is not None if expects_function is None else expects_function
        self._next_hint = 0

    def __repr__(self) -> str:
        return f"<Exercise {self.name!r}: call .check(answer), .hint(), .solution()>"

    # -- public API ---------------------------------------------------------------
    def evaluate(self, answer: Any) -> Verdict:
        """Judge ``answer`` and return the :class:`Verdict` (no display)."""
        v = lambda outcome, msg: Verdict(outcome, msg, self.title)  # noqa: E731
        if _is_blank(answer):
            return v(NOT_ATTEMPTED, "Replace the blank (`...` or `____`) with your answer, then run the check again.")
        if self.expects_function:
            if answer is None:
                return v(INCORRECT, "Received None, but this exercise expects a function. Pass the function itself, e.g. check(my_function), without calling it.")
            if not callable(answer):
                return v(INCORRECT, f"This exercise expects a function, but received {describe(answer)}. Pass the function itself, without calling it.")
            if _body_is_blank(answer):
                return v(NOT_ATTEMPTED, f"The body of {getattr(answer, '__name__', 'your function')} is still empty (pass / ... / NotImplementedError). Write your code, then check again.")
        elif answer is None and self.expected is not None:
            return v(INCORRECT, f"Received None. Expected {describe(self.expected)}-like answer; did you assign the variable before checking?")
        try:
            self._run(answer)
        except NotAttempted:
            return v(NOT_ATTEMPTED, "Your answer still contains the blank or raises NotImplementedError. Fill it in, then check again.")
        except Incorrect as exc:
            return v(INCORRECT, str(exc))
        except LearnerError as exc:
            return v(
                INCORRECT,
                f"Your code raised {exc} when called as {exc.call}. "
                "Read the error message and fix the function, then check again.",
            )
        except Exception:  # anything else is the course's fault
            tb = traceback.format_exc(limit=3)
            return v(CHECKER_ERROR, "Something went wrong inside the checker. This is a bug in the course, please report it.\n" + tb)
        return v(CORRECT, self._praise())

    def check(self, answer: Any) -> Verdict:
        """Check ``answer`` and show the verdict (rich in Jupyter, plain text elsewhere).

        Returns the verdict too, so ``assert ex.check(f)`` works in scripts. In a notebook
        the verdict is displayed once; the returned object renders nothing more.
        """
        verdict = self.evaluate(answer)
        if _in_notebook():
            from IPython.display import display

            display(verdict)
            return _Quiet(verdict)
        print(verdict)
        return _Quiet(verdict)

    def hint(self, level: int | None = None) -> None:
        """Show the next hint, or hint number ``level`` (1-based)."""
        if not self.hints:
            _show(None, "No hint for this one: try the solution() if you are stuck.")
            return
        if level is None:
            level = min(self._next_hint, len(self.hints) - 1) + 1
            self._next_hint = min(self._next_hint + 1, len(self.hints) - 1)
        if not isinstance(level, int) or not 1 <= level <= len(self.hints):
            raise ValueError(f"level must be an int from 1 to {len(self.hints)}, got {level!r}")
        more = f" (call hint({level + 1}) for the next)" if level < len(self.hints) else ""
        _show(None, f"**Hint {level}/{len(self.hints)}**{more}: {self.hints[level - 1]}")

    def solution(self) -> None:
        """Show the reference solution."""
        _show(None, f"**Solution** ({self.title}):\n\n```python\n{self.solution_text()}\n```")

    def solution_text(self) -> str:
        if self._solution is not None:
            return textwrap.dedent(self._solution).strip()
        if self.reference is not None:
            try:
                return textwrap.dedent(inspect.getsource(self.reference)).strip()
            except (OSError, TypeError):
                return f"# the reference solution is {self.reference!r} (its source is unavailable)"
        return repr(self.expected)

    # -- internals ----------------------------------------------------------------
    def _praise(self) -> str:
        if self.reference is not None:
            n = len(self._cases())
            return f"Well done: your function passed all {n} test cases."
        return "Well done!"

    def _cases(self) -> list[Case]:
        cases = self.cases() if callable(self.cases) else self.cases
        return list(cases)

    def _run(self, answer: Any) -> None:
        if self.judge is not None:
            self.judge(answer)
            return
        if self.reference is None:
            self._compare(None, self.expected, answer)
            return
        name = getattr(answer, "__name__", "your_function")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            cases = self._cases()
        for case in cases:
            expected = case.expected
            if expected is None:
                expected = self.reference(*_clone(case.args), **_clone(case.kwargs))
            received = call_learner(answer, *_clone(case.args), name=name, **_clone(case.kwargs))
            try:
                self._compare(case, expected, received)
            except Incorrect as exc:
                call = _format_call(name, case.args, case.kwargs)
                label = f" ({case.label})" if case.label else ""
                raise Incorrect(f"For {call}{label}: {exc}") from None

    def _compare(self, case: Case | None, expected: Any, received: Any) -> None:
        try:
            compare(expected, received, self.rtol, self.atol)
        except Incorrect as exc:
            extra = self.diagnose(case, expected, received) if self.diagnose else None
            if extra:
                raise Incorrect(f"{exc} {extra}") from None
            raise


class _Quiet:
    """Wraps a verdict returned by ``check()`` so Jupyter does not display it twice."""

    def __init__(self, verdict: Verdict):
        self.verdict = verdict

    def __bool__(self) -> bool:
        return bool(self.verdict)

    @property
    def correct(self) -> bool:
        return self.verdict.correct

    @property
    def outcome(self) -> str:
        return self.verdict.outcome

    @property
    def message(self) -> str:
        return self.verdict.message

    def _ipython_display_(self) -> None:  # already displayed by check()
        return None

    def __repr__(self) -> str:
        return ""
