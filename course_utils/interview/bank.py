"""The question bank: topics, types, :class:`Question`, loading and filtering (notebook 09).

The bank lives in ``data/questions/<topic>.json`` (plain JSON, one file per topic; the
format is documented for contributors in ``docs/question_bank.md``). Every question has a
stable ``id``, a ``topic``, a ``difficulty`` (1-3), a ``type``, the question, answer and
explanation in English (``en``) and Simplified Chinese (``zh``), and ``refs`` to the lesson
sections that teach it.

``TOPIC_CATALOG`` and ``TYPE_CATALOG`` are every topic and type the code knows (in menu
order); ``TOPICS`` and ``TYPES`` are those the course's bank holds, so a menu never offers
an empty topic. Depends only on :mod:`course_utils.interview.text`.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.interview.text import check_lang

__all__ = [
    "BANK_DIR",
    "TOPICS",
    "TOPIC_CATALOG",
    "TYPES",
    "TYPE_CATALOG",
    "Question",
    "bank_topics",
    "get_question",
    "load_bank",
    "questions",
    "ref_label",
    "ref_link",
    "section_title",
    "sections_zh",
    "topic_title",
]

BANK_DIR = Path(__file__).resolve().parents[2] / "data" / "questions"

#: every question type the grader knows: answer types, then the self-graded system design
TYPE_CATALOG = ("choice", "numeric", "short", "code", "bug", "design")

#: topic key -> (English title, Chinese title); the order is the order of the menus
TOPIC_CATALOG: dict[str, tuple[str, str]] = {
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


def topic_title(topic: str, lang: str = "en") -> str:
    """The title of ``topic`` in ``lang`` (the key itself for a topic the catalog lacks)."""
    titles = TOPIC_CATALOG.get(topic)
    return titles[0 if check_lang(lang) == "en" else 1] if titles else topic


# --------------------------------------------------------------------------- questions
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
        """The ``question``, ``answer`` or ``explanation`` in ``lang`` (``en``/``zh``);
        an optional text that is absent (a design case's explanation) is ``""``."""
        value = self.raw.get(key)
        return value[check_lang(lang)] if value else ""

    def choices(self, lang: str = "en") -> list[str]:
        return list(self.raw["choices"][check_lang(lang)])

    def rubric(self, lang: str = "en") -> list[str]:
        """A design case's rubric: the points a good answer covers."""
        return list(self.raw["rubric"][check_lang(lang)])

    def numbered_code(self) -> str:
        """The code of a bug/code question with line numbers (bug questions)."""
        lines = self.raw["code"].splitlines()
        w = len(str(len(lines)))
        return "\n".join(f"{i + 1:>{w}} | {line}" for i, line in enumerate(lines))

    def accepted_answers(self) -> list[dict[str, Any]]:
        """A spot-the-bug item's acceptable answers: the canonical ``{"bug_lines", "fix"}``
        first, then every entry of ``alternatives``."""
        canonical = {"bug_lines": list(self.raw["bug_lines"]), "fix": dict(self.raw["fix"])}
        return [canonical, *(dict(a) for a in self.raw.get("alternatives", []))]

    def fixed_code(self, alternative: int | None = None) -> str:
        """The code with its faulty lines replaced by the canonical fix, or by the fix of
        ``alternatives[alternative]``. An empty replacement deletes the line."""
        if alternative is None:
            fix_map = self.raw["fix"]
        else:
            alts = self.raw.get("alternatives", [])
            if not isinstance(alternative, int) or not 0 <= alternative < len(alts):
                raise ValueError(
                    f"alternative must be an index below {len(alts)} for {self.id}, got {alternative!r}"
                )
            fix_map = alts[alternative]["fix"]
        fix = {int(k): v for k, v in fix_map.items()}
        out: list[str] = []
        for i, line in enumerate(self.raw["code"].splitlines(), start=1):
            if i in fix:
                if fix[i] != "":
                    out.extend(fix[i].splitlines())
            else:
                out.append(line)
        return "\n".join(out)


_BANK_CACHE: dict[Path, dict[str, Question]] = {}


def _files(root: Path) -> list[Path]:
    order = {t: i for i, t in enumerate(TOPIC_CATALOG)}
    return sorted(root.glob("*.json"), key=lambda p: (order.get(p.stem, 99), p.stem))


def load_bank(directory: str | Path | None = None, *, reload: bool = False) -> dict[str, Question]:
    """All questions, ``{id: Question}``, in file (topic) then question order.

    Reads ``data/questions/*.json`` (or ``directory``). Raises ``FileNotFoundError`` when
    the folder is missing and ``ValueError`` naming the file on a duplicate id.
    """
    root = Path(directory) if directory is not None else BANK_DIR
    if not reload and root in _BANK_CACHE:
        return _BANK_CACHE[root]
    if not root.is_dir():
        raise FileNotFoundError(f"the question bank folder {root} does not exist")
    bank: dict[str, Question] = {}
    for path in _files(root):
        data = json.loads(path.read_text(encoding="utf-8"))
        for raw in data["questions"]:
            qid = raw["id"]
            if qid in bank:
                raise ValueError(f"duplicate question id {qid!r} in {path.name}")
            bank[qid] = Question(raw=raw, id=qid)
    _BANK_CACHE[root] = bank
    return bank


def _present() -> tuple[dict[str, tuple[str, str]], tuple[str, ...]]:
    """The catalog's topics that have a file in the bank, and the types the bank uses."""
    try:
        bank = load_bank()
    except (OSError, ValueError):  # no bank here (an installed package): offer everything
        return dict(TOPIC_CATALOG), TYPE_CATALOG
    stems = {p.stem for p in _files(BANK_DIR)}
    used = {q.type for q in bank.values()}
    topics = {t: v for t, v in TOPIC_CATALOG.items() if t in stems}
    return topics, tuple(t for t in TYPE_CATALOG if t in used)


#: the topics of the course's bank, in menu order (key -> (English, Chinese title))
#: and the question types it uses
TOPICS, TYPES = _present()


def bank_topics() -> list[str]:
    """The topics that have questions in the bank now loaded, in menu order."""
    present = {q.topic for q in load_bank().values()}
    order = {t: i for i, t in enumerate(TOPIC_CATALOG)}
    return sorted(present, key=lambda t: (order.get(t, len(order)), t))


def get_question(qid: str) -> Question:
    """The question with id ``qid``; ``KeyError`` with the close matches otherwise."""
    bank = load_bank()
    if qid not in bank:
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
            if t not in TOPIC_CATALOG:
                raise ValueError(f"unknown topic {t!r}; choose one of: {', '.join(TOPIC_CATALOG)}")
    if types is not None:
        for t in types:
            if t not in TYPE_CATALOG:
                raise ValueError(f"unknown type {t!r}; choose one of: {', '.join(TYPE_CATALOG)}")
    if difficulty is not None:
        for d in difficulty:
            if d not in (1, 2, 3):
                raise ValueError(f"difficulty levels must be 1, 2 or 3, got {d!r}")
    return [
        q
        for q in load_bank().values()
        if (topics is None or q.topic in topics)
        and (types is None or q.type in types)
        and (difficulty is None or q.difficulty in difficulty)
    ]


#: Chinese titles of the lessons' ``## `` headings: ``{notebook: {English heading: Chinese}}``
#: (a subfolder, so the bank's ``*.json`` topic files do not include it)
SECTIONS_ZH_FILE = BANK_DIR / "i18n" / "sections_zh.json"
_SECTIONS_ZH: dict[str, dict[str, str]] | None = None


def sections_zh() -> dict[str, dict[str, str]]:
    """The Chinese section titles (read once; empty when the file is missing)."""
    global _SECTIONS_ZH
    if _SECTIONS_ZH is None:
        try:
            _SECTIONS_ZH = json.loads(SECTIONS_ZH_FILE.read_text(encoding="utf-8"))
        except OSError:  # an installed package without the data folder: English titles
            _SECTIONS_ZH = {}
    return _SECTIONS_ZH


def section_title(ref: dict[str, str], lang: str = "en") -> str:
    """The title of the section ``ref`` points to, in ``lang``. The Chinese title comes from
    ``data/questions/i18n/sections_zh.json`` (the English heading when it has none; the
    tests require one for every heading)."""
    if check_lang(lang) == "zh":
        return sections_zh().get(ref["notebook"], {}).get(ref["section"], ref["section"])
    return ref["section"]


def ref_label(ref: dict[str, str], lang: str = "en") -> str:
    """``notebooks/01_convolution.ipynb, §2. Output size ...`` (the section title in ``lang``)."""
    sep = "，" if check_lang(lang) == "zh" else ", "
    return f"notebooks/{ref['notebook']}.ipynb{sep}§{section_title(ref, lang)}"


def heading_anchor(heading: str) -> str:
    """The id JupyterLab gives a Markdown heading: the *rendered* text (inline-code backticks
    and emphasis marks gone) with spaces replaced by hyphens."""
    return re.sub(r"[`*]", "", heading).strip().replace(" ", "-")


def ref_link(ref: dict[str, str], lang: str = "en") -> str:
    """An HTML link to the section, relative to the notebooks folder (Jupyter's heading
    anchors are the heading text with spaces replaced by hyphens). The label is in
    ``lang``; the anchor is always the English heading's, the notebooks' own text."""
    anchor = heading_anchor(ref["section"])
    href = html.escape(f"{ref['notebook']}.ipynb#{anchor}", quote=True)
    return f'<a href="{href}">{html.escape(ref_label(ref, lang))}</a>'
