"""Interview prep: the bilingual question bank, grading, spaced repetition, mock interviews.

Introduced in notebook 06 (every lesson's end-of-chapter questions come from here too).

* The bank lives in ``data/questions/<topic>.json`` (plain JSON, one file per topic).
  Every question has a stable ``id``, a ``topic``, a ``difficulty`` (1-3), a ``type``
  (``choice``, ``numeric``, ``short``, ``code``, ``bug``), the question, answer and
  explanation in English (``en``) and Simplified Chinese (``zh``), and ``refs`` to the
  lesson sections that teach it (notebook + numbered section heading).
* :func:`grade` judges one answer and returns a :class:`Result` (never raises on a
  learner's input: malformed input is reported as ``outcome == "invalid"``).
* :class:`Progress` keeps the flashcard boxes in one JSON file, written atomically
  (temp file + rename); a corrupt or foreign file is backed up and reported.
* :class:`Leitner` is the spaced-repetition schedule: a right answer moves a card one box
  up (longer interval), a wrong one back to box 1 (due again at once).
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
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "BANK_DIR",
    "LANGS",
    "TOPICS",
    "TYPES",
    "FlashcardApp",
    "Leitner",
    "MockApp",
    "MockInterview",
    "Progress",
    "QuizApp",
    "Question",
    "Result",
    "exercise",
    "flashcards",
    "get_question",
    "grade",
    "load_bank",
    "main",
    "mock_interview_widget",
    "progress_path",
    "run_drill",
    "select_questions",
    "questions",
    "quiz_widget",
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
}

PROGRESS_ENV = "VDL_PROGRESS"
PROGRESS_FORMAT = "video-dl-course/progress"
PROGRESS_VERSION = 1

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
        except Exception as exc:  # the learner's syntax or runtime error
            return Result("incorrect", f"Your code does not run: {type(exc).__name__}: {exc}")
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
        return Result("incorrect", f"A test failed: {exc}" if str(exc) else "A test failed.")
    except Exception as exc:
        return Result("incorrect", f"Your function raised {type(exc).__name__}: {exc}")
    return Result("correct", "All tests pass.")


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


# --------------------------------------------------------------------------- progress
def progress_path() -> Path:
    """Where progress is kept: ``$VDL_PROGRESS`` if set, else ``~/.video_dl_course/progress.json``."""
    env = os.environ.get(PROGRESS_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".video_dl_course" / "progress.json"


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically: a temp file in the same folder,
    flushed and fsynced, then renamed over the target (``os.replace``). A crash or a kill
    at any moment leaves either the old file or the new one, never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _empty_progress() -> dict[str, Any]:
    return {"format": PROGRESS_FORMAT, "version": PROGRESS_VERSION, "cards": {}, "history": []}


def _progress_problem(data: Any) -> str | None:
    """Why ``data`` is not a progress file of this course (None if it is one)."""
    if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
        return "it is not a progress file of this course"
    if not isinstance(data.get("version"), int) or data["version"] > PROGRESS_VERSION:
        return f"unsupported version {data.get('version')!r}"
    cards = data.get("cards")
    if not isinstance(cards, dict):
        return "'cards' is not an object"
    for qid, card in cards.items():
        if not isinstance(card, dict):
            return f"card {qid!r} is not an object"
        box, due = card.get("box"), card.get("due")
        if not isinstance(box, int) or isinstance(box, bool) or not 1 <= box <= Leitner.BOXES:
            return f"card {qid!r} has an invalid box {box!r}"
        if not isinstance(due, int | float) or isinstance(due, bool) or not math.isfinite(due):
            return f"card {qid!r} has an invalid due date {due!r}"
    if not isinstance(data.get("history", []), list):
        return "'history' is not a list"
    return None


class Progress:
    """The learner's progress in one JSON file (see :func:`progress_path`).

    A file that is not valid JSON, or valid JSON that is not ours (a "foreign" file), is
    never overwritten silently: it is renamed to ``<name>.bad-<timestamp>``, a fresh
    progress is started, and the reason is kept in ``warnings`` for the caller to show.
    """

    HISTORY_LIMIT = 5000

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path is not None else progress_path()
        self.warnings: list[str] = []
        self.data = self._load()

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        """``(data, None)`` for a valid file, ``(None, None)`` when there is none,
        ``(None, reason)`` for a corrupt or foreign one. OSError propagates."""
        if not self.path.exists():
            return None, None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"it is not valid JSON ({type(exc).__name__})"
        problem = _progress_problem(data)
        if problem is not None:
            return None, problem
        data.setdefault("history", [])
        return data, None

    def _set_aside(self, problem: str) -> None:
        """Rename a bad file to ``<name>.bad-<time>`` and say so in ``warnings``."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        k = 1
        while backup.exists():
            backup = self.path.with_name(f"{self.path.name}.bad-{stamp}-{k}")
            k += 1
        try:
            os.replace(self.path, backup)
        except OSError as exc:
            self._fallback(f"it could not be used ({problem}) nor renamed ({exc})")
            return
        self.warnings.append(
            f"The progress file {self.path} could not be used ({problem}). "
            f"It was kept as {backup.name} and a fresh progress file was started."
        )

    def _fallback(self, why: str) -> None:
        old = self.path
        self.path = old.with_name(old.name + ".fallback.json")
        self.warnings.append(
            f"The progress file {old} {why}; it is left untouched and progress goes to {self.path.name}."
        )

    def _load(self) -> dict[str, Any]:
        try:
            data, problem = self._read()
        except OSError as exc:
            self._fallback(f"could not be read ({exc})")
            return _empty_progress()
        if data is not None:
            return data
        if problem is not None:
            self._set_aside(problem)
        return _empty_progress()

    @property
    def cards(self) -> dict[str, dict[str, Any]]:
        return self.data["cards"]

    def _merge(self, disk: dict[str, Any]) -> None:
        """Keep what another session (a terminal drill beside this notebook) saved meanwhile:
        per card the most recently answered version wins; histories are united."""
        for qid, card in disk["cards"].items():
            mine = self.cards.get(qid)
            if mine is None or card.get("last", 0) > mine.get("last", 0):
                self.cards[qid] = card
        key = lambda h: (h.get("id"), h.get("t"), h.get("mode"))  # noqa: E731
        seen = {key(h) for h in self.data["history"]}
        extra = [h for h in disk.get("history", []) if isinstance(h, dict) and key(h) not in seen]
        if extra:
            hist = sorted(self.data["history"] + extra, key=lambda h: h.get("t", 0))
            self.data["history"] = hist[-self.HISTORY_LIMIT :]

    def save(self) -> None:
        """Write the progress atomically, first merging what another session saved."""
        try:
            disk, problem = self._read()
        except OSError:
            disk, problem = None, None
        if problem is not None:
            self._set_aside(problem)
        elif disk is not None:
            self._merge(disk)
        atomic_write_json(self.path, self.data)

    def try_save(self) -> str | None:
        """Save; on a disk error (full, read-only, ...) return the reason instead of raising,
        so a drill goes on (progress stays in memory and is retried at the next answer)."""
        try:
            self.save()
        except OSError as exc:
            return f"Could not save the progress to {self.path}: {exc}"
        return None

    def log(self, qid: str, outcome: str, mode: str, now: float) -> None:
        hist = self.data["history"]
        hist.append({"id": qid, "outcome": outcome, "mode": mode, "t": round(now, 3)})
        if len(hist) > self.HISTORY_LIMIT:
            del hist[: len(hist) - self.HISTORY_LIMIT]


