"""Learner progress for the interview prep (notebook 09): one JSON file, Leitner boxes.

* :class:`Progress` keeps the cards in one JSON file (``$VDL_PROGRESS`` or
  ``~/.video_dl_course/progress.json``), written atomically (temp file, fsync, rename); a
  corrupt or foreign file is renamed aside and reported, never overwritten silently; a bad
  entry in a good file is set aside alone (the file backed up, the rest kept). Saving is one
  locked read-merge-write (``flock`` on ``.<name>.lock`` beside the file): what another
  session (a terminal drill beside a notebook) saved meanwhile is merged, never lost. A
  symlink is followed (its target is updated), a read-only file is refused with a clear
  message, a FIFO or directory at the path is never opened, and temp files left by a killed
  save are cleaned.
* :class:`Leitner` schedules the cards: a right answer moves a card one box up (longer
  interval), a wrong one sends it back to box 1 (due again at once).

Standard library only, so a progress file can be handled without importing torch.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import stat
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
    "ProgressFileError",
    "atomic_write_json",
    "progress_path",
]

PROGRESS_ENV = "VDL_PROGRESS"
PROGRESS_FORMAT = "video-dl-course/progress"
PROGRESS_VERSION = 1
#: how long a save waits for another session's save to finish before giving up (seconds)
LOCK_TIMEOUT = 15.0

try:  # POSIX; elsewhere saves are not locked (a single session is still safe)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


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
    """Why ``data`` as a whole is not a progress file of this course (None if it is one).
    Single bad entries are :func:`_sanitize`'s business."""
    if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
        return "it is not a progress file of this course"
    if not isinstance(data.get("version"), int) or data["version"] > PROGRESS_VERSION:
        return f"unsupported version {data.get('version')!r}"
    if not isinstance(data.get("cards"), dict):
        return "'cards' is not an object"
    if not isinstance(data.get("history", []), list):
        return "'history' is not a list"
    return None


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**9


def _card_problem(qid: str, card: Any) -> str | None:
    if not isinstance(card, dict):
        return f"card {qid!r} is not an object"
    box = card.get("box")
    if not isinstance(box, int) or isinstance(box, bool) or not 1 <= box <= Leitner.BOXES:
        return f"card {qid!r} has an invalid box {box!r}"
    if not _number(card.get("due")):
        return f"card {qid!r} has an invalid due date {card.get('due')!r}"
    for key in ("seen", "right"):
        if key in card and not _count(card[key]):
            return f"card {qid!r} has an invalid {key!r} count {card[key]!r}"
    if "last" in card and not _number(card["last"]):
        return f"card {qid!r} has an invalid 'last' time {card['last']!r}"
    return None


def _history_problem(i: int, h: Any) -> str | None:
    if not isinstance(h, dict):
        return f"history entry {i} is not an object ({str(h)[:40]})"
    for key in ("id", "outcome", "mode"):
        if not isinstance(h.get(key), str):
            return f"history entry {i} has an invalid {key!r} {str(h.get(key))[:40]}"
    if not _number(h.get("t")):
        return f"history entry {i} has an invalid time {str(h.get('t'))[:40]}"
    return None


def _sanitize(data: dict[str, Any]) -> list[str]:
    """Drop the entries of a progress file that the course could not use (a card whose box
    is 9, a history entry that is a number, a count that is a string); return why."""
    problems = []
    for qid in list(data["cards"]):
        problem = _card_problem(qid, data["cards"][qid])
        if problem:
            problems.append(problem)
            del data["cards"][qid]
    history = data.setdefault("history", [])
    keep = []
    for i, h in enumerate(history):
        problem = _history_problem(i, h)
        if problem:
            problems.append(problem)
        else:
            keep.append(h)
    data["history"] = keep
    return problems


class ProgressFileError(OSError):
    """The progress file cannot be used as it is (read-only, not a regular file, locked)."""


