"""``python -m course_utils doctor``: is this machine ready for the course?

Each check returns a :class:`Check` (name, ok, detail, fix). The report lists them all and
the command exits non-zero when any fails, with the fix to run for each failure.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_utils.env import REPO_ROOT

__all__ = ["Check", "pinned_versions", "run_doctor", "main", "CHECKS"]

SETUP_FIX = "run `make lab` or `make test` (they create the environment with the pinned packages)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def pinned_versions(path: Path | None = None) -> dict[str, str]:
    """The ``name==version`` pins of requirements.txt, names lower-cased."""
    path = path or REPO_ROOT / "requirements.txt"
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _version_matches(installed: str, pinned: str) -> bool:
    return installed.split("+", 1)[0] == pinned


def check_python() -> Check:
    ok = tuple(sys.version_info[:2]) == (3, 11)
    return Check("Python", ok, f"{sys.version.split()[0]} at {sys.executable}", "" if ok else "use Python 3.11 (the course is pinned and tested on it)")


def _package(name: str, dist: str | None = None, module: str | None = None) -> Check:
    dist = dist or name
    pins = pinned_versions()
    try:
        installed = md.version(dist)
        importlib.import_module(module or dist)
    except Exception as exc:  # missing or broken
        return Check(name, False, f"not importable ({type(exc).__name__}: {exc})", SETUP_FIX)
    pinned = pins.get(dist.lower())
    if pinned and not _version_matches(installed, pinned):
        return Check(name, False, f"{installed} installed, but the course pins {pinned}", SETUP_FIX)
    return Check(name, True, installed)


def check_numpy() -> Check:
    return _package("NumPy", "numpy")


def check_torch() -> Check:
    c = _package("torch")
    if c.ok:
        import torch

        cuda = "CUDA available" if torch.cuda.is_available() else "CPU only"
        c.detail += f" ({cuda}, {torch.get_num_threads()} threads)"
    return c


def check_torchvision() -> Check:
    c = _package("torchvision")
    if not c.ok:
        return c
    try:  # the compiled ops are what breaks when torch and torchvision do not match
        import torch
        from torchvision.ops import nms

        boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
        keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
        assert keep.tolist() == [0]
    except Exception as exc:
        return Check("torchvision", False, f"imports, but its ops fail: {type(exc).__name__}: {exc}",
                     "torch and torchvision must be the pinned pair (torch 2.14.1 + torchvision 0.29.1): " + SETUP_FIX)
    c.detail += " (ops import and run)"
    return c


def check_av() -> Check:
    c = _package("PyAV", "av")
    if not c.ok:
        return c
    import av

    needed = {"libx264": "H.264 encoder", "h264": "H.264 decoder"}
    missing = [f"{k} ({v})" for k, v in needed.items() if k not in av.codecs_available]
    if missing:
        return Check("PyAV", False, f"{c.detail}, missing codecs: {', '.join(missing)}", "reinstall PyAV from its wheel: " + SETUP_FIX)
    c.detail += f" (FFmpeg codecs: libx264, h264 and {len(av.codecs_available) - 2} more)"
    return c


def check_widgets() -> Check:
    c = _package("ipywidgets")
    if not c.ok:
        return c
    try:
        ext_version = md.version("jupyterlab_widgets")
    except md.PackageNotFoundError:
        return Check("ipywidgets", False, f"{c.detail}, but the JupyterLab extension (jupyterlab_widgets) is missing", SETUP_FIX)
    ext_dir = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    if not ext_dir.is_dir():
        return Check("ipywidgets", False, f"{c.detail}; jupyterlab_widgets {ext_version} installed but its lab extension is not at {ext_dir}", SETUP_FIX)
    c.detail += f" (JupyterLab extension jupyterlab_widgets {ext_version} installed)"
    return c


def check_jupyterlab() -> Check:
    return _package("JupyterLab", "jupyterlab")


def check_data() -> Check:
    from course_utils import data  # standard library only on this path (no torch, no numpy)

    expected, problem = data.load_checksums()
    if problem is not None:
        return Check("course data", False, problem, "restore the checksum file with `git checkout data/checksums.json`, then run `python -m course_utils data build`")
    problems = data.verify()
    if problems:
        shown = "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
        return Check("course data", False, shown, "run `python -m course_utils data build` (regenerates everything offline, about a minute)")
    return Check("course data", True, f"{len(expected)} files present, checksums valid")


CHECKS: list[Callable[[], Check]] = [
    check_python,
    check_numpy,
    check_torch,
    check_torchvision,
    check_av,
    check_widgets,
    check_jupyterlab,
    check_data,
]


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils doctor [-h]``: run the checks; exit 0 when all pass, 1 with
    the fixes when one fails, 2 for an unknown option."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m course_utils doctor",
        description="Check that this machine is ready for the course (Python, the pinned packages, "
        "FFmpeg codecs, the JupyterLab widgets extension, the course data). Prints the fix for "
        "every failed check and exits 1; exits 0 when all pass. Needs no working torch or numpy.",
    )
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run_doctor()


def run_doctor(checks: list[Callable[[], Check]] | None = None, out: Callable[[str], None] = print) -> int:
    """Run the checks, print the report, return the exit code (0 when all pass)."""
    results = []
    for fn in checks or CHECKS:
        try:
            results.append(fn())
        except BaseException as exc:  # noqa: BLE001 - a check itself crashed (even SystemExit in a broken import): report it
            if isinstance(exc, KeyboardInterrupt):
                raise
            results.append(Check(fn.__name__.removeprefix("check_"), False, f"check crashed: {type(exc).__name__}: {exc}", SETUP_FIX))
    out("Course doctor")
    width = max(len(r.name) for r in results)
    for r in results:
        out(f"  [{'ok' if r.ok else 'FAIL'}] {r.name:<{width}}  {r.detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        out("")
        out(f"{len(failed)} problem(s). To fix:")
        for r in failed:
            out(f"  - {r.name}: {r.fix}")
        return 1
    out("")
    out("All good: open the course with `make lab`.")
    return 0
