"""Former home of the interview prep; now :mod:`course_utils.interview` (notebook 09).

Kept so that ``from course_utils import quiz`` and ``quiz.grade(...)`` go on working: every
public name of the package is re-exported here, the notebook apps on first use.
"""

from __future__ import annotations

from typing import Any

from course_utils.interview import *  # noqa: F403
from course_utils.interview import (
    _APPS,
    __all__,  # noqa: F401
)


def __getattr__(name: str) -> Any:
    if name in _APPS:
        from course_utils.interview import apps

        return getattr(apps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
