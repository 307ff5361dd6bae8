"""Helper package of *Video Deep Learning from First Principles*.

Small on purpose: the version and the few names every notebook imports. Each lesson's
from-scratch code lives in its own module (``conv``, ``rnn``, ``attention``, ``gan``), and
each notebook's exercises in ``course_utils.lessons``.

Importing the package imports neither torch nor numpy: ``setup`` is loaded on first use
(``from course_utils import setup`` works as before), so ``python -m course_utils doctor``
can diagnose a broken torch or numpy instead of dying on the import.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "setup"]

_LAZY = {"setup": "course_utils.env"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
