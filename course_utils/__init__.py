"""Helper package of *Video Deep Learning from First Principles*.

Small on purpose: the version and the few names every notebook imports. Each lesson's
from-scratch code lives in its own module (``conv``, ``rnn``, ``attention``, ``gan``), and
each notebook's exercises in ``course_utils.lessons``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from course_utils.env import setup  # noqa: E402

__all__ = ["__version__", "setup"]
