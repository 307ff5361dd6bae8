"""The terminal drill: ``python -m course_utils quiz`` (notebook 09, section "The terminal drill").

    python -m course_utils quiz --topic attention --n 10 --lang zh   # due cards first
    python -m course_utils quiz --difficulty 3 --n 5                 # hard questions only
    python -m course_utils quiz --design --n 1                       # a system-design case
    python -m course_utils quiz --mock --n 10 --minutes 20           # timed, with a report

Answers are a letter, a number, line numbers, code ending with a line ``END``, or for a
design case the numbers of the rubric points covered; ``skip`` skips and ``quit`` stops.
Progress is saved after every answer. Depends on every other part of the package except
the notebook apps.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import math
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from course_utils.interview.bank import (
    TOPIC_CATALOG,
    TYPE_CATALOG,
    Question,
    bank_topics,
    get_question,
    load_bank,
    questions,
    ref_label,
)
from course_utils.interview.grading import Result, grade
from course_utils.interview.mock import ANSWER_TYPES, MockInterview
from course_utils.interview.progress import PROGRESS_ENV, Leitner, Progress
from course_utils.interview.render import render_question
from course_utils.interview.text import LANGS, colon, ui

__all__ = ["main", "parse_difficulty", "run_drill", "select_questions"]


class _Quit(Exception):
    pass


class _Skip(Exception):
    pass


_ASCII = {"✓": "+", "✗": "x", "·": "-", "—": "-", "–": "-", "→": "->", "…": "...", "×": "x"}


class _Terminal:
    """The drill's input and output: undecodable input bytes become U+FFFD (never a crash),
    and an ASCII-only terminal gets plain symbols instead of a UnicodeEncodeError."""

    def __init__(self, stdin: TextIO, stdout: TextIO, lang: str):
        self.stdin, self.stdout, self.lang = stdin, stdout, lang
        with contextlib.suppress(Exception):  # a TextIOWrapper: bad bytes become U+FFFD
            stdin.reconfigure(errors="replace")  # type: ignore[union-attr]

    def say(self, text: str = "") -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stdout.write(text)
        except UnicodeEncodeError:  # an ASCII-only terminal: plain symbols, '?' for the rest
            enc = getattr(self.stdout, "encoding", None) or "ascii"
            for a, b in _ASCII.items():
                text = text.replace(a, b)
            self.stdout.write(text.encode(enc, "replace").decode(enc))
        self.stdout.flush()

    def readline(self) -> str:
        try:
            return self.stdin.readline()
        except UnicodeDecodeError:  # a stream that could not be reconfigured: skip the line
            return "\ufffd\n"

    def ask(self, prompt: str) -> str:
        self._write(prompt + "> ")
        line = self.readline()
        if line == "":
            raise EOFError
        s = line.strip()
        if s.lower() in {"quit", "exit", "q", "退出"}:
            raise _Quit
        if s.lower() in {"skip", "s", "跳过"}:
            raise _Skip
        return s

    def ask_code(self, prompt: str) -> str:
        self.say(prompt)
        lines = []
        while True:
            line = self.readline()
            if line == "":
                raise EOFError
            if line.strip() == "END":
                return "\n".join(lines)
            if not lines and line.strip().lower() in {"quit", "exit", "skip"}:
                raise _Quit if line.strip().lower() != "skip" else _Skip
            lines.append(line.rstrip("\n"))

    def invalid(self, message: str) -> None:
        """An invalid answer's message, with the terminal's way out (skip, quit)."""
        stop = "。" if self.lang == "zh" else "."
        self.say(message.rstrip(stop) + ui(self.lang, "terminal_escape") + stop)


def _answer_in_terminal(term: _Terminal, q: Question, lang: str) -> Result:
    """Ask one question until a valid answer (raises _Skip / _Quit / EOFError)."""
    c = colon(lang)
    if q.type == "short":
        term.ask(ui(lang, "press_enter"))
        term.say(f"{ui(lang, 'answer')}{c}{q.text('answer', lang)}")
        while True:
            res = grade(q, term.ask(ui(lang, "knew")), lang)
            if res.valid:
                return res
            term.say(res.message)
    if q.type == "code":
        return grade(q, term.ask_code(ui(lang, "code") + ":"), lang)
    if q.type == "design":
        term.say(ui(lang, "design_prompt"))
        term.ask(ui(lang, "press_enter"))
        term.say(f"{ui(lang, 'model_answer')}{c}{q.text('answer', lang)}")
        term.say(f"{ui(lang, 'rubric')}{c.rstrip()}")
        for i, point in enumerate(q.rubric(lang), start=1):
            term.say(f"  {i}. {point}")
    prompt = {"choice": "choose", "numeric": "number", "bug": "lines", "design": "design_points"}[
        q.type
    ]
    for _ in range(5):
        res = grade(q, term.ask(ui(lang, prompt)), lang)
        if res.valid:
            return res
        term.invalid(res.message)
    raise _Skip


def run_drill(
    qs: Sequence[Question],
    *,
    lang: str = "en",
    progress: Progress | None = None,
    mock: MockInterview | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Ask ``qs`` in the terminal, save progress after every answer, return a summary.

    Ctrl-C and end of input stop the drill; what was answered is already saved."""
    term = _Terminal(stdin or sys.stdin, stdout or sys.stdout, lang)
    leitner = Leitner(progress, clock) if progress is not None else None
    answered: list[tuple[str, str]] = []
    save_problems: list[str] = []
    status = "done"
    if mock is not None:
        mock.start()
    c, stop = (colon(lang), "。" if lang == "zh" else ". ")
    try:
        for i, q in enumerate(qs, start=1):
            if mock is not None and mock.time_up():
                term.say(ui(lang, "time_up"))
                status = "time"
                break
            term.say("")
            left = mock.time_left() if mock is not None else None
            left = None if left is None else math.ceil(left)
            clock_txt = f" · {left // 60}:{left % 60:02d}" if left is not None else ""
            term.say(f"[{i}/{len(qs)}{clock_txt}] " + render_question(q, lang))
            try:
                res = _answer_in_terminal(term, q, lang)
            except _Skip:
                term.say(ui(lang, "skipped"))
                continue
            if mock is not None:
                if mock.time_up():
                    term.say(ui(lang, "time_up"))
                    status = "time"
                    break
                mock.record(q.id, res)
            mark = "✓ " + ui(lang, "correct") if res.correct else "✗ " + ui(lang, "incorrect")
            term.say(f"{mark}{stop}{res.message}".rstrip())
            if q.type in ("bug", "code"):
                term.say(f"{ui(lang, 'answer')}{c}{q.text('answer', lang)}")
            if q.text("explanation", lang):
                term.say(f"{ui(lang, 'explanation')}{c}{q.text('explanation', lang)}")
            if q.refs:
                term.say(f"{ui(lang, 'review')}{c}" + "; ".join(ref_label(r, lang) for r in q.refs))
            answered.append((q.id, res.outcome))
            if leitner is not None:
                leitner.answer(q.id, res.correct, mode="mock" if mock is not None else "quiz")
                problem = progress.try_save()
                if problem and problem not in save_problems:
                    save_problems.append(problem)
                    term.say(f"warning: {problem}")
    except _Quit:
        status = "quit"
    except EOFError:
        status = "eof"
        term.say("")
        term.say(ui(lang, "eof"))
    except KeyboardInterrupt:
        status = "interrupted"
        term.say("")
        term.say(ui(lang, "interrupted"))
    saved = progress is not None and progress.try_save() is None
    if mock is not None:
        mock.finish()
        term.say("")
        term.say(mock.report_text(lang))
    else:
        right = sum(o == "correct" for _, o in answered)
        term.say("")
        term.say(ui(lang, "score", c=right, n=len(qs), a=len(answered)))
    if saved:
        term.say(ui(lang, "saved", path=progress.path))
    elif progress is not None:
        term.say(f"warning: {progress.try_save() or 'the progress could not be saved'}")
    return {"status": status, "answered": answered}


