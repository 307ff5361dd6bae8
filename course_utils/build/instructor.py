"""``build instructor``: every notebook with each exercise filled with its reference solution.

Fast by default (no execution: the filled cells' outputs are cleared, every other output is
the committed one). ``--execute`` runs each notebook with nbclient so every check prints
Correct (about ten minutes of CPU for the ten notebooks on a 2-core machine).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from course_utils.build import common
from course_utils.build.exercise_cells import fill_source, find_exercise_cells

EDITION_NOTE = (
    "**Instructor edition.** Every exercise cell holds its reference solution (from "
    "`course_utils/lessons/`), so every check says Correct once the notebook runs. Generated "
    "by `python -m course_utils build instructor`; do not hand it to learners."
)


def instructor_notebook(path: Path):
    """The instructor edition of one notebook (not executed) and its exercise cells."""
    nb = common.read_notebook(path)
    cells = find_exercise_cells(nb)
    by_index = defaultdict(list)
    for c in cells:
        by_index[c.index].append(c)
    for index, group in by_index.items():
        cell = nb.cells[index]
        cell.source = fill_source(cell.source, group, mode="instructor")
        cell.outputs = []
        cell.execution_count = None
        cell.metadata["instructor"] = {"exercises": [c.key for c in group]}
    from nbformat.v4 import new_markdown_cell

    note = new_markdown_cell(EDITION_NOTE)
    note.id = common.stable_id("instructor-note", path.name)
    nb.cells.insert(1, note)
    return nb, cells


def _sliced(get_msg, step: float = 1.0):
    """``get_msg`` polling in ``step``-second slices until its timeout.

    On the loaded 2-core machine a wake-up of the asyncio ZMQ poll was sometimes missed
    after an ``interact`` widget cell: nbclient then sat idle for the whole cell timeout
    (30 minutes) although the reply had arrived. Polling in short slices bounds that
    delay to ``step`` seconds; timeouts and messages are unchanged."""
    from queue import Empty
    from time import monotonic

    async def get(timeout: float | None = None):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = step if deadline is None else max(0.0, min(step, deadline - monotonic()))
            try:
                return await get_msg(timeout=left)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    return get


def execute(nb, timeout: int = 1800):
    """Run a notebook with nbclient from the notebooks/ directory (no timing metadata)."""
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.shell_channel, kc.iopub_channel):
                channel.get_msg = _sliced(channel.get_msg)
            return kc

    client = Client(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(common.NOTEBOOKS)}},
        record_timing=False,
    )
    client.execute()
    common.strip_volatile(nb)
    return nb


def build(out: Path, *, execute_notebooks: bool = False, lessons: list[str] | None = None) -> list[Path]:
    out = common.fresh_dir(out)
    written = []
    for path in common.notebook_paths():
        if lessons and common.lesson_name(path) not in lessons:
            continue
        nb, _ = instructor_notebook(path)
        if execute_notebooks:
            execute(nb)
        target = out / path.name
        common.write_notebook(nb, target)
        written.append(target)
    return written