class Leitner:
    """Leitner-box spaced repetition over a :class:`Progress`.

    Five boxes. A card never seen is new (due now). A right answer moves the card one box
    up (at most 5) and schedules it ``INTERVAL_DAYS[box - 1]`` days later; a wrong answer
    sends it back to box 1, due again at once. ``clock`` returns seconds (time.time).
    """

    BOXES = 5
    INTERVAL_DAYS = (0, 1, 3, 7, 16)
    DAY = 86400.0

    def __init__(self, progress: Progress, clock: Callable[[], float] = time.time):
        self.progress = progress
        self.clock = clock

    def box(self, qid: str) -> int:
        """The card's box, 1-5, or 0 for a card never answered."""
        card = self.progress.cards.get(qid)
        return card["box"] if card else 0

    def due_at(self, qid: str) -> float:
        card = self.progress.cards.get(qid)
        return card["due"] if card else 0.0

    def is_due(self, qid: str, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        return self.due_at(qid) <= now

    def answer(
        self, qid: str, correct: bool, now: float | None = None, *, mode: str = "flashcards"
    ) -> int:
        """Record an answer, reschedule the card, return its new box (does not save)."""
        now = self.clock() if now is None else now
        card = self.progress.cards.setdefault(qid, {"box": 1, "due": now, "seen": 0, "right": 0})
        card["seen"] = card.get("seen", 0) + 1
        if correct:
            card["right"] = card.get("right", 0) + 1
            card["box"] = min(card["box"] + 1, self.BOXES)
        else:
            card["box"] = 1
        card["due"] = now + self.INTERVAL_DAYS[card["box"] - 1] * self.DAY
        card["last"] = now
        self.progress.log(qid, "correct" if correct else "incorrect", mode, now)
        return card["box"]

    def order(self, ids: Sequence[str], now: float | None = None) -> list[str]:
        """``ids`` reordered for review: due cards first (lowest box, then most overdue),
        then new cards in the given order, then the rest by due date."""
        now = self.clock() if now is None else now
        pos = {qid: i for i, qid in enumerate(ids)}
        due = [i for i in ids if i in self.progress.cards and self.is_due(i, now)]
        new = [i for i in ids if i not in self.progress.cards]
        later = [i for i in ids if i in self.progress.cards and not self.is_due(i, now)]
        due.sort(key=lambda i: (self.box(i), self.due_at(i), pos[i]))
        later.sort(key=lambda i: (self.due_at(i), pos[i]))
        return due + new + later

    def due(self, ids: Sequence[str], now: float | None = None) -> list[str]:
        """Only the cards due now (new cards included), in review order."""
        now = self.clock() if now is None else now
        return [i for i in self.order(ids, now) if self.is_due(i, now)]

    def boxes(self, ids: Sequence[str]) -> dict[int, int]:
        """How many of ``ids`` sit in each box (0 = new)."""
        out = {b: 0 for b in range(self.BOXES + 1)}
        for i in ids:
            out[self.box(i)] += 1
        return out


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


class _Terminal:
    def __init__(self, stdin: TextIO, stdout: TextIO, lang: str):
        self.stdin, self.stdout, self.lang = stdin, stdout, lang

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str:
        self.stdout.write(prompt + "> ")
        self.stdout.flush()
        line = self.stdin.readline()
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
            line = self.stdin.readline()
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
    parser.add_argument("--n", type=int, default=10, help="number of questions (default 10)")
    parser.add_argument("--lang", default="en", help="language: en or zh (default en)")
    parser.add_argument(
        "--mock", action="store_true", help="a timed mock interview across topics, with a report"
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="time limit of the mock interview (default 2 per question)",
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
    try:
        bank = load_bank()
    except FileNotFoundError as exc:
        return fail(f"{exc}. Run the command from a checkout of the course.")
    if args.list:
        for t, (en, zh) in TOPICS.items():
            n = sum(q.topic == t for q in bank.values())
            stdout.write(f"{t:<20} {n:>3}  {en if args.lang == 'en' else zh}\n")
        return 0
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


# ----------------------------------------------------------------------- notebook apps
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


def exercise(qid: str):
    """A code question of the bank as an :class:`~course_utils.exercises.Exercise`:
    ``check(your_function)``, ``hint()``, ``solution()`` (notebook 06)."""
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
