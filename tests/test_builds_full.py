"""The expensive tests of `python -m course_utils build`: run by `make test-builds`
(COURSE_TEST_BUILDS=1), skipped in the unit suite.

* the instructor edition of every notebook, executed: every check says Correct, no error
  (about ten minutes of CPU for the ten notebooks);
* nbgrader: generate_assignment, a submission with one right and one wrong answer,
  autograde, the points (on a short assignment of lesson 01: its set-up and two exercises,
  because autograding a whole notebook costs as much as running it);
* slides and site: built twice (byte-identical), every internal link resolves, nothing
  loads from outside; in Chromium from file:// with every non-file request blocked: a deck
  advances three slides with figures and MathJax-rendered equations, and the site's
  search box finds a lesson section.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_utils.build import common, instructor, linkcheck, main
from course_utils.build import nbgrader as nbg

pytestmark = pytest.mark.skipif(
    not os.environ.get("COURSE_TEST_BUILDS"),
    reason="expensive build tests: run them with `make test-builds` (COURSE_TEST_BUILDS=1)",
)

CHROMIUM = Path("/usr/bin/chromium")


def _same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    differ = [str(f) for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert not differ, differ


def _build_twice(target: str, tmp_path: Path) -> Path:
    times = []
    for run in ("a", "b"):
        start = time.perf_counter()
        assert main([target, "--out", str(tmp_path / run)]) == 0
        times.append(time.perf_counter() - start)
    print(f"build {target}: {times[0]:.1f} s and {times[1]:.1f} s (wall)")
    _same_tree(tmp_path / "a" / target, tmp_path / "b" / target)
    return tmp_path / "a" / target


# -------------------------------------------------------------------------- instructor
@pytest.mark.parametrize("path", common.notebook_paths(), ids=lambda p: p.stem)
def test_instructor_edition_runs_green(path):
    nb, cells = instructor.instructor_notebook(path)
    start = time.perf_counter()
    instructor.execute(nb)
    print(f"{path.stem}: executed in {time.perf_counter() - start:.0f} s wall")
    errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and "raises-exception" not in c.metadata.get("tags", [])  # meant to fail (nbval's tag)
              for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    for c in {c.index for c in cells}:
        cell = nb.cells[c + 1]  # + the edition note
        verdicts = [o.get("data", {}).get("text/plain", "") for o in cell.outputs]
        want = sum(1 for x in cells if x.index == c)
        assert sum(v.startswith("Correct") for v in verdicts) == want, (cell.source[:80], verdicts)


# ----------------------------------------------------------------------------- nbgrader
def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # nbgrader runs `alembic`
    env["PYTHONPATH"] = str(common.ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _nbgrader(course: Path, *args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def test_nbgrader_generate_fill_autograde(tmp_path):
    lesson = "01_convolution"
    course = tmp_path / "course"
    nbg.build(course, lessons=[lesson], only={"output_size", "receptive_field"})
    _nbgrader(course, "generate_assignment", lesson, "--force")
    release = course / "release" / lesson / f"{lesson}.ipynb"
    student = nbformat.read(str(release), as_version=4)
    source = nbformat.read(str(course / "source" / lesson / f"{lesson}.ipynb"), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    assert set(answers) == {f"{lesson}-output_size", f"{lesson}-receptive_field"}
    for cell in student.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            assert "### BEGIN SOLUTION" not in cell.source and "    ...\n" in cell.source + "\n"
        if gid == f"{lesson}-output_size":  # right: the reference
            cell.source = _without_markers(answers[gid].source)
        elif gid == f"{lesson}-receptive_field":  # wrong: strides ignored
            cell.source = (
                "def my_receptive_field(layers):\n    return 1 + sum(k - 1 for k, _ in layers)\n\n\n"
                "ex.receptive_field.check(my_receptive_field)"
            )
    submitted = course / "submitted" / "student1" / lesson / f"{lesson}.ipynb"
    submitted.parent.mkdir(parents=True)
    nbformat.write(student, str(submitted))
    _nbgrader(course, "autograde", lesson, "--force")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(lesson, lesson, "student1")
        grades = {g.name: (g.score, g.max_score) for g in sub.grades}
    # output_size: all 10 cases; receptive_field without strides passes the 4 stride-1 cases of 8
    assert grades == {f"{lesson}-output_size-test": (10, 10), f"{lesson}-receptive_field-test": (4, 8)}
    graded = nbformat.read(str(course / "autograded" / "student1" / lesson / f"{lesson}.ipynb"), as_version=4)
    verdicts = [o.get("data", {}).get("text/plain", "") for c in graded.cells
                if c.metadata.get("nbgrader", {}).get("solution") for o in c.outputs]
    assert [v.split(" ", 1)[0] for v in verdicts] == ["Correct", "Incorrect"]  # check() agrees


# ------------------------------------------------------------------------ slides, site
def test_slides_deterministic_and_offline(tmp_path):
    out = _build_twice("slides", tmp_path)
    assert linkcheck.check(out) == []
    assert len(list(out.glob("[0-9][0-9]_*.html"))) == len(common.notebook_paths())


def test_site_deterministic_and_links_resolve(tmp_path):
    out = _build_twice("site", tmp_path)
    assert linkcheck.check(out) == []
    assert (out / "questions" / "en").is_dir() and (out / "questions" / "zh").is_dir()
    assert "<details>" in (out / "questions" / "zh" / "convolution.html").read_text()


def _browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed: browser test skipped")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright (classroom/requirements.txt) is not installed")
    return playwright


def _offline_page(p):
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return browser, page, outside


def test_deck_in_chromium_offline(tmp_path):
    pw = _browser()
    assert main(["slides", "--out", str(tmp_path), "--lesson", "01_convolution"]) == 0
    deck = tmp_path / "slides" / "01_convolution.html"
    with pw.sync_playwright() as p:
        browser, page, outside = _offline_page(p)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(deck.as_uri())
        page.wait_for_function("document.documentElement.getAttribute('data-math') === 'typeset'", timeout=60000)
        assert page.evaluate("Reveal.getIndices().h") == 0
        for _ in range(3):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(200)
        assert page.evaluate("Reveal.getIndices().h") == 3
        rendered = page.evaluate("document.querySelectorAll('mjx-container').length")
        raw_tex = page.evaluate("document.querySelector('.slides').innerText.includes('\\\\frac')")
        images = page.evaluate(
            "Array.from(document.querySelectorAll('.slides img')).filter(i => i.complete && i.naturalWidth > 0).length"
        )
        seen_math = page.evaluate("Reveal.getCurrentSlide().querySelectorAll('mjx-container').length")
        browser.close()
    assert outside == [] and errors == []
    assert rendered > 50 and not raw_tex and seen_math > 0  # equations typeset by MathJax
    assert images > 10  # the figures decode


def test_site_in_chromium_offline(tmp_path):
    pw = _browser()
    assert main(["site", "--out", str(tmp_path), "--lesson", "01_convolution", "--lesson", "02_recurrence"]) == 0
    site = tmp_path / "site"
    with pw.sync_playwright() as p:
        browser, page, outside = _offline_page(p)
        page.goto((site / "lessons" / "01_convolution.html").as_uri())
        page.wait_for_function("document.documentElement.getAttribute('data-math') === 'typeset'", timeout=60000)
        math = page.evaluate("document.querySelectorAll('mjx-container').length")
        page.goto((site / "search.html").as_uri() + "?q=receptive+field")
        page.wait_for_selector("#results li")
        hits = page.evaluate("Array.from(document.querySelectorAll('#results a')).map(a => a.getAttribute('href'))")
        page.goto((site / "questions" / "en" / "convolution.html").as_uri())
        closed = page.evaluate("document.querySelector('details').open")
        page.click("details summary")
        opened = page.evaluate("document.querySelector('details').open")
        browser.close()
    assert outside == []
    assert math > 50
    assert any(h.startswith("lessons/01_convolution.html#") for h in hits)
    assert closed is False and opened is True


def test_fresh_build_all_from_the_cli(tmp_path):
    """`build all` through the command line, timed (the bar: each build under 2 minutes on a quiet machine)."""
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "course_utils", "build", "all", "--out", str(tmp_path)],
                       env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    print(r.stdout, f"total {time.perf_counter() - start:.0f} s")
    for target in ("instructor", "nbgrader", "slides", "site"):
        assert any((tmp_path / target).iterdir())
    shutil.rmtree(tmp_path)
