"""What every build shares: where the notebooks are, how a notebook is read and cleaned of
what changes from run to run, and how files are written so that a rebuild is byte-identical.

Stripped from every copy (documented in docs/teaching.md): the per-cell ``execution``
timing metadata nbclient/nbconvert record (wall-clock timestamps), and nothing else: cell
ids come from the committed notebooks, new cells get ids derived from their content.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"

#: cell metadata keys that hold run-to-run timestamps
VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled")


def notebook_paths(notebook_dir: Path | None = None) -> list[Path]:
    """The lesson notebooks in course order (``NN_name.ipynb``)."""
    d = Path(notebook_dir) if notebook_dir is not None else NOTEBOOKS
    return sorted(p for p in d.glob("[0-9][0-9]_*.ipynb"))


def lesson_name(path: Path) -> str:
    """``notebooks/01_convolution.ipynb`` -> ``01_convolution``."""
    return Path(path).stem


def lesson_title(nb) -> str:
    """The text of the notebook's first ``# `` heading (its title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def read_notebook(path: Path):
    """Read a notebook and strip the volatile metadata (timestamps)."""
    nb = nbformat.read(str(path), as_version=4)
    strip_volatile(nb)
    return nb


def strip_volatile(nb) -> None:
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)


def stable_id(*parts: str) -> str:
    """A cell id derived from its content (nbformat ids are random otherwise)."""
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:12]


def write_notebook(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")


def stable_uuids(html: str) -> str:
    """Replace the random uuid4s nbconvert's HTML template gives JavaScript outputs (a new one
    per export) by ``output-1``, ``output-2``, ... in order of appearance, every occurrence of
    one uuid by the same name, so that a rebuild gives identical bytes."""
    names: dict[str, str] = {}
    return _UUID.sub(lambda m: names.setdefault(m.group(0), f"output-{len(names) + 1}"), html)


_NOTEBOOK_LINK = re.compile(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"')


def notebook_links_to_html(html: str) -> str:
    """Links between notebooks (``03_attention.ipynb#5.-...``, as the question bank's review
    links write them) point at the built pages (``03_attention.html#5.-...``); inline-code
    backticks leave the anchor, as nbconvert's heading ids drop them."""
    def fix(m: re.Match) -> str:
        frag = (m.group(2) or "").replace("%60", "").replace("`", "")
        return f'href="{m.group(1)}.html{frag}"'

    return _NOTEBOOK_LINK.sub(fix, html)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".html":
        text = notebook_links_to_html(stable_uuids(text))
    path.write_text(text, encoding="utf-8")


def write_json(path: Path, data) -> None:
    write_text(path, json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n")


def fresh_dir(path: Path) -> Path:
    """Empty ``path`` (a build output directory) and return it."""
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ------------------------------------------------------------------ widgets, statically
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _widget_state(nb) -> dict:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _walk_widget(state: dict, model_id: str, seen: set[str]):
    """Yield (model_name, state) for a widget and its children, depth first."""
    if model_id in seen or model_id not in state:
        return
    seen.add(model_id)
    model = state[model_id]
    yield model.get("model_name", ""), model.get("state", {})
    for child in model.get("state", {}).get("children", []) or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            yield from _walk_widget(state, child[len("IPY_MODEL_") :], seen)


def static_widgets(nb) -> int:
    """Replace every widget view by its static fallback; return how many were replaced.

    The fallback is read from the widget state the notebook stores: the controls and their
    values (sliders, dropdowns), the text of progress bars, and the outputs an ``interact``
    had drawn (its figure at the stored setting). The notebooks also leave a static figure
    of each widget's default state in a normal cell, which the HTML keeps as it is."""
    import html

    from nbformat.v4 import new_output

    state = _widget_state(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                new_outputs.append(out)
                continue
            count += 1
            controls, texts, drawn = [], [], []
            model_id = data[WIDGET_VIEW].get("model_id", "")
            for name, st in _walk_widget(state, model_id, set()):
                if name == "OutputModel":
                    drawn += st.get("outputs", [])
                elif name == "HTMLModel" and st.get("value"):
                    texts.append(re.sub(r"<[^>]+>", "", str(st["value"])))
                elif "description" in st and "value" in st and st.get("description"):
                    controls.append(f"{st['description']} = {st['value']}")
            parts = ["<b>Interactive widget</b> (a static copy: run the notebook in JupyterLab to use it)"]
            if controls:
                parts.append("controls: " + html.escape(", ".join(controls)))
            if texts and not controls:
                parts.append(html.escape(" ".join(t.strip() for t in texts if t.strip())))
            note = '<div class="widget-static">' + "<br>".join(parts) + "</div>"
            plain = re.sub(r"<[^>]+>", "", note.replace("<br>", "\n"))
            new_outputs.append(new_output("display_data", data={"text/html": note, "text/plain": plain}))
            for o in drawn:
                new_outputs.append(nbformat.from_dict(o))
        cell.outputs = new_outputs
    nb.metadata.pop("widgets", None)
    return count
