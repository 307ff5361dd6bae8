"""Rendering questions as text or HTML, and the lessons' end-of-chapter questions.

Introduced in notebook 09; every lesson calls :func:`show_questions`. Choice options are
written with their letters ("A. ...") rather than an ``<ol type='A'>``, whose letters
JupyterLab's CSS turns into numbers while the answers say "B". Depends on
:mod:`~course_utils.interview.text` and :mod:`~course_utils.interview.bank`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from course_utils.interview.bank import Question, get_question, ref_label, topic_title
from course_utils.interview.text import check_lang, colon, ui

__all__ = ["render_question", "show_questions"]


def _letter(i: int) -> str:
    return chr(ord("A") + i)


def render_question(
    q: Question,
    lang: str = "en",
    *,
    answer: bool = False,
    html_: bool = False,
    number: int | None = None,
) -> str:
    """A question as plain text (or HTML), with its answer when ``answer`` is True."""
    check_lang(lang)
    c = colon(lang)
    head = f"{number}. " if number is not None else ""
    stars = "★" * q.difficulty + "☆" * (3 - q.difficulty)
    if not html_:
        lines = [f"{head}[{q.id} · {topic_title(q.topic, lang)} · {stars}] {q.text('question', lang)}"]
        if q.type == "choice":
            lines += [f"   {_letter(i)}. {ch}" for i, ch in enumerate(q.choices(lang))]
        if q.type == "bug":
            lines += ["   " + ln for ln in q.numbered_code().splitlines()]
        if q.type == "code":
            lines += ["   " + ln for ln in q.raw["starter"].splitlines()]
        if answer:
            label = "model_answer" if q.type == "design" else "answer"
            lines.append(f"   {ui(lang, label)}{c}{q.text('answer', lang)}")
            if q.type == "bug":
                lines.append(f"   {ui(lang, 'fix')}{c.rstrip()}")
                lines += ["      " + ln for ln in q.fixed_code().splitlines()]
            if q.type == "code":
                lines += ["      " + ln for ln in q.raw["solution"].splitlines()]
            if q.type == "design":
                lines.append(f"   {ui(lang, 'rubric')}{c.rstrip()}")
                lines += [f"      {i}. {p}" for i, p in enumerate(q.rubric(lang), start=1)]
            if q.text("explanation", lang):
                lines.append(f"   {ui(lang, 'explanation')}{c}{q.text('explanation', lang)}")
            refs = "; ".join(ref_label(r, lang) for r in q.refs)
            if refs:
                lines.append(f"   {ui(lang, 'review')}{c}{refs}")
        return "\n".join(lines)
    e = html.escape
    parts = [
        f'<div style="margin:6px 0"><b>{head}</b>{e(q.text("question", lang))} '
        f'<span style="color:#888;font-size:85%">({e(q.id)} · {stars})</span>'
    ]
    if q.type == "choice":
        parts.append(
            "<div style='margin:2px 0 2px 1.5em'>"
            + "".join(
                f"<div><b>{_letter(i)}.</b> {e(ch)}</div>" for i, ch in enumerate(q.choices(lang))
            )
            + "</div>"
        )
    if q.type == "bug":
        parts.append(f"<pre style='margin:2px 0'>{e(q.numbered_code())}</pre>")
    if q.type == "code":
        parts.append(f"<pre style='margin:2px 0'>{e(q.raw['starter'])}</pre>")
    if answer:
        label = "model_answer" if q.type == "design" else "answer"
        body = f"<b>{e(ui(lang, label))}{c}</b>{e(q.text('answer', lang))}"
        if q.type == "bug":
            body += f"<pre>{e(q.fixed_code())}</pre>"
        if q.type == "code":
            body += f"<pre>{e(q.raw['solution'])}</pre>"
        if q.type == "design":
            body += f"<br><b>{e(ui(lang, 'rubric'))}</b><ol>" + "".join(
                f"<li>{e(p)}</li>" for p in q.rubric(lang)
            ) + "</ol>"
        if q.text("explanation", lang):
            body += f"<br><b>{e(ui(lang, 'explanation'))}{c}</b>{e(q.text('explanation', lang))}"
        # plain labels: lesson notebooks store this output, so it must stay stable for nbval
        refs = "; ".join(e(ref_label(r, lang)) for r in q.refs)
        if refs:
            body += f"<br><i>{e(ui(lang, 'review'))}{c}{refs}</i>"
        parts.append(f"<details><summary>{e(ui(lang, 'show'))}</summary>{body}</details>")
    parts.append("</div>")
    return "".join(parts)


def _in_notebook() -> bool:
    from course_utils.exercises import _in_notebook as inb

    return inb()


def show_questions(ids: Sequence[str], lang: str = "en") -> None:
    """Render end-of-chapter questions by id: HTML with answers folded in a notebook,
    plain text (question, then an ``Answer:`` line) elsewhere. Deterministic for nbval."""
    check_lang(lang)
    qs = [get_question(i) for i in ids]
    if _in_notebook():
        from IPython.display import HTML, display

        display(
            HTML(
                "".join(
                    render_question(q, lang, answer=True, html_=True, number=i + 1)
                    for i, q in enumerate(qs)
                )
            )
        )
    else:
        print(
            "\n\n".join(
                render_question(q, lang, answer=True, number=i + 1) for i, q in enumerate(qs)
            )
        )
