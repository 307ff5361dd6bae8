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


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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
