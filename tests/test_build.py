"""Fast tests of `python -m course_utils build` (the expensive ones: tests/test_builds_full.py,
run by `make test-builds`)."""

from __future__ import annotations

import ast
import linecache
import subprocess
import sys

import nbformat
import pytest

from course_utils.build import COMMANDS, common, grading, instructor, main, nbgrader, slides
from course_utils.build import exercise_cells as E
from course_utils.exercises import Case, Exercise
from course_utils.lessons import convolution


def _all_exercise_cells():
    out = []
    for path in common.notebook_paths():
        nb = common.read_notebook(path)
        out += [(path.stem, nb, c) for c in E.find_exercise_cells(nb)]
    return out


CELLS = _all_exercise_cells()


# ------------------------------------------------------------------------------ the CLI
def test_bad_target_exits_2_with_the_targets_listed(capsys):
    assert main(["nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and all(t in err for t in ("instructor", "nbgrader", "slides", "site"))
    assert err.count("\n") == 1  # one sentence


def test_cli_wiring_through_python_m():
    r = subprocess.run([sys.executable, "-m", "course_utils", "build", "nosuch"], capture_output=True, text=True)
    assert r.returncode == 2 and "choose one of" in r.stderr
    assert set(COMMANDS) >= {"instructor", "nbgrader", "slides", "site", "all"}


# ------------------------------------------------------------------- the exercise cells
def test_every_check_call_of_every_notebook_is_found():
    for path in common.notebook_paths():
        nb = common.read_notebook(path)
        found = E.find_exercise_cells(nb)
        calls = sum(c.source.count(".check(") for c in nb.cells if c.cell_type == "code")
        assert len(found) == calls, path.name
    assert len(CELLS) >= 50


@pytest.mark.parametrize("lesson,nb,cell", [c for c in CELLS if c[2].exercise.reference is not None],
                         ids=lambda v: v.key if isinstance(v, E.ExerciseCell) else None)
def test_the_filled_code_passes_its_own_check(lesson, nb, cell):
    """The code the builds paste (renamed, with the imports it needs) is correct as pasted.
    (Judged exercises, some of which train a model, are run by the instructor execution test.)"""
    sol = E.solution_for(cell)
    ns: dict = {}
    exec(compile("\n".join([*sol.imports, sol.code]), f"<{cell.key}>", "exec"), ns)
    assert cell.exercise.evaluate(ns[cell.answer]).correct


def test_solutions_come_from_the_lesson_modules_not_a_copy():
    lesson, nb, cell = next(c for c in CELLS if c[2].key == "output_size")
    filled = E.fill_source(nb.cells[cell.index].source, [cell])
    body = convolution.output_size_reference.__doc__
    assert body in filled and "def my_output_size(" in filled
    tree = ast.parse(filled)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["my_output_size"]


def test_instructor_edition_fills_every_exercise_and_keeps_the_rest():
    for path in common.notebook_paths()[:3]:
        nb, cells = instructor.instructor_notebook(path)
        original = common.read_notebook(path)
        assert len(nb.cells) == len(original.cells) + 1  # + the edition note
        for c in cells:
            src = nb.cells[c.index + 1].source
            assert "Instructor edition" in src and nb.cells[c.index + 1].outputs == []
            ast.parse(src)


# -------------------------------------------------------------------------------- nbgrader
def test_nbgrader_source_has_solution_regions_and_pointed_tests():
    nb, cells = nbgrader.source_notebook(common.NOTEBOOKS / "01_convolution.ipynb")
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(answers) == len(tests) == len(cells) == 7
    for a in answers:
        assert a.source.count("### BEGIN SOLUTION") == a.source.count("### END SOLUTION") == 1
    for t, c in zip(tests, cells, strict=True):
        assert t.metadata.nbgrader["points"] == grading.points_of(c.exercise)
        assert t.metadata.nbgrader["locked"] and f"score({c.target}, {c.answer}" in t.source
    ids = [c.metadata["nbgrader"]["grade_id"] for c in answers + tests]
    assert len(ids) == len(set(ids))
    nbformat.validate(nb)


def _stub(source: str) -> str:
    """What nbgrader generate_assignment leaves (our code_stub) in a solution region."""
    lines, out, skipping = source.splitlines(), [], False
    for line in lines:
        if line.strip() == "### BEGIN SOLUTION":
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + "# YOUR CODE HERE", indent + "..."]
            skipping = True
        elif line.strip() == "### END SOLUTION":
            skipping = False
        elif not skipping:
            out.append(line)
    return "\n".join(out)


def test_the_learner_stub_is_not_attempted_and_the_source_is_correct():
    nb, cells = nbgrader.source_notebook(common.NOTEBOOKS / "01_convolution.ipynb")
    for c in cells:
        src = next(x.source for x in nb.cells if f"{c.target}.check(" in x.source and "nbgrader" in x.metadata)
        src = src.replace(f"{c.target}.check({c.answer})", "")
        for i, (code, want) in enumerate(((src, "correct"), (_stub(src), "not attempted"))):
            ns: dict = {}
            fname = f"/nbgrader-cell-{c.key}-{i}.py"  # a cell's source, as IPython registers it
            linecache.cache[fname] = (len(code), None, code.splitlines(True), fname)
            exec(compile(code, fname, "exec"), ns)
            outcome = c.exercise.evaluate(ns[c.answer]).outcome if c.answer in ns else "not attempted"
            assert outcome == want, (c.key, want)


def test_score_agrees_with_check():
    ex = convolution.receptive_field
    ref = convolution.receptive_field_reference
    no_stride = lambda layers: 1 + sum(k - 1 for k, _ in layers)  # noqa: E731 - a typical mistake
    assert grading.score(ex, ref) == grading.points_of(ex) == 8
    wrong = grading.score(ex, no_stride)
    assert 0 < wrong < 8 and not ex.evaluate(no_stride).correct
    assert grading.score(ex, ...) == 0
    judged = Exercise("v", judge=lambda a: None, expects_function=False)
    assert grading.points_of(judged) == grading.JUDGE_POINTS == grading.score(judged, 1)
    one = Exercise("one", reference=lambda x: x + 1, cases=[Case((1,)), Case((2,))])
    assert grading.score(one, lambda x: 2) == 1  # right on the first case only


# ------------------------------------------------------------------------------ slides
def test_slide_rules():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(cells=[
        new_markdown_cell("# Title"),
        new_code_cell("import torch\nimport course_utils\ncourse_utils.setup()"),
        new_markdown_cell("## 1. A section"),
        new_markdown_cell("Some text"),
        new_code_cell("x = 1"),
        new_code_cell("plt.show()", outputs=[new_output("display_data", data={"image/png": "AAAA", "text/plain": "fig"})]),
        new_markdown_cell("### Exercise 1"),
        new_code_cell("ex.a.check(f)"),
        new_code_cell("print(time.perf_counter() - NOTEBOOK_START)"),
    ])
    slides.tag(nb)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds == ["slide", "skip", "slide", "-", "-", "subslide", "subslide", "subslide", "skip"]
    assert slides.tag(nb) == 0  # idempotent


def test_every_notebook_gets_a_slide_per_section():
    for path in common.notebook_paths():
        nb = common.read_notebook(path)
        slides.tag(nb)
        heads = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith(("# ", "## "))]
        assert heads and all(c.metadata["slideshow"]["slide_type"] == "slide" for c in heads)
        assert any(c.metadata["slideshow"]["slide_type"] == "skip" for c in nb.cells), path.name


