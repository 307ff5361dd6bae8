"""The course's command line.

    python -m course_utils doctor            is this machine ready? (exit 1 with fixes if not; -h for help)
    python -m course_utils data build        generate all offline data (deterministic)
    python -m course_utils data verify       check the data against the committed checksums
    python -m course_utils quiz [...]        interview drill in the terminal: --topic, --difficulty, --design, --mock (see --help)
    python -m course_utils predict CLIP.mp4  classify a video file [--model FILE] [--topk K]
    python -m course_utils build TARGET      lecturer editions into build/: instructor, nbgrader, slides, site, all
"""

from __future__ import annotations

import argparse
import sys
import time


def _data(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils data", description="Build or verify the offline course data.")
    parser.add_argument("action", choices=["build", "verify"])
    parser.add_argument("--write-checksums", action="store_true", help="(maintainers) rewrite data/checksums.json after an intended change of the data")
    args = parser.parse_args(argv)  # exits 2 on a bad option
    from course_utils import data

    _, problem = data.load_checksums()
    if problem is not None and not args.write_checksums:
        print(f"Data problem: {problem}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    if args.action == "build":
        print(f"Building course data into {data.generated_dir()}")
        data.build(write_checksums=args.write_checksums)
    problems = data.verify()
    if problems:
        built = args.action == "build"
        print("Built, but the files differ from data/checksums.json:" if built else "Data problems:")
        for p in problems:
            print(f"  - {p}")
        print("Fix: make sure the pinned packages are installed (`python -m course_utils doctor`)." if built
              else "Fix: run `python -m course_utils data build`.")
        return 1
    if args.action == "build":
        print(f"Done in {time.perf_counter() - start:.0f} s: every file matches data/checksums.json.")
    else:
        print("Data OK: every file matches data/checksums.json.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"doctor", "data", "quiz", "predict", "build"}
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in commands:
        print(__doc__.strip())
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"\nunknown command {argv[0]!r}; choose one of: {', '.join(sorted(commands))}", file=sys.stderr)
            return 2
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "doctor":
        from course_utils import doctor

        return doctor.main(rest)
    if command == "data":
        return _data(rest)
    if command == "build":
        from course_utils import build

        return build.main(rest)
    if command == "predict":
        from course_utils import deploy

        return deploy.main(rest)
    from course_utils.interview import drill

    return drill.main(rest)


if __name__ == "__main__":
    sys.exit(main())
