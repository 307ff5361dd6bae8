"""Time budgets of the notebooks, enforced whenever nbval runs them.

Each notebook states its running time in its title cell; nbval re-runs it and this plugin
fails the session if a notebook is over its budget. Budgets are for a quiet 2-core CPU.

What is measured is the **CPU time of the notebook's kernel process** (user + system time
of the process, read from ``/proc/<pid>/stat`` after every cell; the kernel is started
fresh for each notebook, so its CPU time counts the kernel start and every cell). The
notebooks compute on one thread (``course_utils.setup()``), so on a quiet machine CPU
time and wall time agree, while on a busy machine (CI runners, several test sessions on
two cores) the wall time grows with the load and the CPU time does not: a busy machine
cannot fail a budget, a notebook that really does more work can. Where ``/proc`` is not
available (macOS, Windows) the plugin falls back to wall time and says so in the summary
line. Notebooks themselves never assert a time: they print it.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

NOTEBOOK_BUDGET_SECONDS = {
    "00_video_as_data.ipynb": 60,
    "01_convolution.ipynb": 90,
    "02_recurrence.ipynb": 120,
    "03_attention.ipynb": 120,
    "04_gan_training.ipynb": 240,
    "05_video_architectures.ipynb": 150,
    "06_efficient_training.ipynb": 150,
    "07_compression_and_deployment.ipynb": 150,
    "08_vae_and_diffusion.ipynb": 180,
    "09_interview_prep.ipynb": 60,
}

_wall: dict[str, float] = defaultdict(float)  # sum of the cells' durations (pytest's clock)
_cpu: dict[str, float] = {}  # latest CPU time of the notebook's kernel process


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` in seconds, or None if unavailable.

    Reads fields 14 and 15 (utime, stime, in clock ticks) of ``/proc/<pid>/stat``; threads
    of the process are included. Children that exit and are waited for are not (fields
    16-17), which is fine: the notebooks load data in the kernel process itself.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def kernel_pid(item: pytest.Item) -> int | None:
    """Process id of the kernel behind an nbval cell item, or None if it cannot be found."""
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    km = getattr(kernel, "km", None)
    for holder in (getattr(km, "provisioner", None), km):
        process = getattr(holder, "process", None) or getattr(holder, "kernel", None)
        pid = getattr(process, "pid", None)
        if isinstance(pid, int):
            return pid
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    path = item.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb") and call.when == "call":
        pid = kernel_pid(item)
        seconds = process_cpu_seconds(pid) if pid is not None else None
        if seconds is not None:
            _cpu[path] = seconds
    return outcome


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _wall[path] += report.duration


def spent_seconds(path: str) -> tuple[float, str]:
    """The time charged to a notebook against its budget, and which clock measured it."""
    if path in _cpu:
        return _cpu[path], "kernel CPU"
    return _wall[path], "wall clock: kernel CPU time unavailable here"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _wall:
        return
    terminalreporter.section("notebook running times (budget)")
    for path in sorted(_wall):
        seconds, clock = spent_seconds(path)
        budget = NOTEBOOK_BUDGET_SECONDS.get(path.rsplit("/", 1)[-1])
        verdict = "ok" if budget is None or seconds <= budget else "OVER BUDGET"
        terminalreporter.write_line(
            f"{path}: {seconds:.1f} s {clock} (wall {_wall[path]:.1f} s; budget {budget} s) {verdict}"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    over = [
        p for p in _wall
        if (b := NOTEBOOK_BUDGET_SECONDS.get(p.rsplit("/", 1)[-1])) is not None and spent_seconds(p)[0] > b
    ]
    if over and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