def test_slide_tags_dry_run_does_not_touch_the_notebooks(capsys):
    before = {p: p.read_bytes() for p in common.notebook_paths()}
    assert main(["slide-tags"]) == 0
    assert "01_convolution.ipynb" in capsys.readouterr().out
    assert before == {p: p.read_bytes() for p in common.notebook_paths()}


# -------------------------------------------------------------------------- determinism
def _same_tree(a, b):
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.mark.parametrize("target", ["instructor", "nbgrader"])
def test_rebuild_is_byte_identical(tmp_path, target):
    for run in ("a", "b"):
        assert main([target, "--out", str(tmp_path / run), "--lesson", "01_convolution", "--lesson", "03_attention"]) == 0
    _same_tree(tmp_path / "a" / target, tmp_path / "b" / target)
    for p in (tmp_path / "a" / target).rglob("*.ipynb"):
        text = p.read_text()
        assert '"iopub.execute_input"' not in text  # timestamps stripped


# --------------------------------------------------------------------------------- site
def test_an_unknown_question_type_renders_generically():
    from course_utils import quiz
    from course_utils.build import site

    raw = {
        "id": "design-999", "topic": "system_design", "type": "design", "difficulty": 3,
        "question": {"en": "Design a `video` search service.", "zh": "设计一个视频搜索服务。"},
        "answer": {"en": "Index clip embeddings.", "zh": "为片段嵌入建索引。"},
        "rubric": {"en": ["Sampling rate stated", "Index **size** estimated"], "zh": ["说明采样率", "估算索引大小"]},
        "refs": [{"notebook": "05_video_architectures", "section": "1. One budget for every model"}],
    }
    q = quiz.Question(raw=raw, id=raw["id"])
    en, zh = site.render_question(q, "en", "../../"), site.render_question(q, "zh", "../../")
    assert "<code>video</code>" in en and "<details>" in en and en.index("<details>") < en.index("Index clip")
    assert "<li>Index <b>size</b> estimated</li>" in en and "<li>说明采样率</li>" in zh
    assert 'href="../../lessons/05_video_architectures.html#1.-One-budget-for-every-model"' in en


