"""Issue 18: no answer lost. One locked read-merge-write for the progress file: concurrent
drills, kill -9 during saves, bad entries, symlinks, read-only files, FIFOs, temp files."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from course_utils import progress as P

ROOT = Path(__file__).resolve().parents[1]

# the child loads progress.py alone (standard library only): it starts in milliseconds
_LOAD = textwrap.dedent(
    f"""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("q", {str(ROOT / "course_utils" / "progress.py")!r})
    q = importlib.util.module_from_spec(spec)
    sys.modules["q"] = q
    spec.loader.exec_module(q)
    """
)


def _good(cards=None, history=None):
    return {"format": P.PROGRESS_FORMAT, "version": 1, "cards": cards or {}, "history": history or []}


def _tmp_files(folder: Path) -> list[str]:
    return [f.name for f in folder.iterdir() if f.name.endswith(".tmp")]


# ------------------------------------------------------------------ concurrent sessions
def test_concurrent_drills_lose_no_answer_in_20_runs(tmp_path):
    """Two drills answer different questions into one file at the same time, saving after
    every answer (what `yes A | quiz --type choice` beside `yes 1 | quiz --type numeric` does)."""
    n = 8
    script = _LOAD + textwrap.dedent(
        """
        path, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        p = q.Progress(path)
        lt = q.Leitner(p)
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        sys.stdin.readline()
        for i in range(n):
            lt.answer(f"{prefix}{i}", i % 2 == 0, mode="quiz")
            problem = p.try_save()
            assert problem is None, problem
        """
    )
    lost = []
    for run in range(20):
        path = tmp_path / f"run{run}" / "progress.json"
        procs = [
            subprocess.Popen([sys.executable, "-c", script, str(path), prefix, str(n)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for prefix in ("choice-", "numeric-")
        ]
        for proc in procs:
            assert proc.stdout.readline().strip() == b"ready"
        for proc in procs:  # start both at once
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.wait(timeout=60) == 0
        data = json.loads(path.read_text())
        lost.append(2 * n - len(data["cards"]) + 2 * n - len(data["history"]))
        assert not _tmp_files(path.parent)
    assert lost == [0] * 20, lost


def test_the_terminal_drills_beside_each_other_keep_every_answer(tmp_path):
    path = tmp_path / "progress.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), P.PROGRESS_ENV: str(path)}
    cmd = [sys.executable, "-m", "course_utils", "quiz", "--n", "40", "--seed", "1"]
    procs = [
        subprocess.Popen(cmd + ["--type", t], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
        for t in ("choice", "numeric")
    ]
    outs = [proc.communicate(answer * 200, timeout=120) for proc, answer in zip(procs, (b"A\n", b"1\n"), strict=True)]
    answered = 0
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert b"Progress saved" in out
        answered += out.count("✓".encode()) + out.count("✗".encode())
    data = json.loads(path.read_text())
    assert answered > 0 and len(data["history"]) == answered == len(data["cards"])


# -------------------------------------------------------------------------- kill -9
def test_kill_9_loop_loses_no_saved_answer_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "progress.json"
    script = _LOAD + textwrap.dedent(
        f"""
        p = q.Progress({str(path)!r})
        lt = q.Leitner(p)
        start = len(p.cards)
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        i = start
        while True:
            lt.answer(f"q{{i}}", True, float(i))
            p.save()
            sys.stdout.write(f"{{i}}\\n"); sys.stdout.flush()
            i += 1
        """
    )
    rng = random.Random(0)
    confirmed = -1
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.02, 0.15))
        proc.send_signal(signal.SIGKILL)
        out = proc.stdout.read().split()
        proc.wait()
        if out:
            confirmed = int(out[-1])
        p = P.Progress(path)  # opening cleans what the killed save left
        assert p.warnings == [], p.warnings
        missing = [i for i in range(confirmed + 1) if f"q{i}" not in p.cards]
        assert missing == [], missing
        assert not _tmp_files(tmp_path)
    assert confirmed > 10


def test_leftover_temp_files_are_cleaned(tmp_path):
    path = tmp_path / "progress.json"
    P.Progress(path).save()
    stale = tmp_path / ".progress.json.abc123.tmp"
    stale.write_text("{half a file")
    P.Progress(path)
    assert not stale.exists()
    stale.write_text("{half a file")
    p = P.Progress.__new__(P.Progress)  # a save cleans too
    p.path, p.warnings, p.data = path, [], P._empty_progress()
    p.save()
    assert not stale.exists()


# ---------------------------------------------------------------------- bad entries
@pytest.mark.parametrize(
    "cards, history, word",
    [
        ({}, [1], "history entry 1"),
        ({}, [{"id": ["x"], "outcome": "correct", "mode": "quiz", "t": 1.0}], "invalid 'id'"),
        ({"a": {"box": 1, "due": 0, "seen": "x"}}, [], "'seen'"),
        ({"a": {"box": 9, "due": 0}}, [], "invalid box"),
        ({"a": {"box": 1, "due": "soon"}}, [], "due date"),
    ],
)
def test_one_bad_entry_is_set_aside_and_the_rest_kept(tmp_path, cards, history, word):
    path = tmp_path / "progress.json"
    good_card = {"box": 3, "due": 5.0, "seen": 2, "right": 2, "last": 1.0}
    good_hist = {"id": "ok", "outcome": "correct", "mode": "quiz", "t": 1.0}
    raw = json.dumps(_good({"ok": good_card, **cards}, [good_hist, *history]))
    path.write_text(raw)
    p = P.Progress(path)
    assert len(p.warnings) == 1 and word in p.warnings[0] and "set aside" in p.warnings[0]
    assert p.cards["ok"] == good_card and p.data["history"] == [good_hist]
    backups = list(tmp_path.glob("progress.json.bad-*"))
    assert len(backups) == 1 and backups[0].read_text() == raw
    P.Leitner(p).answer("new", True, 10.0)  # the drill's first answer and save work
    assert p.try_save() is None
    again = P.Progress(path)
    assert again.warnings == [] and set(again.cards) == {"ok", "new"}


def test_deeply_nested_json_is_set_aside_not_a_crash(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("[" * 200_000)
    p = P.Progress(path)
    assert p.cards == {} and "not valid JSON" in p.warnings[0]
    assert p.try_save() is None


# ------------------------------------------------------------- the path is not a file
def test_symlink_is_followed(tmp_path):
    target = tmp_path / "real" / "progress.json"
    target.parent.mkdir()
    link = tmp_path / "progress.json"
    link.symlink_to(target)
    p = P.Progress(link)
    P.Leitner(p).answer("a", True, 1.0)
    p.save()
    assert link.is_symlink() and "a" in json.loads(target.read_text())["cards"]
    P.Leitner(p).answer("b", True, 2.0)
    p.save()
    assert link.is_symlink() and set(json.loads(target.read_text())["cards"]) == {"a", "b"}
    assert not _tmp_files(target.parent)


def test_read_only_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text(json.dumps(_good({"a": {"box": 2, "due": 0}})))
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = path.read_bytes()
    try:
        p = P.Progress(path)
        assert p.cards and "read-only" in p.warnings[0] and "chmod u+w" in p.warnings[0]
        P.Leitner(p).answer("b", True, 1.0)
        problem = p.try_save()
        assert problem and "read-only" in problem
        assert path.read_bytes() == before and not (path.stat().st_mode & stat.S_IWUSR)
    finally:
        path.chmod(0o644)


def test_fifo_at_the_path_never_hangs(tmp_path):
    path = tmp_path / "progress.json"
    os.mkfifo(path)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("p", P.Progress(path)), daemon=True)
    thread.start()
    thread.join(5)
    assert "p" in result, "Progress() hung on a FIFO"
    p = result["p"]
    assert "named pipe" in p.warnings[0] and p.path.name.endswith(".fallback.json")
    P.Leitner(p).answer("a", True, 1.0)
    assert p.try_save() is None
    assert stat.S_ISFIFO(os.stat(path).st_mode)


def test_directory_at_the_path(tmp_path):
    path = tmp_path / "progress.json"
    path.mkdir()
    p = P.Progress(path)
    assert "directory" in p.warnings[0]
    assert p.try_save() is None and path.is_dir()
