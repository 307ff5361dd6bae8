"""Notebook apps of the interview prep (notebook 09): quiz, flashcards, mock interview.

Each app is a small class holding its state, with an ipywidgets view in ``app.widget``
and methods that drive it without a browser (``submit``, ``next``, ``set_lang``,
``reveal``, ``rate``, ``finish``) and ``html()``, a static picture of its current state
for exports and nbval. Import them from :mod:`course_utils.quiz`.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.progress import Leitner, Progress
from course_utils.quiz import (
    TOPICS,
    MockInterview,
    Question,
    Result,
    _check_lang,
    _colon,
    _ui,
    get_question,
    grade,
    questions,
    ref_link,
    render_question,
)

__all__ = [
    "FlashcardApp",
    "MockApp",
    "QuizApp",
    "flashcards",
    "mock_interview_widget",
    "quiz_widget",
]

_COLORS = {"correct": "#1b7f3b", "incorrect": "#b3261e", "invalid": "#8a6d00"}


def _feedback_html(q: Question, res: Result, lang: str) -> str:
    e = html.escape
    c = _colon(lang)
    label = {
        "correct": "✅ " + _ui(lang, "correct"),
        "incorrect": "❌ " + _ui(lang, "incorrect"),
        "invalid": "✏️ " + _ui(lang, "invalid"),
    }[res.outcome]
    out = (
        f'<div style="border-left:4px solid {_COLORS[res.outcome]};padding:4px 10px;margin:4px 0">'
    )
    out += f'<b style="color:{_COLORS[res.outcome]}">{e(label)}</b>'
    if res.message:
        out += f' <span style="white-space:pre-wrap">{e(res.message)}</span>'
    if res.valid:
        if q.type in ("bug", "code", "short"):
            out += f"<br><b>{e(_ui(lang, 'answer'))}{c}</b>{e(q.text('answer', lang))}"
        if q.type == "bug":
            out += f"<pre>{e(q.fixed_code())}</pre>"
        if q.type == "code":
            out += f"<pre>{e(q.raw['solution'])}</pre>"
        out += f"<br><b>{e(_ui(lang, 'explanation'))}{c}</b>{e(q.text('explanation', lang))}"
        if q.refs:
            out += f"<br><i>{e(_ui(lang, 'review'))}{c}{'; '.join(ref_link(r) for r in q.refs)}</i>"
    return out + "</div>"


class QuizApp:
    """A quiz widget: one question at a time, an answer box that fits the question type
    (choices, a number, line numbers, code), immediate feedback with the explanation, and
    an English/Chinese switch. ``app.widget`` is what the notebook displays; ``submit``,
    ``next``, ``set_lang`` and ``html()`` drive and render it without a browser."""

    mode = "quiz"

    def __init__(
        self,
        ids: Sequence[str] | None = None,
        *,
        topic: str | Sequence[str] | None = None,
        lang: str = "en",
        progress: Progress | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.ids = list(ids) if ids is not None else [q.id for q in questions(topic)]
        if not self.ids:
            raise ValueError("no questions to show")
        for i in self.ids:
            get_question(i)
        self.lang = _check_lang(lang)
        self.progress = progress
        self.leitner = Leitner(progress, clock) if progress is not None else None
        self.index = 0
        self.results: dict[str, Result] = {}
        self._feedback: dict[str, str] = {}
        self._revealed = False
        self._build()

    # -- state ----------------------------------------------------------------
    @property
    def question(self) -> Question:
        return get_question(self.ids[self.index])

    def submit(self, answer: Any) -> Result:
        """Grade ``answer`` for the current question, show and record the verdict."""
        q = self.question
        res = self._grade(q, answer)
        self._feedback[q.id] = _feedback_html(q, res, self.lang)
        if res.valid:
            self.results[q.id] = res
            if self.leitner is not None:
                self.leitner.answer(q.id, res.correct, mode=self.mode)
                problem = self.progress.try_save()
                if problem:
                    self._feedback[q.id] += (
                        f"<div style='color:#b3261e'>{html.escape(problem)}</div>"
                    )
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
        self.lang = _check_lang(lang)
        q = self.question
        if q.id in self.results:
            self._feedback[q.id] = _feedback_html(q, self.results[q.id], self.lang)
        if self._lang_toggle.value != lang:
            self._lang_toggle.value = lang  # the observer calls back with the same value
        self._render(new_question=True)

    def score(self) -> tuple[int, int]:
        return sum(r.correct for r in self.results.values()), len(self.results)

    # -- view -----------------------------------------------------------------
    def _status(self) -> str:
        right, done = self.score()
        return f"{self.index + 1}/{len(self.ids)} · {_ui(self.lang, 'correct')} {right}/{done}"

    def html(self) -> str:
        """The widget's current state as static HTML (for exports and nbval)."""
        q = self.question
        fb = self._feedback.get(q.id, "")
        return (
            f'<div style="border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">'
            f'<div style="color:#666;font-size:90%">{html.escape(self._status())}</div>'
            f"{render_question(q, self.lang, html_=True)}{fb}</div>"
        )

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
                W.HBox([self._lang_toggle, self._status_w]),
                self._body,
                self._input,
                W.HBox([self._prev_btn, self._check_btn, self._next_btn]),
                self._feedback_w,
                self._extra,
            ]
        )
        self._render(new_question=True)

    def _reveal(self) -> None:
        self._revealed = True
        q = self.question
        self._feedback_w.value = f"<b>{html.escape(_ui(self.lang, 'answer'))}{_colon(self.lang)}</b>{html.escape(q.text('answer', self.lang))}"

    def _make_input(self, q: Question):
        W = self._W
        lang = self.lang
        if q.type == "choice":
            opts = [(f"{chr(ord('A') + i)}. {c}", i) for i, c in enumerate(q.choices(lang))]
            return W.RadioButtons(options=opts, value=None, layout=W.Layout(width="auto"))
        if q.type == "numeric":
            return W.Text(placeholder=_ui(lang, "number"))
        if q.type == "bug":
            return W.Text(placeholder=_ui(lang, "lines"))
        if q.type == "code":
            return W.Textarea(value=q.raw["starter"], layout=W.Layout(width="100%", height="12em"))
        return None

    def _read_input(self) -> Any:
        w = self._input_w
        if w is None:
            return None
        if self.question.type == "choice":
            return w.value if w.value is not None else ""
        return w.value

    def _render(self, new_question: bool = False) -> None:
        q = self.question
        lang = self.lang
        self._status_w.value = (
            f"<span style='color:#666;margin-left:1em'>{html.escape(self._status())}</span>"
        )
        self._body.value = render_question(q, lang, html_=True)
        if new_question:
            self._input_w = self._make_input(q)
            self._input.children = [self._input_w] if self._input_w is not None else []
            self._check_btn.description = "Check" if lang == "en" else "提交"
            self._reveal_btn.description = _ui(lang, "show")
            self._knew_btn.description = "I knew it" if lang == "en" else "我答对了"
            self._forgot_btn.description = "I did not" if lang == "en" else "我没答对"
            self._check_btn.layout.display = "none" if q.type == "short" else None
            self._extra.children = (
                [self._reveal_btn, self._knew_btn, self._forgot_btn] if q.type == "short" else []
            )
        self._feedback_w.value = self._feedback.get(q.id, "")