def _is_read_only(path: Path) -> bool:
    """True for a file without write permission, also for root (who may write anyway)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    return not (st.st_mode & stat.S_IWUSR) or not os.access(path, os.W_OK)


@contextlib.contextmanager
def _locked(target: Path, timeout: float = LOCK_TIMEOUT):
    """Hold an exclusive ``flock`` on ``.<name>.lock`` beside ``target`` (released at once
    if the process dies, so a kill -9 never leaves a stale lock). Raises
    :class:`ProgressFileError` after ``timeout`` seconds rather than hanging."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    lock = target.with_name(f".{target.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ProgressFileError(
                        f"another session has been saving to {target} for {timeout:.0f} s; "
                        "the answers stay in memory and are saved at the next answer"
                    ) from None
                time.sleep(0.005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _clean_temp_files(target: Path) -> None:
    """Remove temp files a killed save left beside ``target`` (call with the lock held:
    then no other save is writing one)."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _clean_if_idle(target: Path) -> None:
    """Clean leftover temp files when no other session is saving (never waits)."""
    if fcntl is None or not target.parent.is_dir():  # pragma: no cover - Windows
        return
    try:
        fd = os.open(target.with_name(f".{target.name}.lock"), os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o644)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return
    try:
        _clean_temp_files(target)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Progress:
    """The learner's progress in one JSON file (see :func:`progress_path`).

    A file that is not valid JSON, or valid JSON that is not ours (a "foreign" file), is
    never overwritten silently: it is renamed to ``<name>.bad-<timestamp>``, a fresh
    progress is started, and the reason is kept in ``warnings`` for the caller to show.
    Entries the course cannot use (a card in box 9, a history entry that is a number) are
    set aside one by one: the file is copied to ``<name>.bad-<timestamp>`` and the rest is
    kept. A symlink is followed; a read-only file is read but never replaced (saving says
    why); a FIFO, directory or other non-regular file is never opened (progress goes to
    ``<name>.fallback.json``).
    """

    HISTORY_LIMIT = 5000

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path is not None else progress_path()
        self.warnings: list[str] = []
        self.data = self._load()

    def _target(self) -> Path:
        """The real file behind ``path`` (a symlink is followed, even a dangling one)."""
        return Path(os.path.realpath(self.path))

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        """``(data, None)`` for a valid file, ``(None, None)`` when there is none,
        ``(None, reason)`` for a corrupt or foreign one. OSError propagates, a
        :class:`ProgressFileError` for a FIFO, directory or device at the path."""
        target = self._target()
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return None, None
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
            raise ProgressFileError(f"{target} is {kind}, not a progress file")
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)  # never blocks, even if swapped for a FIFO
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ProgressFileError(f"{target} is not a regular file")
            raw = f.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"it is not valid JSON ({type(exc).__name__})"
        except RecursionError:
            return None, "it is not valid JSON (nested too deeply)"
        problem = _progress_problem(data)
        if problem is not None:
            return None, problem
        dropped = _sanitize(data)
        if dropped:
            self._back_up(dropped)
        return data, None

    def _backup_name(self) -> Path:
        target = self._target()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{target.name}.bad-{stamp}")
        k = 1
        while backup.exists():
            backup = target.with_name(f"{target.name}.bad-{stamp}-{k}")
            k += 1
        return backup

    def _back_up(self, dropped: list[str]) -> None:
        """Copy a file with bad entries aside (they were dropped) and say so in ``warnings``."""
        backup = self._backup_name()
        try:
            shutil.copyfile(self._target(), backup)
            kept = f"the original file is kept as {backup.name}"
        except OSError as exc:
            kept = f"the original could not be copied aside ({exc})"
        more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
        self.warnings.append(
            f"The progress file {self.path} had {len(dropped)} entr{'y' if len(dropped) == 1 else 'ies'} "
            f"the course could not use: {dropped[0]}{more}. They were set aside, the rest is kept; {kept}."
        )

    def _set_aside(self, problem: str) -> None:
        """Rename a bad file to ``<name>.bad-<time>`` and say so in ``warnings``."""
        backup = self._backup_name()
        try:
            os.replace(self._target(), backup)
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

    def _read_only_message(self) -> str:
        return (
            f"the progress file {self.path} is read-only, so answers are not saved. Make it "
            f"writable (chmod u+w {self._target()}) or set ${PROGRESS_ENV} to another file."
        )

    def _load(self) -> dict[str, Any]:
        _clean_if_idle(self._target())
        try:
            data, problem = self._read()
        except ProgressFileError as exc:
            self._fallback(f"cannot be used ({exc})")
            return self._load_fallback()
        except (OSError, ValueError) as exc:
            self._fallback(f"could not be read ({exc})")
            return self._load_fallback()
        if data is not None:
            if _is_read_only(self._target()):
                self.warnings.append(self._read_only_message()[0].upper() + self._read_only_message()[1:])
            return data
        if problem is not None:
            self._set_aside(problem)
        return _empty_progress()

    def _load_fallback(self) -> dict[str, Any]:
        try:
            data, _ = self._read()
        except (OSError, ValueError):
            data = None
        return data if data is not None else _empty_progress()

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
        key = lambda h: (h.get("id"), h.get("t"), h.get("mode"), h.get("outcome"))  # noqa: E731
        seen = {key(h) for h in self.data["history"]}
        extra = [h for h in disk.get("history", []) if key(h) not in seen]
        if extra:
            hist = sorted(self.data["history"] + extra, key=lambda h: h.get("t", 0))
            self.data["history"] = hist[-self.HISTORY_LIMIT :]

    def save(self) -> None:
        """One locked read-merge-write: wait for another session's save, merge what it
        saved, write atomically. Raises OSError (a :class:`ProgressFileError` with the fix
        for a read-only or non-regular file) instead of replacing what is not ours."""
        target = self._target()
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target):
            _clean_temp_files(target)
            if _is_read_only(target):
                raise ProgressFileError(self._read_only_message())
            disk, problem = self._read()
            if problem is not None:
                self._set_aside(problem)
                target = self._target()
            elif disk is not None:
                self._merge(disk)
            atomic_write_json(target, self.data)

    def try_save(self) -> str | None:
        """Save; on a disk error (full, read-only, ...) return the reason instead of raising,
        so a drill goes on (progress stays in memory and is retried at the next answer)."""
        try:
            self.save()
        except ProgressFileError as exc:
            return f"Could not save the progress: {exc}"
        except (OSError, ValueError) as exc:
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