def select_questions(
    topics: Sequence[str] | None,
    n: int,
    *,
    progress: Progress | None = None,
    seed: int | None = None,
    types: Sequence[str] = ANSWER_TYPES,
    difficulty: Sequence[int] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Question]:
    """The questions of a drill: shuffled (seeded), then due cards first (spaced repetition)."""
    pool = [q.id for q in questions(topics, types=types, difficulty=difficulty)]
    random.Random(seed).shuffle(pool)
    if progress is not None:
        pool = Leitner(progress, clock).order(pool)
    return [get_question(i) for i in pool[:n]]


def parse_difficulty(values: Sequence[str]) -> list[int]:
    """``["1", "3"]`` or ``["1,3"]`` or ``["1 3"]`` -> ``[1, 3]``; ValueError naming the bad item."""
    levels: list[int] = []
    for value in values:
        parts = [p for p in re.split(r"[\s,;]+", value.strip()) if p]
        if not parts:
            raise ValueError(f"--difficulty must be 1, 2 or 3 (or a list such as 1,3), got {value!r}")
        for p in parts:
            if p not in {"1", "2", "3"}:
                raise ValueError(
                    f"--difficulty must be 1, 2 or 3 (or a list such as 1,3), got {p!r}"
                )
            if int(p) not in levels:
                levels.append(int(p))
    return sorted(levels)


