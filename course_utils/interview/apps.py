"""Notebook apps of the interview prep (notebook 09): quiz, flashcards, mock interview.

Each app is a small class holding its state, with an ipywidgets view in ``app.widget``
(display the app itself, ``app``, to also install the Tab-key script of
:mod:`~course_utils.interview.tab_keys`), methods that drive it without a browser
(``submit``, ``next``, ``set_lang``, ``reveal``, ``rate``, ``finish``) and ``html()``, a
static picture of its current state for exports and nbval.

* The **first** valid answer to a question is what counts, for the score and for the
  Leitner box: after a wrong answer the feedback shows the answer, and typing it back in
  is graded and shown but changes neither.
* ``progress`` is explicit: ``None`` records nothing (quiz, mock interview), a
  :class:`~course_utils.progress.Progress` or a path records there.
* The DOM hooks (for browser tests): the app's root box has class ``vdl-quiz``; its
  counter ("Question 3/10 · ...") class ``vdl-progress-counter``; the code and notes
  boxes class ``vdl-tab-indent`` (a ``div.widget-textarea`` holding the ``textarea``).

Depends on every other part of the package except the terminal drill.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from course_utils.interview.bank import Question, get_question, questions, ref_link
from course_utils.interview.grading import Result, grade
from course_utils.interview.mock import ANSWER_TYPES, MockInterview
from course_utils.interview.progress import Leitner, Progress
from course_utils.interview.render import render_question
from course_utils.interview.tab_keys import TAB_CLASS, TAB_KEYS_JS
from course_utils.interview.text import check_lang, colon, ui

__all__ = [
    "FlashcardApp",
    "MockApp",
    "QuizApp",
    "design_drill",
    "flashcards",
    "mock_interview_widget",
    "quiz_widget",
]

_COLORS = {"correct": "#1b7f3b", "incorrect": "#b3261e", "invalid": "#8a6d00"}


def _as_progress(progress: Progress | str | Path | None) -> Progress | None:
    if progress is None or isinstance(progress, Progress):
        return progress
    if isinstance(progress, str | Path):
        return Progress(progress)
    raise TypeError(f"progress must be a Progress, a path or None, got {type(progress).__name__}")


def _show_with_tab_keys(widget: Any) -> None:
    from IPython.display import Javascript, display

    display(Javascript(TAB_KEYS_JS))
    display(widget)


def _rubric_html(q: Question, lang: str, ticked: Sequence[int] | None = None) -> str:
    e = html.escape
    marks = (
        (lambda i: "☑ " if i in ticked else "☐ ") if ticked is not None else (lambda i: "")
    )
    items = "".join(
        f"<li>{marks(i)}{e(p)}</li>" for i, p in enumerate(q.rubric(lang), start=1)
    )
    return f"<b>{e(ui(lang, 'rubric'))}</b><ol style='margin:2px 0'>{items}</ol>"


def _feedback_html(q: Question, res: Result, lang: str, first: Result | None = None) -> str:
    """The verdict on an answer, then the answer, the explanation and the sections to
    review; ``first`` (a different, earlier answer's result) adds that only it counts."""
    e = html.escape
    c = colon(lang)
    label = {
        "correct": "✅ " + ui(lang, "correct"),
        "incorrect": "❌ " + ui(lang, "incorrect"),
        "invalid": "✏️ " + ui(lang, "invalid"),
    }[res.outcome]
    color = _COLORS[res.outcome]
    out = f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
    out += f'<b style="color:{color}">{e(label)}</b>'
    if res.message:
        out += f' <span style="white-space:pre-wrap">{e(res.message)}</span>'
    if first is not None:
        word = ui(lang, "correct" if first.correct else "incorrect")
        word = word.lower() if lang == "en" else word
        out += f"<br><i>{e(ui(lang, 'first_counts', first=word))}</i>"
    if res.valid:
        if q.type in ("bug", "code", "short"):
            out += f"<br><b>{e(ui(lang, 'answer'))}{c}</b>{e(q.text('answer', lang))}"
        if q.type == "bug":
            k = res.detail.get("accepted", 0)
            out += f"<pre>{e(q.fixed_code(None if k == 0 else k - 1))}</pre>"
        if q.type == "code":
            out += f"<pre>{e(q.raw['solution'])}</pre>"
        if q.text("explanation", lang):
            out += f"<br><b>{e(ui(lang, 'explanation'))}{c}</b>{e(q.text('explanation', lang))}"
        if q.refs:
            out += f"<br><i>{e(ui(lang, 'review'))}{c}{'; '.join(ref_link(r, lang) for r in q.refs)}</i>"
    return out + "</div>"


class QuizApp:
    """A quiz widget: one question at a time with a visible counter ("Question 3/10"), an
    answer box that fits the question type (choices, a number, line numbers, code, or the
    rubric's checkboxes of a design case), feedback with the explanation after every
    answer, and an English/Chinese switch. Only the first answer to a question counts."""

    mode = "quiz"

    def __init__(
        self,
        ids: Sequence[str] | None = None,
        *,
        topic: str | Sequence[str] | None = None,
        lang: str = "en",
        progress: Progress | str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.ids = list(ids) if ids is not None else [q.id for q in questions(topic)]
        if not self.ids:
            raise ValueError("no questions to show")
        for i in self.ids:
            get_question(i)
        self.lang = check_lang(lang)
        self.progress = _as_progress(progress)
        self.leitner = Leitner(self.progress, clock) if self.progress is not None else None
        self.index = 0
        self.results: dict[str, Result] = {}  # the first valid answer's verdict
        self.answers: dict[str, Any] = {}  # the first valid answer itself
        self._shown: dict[str, tuple[Any, Result]] = {}  # the latest attempt, on screen
        self._save_problem: dict[str, str] = {}
        self._revealed = False
        self._build()

    # -- state ----------------------------------------------------------------
    @property
    def question(self) -> Question:
        return get_question(self.ids[self.index])

    def submit(self, answer: Any) -> Result:
        """Grade ``answer`` for the current question and show the verdict. The first valid
        answer is recorded (score, Leitner box); later ones are only shown."""
        q = self.question
        res = self._grade(q, answer)
        counted = res.valid and q.id not in self.results
        if counted:
            self.results[q.id] = res
            self.answers[q.id] = answer
            if self.leitner is not None:
                self.leitner.answer(q.id, res.correct, mode=self.mode)
                problem = self.progress.try_save()
                if problem:
                    self._save_problem[q.id] = problem
        self._shown[q.id] = (answer, {self.lang: res}, counted)
        self._render()
        return res

    def _grade(self, q: Question, answer: Any) -> Result:
        return grade(q, answer, self.lang)

    def go(self, index: int) -> None:
        self.index = max(0, min(index, len(self.ids) - 1))
        self._revealed = False
        self._render(new_question=True)

    def next(self) -> None:
        self.go(self.index + 1)

    def prev(self) -> None:
        self.go(self.index - 1)

    def set_lang(self, lang: str) -> None:
        self.lang = check_lang(lang)
        if self._lang_toggle.value != lang:
            self._lang_toggle.value = lang  # the observer calls back with the same value
        self._render(new_question=True)

    def score(self) -> tuple[int, int]:
        """(right, answered), first answers only."""
        return sum(r.correct for r in self.results.values()), len(self.results)

    # -- view -----------------------------------------------------------------
    def _status(self) -> str:
        right, done = self.score()
        lang = self.lang
        return (
            f"{ui(lang, 'progress_counter', i=self.index + 1, n=len(self.ids))} · "
            f"{ui(lang, 'answered', a=done)} · {ui(lang, 'correct')} {right}/{done}"
        )

    def _feedback(self, q: Question) -> str:
        if q.id not in self._shown:
            return ""
        answer, verdicts, counted = self._shown[q.id]
        if self.lang not in verdicts:  # the same attempt's verdict in the current language
            verdicts[self.lang] = self._grade(q, answer)
        res = verdicts[self.lang]
        first = self.results.get(q.id)
        repeat = not counted and first is not None and res.valid
        out = _feedback_html(q, res, self.lang, first if repeat else None)
        if q.id in self._save_problem:
            out += f"<div style='color:#b3261e'>{html.escape(self._save_problem[q.id])}</div>"
        return out

    def html(self) -> str:
        """The widget's current state as static HTML (for exports and nbval)."""
        q = self.question
        extra = ""
        if q.type == "design":
            extra = f"<div>{html.escape(ui(self.lang, 'design_prompt'))}</div>"
            if self._revealed or q.id in self._shown:
                ticked = self.results[q.id].detail.get("ticked") if q.id in self.results else None
                extra += (
                    f"<div><b>{html.escape(ui(self.lang, 'model_answer'))}{colon(self.lang)}</b>"
                    f"{html.escape(q.text('answer', self.lang))}</div>"
                    + _rubric_html(q, self.lang, ticked)
                )
        return (
            f'<div class="vdl-quiz" style="border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">'
            f'<div class="vdl-progress-counter" style="color:#666;font-size:90%">{html.escape(self._status())}</div>'
            f"{render_question(q, self.lang, html_=True)}{extra}{self._feedback(q)}</div>"
        )

    def _ipython_display_(self) -> None:
        _show_with_tab_keys(self.widget)

    def _build(self) -> None:
        import ipywidgets as W

        self._W = W
        self._lang_toggle = W.ToggleButtons(
            options=[("English", "en"), ("中文", "zh")], value=self.lang
        )
        self._lang_toggle.observe(
            lambda ch: self.set_lang(ch["new"]) if ch["new"] != self.lang else None, names="value"
        )
        self._status_w = W.HTML()
        self._status_w.add_class("vdl-progress-counter")
        self._bar = W.IntProgress(min=0, max=len(self.ids), value=0, layout=W.Layout(width="12em"))
        self._bar.add_class("vdl-progress-bar")
        self._body = W.HTML()
        self._input = W.VBox()
        self._feedback_w = W.HTML()
        self._check_btn = W.Button(button_style="primary")
        self._check_btn.on_click(lambda _: self.submit(self._read_input()))
        self._prev_btn = W.Button(description="◀")
        self._next_btn = W.Button(description="▶")
        self._prev_btn.on_click(lambda _: self.prev())
        self._next_btn.on_click(lambda _: self.next())
        self._reveal_btn = W.Button()
        self._knew_btn = W.Button(button_style="success")
        self._forgot_btn = W.Button(button_style="danger")
        self._reveal_btn.on_click(lambda _: self._reveal())
        self._knew_btn.on_click(lambda _: self.submit(True))
        self._forgot_btn.on_click(lambda _: self.submit(False))
        self._extra = W.HBox()
        self.widget = W.VBox(
            [
                W.HBox([self._lang_toggle, self._status_w, self._bar]),
                self._body,
                self._input,
                W.HBox([self._prev_btn, self._check_btn, self._next_btn]),
                self._extra,
                self._feedback_w,
            ]
        )
        self.widget.add_class("vdl-quiz")
        self._render(new_question=True)

    def _reveal(self) -> None:
        self._revealed = True
        self._render(new_question=self.question.type == "design")

    def _make_input(self, q: Question):
        W = self._W
        lang = self.lang
        if q.type == "choice":
            opts = [(f"{chr(ord('A') + i)}. {c}", i) for i, c in enumerate(q.choices(lang))]
            return W.RadioButtons(options=opts, value=None, layout=W.Layout(width="auto"))
        if q.type == "numeric":
            return W.Text(placeholder=ui(lang, "number"))
        if q.type == "bug":
            return W.Text(placeholder=ui(lang, "lines"))
        if q.type == "code":
            box = W.Textarea(value=q.raw["starter"], layout=W.Layout(width="100%", height="12em"))
            box.add_class(TAB_CLASS)
            return box
        if q.type == "design":
            notes = W.Textarea(
                placeholder=ui(lang, "notes"), layout=W.Layout(width="100%", height="8em")
            )
            notes.add_class(TAB_CLASS)
            self._notes_w = notes
            self._ticks = []
            if not (self._revealed or q.id in self._shown):
                return notes
            ticked = set(self.results[q.id].detail.get("ticked", [])) if q.id in self.results else set()
            rows = []
            for i, point in enumerate(q.rubric(lang), start=1):
                box = W.Checkbox(value=i in ticked, indent=False, layout=W.Layout(width="2em"))
                self._ticks.append(box)
                rows.append(W.HBox([box, W.HTML(f"{i}. {html.escape(point)}")]))
            model = W.HTML(
                f"<b>{html.escape(ui(lang, 'model_answer'))}{colon(lang)}</b>"
                f"{html.escape(q.text('answer', lang))}<br><b>{html.escape(ui(lang, 'rubric'))}</b>"
            )
            return W.VBox([notes, model, *rows])
        return None

    def _read_input(self) -> Any:
        q = self.question
        if q.type == "design":
            return [b.value for b in self._ticks] if self._ticks else ""
        w = self._input_w
        if w is None:
            return None
        if q.type == "choice":
            return w.value if w.value is not None else ""
        return w.value

    def _render(self, new_question: bool = False) -> None:
        q = self.question
        lang = self.lang
        self._status_w.value = (
            f"<span style='color:#666;margin-left:1em'>{html.escape(self._status())}</span>"
        )
        self._bar.value = len(self.results)
        self._body.value = render_question(q, lang, html_=True) + (
            f"<div>{html.escape(ui(lang, 'design_prompt'))}</div>" if q.type == "design" else ""
        )
        if new_question:
            self._input_w = self._make_input(q)
            self._input.children = [self._input_w] if self._input_w is not None else []
            self._check_btn.description = ui(lang, "check")
            self._knew_btn.description = ui(lang, "knew_btn")
            self._forgot_btn.description = ui(lang, "forgot_btn")
            design_open = q.type == "design" and (self._revealed or q.id in self._shown)
            self._reveal_btn.description = ui(lang, "reveal_rubric" if q.type == "design" else "show")
            hide_check = q.type == "short" or (q.type == "design" and not design_open)
            self._check_btn.layout.display = "none" if hide_check else None
            if q.type == "short":
                self._extra.children = [self._reveal_btn, self._knew_btn, self._forgot_btn]
            elif q.type == "design" and not design_open:
                self._extra.children = [self._reveal_btn]
            else:
                self._extra.children = []
        fb = self._feedback(q)
        if not fb and self._revealed and q.type == "short":
            fb = f"<b>{html.escape(ui(lang, 'answer'))}{colon(lang)}</b>{html.escape(q.text('answer', lang))}"
        self._feedback_w.value = fb


def quiz_widget(
    ids: Sequence[str] | None = None,
    *,
    topic: str | Sequence[str] | None = None,
    lang: str = "en",
    progress: Progress | str | Path | None = None,
) -> QuizApp:
    """Build a :class:`QuizApp` (display the app, or ``app.widget``)."""
    return QuizApp(ids, topic=topic, lang=lang, progress=progress)


def design_drill(
    ids: Sequence[str] | None = None,
    *,
    lang: str = "en",
    progress: Progress | str | Path | None = None,
) -> QuizApp:
    """The system-design drill: a :class:`QuizApp` over the design cases (all, or ``ids``).
    Write or think an answer, show the model answer and the rubric, tick the points you
    covered: correct at 70 % of the points or more."""
    ids = list(ids) if ids is not None else [q.id for q in questions(types=["design"])]
    if not ids:
        raise ValueError("the bank holds no system-design case")
    return QuizApp(ids, lang=lang, progress=progress)


class FlashcardApp:
    """Flashcards with Leitner spaced repetition: the due cards of a topic, front (the
    question) then back (the answer); "I remembered" moves the card up a box, "I forgot"
    sends it back to box 1. Progress is saved after every card, in ``progress`` (a
    Progress or a path; None means the learner's file, ``$VDL_PROGRESS`` or the default)."""

    def __init__(
        self,
        topic: str | Sequence[str] | None = None,
        *,
        ids: Sequence[str] | None = None,
        lang: str = "en",
        progress: Progress | str | Path | None = None,
        limit: int = 20,
        clock: Callable[[], float] = time.time,
    ):
        given = _as_progress(progress)
        self.progress = given if given is not None else Progress()
        self.leitner = Leitner(self.progress, clock)
        self.pool = list(ids) if ids is not None else [q.id for q in questions(topic)]
        self.queue = self.leitner.due(self.pool)[:limit]
        self.lang = check_lang(lang)
        self.pos = 0
        self.revealed = False
        self.reviewed: list[tuple[str, bool, int]] = []
        self.save_problem: str | None = None
        self._build()

    @property
    def card(self) -> Question | None:
        return get_question(self.queue[self.pos]) if self.pos < len(self.queue) else None

    def reveal(self) -> None:
        self.revealed = True
        self._render()

    def rate(self, knew: bool) -> int:
        """Record the current card as known or not; returns its new box."""
        q = self.card
        if q is None:
            raise IndexError("no card left in this session")
        box = self.leitner.answer(q.id, bool(knew), mode="flashcards")
        self.save_problem = self.progress.try_save()
        self.reviewed.append((q.id, bool(knew), box))
        if not knew and q.id not in self.queue[self.pos + 1 :]:
            self.queue.append(q.id)  # a forgotten card comes back at the end of the session
        self.pos += 1
        self.revealed = False
        self._render()
        return box

    def set_lang(self, lang: str) -> None:
        self.lang = check_lang(lang)
        if self._lang_toggle.value != lang:
            self._lang_toggle.value = lang
        self._render()

    def status(self) -> str:
        lang = self.lang
        boxes = self.leitner.boxes(self.pool)
        parts = ", ".join(f"{b}: {n}" for b, n in boxes.items() if b)
        left = len(self.queue) - self.pos
        return (
            f"{left} {ui(lang, 'cards_left')} · {ui(lang, 'new')}: {boxes[0]} · "
            f"{ui(lang, 'boxes')} {parts}"
        )

    def html(self) -> str:
        q = self.card
        lang = self.lang
        e = html.escape
        if q is None:
            return f"<div><i>{e(ui(lang, 'no_card'))}</i><br><span style='color:#666'>{e(self.status())}</span></div>"
        front = render_question(q, lang, html_=True)
        back = ""
        if self.revealed:
            c = colon(lang)
            label = "model_answer" if q.type == "design" else "answer"
            back = f"<b>{e(ui(lang, label))}{c}</b>{e(q.text('answer', lang))}"
            if q.type == "design":
                back += "<br>" + _rubric_html(q, lang)
            if q.text("explanation", lang):
                back += f"<br><b>{e(ui(lang, 'explanation'))}{c}</b>{e(q.text('explanation', lang))}"
            back = f"<div style='background:#f4f8ff;padding:6px'>{back}</div>"
        box = self.leitner.box(q.id)
        boxname = ui(lang, "new_card") if box == 0 else ui(lang, "box", b=box)
        return (
            f'<div style="border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">'
            f"<div style='color:#666;font-size:90%'>{e(self.status())} · {e(boxname)}</div>{front}{back}</div>"
        )

    def _build(self) -> None:
        import ipywidgets as W

        self._lang_toggle = W.ToggleButtons(
            options=[("English", "en"), ("中文", "zh")], value=self.lang
        )
        self._lang_toggle.observe(
            lambda ch: self.set_lang(ch["new"]) if ch["new"] != self.lang else None, names="value"
        )
        self._view = W.HTML()
        self._reveal_btn = W.Button()
        self._knew_btn = W.Button(button_style="success")
        self._forgot_btn = W.Button(button_style="danger")
        self._reveal_btn.on_click(lambda _: self.reveal())
        self._knew_btn.on_click(lambda _: self.rate(True) if self.card is not None else None)
        self._forgot_btn.on_click(lambda _: self.rate(False) if self.card is not None else None)
        self.widget = W.VBox(
            [
                self._lang_toggle,
                self._view,
                W.HBox([self._reveal_btn, self._knew_btn, self._forgot_btn]),
            ]
        )
        self.widget.add_class("vdl-flashcards")
        self._render()

    def _render(self) -> None:
        warn = (
            f"<div style='color:#b3261e'>{html.escape(self.save_problem)}</div>"
            if self.save_problem
            else ""
        )
        self._view.value = self.html() + warn
        self._reveal_btn.description = ui(self.lang, "show")
        self._knew_btn.description = ui(self.lang, "remember_btn")
        self._forgot_btn.description = ui(self.lang, "forgot_card_btn")


def flashcards(
    topic: str | Sequence[str] | None = None,
    *,
    lang: str = "en",
    progress: Progress | str | Path | None = None,
    limit: int = 20,
) -> FlashcardApp:
    """Build a :class:`FlashcardApp` over the due cards of ``topic`` (display ``app.widget``)."""
    return FlashcardApp(topic, lang=lang, progress=progress, limit=limit)


class MockApp(QuizApp):
    """A timed mock interview in the notebook: N questions across topics, a clock, and a
    per-topic report with links to the lesson sections to revisit (``finish()`` or time up)."""

    mode = "mock"

    def __init__(
        self,
        n: int = 8,
        *,
        minutes: float | None = 15,
        seed: int | None = 0,
        topics: Sequence[str] | None = None,
        types: Sequence[str] = ANSWER_TYPES,
        difficulty: Sequence[int] | None = None,
        lang: str = "en",
        progress: Progress | str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.mock = MockInterview(
            n, topics=topics, seed=seed, minutes=minutes, types=types, difficulty=difficulty,
            clock=clock,
        )
        if not self.mock.questions:
            raise ValueError("no question matches these options")
        self.finished = False
        super().__init__([q.id for q in self.mock.questions], lang=lang, progress=progress)
        self.mock.start()
        W = self._W
        self._finish_btn = W.Button(description=ui(self.lang, "finish"), button_style="warning")
        self._finish_btn.on_click(lambda _: self.finish())
        self._report_w = W.HTML()
        self._report_w.add_class("vdl-mock-report")
        self.widget.children = (*self.widget.children, self._finish_btn, self._report_w)

    def _grade(self, q: Question, answer: Any) -> Result:
        if self.finished or self.mock.time_up():
            self.finish()
            return Result("invalid", ui(self.lang, "time_up"))
        res = grade(q, answer, self.lang)
        self.mock.record(q.id, res)
        return res

    def set_lang(self, lang: str) -> None:
        super().set_lang(lang)
        if hasattr(self, "_finish_btn"):
            self._finish_btn.description = ui(self.lang, "finish")
            if self.finished:
                self._report_w.value = self.mock.report_html(self.lang)

    def _status(self) -> str:
        left = self.mock.time_left()
        left = None if left is None else math.ceil(left)
        clock = f" · ⏱ {left // 60}:{left % 60:02d}" if left is not None else ""
        return super()._status() + clock

    def finish(self) -> str:
        """End the interview and show the report; returns it as text."""
        self.finished = True
        self.mock.finish()
        self._report_w.value = self.mock.report_html(self.lang)
        return self.mock.report_text(self.lang)


def mock_interview_widget(
    n: int = 8,
    *,
    minutes: float | None = 15,
    seed: int | None = 0,
    lang: str = "en",
    progress: Progress | str | Path | None = None,
) -> MockApp:
    """Build a :class:`MockApp` (display the app, or ``app.widget``)."""
    return MockApp(n, minutes=minutes, seed=seed, lang=lang, progress=progress)
