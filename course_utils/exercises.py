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
import contextlib
import html
import inspect
import math
import os
import re
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
    "match_variant",
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
        return f"{head}: {markdown_to_text(self.message)}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        color = self._COLORS[self.outcome]
        label = self._LABELS[self.outcome]
        body = markdown_to_html(self.message)
        return (
            f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
            f'<b style="color:{color}">{self._ICONS[self.outcome]} {label}</b>'
            f"{' &middot; ' + html.escape(self.title) if self.title else ''}<br>"
            f'<span style="white-space:pre-wrap">{body}</span></div>'
        )


# ------------------------------------------------------------------- markdown, plain
_FENCE = re.compile(r"```[a-zA-Z]*\n(.*?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])")


def markdown_to_html(text: str) -> str:
    """The small markdown of verdicts and hints (code spans and blocks, **bold**, *italic*)
    as HTML: what a learner sees in Jupyter instead of raw backticks and asterisks."""
    parts, pos = [], 0
    for m in _FENCE.finditer(text):
        parts.append(_inline_html(text[pos : m.start()]))
        parts.append(f"<pre><code>{html.escape(m.group(1).rstrip())}</code></pre>")
        pos = m.end()
    parts.append(_inline_html(text[pos:]))
    return "".join(parts)


def _inline_html(text: str) -> str:
    out, pos = [], 0
    for m in _CODE.finditer(text):
        out.append(_emphasis_html(html.escape(text[pos : m.start()])))
        out.append(f"<code>{html.escape(m.group(1))}</code>")
        pos = m.end()
    out.append(_emphasis_html(html.escape(text[pos:])))
    return "".join(out).replace("\n", "<br>")


def _emphasis_html(text: str) -> str:
    text = _BOLD.sub(r"<b>\1</b>", text)
    return _ITALIC.sub(r"<i>\1</i>", text)


def markdown_to_text(text: str) -> str:
    """The same markdown as plain text for a terminal: code blocks indented, the backticks
    and asterisks removed."""
    text = _FENCE.sub(lambda m: textwrap.indent(m.group(1).rstrip(), "    ") + "\n", text)
    text = _CODE.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    return _ITALIC.sub(r"\1", text)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _show(obj: Any, markdown: str | None = None) -> None:
    """Display rich output in Jupyter (markdown rendered), plain text elsewhere (never raw markdown)."""
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(markdown) if markdown is not None else obj)
    else:
        print(obj if markdown is None else markdown_to_text(markdown))


# ------------------------------------------------------------------------- descriptions
def _safe_repr(value: Any, limit: int = 120) -> str:
    """``repr`` that never raises (a learner's object may have a broken ``__repr__``)."""
    try:
        text = repr(value)
    except BaseException as exc:  # noqa: BLE001 - the learner's __repr__ raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"<{_safe_type_name(value)} object whose __repr__ raised {type(exc).__name__}>"
    if not isinstance(text, str):
        text = f"<{_safe_type_name(value)} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except Exception:  # pragma: no cover - type() cannot fail on real objects
        return "object"


def _safe_name(fn: Any, default: str = "your function") -> str:
    """``fn.__name__`` that never raises (a learner's ``__getattr__`` may)."""
    try:
        name = getattr(fn, "__name__", default)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return default
    return name if isinstance(name, str) and name else default


#: tensors with at most this many entries are shown in full in a verdict; larger ones
#: are summarized (shape, dtype and the first few values).
SHOW_ALL = 6
SHOW_FIRST = 3


def describe(value: Any, limit: int = 120) -> str:
    """A short, readable description of a value for a verdict message.

    Small tensors show every value; larger ones their shape, dtype and first few values.
    Never raises, whatever the learner passes."""
    try:
        if isinstance(value, torch.Tensor):
            return _describe_tensor(value)
        if isinstance(value, np.ndarray):
            text = f"numpy array of shape {value.shape}, dtype {value.dtype}"
            if value.dtype.kind in "biuf" and value.size:
                vals = [_short(v) for v in value.flatten()[:SHOW_ALL + 1].tolist()]
                text += f", values {_list_text(vals, value.size)}"
            return text
        if value is None:
            return "None"
        if callable(value) and not isinstance(value, type):
            return f"function {_safe_name(value, _safe_repr(value, 60))}"
    except Exception:  # noqa: BLE001 - an odd object: fall back to its repr
        pass
    return _safe_repr(value, limit)


