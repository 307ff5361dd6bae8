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
    "Leitner",
    "MockInterview",
    "Progress",
    "Question",
    "Result",
    "flashcards",
    "get_question",
    "grade",
    "load_bank",
    "main",
    "mock_interview_widget",
    "progress_path",
    "questions",
    "quiz_widget",
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
        raise KeyError(f"no question {qid!r} in the bank" + (f"; did you mean {close}?" if close else ""))
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
    elif callable(answer):
        ns[entry] = answer
    else:
        return Result("invalid", f"Pass the function `{entry}` itself, or its source code as a string.")
    try:
        exec(compile(q.raw["tests"], f"<tests of {q.id}>", "exec"), ns)
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
        return Result("incorrect", f"{_ui(lang, 'answer')}: {chr(ord('A') + good)}. {q.choices(lang)[good]}")
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
        return Result("incorrect", f"{_ui(lang, 'answer')}: {q.text('answer', lang)}")
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
def render_question(q: Question, lang: str = "en", *, answer: bool = False, html_: bool = False, number: int | None = None) -> str:
    """A question as plain text (or HTML), with its answer when ``answer`` is True."""
    _check_lang(lang)
    c = "：" if lang == "zh" else ": "
    head = f"{number}. " if number is not None else ""
    stars = "★" * q.difficulty + "☆" * (3 - q.difficulty)
    if not html_:
        lines = [f"{head}[{q.id} · {TOPICS[q.topic][0 if lang == 'en' else 1]} · {stars}] {q.text('question', lang)}"]
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
        parts.append("<ol type='A' style='margin:2px 0'>" + "".join(f"<li>{e(c)}</li>" for c in q.choices(lang)) + "</ol>")
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

        display(HTML("".join(render_question(q, lang, answer=True, html_=True, number=i + 1) for i, q in enumerate(qs))))
    else:
        print("\n\n".join(render_question(q, lang, answer=True, number=i + 1) for i, q in enumerate(qs)))