def test_random_output_uuids_become_stable_names():
    """nbconvert gives each JavaScript output a new uuid4 per export: the build renames them in
    order, consistently, so rebuilding notebook 09 (which has such outputs) gives equal bytes."""
    from course_utils.build.common import stable_uuids

    a, b = "ef2a31ed-c2ac-4f85-bacf-ef52ebd826b0", "337e064d-88bf-44b8-ae4d-9d4e9229c8c9"
    html = f'<div id="{a}"></div><script>get("{a}")</script><div id="{b}"></div>'
    assert stable_uuids(html) == '<div id="output-1"></div><script>get("output-1")</script><div id="output-2"></div>'
    assert stable_uuids(html.replace(a, "11111111-2222-4333-8444-555555555555")) == stable_uuids(html)
    assert stable_uuids("no ids here") == "no ids here"


def test_links_between_notebooks_point_at_the_built_pages():
    """The question bank's review links name notebooks (``07_x.ipynb#10.-Serving:-the-%60predict%60``):
    in the built site they go to the .html page, and the anchor loses the inline-code backticks,
    as nbconvert's heading id does; other links are left alone."""
    from course_utils.build.common import notebook_links_to_html
    from course_utils.build.site import _anchor

    html = ('<a href="07_compression_and_deployment.ipynb#10.-Serving:-the-%60predict%60-command">r</a>'
            '<a href="03_attention.ipynb">a</a><a href="https://x.org/a.ipynb#k">e</a>'
            '<a href="notes.ipynb#x">n</a>')
    assert notebook_links_to_html(html) == (
        '<a href="07_compression_and_deployment.html#10.-Serving:-the-predict-command">r</a>'
        '<a href="03_attention.html">a</a><a href="https://x.org/a.ipynb#k">e</a>'
        '<a href="notes.ipynb#x">n</a>')
    assert _anchor("10. Serving: the `predict` command") == "10.-Serving:-the-predict-command"
    assert _anchor("5. **Bold** words") == "5.-Bold-words"
