"""Interview prep: the bilingual question bank, grading, spaced repetition, mock interviews.

Introduced in notebook 09 (every lesson's end-of-chapter questions come from here too).

* The bank lives in ``data/questions/<topic>.json`` (plain JSON, one file per topic).
  Every question has a stable ``id``, a ``topic``, a ``difficulty`` (1-3), a ``type``
  (``choice``, ``numeric``, ``short``, ``code``, ``bug``), the question, answer and
  explanation in English (``en``) and Simplified Chinese (``zh``), and ``refs`` to the
  lesson sections that teach it (notebook + numbered section heading).
* :func:`grade` judges one answer and returns a :class:`Result` (never raises on a
  learner's input: malformed input is reported as ``outcome == "invalid"``).
* :class:`Progress` keeps the flashcard boxes in one JSON file, written atomically
  (temp file + rename); a corrupt or foreign file is backed up and reported.
  :class:`Leitner` is the spaced-repetition schedule: a right answer moves a card one box
  up (longer interval), a wrong one back to box 1 (due again at once). Both live in
  :mod:`course_utils.progress` (standard library only) and are re-exported here.
* ``QuizApp``, ``FlashcardApp`` and ``MockApp``, the notebook widgets, live in
  :mod:`course_utils.quiz_apps` and are importable from here too.
* :class:`MockInterview` draws N questions across topics and reports a score per topic
  with the lesson sections to review.
* :func:`main` is the terminal drill: ``python -m course_utils quiz --topic attention
  --n 10 --lang zh`` or ``--mock``.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import math
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "PROGRESS_ENV",
    "PROGRESS_FORMAT",
    "atomic_write_json",
    "BANK_DIR",
    "LANGS",
    "TOPICS",
    "TYPES",
    "Leitner",
    "MockInterview",
    "Progress",
    "Question",
    "Result",
    "exercise",
    "get_question",
    "grade",
    "load_bank",
    "main",
    "progress_path",
    "run_drill",
    "select_questions",
    "questions",
    "ref_label",
    "ref_link",
    "render_question",
    "show_questions",
]

BANK_DIR = Path(__file__).resolve().parents[1] / "data" / "questions"
LANGS = ("en", "zh")
TYPES = ("choice", "numeric", "short", "code", "bug")

#: topic key -> (English title, Chinese title); the order is the order of the menus
TOPICS: dict[str, tuple[str, str]] = {
    "convolution": ("Convolution math and CNNs", "卷积的计算与 CNN"),
    "rnn": ("RNN, LSTM and GRU", "RNN、LSTM 与 GRU"),
    "attention": ("Attention and transformers", "注意力机制与 Transformer"),
    "video_models": ("Video models", "视频模型"),
    "data_pipeline": ("Video data pipelines", "视频数据处理流程"),
    "gan": ("GANs and video generation", "GAN 与视频生成"),
    "training_efficiency": ("Training efficiency", "训练效率"),
    "compression": ("Model compression", "模型压缩"),
    "metrics": ("Metrics", "评估指标"),
    "deployment": ("Deployment", "模型部署"),
    "generative": ("VAEs, diffusion and scoring generators", "VAE、扩散模型与生成模型评估"),
    "codecs": ("Video codecs", "视频编解码"),
    "system_design": ("System design", "系统设计"),
}

from course_utils.progress import (  # noqa: E402  (re-exported: quiz.Progress, ...)
    PROGRESS_ENV,
    PROGRESS_FORMAT,
    Leitner,
    Progress,
    atomic_write_json,
    progress_path,
)

_APPS = {"FlashcardApp", "MockApp", "QuizApp", "flashcards", "mock_interview_widget", "quiz_widget"}


def __getattr__(name: str) -> Any:
    """The notebook apps live in :mod:`course_utils.quiz_apps` (imported on first use)."""
    if name in _APPS:
        from course_utils import quiz_apps

        return getattr(quiz_apps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------- UI text
_UI = {
    "en": {
        "question": "Question",
        "answer": "Answer",
        "explanation": "Why",
        "review": "Review",
        "correct": "Correct",
        "incorrect": "Incorrect",
        "invalid": "Invalid input",
        "show": "Show the answer",
        "difficulty": "difficulty",
        "choose": "Your choice (letter)",
        "number": "Your answer (a number)",
        "lines": "Faulty line numbers (e.g. 3, 5)",
        "code": "Write the function, then a line END",
        "knew": "Did you know it? [y/n]",
        "press_enter": "Press Enter to see the answer",
        "not_number": "Please type a number, e.g. 42 or 0.5 (or 'skip', 'quit').",
        "not_choice": "Please type one of the letters {letters} (or 'skip', 'quit').",
        "not_lines": "Please type line numbers between 1 and {n}, separated by commas (or 'skip', 'quit').",
        "not_yn": "Please answer y or n.",
        "skipped": "Skipped.",
        "saved": "Progress saved to {path}.",
        "score": "Score: {c}/{n} answered correctly ({a} answered).",
        "time_up": "Time is up.",
        "report": "Mock interview report",
        "topic": "Topic",
        "to_review": "To review",
        "all_good": "Nothing to review: well done.",
        "interrupted": "Interrupted: saving what was answered.",
        "eof": "End of input: saving what was answered.",
        "self_graded": "Self-graded flashcard.",
        "expected_lines": "The faulty lines are {lines}.",
        "fix": "Fix",
        "bank_missing": "The question bank is missing ({path}).",
    },
    "zh": {
        "question": "题目",
        "answer": "答案",
        "explanation": "解析",
        "review": "复习",
        "correct": "正确",
        "incorrect": "错误",
        "invalid": "输入无效",
        "show": "显示答案",
        "difficulty": "难度",
        "choose": "你的选择（字母）",
        "number": "你的答案（数字）",
        "lines": "有错误的行号（例如 3, 5）",
        "code": "写出函数，最后单独一行输入 END",
        "knew": "你答对了吗？[y/n]",
        "press_enter": "按回车键查看答案",
        "not_number": "请输入一个数字，例如 42 或 0.5（也可以输入 skip 跳过、quit 退出）。",
        "not_choice": "请输入 {letters} 中的一个字母（也可以输入 skip 跳过、quit 退出）。",
        "not_lines": "请输入 1 到 {n} 之间的行号，用逗号分隔（也可以输入 skip 跳过、quit 退出）。",
        "not_yn": "请回答 y 或 n。",
        "skipped": "已跳过。",
        "saved": "进度已保存到 {path}。",
        "score": "得分：答对 {c}/{n} 题（已作答 {a} 题）。",
        "time_up": "时间到。",
        "report": "模拟面试报告",
        "topic": "主题",
        "to_review": "需要复习",
        "all_good": "没有需要复习的内容，做得好。",
        "interrupted": "已中断：正在保存已作答的题目。",
        "eof": "输入结束：正在保存已作答的题目。",
        "self_graded": "自评卡片。",
        "expected_lines": "有错误的行是第 {lines} 行。",
        "fix": "修改",
        "bank_missing": "题库不存在（{path}）。",
    },
}


def _ui(lang: str, key: str, **kw: Any) -> str:
    return _UI[lang][key].format(**kw)


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _width(text: str) -> int:
    """Display width in a terminal (CJK characters take two columns)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


