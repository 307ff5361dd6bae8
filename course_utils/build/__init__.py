"""``python -m course_utils build TARGET``: the lecturer's editions of the course, into build/.

Targets: ``instructor`` (solutions filled in; ``--execute`` runs them), ``nbgrader`` (a
graded course), ``slides`` (reveal.js decks), ``site`` (a static HTML site), ``all``;
``slide-tags`` adds slide metadata to notebooks (``--write`` edits notebooks/ in place).
Every build is deterministic (a rebuild gives identical bytes) and offline (nothing is
fetched at build or view time). See docs/teaching.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TARGETS = ("instructor", "nbgrader", "slides", "site")
COMMANDS = (*TARGETS, "all", "slide-tags")


def _run(target: str, out_root: Path, args) -> Path:
    out = out_root / target
    if target == "instructor":
        from course_utils.build import instructor

        instructor.build(out, execute_notebooks=args.execute, lessons=args.lesson)
    elif target == "nbgrader":
        from course_utils.build import nbgrader

        nbgrader.build(out, lessons=args.lesson)
    elif target == "slides":
        from course_utils.build import slides

        slides.build(out, lessons=args.lesson)
    else:
        from course_utils.build import site

        site.build(out, lessons=args.lesson)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(
            f"Unknown build target {argv[0]!r}: choose one of {', '.join(COMMANDS)} "
            "(e.g. `python -m course_utils build site`).",
            file=sys.stderr,
        )
        return 2
    parser = argparse.ArgumentParser(prog=f"python -m course_utils build {argv[0]}")
    parser.add_argument("--out", type=Path, default=None, help="output root (default: build/)")
    parser.add_argument("--lesson", action="append", help="only this lesson, e.g. 01_convolution (repeatable)")
    parser.add_argument("--execute", action="store_true", help="instructor: run every notebook (slow)")
    parser.add_argument("--write", action="store_true", help="slide-tags: edit notebooks/*.ipynb in place")
    args = parser.parse_args(argv[1:])
    from course_utils.build import common

    if argv[0] == "slide-tags":
        from course_utils.build import slides

        return slides.tag_command(write=args.write, lessons=args.lesson)
    out_root = args.out or common.BUILD
    for target in TARGETS if argv[0] == "all" else (argv[0],):
        start = time.perf_counter()
        out = _run(target, out_root, args)
        print(f"build {target}: {out} in {time.perf_counter() - start:.1f} s")
    return 0
