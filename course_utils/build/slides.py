"""Slide metadata for the notebooks, and ``build slides``: offline reveal.js decks.

Tagging rules (:func:`slide_type`), applied by a script, never by hand:

* the title (``# ``) and every section (``## ``) start a **slide**; a ``### `` heading
  starts a **sub-slide** (reveal.js: down the column);
* a code cell that draws a figure or a widget gets its own **sub-slide**, as does an
  exercise cell (``.check(``), so each can be shown full size;
* set-up cells are **skipped**: the imports and ``course_utils.setup()`` cell, and the
  cells that only time the notebook (``NOTEBOOK_START``);
* everything else continues the current slide (``-``).

``python -m course_utils build slide-tags`` reports what would change;
``--write`` writes the metadata into notebooks/*.ipynb (only ``metadata.slideshow``
changes). ``build slides`` applies the same tagging to its copies, so it works either way.
JupyterLab-RISE reads the same metadata for live presenting.
"""

from __future__ import annotations

import ast
import html
from pathlib import Path

import nbformat

from course_utils.build import assets, common

TEMPLATES = Path(__file__).parent / "templates"
FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", common.WIDGET_VIEW)


def _is_setup(source: str) -> bool:
    if "NOTEBOOK_START" in source or "setup(" in source and "course_utils" in source:
        return True
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and all(isinstance(s, ast.Import | ast.ImportFrom) for s in tree.body)


def slide_type(cell) -> str:
    """The reveal.js slide type of one cell (see the module docstring)."""
    src = cell.source.lstrip()
    if cell.cell_type == "markdown":
        if src.startswith(("# ", "## ")):
            return "slide"
        if src.startswith("### "):
            return "subslide"
        return "-"
    if cell.cell_type != "code":
        return "-"
    if _is_setup(cell.source):
        return "skip"
    for out in cell.get("outputs", []):
        if any(m in out.get("data", {}) for m in FIGURE_MIMES):
            return "subslide"
    if ".check(" in cell.source:
        return "subslide"
    return "-"


def tag(nb) -> int:
    """Set ``metadata.slideshow.slide_type`` on every cell; return how many changed."""
    changed = 0
    for cell in nb.cells:
        kind = slide_type(cell)
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            changed += 1
        cell.metadata["slideshow"] = {"slide_type": kind}
    return changed


def tag_command(*, write: bool, lessons: list[str] | None = None) -> int:
    """``build slide-tags [--write]``: report (or write) the slide metadata of the notebooks."""
    total = 0
    for path in common.notebook_paths():
        if lessons and common.lesson_name(path) not in lessons:
            continue
        nb = nbformat.read(str(path), as_version=4)  # as committed: keep every other byte
        changed = tag(nb)
        total += changed
        kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in ("slide", "subslide", "skip", "-"))
        print(f"{path.name}: {counts}; {changed} cell(s) {'updated' if write else 'to update'}")
        if write and changed:
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    if not write and total:
        print("Dry run: add --write to store the metadata in the notebooks.")
    return 0


def export_deck(nb, *, reveal_prefix: str, mathjax_prefix: str, mathjax_entry: str) -> str:
    """One notebook as an offline reveal.js deck (HTML text)."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(
        template_name="course_reveal",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        reveal_url_prefix=reveal_prefix,
        reveal_theme="white",
        reveal_transition="none",
        reveal_number="c/t",
        reveal_width="1280",
        reveal_height="800",
    )
    resources = {"course": {"mathjax_prefix": mathjax_prefix, "mathjax_entry": mathjax_entry}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def build(out: Path, *, lessons: list[str] | None = None) -> list[Path]:
    out = common.fresh_dir(out)
    assets.vendor_reveal(out / "assets" / "reveal.js")
    mj = assets.vendor_mathjax(out / "assets" / "mathjax")
    written, rows = [], []
    for path in common.notebook_paths():
        lesson = common.lesson_name(path)
        if lessons and lesson not in lessons:
            continue
        nb = common.read_notebook(path)
        tag(nb)
        common.static_widgets(nb)
        nb.metadata["title"] = common.lesson_title(nb) or lesson
        deck = export_deck(nb, reveal_prefix="assets/reveal.js", mathjax_prefix="assets/mathjax", mathjax_entry=mj["entry"])
        target = out / f"{lesson}.html"
        common.write_text(target, deck)
        written.append(target)
        rows.append(f'<li><a href="{lesson}.html">{html.escape(nb.metadata["title"])}</a></li>')
    common.write_text(
        out / "index.html",
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Slides</title></head>\n"
        "<body><h1>Video Deep Learning from First Principles: slides</h1>\n"
        "<p>One reveal.js deck per lesson; arrows or space to advance, Esc for the overview. "
        "Works offline, from file://.</p>\n<ul>\n" + "\n".join(rows) + "\n</ul></body></html>\n",
    )
    return written