# --------------------------------------------------------------------------- the bank
@dataclass(frozen=True)
class Question:
    """One question of the bank; ``raw`` is its JSON object."""

    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)
    id: str = ""

    @property
    def topic(self) -> str:
        return self.raw["topic"]

    @property
    def type(self) -> str:
        return self.raw["type"]

    @property
    def difficulty(self) -> int:
        return self.raw["difficulty"]

    @property
    def refs(self) -> list[dict[str, str]]:
        return list(self.raw.get("refs", []))

    def text(self, key: str, lang: str = "en") -> str:
        """The ``question``, ``answer`` or ``explanation`` in ``lang`` (``en``/``zh``)."""
        return self.raw[key][_check_lang(lang)]

    def choices(self, lang: str = "en") -> list[str]:
        return list(self.raw["choices"][_check_lang(lang)])

    def numbered_code(self) -> str:
        """The code of a bug/code question with line numbers (bug questions)."""
        lines = self.raw["code"].splitlines()
        width = len(str(len(lines)))
        return "\n".join(f"{i + 1:>{width}} | {line}" for i, line in enumerate(lines))

    def fixed_code(self) -> str:
        """A spot-the-bug question's code with its faulty lines replaced by the fix."""
        lines = self.raw["code"].splitlines()
        fix = {int(k): v for k, v in self.raw["fix"].items()}
        out: list[str] = []
        for i, line in enumerate(lines, start=1):
            if i in fix:
                if fix[i] != "":
                    out.extend(fix[i].splitlines())
            else:
                out.append(line)
        return "\n".join(out)


