"""Time budgets of the notebooks, enforced whenever nbval runs them.

Each notebook states its running time in its title cell; nbval re-runs it and this plugin
adds up the time of all its cells (kernel start included) and fails the session if a
notebook is over its budget. Budgets are the issue bars for a 2-core CPU.
"""

from __future__ import annotations

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

_spent: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _spent[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _spent:
        return
    terminalreporter.section("notebook running times (budget)")
    for path, seconds in sorted(_spent.items()):
        budget = NOTEBOOK_BUDGET_SECONDS.get(path.rsplit("/", 1)[-1])
        verdict = "ok" if budget is None or seconds <= budget else "OVER BUDGET"
        terminalreporter.write_line(f"{path}: {seconds:.1f} s (budget {budget} s) {verdict}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    over = [
        p for p, s in _spent.items()
        if (b := NOTEBOOK_BUDGET_SECONDS.get(p.rsplit("/", 1)[-1])) is not None and s > b
    ]
    if over and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
