"""Interview prep: the bilingual question bank, grading, spaced repetition, mock interviews.

Introduced in notebook 09 (every lesson's end-of-chapter questions come from here too).
The package is layered, each part importing only the parts above it in this list:

* :mod:`~course_utils.interview.text`: the UI strings in English and Chinese;
* :mod:`~course_utils.interview.progress`: the progress file and the Leitner schedule
  (implemented in :mod:`course_utils.progress`, standard library only);
* :mod:`~course_utils.interview.bank`: topics, types, :class:`Question`, loading the bank;
* :mod:`~course_utils.interview.grading`: :func:`grade` and :class:`Result`;
* :mod:`~course_utils.interview.render`: questions as text or HTML, ``show_questions``;
* :mod:`~course_utils.interview.mock`: :class:`MockInterview`;
* :mod:`~course_utils.interview.drill`: the terminal drill (``python -m course_utils quiz``);
* :mod:`~course_utils.interview.tab_keys` and :mod:`~course_utils.interview.apps`: the
  notebook widgets (imported on first use, so the terminal never imports ipywidgets).

``course_utils.quiz`` and ``course_utils.quiz_apps``, the former modules, re-export the
same names.
"""

from __future__ import annotations

from typing import Any

from course_utils.interview.bank import (
    BANK_DIR,
    TOPIC_CATALOG,
    TOPICS,
    TYPE_CATALOG,
    TYPES,
    Question,
    get_question,
    load_bank,
    questions,
    ref_label,
    ref_link,
    section_title,
    topic_title,
)
from course_utils.interview.drill import main, parse_difficulty, run_drill, select_questions
from course_utils.interview.grading import (
    DESIGN_PASS,
    Result,
    exercise,
    grade,
    parse_lines,
    parse_number,
    parse_points,
    run_code_tests,
)
from course_utils.interview.mock import ANSWER_TYPES, MockInterview
from course_utils.interview.progress import (
    PROGRESS_ENV,
    PROGRESS_FORMAT,
    Leitner,
    Progress,
    atomic_write_json,
    progress_path,
)
from course_utils.interview.render import render_question, show_questions
from course_utils.interview.text import LANGS

__all__ = [
    "ANSWER_TYPES",
    "BANK_DIR",
    "DESIGN_PASS",
    "LANGS",
    "PROGRESS_ENV",
    "PROGRESS_FORMAT",
    "TOPICS",
    "TOPIC_CATALOG",
    "TYPES",
    "TYPE_CATALOG",
    "FlashcardApp",
    "Leitner",
    "MockApp",
    "MockInterview",
    "Progress",
    "Question",
    "QuizApp",
    "Result",
    "atomic_write_json",
    "design_drill",
    "exercise",
    "flashcards",
    "get_question",
    "grade",
    "load_bank",
    "main",
    "mock_interview_widget",
    "parse_difficulty",
    "parse_lines",
    "parse_number",
    "parse_points",
    "progress_path",
    "questions",
    "quiz_widget",
    "ref_label",
    "ref_link",
    "render_question",
    "run_code_tests",
    "run_drill",
    "section_title",
    "select_questions",
    "show_questions",
    "topic_title",
]

_APPS = {
    "FlashcardApp",
    "MockApp",
    "QuizApp",
    "design_drill",
    "flashcards",
    "mock_interview_widget",
    "quiz_widget",
}


def __getattr__(name: str) -> Any:
    """The notebook apps live in :mod:`course_utils.interview.apps` (imported on first use)."""
    if name in _APPS:
        from course_utils.interview import apps

        return getattr(apps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