def _describe_tensor(t: torch.Tensor) -> str:
    dtype = str(t.dtype).replace("torch.", "")
    text = f"tensor of shape {tuple(t.shape)}, dtype {dtype}"
    if t.device.type == "meta":
        return text + " on the 'meta' device (no values)"
    if t.is_sparse or t.numel() == 0 or t.dtype.is_complex:
        return text
    vals = [_short(v) for v in t.detach().flatten()[: SHOW_ALL + 1].cpu().tolist()]
    return text + f", values {_list_text(vals, t.numel())}"


def _list_text(vals: list, n: int) -> str:
    if n <= SHOW_ALL:
        return "[" + ", ".join(map(str, vals)) + "]"
    return "[" + ", ".join(map(str, vals[:SHOW_FIRST])) + ", ...]"


def _short(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v


def _arg_text(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if 0 < value.numel() <= SHOW_ALL and value.device.type != "meta" and not value.dtype.is_complex:
            vals = [_short(v) for v in value.detach().flatten().cpu().tolist()]
            return f"tensor({vals}) {_shape_dtype(value)}"
        return "tensor " + _shape_dtype(value)
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, torch.nn.Module):
        return _safe_type_name(value) + "(...)"
    text = _safe_repr(value, 40)
    return text


def _shape_dtype(t: torch.Tensor) -> str:
    return f"{tuple(t.shape)} {str(t.dtype).replace('torch.', '')}"


def _format_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """``name(arg, ...)`` with tensors as their shape and dtype; long calls are cut at an
    argument boundary (never in the middle of a number)."""
    parts = [_arg_text(a) for a in args] + [f"{k}={_arg_text(v)}" for k, v in kwargs.items()]
    out = []
    for i, part in enumerate(parts):
        if len(name) + sum(len(p) + 2 for p in out) + len(part) > 200:
            out.append(f"... ({len(parts) - i} more)")
            break
        out.append(part)
    return f"{name}({', '.join(out)})"


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
        _compare_tensors(expected, received, rtol, atol, at)
        return
    if isinstance(expected, np.ndarray):
        if isinstance(received, np.ndarray):
            try:
                received = torch.as_tensor(received)
            except (TypeError, RuntimeError, ValueError):
                raise Incorrect(f"Expected a numeric array{at}, but received a numpy array of dtype {received.dtype}.") from None
        compare(torch.as_tensor(expected), received, rtol, atol, where)
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
        try:
            float(received)
        except OverflowError:
            raise Incorrect(f"Expected {_short(float(expected))}{at}, but received a whole number too large for a float ({len(str(abs(int(received))))} digits).") from None
        if not math.isfinite(float(received)) and math.isfinite(float(expected)):
            raise Incorrect(f"Expected {_short(float(expected))}{at}, but received {float(received)}: look for a division by zero, a log of 0 or an overflow.")
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
    try:
        same = bool(expected == received)
    except Exception:  # noqa: BLE001 - a learner's object whose == raises or is ambiguous
        same = False
    if not same:
        raise Incorrect(f"Expected {describe(expected)}{at}, but received {describe(received)}.")


def _compare_tensors(expected: torch.Tensor, received: torch.Tensor, rtol: float, atol: float, at: str) -> None:
    """The tensor stages of :func:`compare`: device, dtype (exactly), shape, then values."""
    if received.device.type == "meta":
        raise Incorrect(
            f"Received a tensor on the 'meta' device{at}: it has a shape but no values. "
            "Build the result from the inputs (or pass device=x.device)."
        )
    if received.is_sparse or received.layout != torch.strided:
        raise Incorrect(f"Expected a dense tensor{at}, but received a {received.layout} tensor.")
    if received.dtype.is_complex and not expected.dtype.is_complex:
        raise Incorrect(
            f"Expected a real tensor of dtype {_dtype(expected)}{at}, but received a complex tensor "
            f"(dtype {_dtype(received)}); the imaginary part would be lost."
        )
    if expected.dtype != received.dtype:
        tip = ""
        if expected.is_floating_point() and received.is_floating_point():
            tip = (
                " Keep the inputs' dtype: create new tensors with dtype=x.dtype (or torch.zeros_like), "
                "and avoid .float() / .double()."
            )
        raise Incorrect(f"Expected dtype {_dtype(expected)}{at}, but received dtype {_dtype(received)}.{tip}")
    if tuple(expected.shape) != tuple(received.shape):
        raise Incorrect(
            f"Expected shape {tuple(expected.shape)}{at}, but received shape {tuple(received.shape)}."
        )
    if expected.numel() == 0:
        return
    exp = expected.detach().cpu()
    rec = received.detach().cpu()
    if exp.dtype.is_complex:
        exp, rec = torch.view_as_real(exp), torch.view_as_real(rec)
    if exp.is_floating_point():
        exp, rec = exp.to(torch.float64), rec.to(torch.float64)
        wild = ~torch.isfinite(rec) & torch.isfinite(exp)
        if bool(wild.any()):
            idx = tuple(int(i) for i in torch.nonzero(wild)[0])
            raise Incorrect(
                f"Your result contains {int(wild.sum())} non-finite value(s){at} (NaN or inf) where the "
                f"expected values are finite. First at index {idx}: expected {_short(exp[idx].item())}, "
                f"received {rec[idx].item()}. Look for a division by zero, a log of 0, an exp that overflows, "
                "or an uninitialized tensor (torch.empty)."
            )
        bad = ~torch.isclose(rec, exp, rtol=rtol, atol=atol, equal_nan=True)
    else:
        bad = rec != exp
    if bool(bad.any()):
        idx = tuple(int(i) for i in torch.nonzero(bad)[0])
        msg = (
            f"Values differ{at}: {int(bad.sum())} of {exp.numel()} entries are wrong. "
            f"First at index {idx}: expected {_short(exp[idx].item())}, "
            f"received {_short(rec[idx].item())}."
        )
        if exp.is_floating_point():
            diff = (rec - exp).abs()
            err = diff[torch.isfinite(diff)].max().item() if bool(torch.isfinite(diff).any()) else float("nan")
            msg += f" Max abs error {err:.3g}."
        raise Incorrect(msg)


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).replace("torch.", "")


