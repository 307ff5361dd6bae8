"""Learner progress for the interview prep (notebook 09): one JSON file, Leitner boxes.

* :class:`Progress` keeps the cards in one JSON file (``$VDL_PROGRESS`` or
  ``~/.video_dl_course/progress.json``), written atomically (temp file, fsync, rename); a
  corrupt or foreign file is renamed aside and reported, never overwritten silently; saving
  merges what another session (a terminal drill beside a notebook) saved meanwhile.
* :class:`Leitner` schedules the cards: a right answer moves a card one box up (longer
  interval), a wrong one sends it back to box 1 (due again at once).

Standard library only, so a progress file can be handled without importing torch.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "PROGRESS_ENV",
    "PROGRESS_FORMAT",
    "PROGRESS_VERSION",
    "Leitner",
    "Progress",
    "atomic_write_json",
    "progress_path",
]

PROGRESS_ENV = "VDL_PROGRESS"
PROGRESS_FORMAT = "video-dl-course/progress"
PROGRESS_VERSION = 1


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