def _positive_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of minutes, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number of minutes, got {text!r}")
    if value > 7 * 24 * 60:
        raise argparse.ArgumentTypeError(f"at most a week ({7 * 24 * 60} minutes), got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils quiz",
        description="Interview drill in the terminal: answer with a letter, a number, line numbers, "
        "code ending with a line END, or (system design) the numbers of the rubric points you "
        "covered; type 'skip' to skip and 'quit' to stop. Progress is saved after every answer "
        f"(${PROGRESS_ENV} or ~/.video_dl_course/progress.json).",
    )
    parser.add_argument(
        "--topic", action="append", help=f"topic (repeatable; default all): {', '.join(TOPIC_CATALOG)}"
    )
    parser.add_argument("--n", type=int, default=None, help="number of questions (default 10; 1 with --design)")
    parser.add_argument("--lang", default="en", help="language: en or zh (default en)")
    parser.add_argument(
        "--difficulty",
        action="append",
        metavar="LEVELS",
        help="only these difficulty levels: 1 (easy), 2, 3 (hard); repeatable or a list (--difficulty 2,3)",
    )
    parser.add_argument(
        "--design",
        action="store_true",
        help="system-design cases: think or write an answer, then self-grade against the rubric",
    )
    parser.add_argument(
        "--mock", action="store_true", help="a timed mock interview across topics, with a report"
    )
    parser.add_argument(
        "--minutes",
        type=_positive_minutes,
        default=None,
        help="time limit of the mock interview, a positive number (default 2 per question, 15 per design case; only with --mock)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the question draw (default: random)"
    )
    parser.add_argument(
        "--type", action="append", choices=TYPE_CATALOG, help="only these question types (repeatable)"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the topics and the number of questions, then exit"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """``python -m course_utils quiz``: the terminal drill. Returns the exit code.

    0 when the drill ran (also when stopped by end of input), 2 for bad arguments (unknown
    topic or level, n < 1, unknown language, options that do not go together), 130 after
    Ctrl-C (progress saved in every case)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = _parser()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)

    def fail(msg: str) -> int:
        stderr.write(f"error: {msg}\n")
        return 2

    if args.lang not in LANGS:
        return fail(f"unknown language {args.lang!r}; choose one of: {', '.join(LANGS)}")
    if args.minutes is not None and not args.mock:
        return fail("--minutes sets the time of a mock interview: use it with --mock")
    if args.list:
        given = (("--mock", args.mock), ("--minutes", args.minutes), ("--n", args.n), ("--seed", args.seed))
        clash = [o for o, v in given if v not in (None, False)]
        if clash:
            return fail(f"--list only lists the topics; it does not go with {', '.join(clash)}")
    try:
        levels = parse_difficulty(args.difficulty) if args.difficulty else None
    except ValueError as exc:
        return fail(str(exc))
    if args.design and args.type:
        return fail("--design asks the system-design cases; it does not go with --type")
    if args.design and args.topic and set(args.topic) != {"system_design"}:
        return fail("--design asks the system-design cases; it does not go with --topic")
    topics = args.topic  # None: every topic of the bank
    unknown = [t for t in topics or [] if t not in TOPIC_CATALOG]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(TOPIC_CATALOG), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return fail(f"unknown topic {unknown[0]!r}{hint}; choose one of: {', '.join(TOPIC_CATALOG)}")
    if args.design:
        types = ["design"]
    elif args.type:
        types = args.type
    elif args.topic and "system_design" in args.topic:
        types = list(TYPE_CATALOG)  # asked by name: the design cases too
    else:
        types = list(ANSWER_TYPES)
    try:
        bank = load_bank()
    except FileNotFoundError as exc:
        return fail(f"{exc}. Run the command from a checkout of the course.")
    if args.list:
        for t in dict.fromkeys(topics) if topics is not None else bank_topics():
            en, zh = TOPIC_CATALOG[t]
            n = sum(
                q.topic == t and q.type in types and (levels is None or q.difficulty in levels)
                for q in bank.values()
            )
            stdout.write(f"{t:<20} {n:>3}  {en if args.lang == 'en' else zh}\n")
        return 0
    if args.n is None:
        args.n = 1 if args.design else 10
    if args.n < 1:
        return fail(f"--n must be at least 1, got {args.n}")
    progress = Progress()
    for w in progress.warnings:
        stderr.write(f"warning: {w}\n")
    if args.mock:
        minutes = args.minutes if args.minutes is not None else (15.0 if args.design else 2.0) * args.n
        mock = MockInterview(
            args.n, topics=topics, seed=args.seed, minutes=minutes, types=types,
            difficulty=levels, clock=clock,
        )
        qs = mock.questions
    else:
        mock = None
        qs = select_questions(
            topics, args.n, progress=progress, seed=args.seed, types=types, difficulty=levels,
            clock=clock,
        )
    if not qs:
        return fail("no question matches these options")
    result = run_drill(
        qs, lang=args.lang, progress=progress, mock=mock, stdin=stdin, stdout=stdout, clock=clock
    )
    return 130 if result["status"] == "interrupted" else 0
