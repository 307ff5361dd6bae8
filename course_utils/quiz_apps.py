"""Former home of the interview prep's notebook apps; now :mod:`course_utils.interview.apps`.

Kept so that ``from course_utils.quiz_apps import QuizApp`` goes on working (notebook 09).
"""

from __future__ import annotations

from course_utils.interview.apps import *  # noqa: F403
from course_utils.interview.apps import __all__  # noqa: F401
