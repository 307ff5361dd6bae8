"""The timed mock interview: N questions across topics and a per-topic report (notebook 09).

Depends on :mod:`~course_utils.interview.bank`, :mod:`~course_utils.interview.grading`
and :mod:`~course_utils.interview.text`.
"""

from __future__ import annotations

import html
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.interview.bank import (
    TYPE_CATALOG,
    Question,
    bank_topics,
    get_question,
    questions,
    ref_label,
    ref_link,
    topic_title,
)
from course_utils.interview.grading import Result, grade
from course_utils.interview.text import check_lang, colon, ui, width

__all__ = ["ANSWER_TYPES", "MockInterview"]

#: the types a drill or a mock interview asks unless the system-design cases are asked for
ANSWER_TYPES = tuple(t for t in TYPE_CATALOG if t != "design")


class MockInterview:
    """N questions drawn across topics (round robin, seeded), a time limit, and a
    per-topic report with the lesson sections to review. Only the first valid answer to
    a question counts."""

    def __init__(
        self,
        n: int = 10,
        *,
        topics: Sequence[str] | None = None,
        seed: int | None = 0,
        minutes: float | None = None,
        types: Sequence[str] = ANSWER_TYPES,
        difficulty: Sequence[int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if minutes is not None and not (isinstance(minutes, int | float) and minutes > 0):
            raise ValueError(f"minutes must be a positive number or None, got {minutes!r}")
        topics = list(topics) if topics is not None else bank_topics()
        rng = random.Random(seed)
        pools = {t: questions(t, types=types, difficulty=difficulty) for t in topics}
        for pool in pools.values():
            rng.shuffle(pool)
        order = [t for t in topics if pools[t]]
        rng.shuffle(order)
        picked: list[Question] = []
        while len(picked) < n and any(pools[t] for t in order):
            for t in order:
                if pools[t] and len(picked) < n:
                    picked.append(pools[t].pop())
        self.questions = picked
        self.results: dict[str, Result] = {}
        self.time_limit = None if minutes is None else float(minutes) * 60.0
        self.clock = clock
        self.started: float | None = None
        self.finished_at: float | None = None

    def start(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else self.clock()
        return end - self.started

    def time_left(self) -> float | None:
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - self.elapsed())

    def time_up(self) -> bool:
        left = self.time_left()
        return left is not None and left <= 0

    def record(self, qid: str, res: Result) -> bool:
        """Keep ``res`` if it is the first valid answer to ``qid``; True if it was kept."""
        if res.valid and qid not in self.results:
            self.results[qid] = res
            return True
        return False

    def answer(self, qid: str, answer: Any, lang: str = "en") -> Result:
        """Grade an answer and record it if it is the first valid one (an invalid input,
        or a second attempt, is returned and not recorded)."""
        q = get_question(qid)
        if self.started is None:
            self.start()
        if self.time_up():
            return Result("invalid", ui(lang, "time_up"))
        res = grade(q, answer, lang)
        self.record(qid, res)
        return res

    def finish(self) -> None:
        if self.finished_at is None:
            self.finished_at = self.clock()

    def report(self) -> dict[str, dict[str, Any]]:
        """Per topic: asked, answered, correct, score (correct / asked), the missed ids and
        the sections to review (labels) and their refs."""
        out: dict[str, dict[str, Any]] = {}
        for q in self.questions:
            r = out.setdefault(
                q.topic,
                {"asked": 0, "answered": 0, "correct": 0, "review": [], "refs": [], "missed": []},
            )
            r["asked"] += 1
            res = self.results.get(q.id)
            if res is not None:
                r["answered"] += 1
            if res is not None and res.correct:
                r["correct"] += 1
            else:
                r["missed"].append(q.id)
                for ref in q.refs:
                    label = ref_label(ref)
                    if label not in r["review"]:
                        r["review"].append(label)
                        r["refs"].append(dict(ref))
        for r in out.values():
            r["score"] = r["correct"] / r["asked"]
        return out

    def report_text(self, lang: str = "en") -> str:
        check_lang(lang)
        rep = self.report()
        total = sum(r["correct"] for r in rep.values())
        answered = sum(r["answered"] for r in rep.values())
        lines = [
            f"{ui(lang, 'report')} · " + ui(lang, "score", c=total, n=len(self.questions), a=answered)
        ]
        w = max((width(topic_title(t, lang)) for t in rep), default=10)
        for t, r in rep.items():
            name = topic_title(t, lang)
            bar = "#" * r["correct"] + "." * (r["asked"] - r["correct"])
            lines.append(f"  {name}{' ' * (w - width(name))}  {r['correct']}/{r['asked']}  {bar}")
        todo = [(t, r) for t, r in rep.items() if r["review"]]
        if todo:
            lines.append(f"{ui(lang, 'to_review')}{colon(lang).rstrip()}")
            for t, r in todo:
                for label in (ref_label(ref, lang) for ref in r["refs"]):
                    lines.append(f"  - [{topic_title(t, lang)}] {label}")
        else:
            lines.append(ui(lang, "all_good"))
        return "\n".join(lines)

    def report_html(self, lang: str = "en") -> str:
        """The report as HTML: a table of the score per topic, and links to the lesson
        sections to revisit (relative to the notebooks folder)."""
        check_lang(lang)
        e = html.escape
        rep = self.report()
        total = sum(r["correct"] for r in rep.values())
        answered = sum(r["answered"] for r in rep.values())
        rows = "".join(
            f"<tr><td>{e(topic_title(t, lang))}</td><td style='text-align:center'>"
            f"{r['correct']}/{r['asked']}</td><td>"
            + "<br>".join(ref_link(ref, lang) for ref in r["refs"])
            + "</td></tr>"
            for t, r in rep.items()
        )
        head = (
            f"<th>{e(ui(lang, 'topic'))}</th><th>{e(ui(lang, 'correct'))}</th>"
            f"<th>{e(ui(lang, 'to_review'))}</th>"
        )
        verdict = "" if any(r["refs"] for r in rep.values()) else f"<p>{e(ui(lang, 'all_good'))}</p>"
        return (
            f"<div class='vdl-mock-report'><b>{e(ui(lang, 'report'))}</b> · "
            f"{e(ui(lang, 'score', c=total, n=len(self.questions), a=answered))}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{verdict}</div>"
        )