# ------------------------------------------------------------------------- learner code
def _is_blank(answer: Any) -> bool:
    return answer is Ellipsis or isinstance(answer, Blank)


def _body_is_blank(fn: Callable) -> bool:
    """True when a function's body (docstring aside) is only pass / ... / raise NotImplementedError."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except Exception:  # noqa: BLE001 - no source, a __wrapped__ loop, an odd callable...
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
    """Call the learner's function: the one guarded call of learner code.

    Anything it raises, ``sys.exit()`` included, becomes a :class:`LearnerError` (reported
    to the learner, never raised); only ``KeyboardInterrupt`` (the stop button) goes
    through. A result that is no value at all (the blank, a tensor on the 'meta' device)
    is judged here too."""
    label = name or _safe_name(fn)
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(str(exc)) from exc
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise LearnerError(
            _Exit(f"your code called sys.exit({'' if exc.code is None else _safe_repr(exc.code, 40)})"),
            _format_call(label, args, kwargs),
        ) from None
    except BaseException as exc:  # noqa: BLE001 - the learner's bug, reported not raised
        raise LearnerError(exc, _format_call(label, args, kwargs)) from exc
    if _is_blank(result):
        raise NotAttempted("returned the blank")
    odd = _odd_value(result)
    if odd:
        raise Incorrect(f"{_format_call(label, args, kwargs)} returned {odd}.")
    return result


def match_variant(
    received: Any,
    expected: Any,
    variants: Iterable[tuple[str, Any]] | dict[str, Any],
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> str | None:
    """The remark of the first known wrong answer that ``received`` equals, or None.

    ``variants`` holds ``(remark, value)`` pairs (or a dict remark -> value): what a typical
    mistake computes on the same inputs ("no T^2 factor", "one alpha for the whole batch").
    A variant is matched when ``received`` is close to its value (same shape, ``allclose``
    in float64; dicts key by key) and the variant itself differs from ``expected``: a mistake that gives the
    right value on this case cannot be told apart, so it is not named. Values that are not
    numbers or tensors, or that cannot be compared, never match (a diagnosis is a bonus, it
    must not fail). Used by the diagnoses of several lessons (notebooks 00, 04 and 07).
    """

    def close(a: Any, b: Any) -> bool:
        if isinstance(a, dict) or isinstance(b, dict):  # dicts of numbers: same keys, close values
            return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        try:
            a = torch.as_tensor(a.detach() if isinstance(a, torch.Tensor) else a).double()
            b = torch.as_tensor(b.detach() if isinstance(b, torch.Tensor) else b).double()
            return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        except Exception:  # noqa: BLE001 - an odd answer (a string, a ragged list) matches nothing
            return False

    items = variants.items() if isinstance(variants, dict) else variants
    for remark, value in items:
        if close(received, value) and not close(value, expected):
            return remark
    return None


def _odd_value(value: Any, expected: Any = None) -> str | None:
    """Why ``value`` (or a tensor inside a tuple/list/dict) cannot be a course answer, or None:
    a tensor on the 'meta' device (no values), a sparse tensor, a complex tensor where the
    course computes with real numbers (the imaginary part would be dropped silently)."""
    complex_ok = isinstance(expected, torch.Tensor) and expected.dtype.is_complex
    for path, t in _tensors_in(value, "the answer"):
        if not isinstance(t, torch.Tensor):
            continue
        where = "" if path == "the answer" else f" (at {path.removeprefix('the answer')})"
        if t.device.type == "meta":
            return f"a tensor on the 'meta' device{where}: it has a shape but no values. Build it from real values"
        if t.layout != torch.strided:
            return f"a {t.layout} tensor{where}; the course expects a dense tensor"
        if t.dtype.is_complex and not complex_ok:
            return (f"a complex tensor{where} (dtype {_dtype(t)}); the course expects real numbers, and "
                    "the imaginary part would be dropped silently. Use real values")
    return None


class _Exit(Exception):
    """Stands for a ``SystemExit`` raised by learner code (a check cannot stop Python)."""


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
        """Judge ``answer`` and return the :class:`Verdict` (no display).

        Never raises on a learner's answer: whatever the answer does (raise, ``sys.exit()``,
        a broken ``__repr__``), the result is a verdict. Only ``KeyboardInterrupt`` (the
        stop button) goes through, after the global state the check touched (grad mode,
        default dtype) is restored, so the exercise stays usable."""
        grad, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
        try:
            return self._evaluate(answer)
        finally:
            torch.set_grad_enabled(grad)
            torch.set_default_dtype(dtype)

    def _evaluate(self, answer: Any) -> Verdict:
        v = lambda outcome, msg: Verdict(outcome, msg, self.title)  # noqa: E731
        if _is_blank(answer):
            return v(NOT_ATTEMPTED, "Replace the blank (`...` or `____`) with your answer, then run the check again." + (STOP_NOTE if self.expects_function else ""))
        if self.expects_function:
            if answer is None:
                return v(INCORRECT, "Received None, but this exercise expects a function. Pass the function itself, e.g. check(my_function), without calling it.")
            if not callable(answer):
                return v(INCORRECT, f"This exercise expects a function, but received {describe(answer)}. Pass the function itself, without calling it.")
            try:
                inspect.unwrap(answer)
            except Exception as exc:  # noqa: BLE001 - e.g. a __wrapped__ loop
                return v(INCORRECT, f"Your function cannot be inspected ({type(exc).__name__}: {_safe_str(exc)}): its "
                         "`__wrapped__` attribute leads back to itself. Pass a plain function (remove __wrapped__).")
            if _body_is_blank(answer):
                return v(NOT_ATTEMPTED, f"The body of {_safe_name(answer)} is still empty (pass / ... / NotImplementedError). Write your code, then check again." + STOP_NOTE)
        elif answer is None and self.expected is not None:
            return v(INCORRECT, f"Received None. Expected {describe(self.expected)}-like answer; did you assign the variable before checking?")
        else:
            odd = _odd_value(answer, self.expected)
            if odd:
                return v(INCORRECT, f"Your answer is {odd}.")
        try:
            self._run(answer)
        except NotAttempted:
            return v(NOT_ATTEMPTED, "Your answer still contains the blank or raises NotImplementedError. Fill it in, then check again.")
        except Incorrect as exc:
            return v(INCORRECT, str(exc))
        except LearnerError as exc:
            return v(INCORRECT, _learner_error_text(exc))
        except KeyboardInterrupt:
            raise
        except _CheckerBug as bug:
            return v(CHECKER_ERROR, _checker_error_text(bug.exc))
        except SystemExit as exc:
            code = "" if exc.code is None else _safe_repr(exc.code, 40)
            return v(INCORRECT, f"Your code called sys.exit({code}) (or exit()). A function must return its result; "
                     "exiting would stop the whole notebook. Remove the exit, then check again.")
        except BaseException as exc:  # noqa: BLE001 - whose fault? the traceback tells
            if self._blame_learner(exc):
                return v(INCORRECT, f"Your answer raised {type(exc).__name__}: {_safe_str(exc)} while the checker was using it "
                         "(in one of its methods, e.g. __repr__, __getattr__ or __eq__). Fix it, then check again.")
            return v(CHECKER_ERROR, _checker_error_text(exc))
        return v(CORRECT, self._praise())

    def _blame_learner(self, exc: BaseException) -> bool:
        """True when the exception was raised while running code that is neither the
        course's nor a library's (so: the learner's own code)."""
        own = set()
        for fn in (self.judge, self.reference, self.diagnose):
            if fn is not None:
                try:
                    own.add(os.path.realpath(inspect.getfile(fn)))
                except (TypeError, OSError):
                    pass
        tb = exc.__traceback__
        while tb is not None:
            fname = tb.tb_frame.f_code.co_filename
            if _is_learner_file(fname) and os.path.realpath(fname) not in own:
                return True
            tb = tb.tb_next
        return False

    def check(self, answer: Any) -> Verdict:
        """Check ``answer`` and show the verdict (rich in Jupyter, plain text elsewhere).

        Returns the verdict too, so ``assert ex.check(f)`` works in scripts. In a notebook
        the verdict is displayed once; the returned object renders nothing more. The stop
        button (``KeyboardInterrupt``) interrupts a function that never returns; the
        exercise stays usable for the next check.
        """
        try:
            verdict = self.evaluate(answer)
        except KeyboardInterrupt:
            _show(None, f"**Interrupted** ({self.title}): the check was stopped before your function "
                  "returned. Nothing is broken: fix the function (a loop that never ends?) and run the check again.")
            raise
        if _in_notebook():
            from IPython.display import display

            display(verdict)
            return _Quiet(verdict)
        print(verdict)
        return _Quiet(verdict)

    def hint(self, level: int | None = None) -> None:
        """Show the next hint, or hint number ``level`` (1-based). Past the last hint, say
        so (and point to ``solution()``) instead of raising."""
        n = len(self.hints)
        if not n:
            _show(None, "No hint for this one: try the solution() if you are stuck.")
            return
        if level is None:
            self._next_hint = min(self._next_hint + 1, n)
            level = self._next_hint
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            _show(None, f"hint() takes a hint number from 1 to {n}, e.g. hint(1); got {_safe_repr(level, 40)}.")
            return
        level = int(level)
        if level > n:
            _show(None, f"No more hints: this exercise has {n} hint{'s' if n > 1 else ''} "
                  f"(hint(1) to hint({n})). Stuck? solution() shows ours.")
            return
        if level < 1:
            _show(None, f"Hints are numbered from 1 to {n}: try hint(1).")
            return
        self._next_hint = max(self._next_hint, level)
        more = f" (call hint({level + 1}) for the next)" if level < n else " (the last one: solution() shows ours)"
        _show(None, f"**Hint {level}/{n}**{more}: {self.hints[level - 1]}")

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
        name = _safe_name(answer, "your_function")
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                cases = self._cases()
        except Exception as exc:
            raise _CheckerBug(exc) from exc
        for case in cases:
            expected = case.expected
            ref_changes = None
            if expected is None:
                try:
                    ref_args, ref_kwargs = _clone(case.args), _clone(case.kwargs)
                    expected = self.reference(*ref_args, **ref_kwargs)
                    ref_changes = _changed_input(case.args, case.kwargs, ref_args, ref_kwargs, self._params())
                except Exception as exc:
                    raise _CheckerBug(exc) from exc
            args, kwargs = _clone(case.args), _clone(case.kwargs)
            received = call_learner(answer, *args, name=name, **kwargs)
            changed = None if ref_changes else _changed_input(case.args, case.kwargs, args, kwargs, self._params())
            call = _format_call(name, case.args, case.kwargs)
            label = f" ({case.label})" if case.label else ""
            try:
                self._compare(case, expected, received)
            except Incorrect as exc:
                note = f" Note: your function also changed its input {changed} in place." if changed else ""
                raise Incorrect(f"{exc}{note}\n(The call: {call}{label}.)") from None
            if changed:
                raise Incorrect(
                    f"Your function returned the right value but changed its input {changed} in place "
                    f"(an in-place operation such as `x -= ...`, `x[...] = ...` or `x.add_(...)`). The caller's "
                    f"data must stay as it was: work on a copy (`x = x.clone()`) or use out-of-place operations.\n"
                    f"(The call: {call}{label}.)"
                )

    def _params(self) -> list[str]:
        try:
            return list(inspect.signature(self.reference).parameters)
        except (TypeError, ValueError):
            return []

    def _compare(self, case: Case | None, expected: Any, received: Any) -> None:
        try:
            compare(expected, received, self.rtol, self.atol)
        except Incorrect as exc:
            extra = None
            if self.diagnose:
                try:
                    extra = self.diagnose(case, expected, received)
                except KeyboardInterrupt:
                    raise
                except BaseException:  # noqa: BLE001 - a diagnosis is a bonus: an odd answer may defeat it
                    extra = None
            if extra:
                raise Incorrect(f"{exc} {extra}") from None
            raise


#: added to the "Not attempted" verdict of every exercise that runs the learner's function
STOP_NOTE = (
    "\nIf a check never finishes (a loop that never ends), press the stop button (■, or "
    "Kernel > Interrupt): the check stops and the exercise stays usable."
)


class _CheckerBug(Exception):
    """An exception of the course's own code (a reference or the case generator)."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.exc = exc


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return f"<{type(exc).__name__}>"


def _learner_error_text(exc: LearnerError) -> str:
    return (
        f"Your code raised {_safe_str(exc)} when called as {exc.call}. "
        "Read the error message and fix the function, then check again."
    )


def _checker_error_text(exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=3))
    return "Something went wrong inside the checker. This is a bug in the course, please report it.\n" + tb


def _library_dirs() -> tuple[str, ...]:
    import sysconfig

    dirs = {os.path.dirname(os.path.realpath(__file__))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            dirs.add(os.path.realpath(sysconfig.get_paths()[key]))
    for mod in (torch, np):
        dirs.add(os.path.dirname(os.path.dirname(os.path.realpath(mod.__file__))))
    return tuple(d.rstrip(os.sep) + os.sep for d in dirs)


_LIBRARY_DIRS: tuple[str, ...] = ()


def _is_learner_file(fname: str) -> bool:
    """Code that is neither the course's nor a library's: a notebook cell, the learner's
    own module, code a learner passed as text."""
    global _LIBRARY_DIRS
    if fname.startswith("<"):
        return not fname.startswith(("<frozen", "<tests of", "<__array_function__"))
    if not _LIBRARY_DIRS:
        _LIBRARY_DIRS = _library_dirs()
    return not os.path.realpath(fname).startswith(_LIBRARY_DIRS)


def _tensors_in(value: Any, path: str):
    """(path, tensor/array) pairs inside ``value`` (tuples, lists and dicts walked)."""
    if isinstance(value, torch.Tensor | np.ndarray):
        yield path, value
    elif isinstance(value, tuple | list):
        for i, v in enumerate(value):
            yield from _tensors_in(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors_in(v, f"{path}[{k!r}]")


def _changed_input(args0: tuple, kwargs0: dict, args: tuple, kwargs: dict, names: list[str]) -> str | None:
    """The name of the first tensor argument that differs from its value before the call."""
    pairs = [(names[i] if i < len(names) else f"#{i + 1}", a0, a) for i, (a0, a) in enumerate(zip(args0, args, strict=False))]
    pairs += [(k, kwargs0[k], kwargs[k]) for k in kwargs0 if k in kwargs]
    for name, before, after in pairs:
        for (path, t0), (_, t1) in zip(_tensors_in(before, f"`{name}`"), _tensors_in(after, ""), strict=False):
            if isinstance(t0, torch.Tensor):
                t1 = t1 if isinstance(t1, torch.Tensor) else torch.as_tensor(t1)
                if t0.shape != t1.shape or t0.dtype != t1.dtype or not torch.equal(t0.detach(), t1.detach()):
                    if not (t0.is_floating_point() and bool(torch.isnan(t0).any())):
                        return path
            elif not np.array_equal(t0, t1):
                return path
    return None


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
