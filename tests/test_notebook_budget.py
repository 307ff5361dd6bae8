"""The notebook budgets (conftest.py) charge the kernel's CPU time, which load does not inflate."""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace


def _root_conftest():
    """The project's conftest.py by path: a bare `import conftest` can resolve to another
    conftest.py pytest has loaded (tests/e2e/conftest.py), depending on collection order."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("vdl_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conftest = _root_conftest()


def test_cpu_seconds_of_this_process_grows_with_work():
    before = conftest.process_cpu_seconds(os.getpid())
    if before is None:  # no /proc (macOS, Windows): the plugin falls back to wall time
        return
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    after = conftest.process_cpu_seconds(os.getpid())
    assert 0.1 <= after - before <= 1.0, (before, after)


def test_sleeping_costs_no_cpu_time():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    try:
        time.sleep(0.4)
        seconds = conftest.process_cpu_seconds(child.pid)
    finally:
        child.wait()
    if seconds is not None:
        assert seconds < 0.35, seconds  # interpreter start only, not the 0.4 s of sleep


def test_unknown_process_gives_none():
    assert conftest.process_cpu_seconds(2**22 + 12345) is None


def test_kernel_pid_found_on_an_nbval_like_item():
    item = SimpleNamespace(parent=SimpleNamespace(kernel=SimpleNamespace(
        km=SimpleNamespace(provisioner=SimpleNamespace(process=SimpleNamespace(pid=4321))))))
    assert conftest.kernel_pid(item) == 4321
    old_style = SimpleNamespace(parent=SimpleNamespace(kernel=SimpleNamespace(
        km=SimpleNamespace(provisioner=None, kernel=SimpleNamespace(pid=99)))))
    assert conftest.kernel_pid(old_style) == 99
    assert conftest.kernel_pid(SimpleNamespace(parent=None)) is None


def test_budget_falls_back_to_wall_time_and_says_so():
    conftest._wall["x/fake.ipynb"] = 12.0
    try:
        assert conftest.spent_seconds("x/fake.ipynb") == (12.0, "wall clock: kernel CPU time unavailable here")
        conftest._cpu["x/fake.ipynb"] = 3.0
        assert conftest.spent_seconds("x/fake.ipynb") == (3.0, "kernel CPU")
    finally:
        conftest._wall.pop("x/fake.ipynb", None)
        conftest._cpu.pop("x/fake.ipynb", None)