_BANK_CACHE: dict[Path, dict[str, Question]] = {}


def load_bank(directory: str | Path | None = None, *, reload: bool = False) -> dict[str, Question]:
    """All questions, ``{id: Question}``, in file then question order.

    Reads ``data/questions/*.json`` (standard-library JSON). Raises ``FileNotFoundError``
    when the folder is missing and ``ValueError`` naming the file on a duplicate id.
    """
    root = Path(directory) if directory is not None else BANK_DIR
    if not reload and root in _BANK_CACHE:
        return _BANK_CACHE[root]
    if not root.is_dir():
        raise FileNotFoundError(f"the question bank folder {root} does not exist")
    bank: dict[str, Question] = {}
    order = {t: i for i, t in enumerate(TOPICS)}
    files = sorted(root.glob("*.json"), key=lambda p: (order.get(p.stem, 99), p.stem))
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for raw in data["questions"]:
            qid = raw["id"]
            if qid in bank:
                raise ValueError(f"duplicate question id {qid!r} in {path.name}")
            bank[qid] = Question(raw=raw, id=qid)
    _BANK_CACHE[root] = bank
    return bank


def get_question(qid: str) -> Question:
    """The question with id ``qid``; ``KeyError`` with the close matches otherwise."""
    bank = load_bank()
    if qid not in bank:
        import difflib

        close = difflib.get_close_matches(qid, list(bank), n=3)
        raise KeyError(
            f"no question {qid!r} in the bank" + (f"; did you mean {close}?" if close else "")
        )
    return bank[qid]


def questions(
    topic: str | Sequence[str] | None = None,
    *,
    types: Sequence[str] | None = None,
    difficulty: Sequence[int] | None = None,
) -> list[Question]:
    """Questions filtered by topic(s), type(s) and difficulty levels, in bank order."""
    topics = [topic] if isinstance(topic, str) else topic
    if topics is not None:
        for t in topics:
            if t not in TOPICS:
                raise ValueError(f"unknown topic {t!r}; choose one of: {', '.join(TOPICS)}")
    return [
        q
        for q in load_bank().values()
        if (topics is None or q.topic in topics)
        and (types is None or q.type in types)
        and (difficulty is None or q.difficulty in difficulty)
    ]


def ref_label(ref: dict[str, str]) -> str:
    """``notebooks/01_convolution.ipynb, §2. Output size ...``"""
    return f"notebooks/{ref['notebook']}.ipynb, §{ref['section']}"


def ref_link(ref: dict[str, str]) -> str:
    """An HTML link to the section, relative to the notebooks folder (Jupyter's heading
    anchors are the heading text with spaces replaced by hyphens)."""
    anchor = ref["section"].replace(" ", "-")
    href = html.escape(f"{ref['notebook']}.ipynb#{anchor}", quote=True)
    return f'<a href="{href}">{html.escape(ref_label(ref))}</a>'


# ---------------------------------------------------------------------------- grading
@dataclass
class Result:
    """The verdict on one answer: ``outcome`` is correct / incorrect / invalid / self."""

    outcome: str
    message: str = ""

    @property
    def correct(self) -> bool:
        return self.outcome == "correct"

    @property
    def valid(self) -> bool:
        return self.outcome != "invalid"


