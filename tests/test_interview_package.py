"""course_utils.interview is a package without import cycles, and the old paths still work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils" / "interview"
PARTS = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imports(path: Path) -> set[str]:
    """The package parts a module imports (at any level: module or function body)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("course_utils.interview."):
                found.add(name.split(".")[2])
            elif name == "course_utils.interview":
                found.add("__init__")
    return found


def test_the_parts_import_each_other_without_a_cycle():
    graph = {p: _imports(PACKAGE / f"{p}.py") - {p} for p in PARTS}
    assert all("__init__" not in deps for deps in graph.values()), graph
    order: list[str] = []
    while graph:  # Kahn: repeatedly take a part whose imports are all taken
        ready = sorted(p for p, deps in graph.items() if deps <= set(order))
        assert ready, f"import cycle among {sorted(graph)}: {graph}"
        order += ready
        for p in ready:
            del graph[p]
    assert order.index("text") < order.index("bank") < order.index("grading")
    assert order.index("grading") < order.index("drill") and order.index("mock") < order.index("apps")
    assert "apps" not in _imports(PACKAGE / "drill.py")  # the terminal never needs ipywidgets


def test_each_part_imports_first_in_a_fresh_interpreter():
    """Each part imported first (the package forgotten in between): a cycle would leave a
    partly initialised module and fail with an ImportError here."""
    code = (
        "import importlib, sys\n"
        f"for part in {PARTS!r}:\n"
        "    for name in [m for m in sys.modules if m.startswith(('course_utils.interview', 'course_utils.quiz'))]:\n"
        "        del sys.modules[name]\n"
        "    importlib.import_module('course_utils.interview.' + part)\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_old_import_paths_still_work():
    from course_utils import interview, quiz, quiz_apps
    from course_utils.interview import apps

    for name in ("grade", "Progress", "Leitner", "MockInterview", "load_bank", "main",
                 "show_questions", "render_question", "TOPICS", "TYPES", "exercise"):
        assert getattr(quiz, name) is getattr(interview, name), name
    assert quiz.QuizApp is quiz_apps.QuizApp is apps.QuizApp is interview.QuizApp
    assert quiz.FlashcardApp is apps.FlashcardApp and quiz.MockApp is apps.MockApp
    with pytest.raises(AttributeError):
        quiz.no_such_name  # noqa: B018


def test_the_terminal_drill_does_not_import_ipywidgets():
    code = ("import sys, course_utils.interview.drill; "
            "print('ipywidgets' in sys.modules, 'course_utils.interview.apps' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stdout.split() == ["False", "False"], r.stderr