def quiz_widget(
    ids: Sequence[str] | None = None,
    *,
    topic: str | Sequence[str] | None = None,
    lang: str = "en",
    progress: Progress | None = None,
) -> QuizApp:
    """Build a :class:`QuizApp` (display ``app.widget``)."""
    return QuizApp(ids, topic=topic, lang=lang, progress=progress)


class FlashcardApp:
    """Flashcards with Leitner spaced repetition: the due cards of a topic, front (the
    question) then back (the answer); "I knew it" moves the card up a box, "I did not"
    sends it back to box 1. Progress is saved after every card."""

    def __init__(
        self,
        topic: str | Sequence[str] | None = None,
        *,
        ids: Sequence[str] | None = None,
        lang: str = "en",
        progress: Progress | None = None,
        limit: int = 20,
        clock: Callable[[], float] = time.time,
    ):
        self.progress = progress if progress is not None else Progress()
        self.leitner = Leitner(self.progress, clock)
        self.pool = list(ids) if ids is not None else [q.id for q in questions(topic)]
        self.queue = self.leitner.due(self.pool)[:limit]
        self.lang = _check_lang(lang)
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
        self.lang = _check_lang(lang)
        if self._lang_toggle.value != lang:
            self._lang_toggle.value = lang
        self._render()

    def status(self) -> str:
        boxes = self.leitner.boxes(self.pool)
        parts = ", ".join(f"{b}: {n}" for b, n in boxes.items() if b)
        new = "new" if self.lang == "en" else "新卡"
        box = "boxes" if self.lang == "en" else "盒子"
        left = len(self.queue) - self.pos
        todo = "cards left" if self.lang == "en" else "张待复习"
        return f"{left} {todo} · {new}: {boxes[0]} · {box} {parts}"

    def html(self) -> str:
        q = self.card
        lang = self.lang
        if q is None:
            done = (
                "No card is due: come back later." if lang == "en" else "没有到期的卡片，稍后再来。"
            )
            return f"<div><i>{done}</i><br><span style='color:#666'>{html.escape(self.status())}</span></div>"
        front = render_question(q, lang, html_=True)
        back = ""
        if self.revealed:
            c = _colon(lang)
            back = f"<div style='background:#f4f8ff;padding:6px'><b>{html.escape(_ui(lang, 'answer'))}{c}</b>{html.escape(q.text('answer', lang))}<br><b>{html.escape(_ui(lang, 'explanation'))}{c}</b>{html.escape(q.text('explanation', lang))}</div>"
        box = self.leitner.box(q.id)
        boxname = (
            ("new card" if lang == "en" else "新卡片")
            if box == 0
            else (f"box {box}" if lang == "en" else f"第 {box} 盒")
        )
        return (
            f'<div style="border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">'
            f"<div style='color:#666;font-size:90%'>{html.escape(self.status())} · {boxname}</div>{front}{back}</div>"
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
        self._render()

    def _render(self) -> None:
        warn = (
            f"<div style='color:#b3261e'>{html.escape(self.save_problem)}</div>"
            if self.save_problem
            else ""
        )
        self._view.value = self.html() + warn
        en = self.lang == "en"
        self._reveal_btn.description = _ui(self.lang, "show")
        self._knew_btn.description = "I knew it" if en else "我记得"
        self._forgot_btn.description = "I did not" if en else "我忘了"


def flashcards(
    topic: str | Sequence[str] | None = None,
    *,
    lang: str = "en",
    progress: Progress | None = None,
    limit: int = 20,
) -> FlashcardApp:
    """Build a :class:`FlashcardApp` over the due cards of ``topic`` (display ``app.widget``)."""
    return FlashcardApp(topic, lang=lang, progress=progress, limit=limit)


class MockApp(QuizApp):
    """A timed mock interview in the notebook: N questions across topics, a clock, and a
    per-topic report with the lesson sections to review (``finish()`` or time up)."""

    mode = "mock"

    def __init__(
        self,
        n: int = 8,
        *,
        minutes: float | None = 15,
        seed: int | None = 0,
        topics: Sequence[str] | None = None,
        lang: str = "en",
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.mock = MockInterview(n, topics=topics, seed=seed, minutes=minutes, clock=clock)
        self.finished = False
        super().__init__([q.id for q in self.mock.questions], lang=lang, progress=progress)
        self.mock.start()
        W = self._W
        self._finish_btn = W.Button(
            description="Finish" if lang == "en" else "结束", button_style="warning"
        )
        self._finish_btn.on_click(lambda _: self.finish())
        self._report_w = W.HTML()
        self.widget.children = (*self.widget.children, self._finish_btn, self._report_w)

    def _grade(self, q: Question, answer: Any) -> Result:
        if self.finished or self.mock.time_up():
            self.finish()
            return Result("invalid", _ui(self.lang, "time_up"))
        res = grade(q, answer, self.lang)
        if res.valid:
            self.mock.results[q.id] = res
        return res

    def _status(self) -> str:
        left = self.mock.time_left()
        left = None if left is None else math.ceil(left)
        clock = f" · ⏱ {left // 60}:{left % 60:02d}" if left is not None else ""
        return super()._status() + clock

    def finish(self) -> str:
        """End the interview and show the report; returns it as text."""
        self.finished = True
        self.mock.finish()
        text = self.mock.report_text(self.lang)
        links = "".join(
            f"<li>{html.escape(TOPICS[t][0 if self.lang == 'en' else 1])}: "
            + "; ".join(ref_link(get_question(i).refs[0]) for i in r["missed"])
            + "</li>"
            for t, r in self.mock.report().items()
            if r["missed"]
        )
        self._report_w.value = f"<pre style='white-space:pre-wrap'>{html.escape(text)}</pre>" + (
            f"<ul>{links}</ul>" if links else ""
        )
        return text


def mock_interview_widget(
    n: int = 8,
    *,
    minutes: float | None = 15,
    seed: int | None = 0,
    lang: str = "en",
    progress: Progress | None = None,
) -> MockApp:
    """Build a :class:`MockApp` (display ``app.widget``)."""
    return MockApp(n, minutes=minutes, seed=seed, lang=lang, progress=progress)