def parse_number(text: Any) -> float:
    """Parse a learner's numeric answer: ``42``, ``0.5``, ``1e-3``, ``1,024``, ``25%``."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip().replace("_", "").replace("，", ",")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    pct = s.endswith("%")
    if pct:
        s = s[:-1].strip()
    value = float(s)  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value / 100 if pct else value


def parse_lines(text: Any, n_lines: int) -> set[int]:
    """Parse ``"3, 5"`` / ``[3, 5]`` into a set of 1-based line numbers (ValueError if bad)."""
    if isinstance(text, int) and not isinstance(text, bool):
        items = [text]
    elif isinstance(text, Iterable) and not isinstance(text, str):
        items = list(text)
    else:
        parts = [p for p in re.split(r"[\s,;，、]+", str(text).strip()) if p]
        if not parts:
            raise ValueError("no line numbers")
        items = [int(p) for p in parts]
    out = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= n_lines:
            raise ValueError(f"{item!r} is not a line number from 1 to {n_lines}")
        out.add(item)
    return out


def _choice_index(answer: Any, n: int) -> int:
    if isinstance(answer, bool):
        raise ValueError("not a choice")
    if isinstance(answer, int):
        idx = answer
    else:
        s = str(answer).strip().upper()
        if len(s) == 1 and "A" <= s <= "Z":
            idx = ord(s) - ord("A")
        else:
            raise ValueError("not a choice letter")
    if not 0 <= idx < n:
        raise ValueError("choice out of range")
    return idx


def _namespace() -> dict[str, Any]:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    return {"torch": torch, "nn": nn, "F": F, "math": math, "__name__": "__quiz__"}


class _ReturnedNone(Exception):
    pass


def run_code_tests(q: Question, answer: Callable | str) -> Result:
    """Run a code question's tests on the learner's function (or its source code)."""
    ns = _namespace()
    entry = q.raw["entry"]
    if isinstance(answer, str):
        try:
            exec(compile(answer, f"<your {entry}>", "exec"), ns)
        except KeyboardInterrupt:
            raise
        except SystemExit:
            return Result("incorrect", _EXIT_MESSAGE)
        except BaseException as exc:  # noqa: BLE001 - the learner's syntax or runtime error
            return Result("incorrect", f"Your code does not run: {type(exc).__name__}: {_text(exc)}")
        if entry not in ns or not callable(ns[entry]):
            return Result("incorrect", f"Define a function named `{entry}`.")
        fn = ns[entry]
    elif callable(answer):
        fn = answer
    else:
        return Result(
            "invalid", f"Pass the function `{entry}` itself, or its source code as a string."
        )

    def checked(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        if out is None and q.raw.get("returns", True):
            raise _ReturnedNone
        return out

    ns[entry] = checked
    try:
        exec(compile(q.raw["tests"], f"<tests of {q.id}>", "exec"), ns)
    except _ReturnedNone:
        return Result("incorrect", f"`{entry}` returned None: did you forget a `return`?")
    except AssertionError as exc:
        return Result("incorrect", f"A test failed: {_text(exc)}" if _text(exc) else "A test failed.")
    except KeyboardInterrupt:
        raise
    except SystemExit:
        return Result("incorrect", _EXIT_MESSAGE)
    except BaseException as exc:  # noqa: BLE001 - whatever the learner's code raises is reported
        return Result("incorrect", f"Your function raised {type(exc).__name__}: {_text(exc)}")
    return Result("correct", "All tests pass.")


_EXIT_MESSAGE = (
    "Your code called sys.exit() (or exit()): a function must return its result, not stop Python."
)


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a learner's exception whose __str__ raises
        return f"<{type(exc).__name__}>"


def grade(q: Question, answer: Any, lang: str = "en") -> Result:
    """Judge ``answer`` to question ``q``.

    choice: a letter (``"B"``) or 0-based index; numeric: a number or its text; bug: line
    numbers (``"3, 5"`` or a list); code: a function or its source; short: ``True``/``"y"``
    if the learner knew it (self-graded). Malformed input gives ``outcome == "invalid"``.
    """
    _check_lang(lang)
    t = q.type
    if t == "choice":
        n = len(q.choices(lang))
        try:
            idx = _choice_index(answer, n)
        except (ValueError, TypeError):
            letters = "/".join(chr(ord("A") + i) for i in range(n))
            return Result("invalid", _ui(lang, "not_choice", letters=letters))
        good = q.raw["correct"]
        if idx == good:
            return Result("correct", "")
        return Result(
            "incorrect",
            f"{_ui(lang, 'answer')}{_colon(lang)}{chr(ord('A') + good)}. {q.choices(lang)[good]}",
        )
    if t == "numeric":
        try:
            value = parse_number(answer)
        except (ValueError, TypeError):
            return Result("invalid", _ui(lang, "not_number"))
        target = float(q.raw["value"])
        tol = float(q.raw.get("tolerance", 0))
        ok = abs(value - target) <= tol + 1e-9 * max(1.0, abs(target))
        if ok:
            return Result("correct", "")
        return Result("incorrect", f"{_ui(lang, 'answer')}{_colon(lang)}{q.text('answer', lang)}")
    if t == "bug":
        n = len(q.raw["code"].splitlines())
        try:
            lines = parse_lines(answer, n)
        except (ValueError, TypeError):
            return Result("invalid", _ui(lang, "not_lines", n=n))
        want = set(q.raw["bug_lines"])
        msg = _ui(lang, "expected_lines", lines=", ".join(map(str, sorted(want))))
        return Result("correct" if lines == want else "incorrect", msg)
    if t == "code":
        return run_code_tests(q, answer)
    if t == "short":
        if isinstance(answer, bool):
            knew = answer
        else:
            s = str(answer).strip().lower()
            if s in {"y", "yes", "是", "对", "1", "true"}:
                knew = True
            elif s in {"n", "no", "否", "不", "0", "false"}:
                knew = False
            else:
                return Result("invalid", _ui(lang, "not_yn"))
        return Result("correct" if knew else "incorrect", _ui(lang, "self_graded"))
    raise ValueError(f"unknown question type {t!r} for {q.id}")


# -------------------------------------------------------------------------- rendering
def render_question(
    q: Question,
    lang: str = "en",
    *,
    answer: bool = False,
    html_: bool = False,
    number: int | None = None,
) -> str:
    """A question as plain text (or HTML), with its answer when ``answer`` is True."""
    _check_lang(lang)
    c = "：" if lang == "zh" else ": "
    head = f"{number}. " if number is not None else ""
    stars = "★" * q.difficulty + "☆" * (3 - q.difficulty)
    if not html_:
        lines = [
            f"{head}[{q.id} · {TOPICS[q.topic][0 if lang == 'en' else 1]} · {stars}] {q.text('question', lang)}"
        ]
        if q.type == "choice":
            lines += [f"   {chr(ord('A') + i)}. {c}" for i, c in enumerate(q.choices(lang))]
        if q.type == "bug":
            lines += ["   " + ln for ln in q.numbered_code().splitlines()]
        if q.type == "code":
            lines += ["   " + ln for ln in q.raw["starter"].splitlines()]
        if answer:
            lines.append(f"   {_ui(lang, 'answer')}{c}{q.text('answer', lang)}")
            if q.type == "bug":
                lines.append(f"   {_ui(lang, 'fix')}{c.rstrip()}")
                lines += ["      " + ln for ln in q.fixed_code().splitlines()]
            if q.type == "code":
                lines += ["      " + ln for ln in q.raw["solution"].splitlines()]
            lines.append(f"   {_ui(lang, 'explanation')}{c}{q.text('explanation', lang)}")
            refs = "; ".join(ref_label(r) for r in q.refs)
            if refs:
                lines.append(f"   {_ui(lang, 'review')}{c}{refs}")
        return "\n".join(lines)
    e = html.escape
    parts = [
        f'<div style="margin:6px 0"><b>{head}</b>{e(q.text("question", lang))} '
        f'<span style="color:#888;font-size:85%">({e(q.id)} · {stars})</span>'
    ]
    if q.type == "choice":
        parts.append(
            "<ol type='A' style='margin:2px 0'>"
            + "".join(f"<li>{e(c)}</li>" for c in q.choices(lang))
            + "</ol>"
        )
    if q.type == "bug":
        parts.append(f"<pre style='margin:2px 0'>{e(q.numbered_code())}</pre>")
    if q.type == "code":
        parts.append(f"<pre style='margin:2px 0'>{e(q.raw['starter'])}</pre>")
    if answer:
        body = f"<b>{e(_ui(lang, 'answer'))}{c}</b>{e(q.text('answer', lang))}"
        if q.type == "bug":
            body += f"<pre>{e(q.fixed_code())}</pre>"
        if q.type == "code":
            body += f"<pre>{e(q.raw['solution'])}</pre>"
        body += f"<br><b>{e(_ui(lang, 'explanation'))}{c}</b>{e(q.text('explanation', lang))}"
        # plain labels: lesson notebooks store this output, so it must stay stable for nbval
        refs = "; ".join(e(ref_label(r)) for r in q.refs)
        if refs:
            body += f"<br><i>{e(_ui(lang, 'review'))}{c}{refs}</i>"
        parts.append(f"<details><summary>{e(_ui(lang, 'show'))}</summary>{body}</details>")
    parts.append("</div>")
    return "".join(parts)


def _in_notebook() -> bool:
    from course_utils.exercises import _in_notebook as inb

    return inb()


def show_questions(ids: Sequence[str], lang: str = "en") -> None:
    """Render end-of-chapter questions by id: HTML with answers folded in a notebook,
    plain text (question, then an ``Answer:`` line) elsewhere. Deterministic for nbval."""
    _check_lang(lang)
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


# ------------------------------------------------------------------------ mock interview
class MockInterview:
    """N questions drawn across topics (round robin, seeded), a time limit, and a
    per-topic report with the lesson sections to review."""

    def __init__(
        self,
        n: int = 10,
        *,
        topics: Sequence[str] | None = None,
        seed: int | None = 0,
        minutes: float | None = None,
        types: Sequence[str] = TYPES,
        clock: Callable[[], float] = time.monotonic,
    ):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        topics = list(topics) if topics is not None else list(TOPICS)
        rng = random.Random(seed)
        pools = {t: [q for q in questions(t, types=types)] for t in topics}
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

    def answer(self, qid: str, answer: Any, lang: str = "en") -> Result:
        """Grade and record an answer (an invalid input is returned, not recorded)."""
        q = get_question(qid)
        if self.started is None:
            self.start()
        if self.time_up():
            return Result("invalid", _ui(lang, "time_up"))
        res = grade(q, answer, lang)
        if res.valid:
            self.results[qid] = res
        return res

    def finish(self) -> None:
        if self.finished_at is None:
            self.finished_at = self.clock()

    def report(self) -> dict[str, dict[str, Any]]:
        """Per topic: asked, answered, correct, score (correct / asked) and review refs."""
        out: dict[str, dict[str, Any]] = {}
        for q in self.questions:
            r = out.setdefault(
                q.topic, {"asked": 0, "answered": 0, "correct": 0, "review": [], "missed": []}
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
        for r in out.values():
            r["score"] = r["correct"] / r["asked"]
        return out

    def report_text(self, lang: str = "en") -> str:
        _check_lang(lang)
        rep = self.report()
        total = sum(r["correct"] for r in rep.values())
        answered = sum(r["answered"] for r in rep.values())
        c = _colon(lang)
        lines = [
            f"{_ui(lang, 'report')} · "
            + _ui(lang, "score", c=total, n=len(self.questions), a=answered)
        ]
        width = max((_width(TOPICS[t][0 if lang == "en" else 1]) for t in rep), default=10)
        for t, r in rep.items():
            name = TOPICS[t][0 if lang == "en" else 1]
            bar = "#" * r["correct"] + "." * (r["asked"] - r["correct"])
            pad = " " * (width - _width(name))
            lines.append(f"  {name}{pad}  {r['correct']}/{r['asked']}  {bar}")
        todo = [(t, r) for t, r in rep.items() if r["review"]]
        if todo:
            lines.append(f"{_ui(lang, 'to_review')}{c.rstrip()}")
            for t, r in todo:
                for label in r["review"]:
                    lines.append(f"  - [{TOPICS[t][0 if lang == 'en' else 1]}] {label}")
        else:
            lines.append(_ui(lang, "all_good"))
        return "\n".join(lines)


# --------------------------------------------------------------------- terminal drill
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


def _answer_in_terminal(term: _Terminal, q: Question, lang: str) -> Result:
    """Ask one question until a valid answer (raises _Skip / _Quit / EOFError)."""
    if q.type == "short":
        term.ask(_ui(lang, "press_enter"))
        term.say(f"{_ui(lang, 'answer')}{'：' if lang == 'zh' else ': '}{q.text('answer', lang)}")
        while True:
            res = grade(q, term.ask(_ui(lang, "knew")), lang)
            if res.valid:
                return res
            term.say(res.message)
    if q.type == "code":
        return grade(q, term.ask_code(_ui(lang, "code") + ":"), lang)
    prompt = {"choice": "choose", "numeric": "number", "bug": "lines"}[q.type]
    for _ in range(5):
        res = grade(q, term.ask(_ui(lang, prompt)), lang)
        if res.valid:
            return res
        term.say(res.message)
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
    try:
        for i, q in enumerate(qs, start=1):
            if mock is not None and mock.time_up():
                term.say(_ui(lang, "time_up"))
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
                term.say(_ui(lang, "skipped"))
                continue
            if mock is not None:
                if mock.time_up():
                    term.say(_ui(lang, "time_up"))
                    status = "time"
                    break
                mock.results[q.id] = res
            c, stop = ("：", "。") if lang == "zh" else (": ", ". ")
            mark = "✓ " + _ui(lang, "correct") if res.correct else "✗ " + _ui(lang, "incorrect")
            term.say(f"{mark}{stop}{res.message}".rstrip())
            if q.type in ("bug", "code"):
                term.say(f"{_ui(lang, 'answer')}{c}{q.text('answer', lang)}")
            term.say(f"{_ui(lang, 'explanation')}{c}{q.text('explanation', lang)}")
            if q.refs:
                term.say(f"{_ui(lang, 'review')}{c}" + "; ".join(ref_label(r) for r in q.refs))
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
        term.say(_ui(lang, "eof"))
    except KeyboardInterrupt:
        status = "interrupted"
        term.say("")
        term.say(_ui(lang, "interrupted"))
    saved = progress is not None and progress.try_save() is None
    if mock is not None:
        mock.finish()
        term.say("")
        term.say(mock.report_text(lang))
    else:
        right = sum(o == "correct" for _, o in answered)
        term.say("")
        term.say(_ui(lang, "score", c=right, n=len(qs), a=len(answered)))
    if saved:
        term.say(_ui(lang, "saved", path=progress.path))
    elif progress is not None:
        term.say(f"warning: {progress.try_save() or 'the progress could not be saved'}")
    return {"status": status, "answered": answered}


def select_questions(
    topics: Sequence[str] | None,
    n: int,
    *,
    progress: Progress | None = None,
    seed: int | None = None,
    types: Sequence[str] = TYPES,
    clock: Callable[[], float] = time.time,
) -> list[Question]:
    """The questions of a drill: shuffled (seeded), then due cards first (spaced repetition)."""
    pool = [q.id for q in questions(topics, types=types)]
    random.Random(seed).shuffle(pool)
    if progress is not None:
        pool = Leitner(progress, clock).order(pool)
    return [get_question(i) for i in pool[:n]]


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
    topic, n < 1, unknown language), 130 after Ctrl-C (progress saved in every case)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python -m course_utils quiz",
        description="Interview drill in the terminal: answer with a letter, a number, line numbers, "
        "or code ending with a line END; type 'skip' to skip and 'quit' to stop. Progress is saved "
        f"after every answer (${PROGRESS_ENV} or ~/.video_dl_course/progress.json).",
    )
    parser.add_argument(
        "--topic", action="append", help=f"topic (repeatable; default all): {', '.join(TOPICS)}"
    )
    parser.add_argument("--n", type=int, default=None, help="number of questions (default 10)")
    parser.add_argument("--lang", default="en", help="language: en or zh (default en)")
    parser.add_argument(
        "--mock", action="store_true", help="a timed mock interview across topics, with a report"
    )
    parser.add_argument(
        "--minutes",
        type=_positive_minutes,
        default=None,
        help="time limit of the mock interview, a positive number (default 2 per question; only with --mock)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the question draw (default: random)"
    )
    parser.add_argument(
        "--type", action="append", choices=TYPES, help="only these question types (repeatable)"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the topics and the number of questions, then exit"
    )
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
        clash = [o for o, v in (("--mock", args.mock), ("--minutes", args.minutes), ("--n", args.n), ("--seed", args.seed)) if v not in (None, False)]
        if clash:
            return fail(f"--list only lists the topics; it does not go with {', '.join(clash)}")
    topics = args.topic or list(TOPICS)
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        close = [
            c
            for u in unknown
            for c in __import__("difflib").get_close_matches(u, list(TOPICS), n=1)
        ]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return fail(f"unknown topic {unknown[0]!r}{hint}; choose one of: {', '.join(TOPICS)}")
    try:
        bank = load_bank()
    except FileNotFoundError as exc:
        return fail(f"{exc}. Run the command from a checkout of the course.")
    if args.list:
        for t, (en, zh) in TOPICS.items():
            if t not in topics:
                continue
            n = sum(q.topic == t and (not args.type or q.type in args.type) for q in bank.values())
            stdout.write(f"{t:<20} {n:>3}  {en if args.lang == 'en' else zh}\n")
        return 0
    if args.n is None:
        args.n = 10
    if args.n < 1:
        return fail(f"--n must be at least 1, got {args.n}")
    types = args.type or list(TYPES)
    progress = Progress()
    for w in progress.warnings:
        stderr.write(f"warning: {w}\n")
    if args.mock:
        minutes = args.minutes if args.minutes is not None else 2.0 * args.n
        mock = MockInterview(
            args.n, topics=topics, seed=args.seed, minutes=minutes, types=types, clock=clock
        )
        qs = mock.questions
    else:
        mock = None
        qs = select_questions(
            topics, args.n, progress=progress, seed=args.seed, types=types, clock=clock
        )
    if not qs:
        return fail("no question matches these options")
    result = run_drill(
        qs, lang=args.lang, progress=progress, mock=mock, stdin=stdin, stdout=stdout, clock=clock
    )
    return 130 if result["status"] == "interrupted" else 0


def exercise(qid: str):
    """A code question of the bank as an :class:`~course_utils.exercises.Exercise`:
    ``check(your_function)``, ``hint()``, ``solution()`` (notebook 09)."""
    from course_utils.exercises import Exercise, Incorrect

    q = get_question(qid)
    if q.type != "code":
        raise ValueError(f"{qid} is a {q.type!r} question; only 'code' questions are exercises")

    def judge(answer: Any) -> None:
        res = run_code_tests(q, answer)
        if not res.correct:
            raise Incorrect(res.message)

    return Exercise(
        q.raw["entry"],
        title=f"{qid}: {q.raw['entry']}",
        judge=judge,
        hints=[q.text("explanation", "en"), f"The idea in one line: {q.text('answer', 'en')}"],
        solution=q.raw["solution"],
        expects_function=True,
    )
