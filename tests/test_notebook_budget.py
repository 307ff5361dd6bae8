"""The notebook budgets (conftest.py) charge the kernel's CPU time, which load inflates far less than
wall time, with an allowance measured from how busy the rest of the machine was."""

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


def test_busy_share_and_allowance():
    """Quiet machine: the budget as stated. The other core fully busy: x1.4 (the kernel's CPU
    time was measured to grow up to 1.33x then, from shared caches and memory bandwidth)."""
    assert conftest.busy_share(0.0, 10.0, cpus=2) == 0.0
    assert conftest.busy_share(5.0, 10.0, cpus=2) == 0.5
    assert conftest.busy_share(30.0, 10.0, cpus=2) == 1.0  # clamped
    assert conftest.busy_share(10.0, 10.0, cpus=4) == 10.0 / 30.0
    assert conftest.busy_share(-1.0, 10.0, cpus=2) == 0.0  # jiffy rounding can go negative
    assert conftest.busy_share(1.0, 0.0, cpus=2) == 0.0
    assert conftest.allowance(0.0) == 1.0
    assert conftest.allowance(1.0) == 1.0 + conftest.BUSY_ALLOWANCE
    assert conftest.allowance(7.0) == conftest.allowance(1.0)
    assert 1.33 < conftest.allowance(1.0) <= 1.5  # above the worst measured inflation, not a blank cheque


def test_budget_allowance_only_when_busy_and_a_real_overrun_still_fails():
    path = "notebooks/04_gan_training.ipynb"
    try:
        conftest._wall[path], conftest._cpu[path] = 250.0, 250.0
        conftest._busy[path] = 0.0  # quiet: 250 s against 240 s fails
        assert conftest.budget_seconds(path) == (240, "")
        assert conftest.over_budget(path)
        conftest._busy[path] = 1.0  # other core busy: 250 s is within 240 x 1.4
        budget, note = conftest.budget_seconds(path)
        assert budget == 240 * 1.4 and "100% busy" in note and "x1.40" in note
        assert not conftest.over_budget(path)
        conftest._cpu[path] = 400.0  # far more work than the load explains still fails
        assert conftest.over_budget(path)
    finally:
        for d in (conftest._wall, conftest._cpu, conftest._busy):
            d.pop(path, None)


def test_load_is_what_other_processes_used(monkeypatch):
    """Busy share = (machine CPU - kernel CPU - pytest's CPU) / (other cores x wall): the
    notebook's own work and nbval's never count as load."""
    clock = {"machine": 100.0, "own": 5.0, "t": 0.0}
    monkeypatch.setattr(conftest, "machine_cpu_seconds", lambda: clock["machine"])
    monkeypatch.setattr(conftest, "_own_cpu_seconds", lambda: clock["own"])
    monkeypatch.setattr(conftest, "_clock", lambda: clock["t"])
    path = "x/load.ipynb"
    try:
        conftest._track_load(path, 10.0)
        clock.update(machine=100.0 + 10.0 + 1.0, own=6.0, t=10.0)  # kernel 10 s, pytest 1 s
        conftest._track_load(path, 20.0)
        assert conftest._busy[path] == 0.0
        clock.update(machine=111.0 + 10.0 + 4.0, t=20.0)  # kernel 10 s more, others 4 s
        conftest._track_load(path, 30.0)
        assert abs(conftest._busy[path] - 4.0 / 20.0) < 1e-12
    finally:
        conftest._load_start.pop(path, None)
        conftest._busy.pop(path, None)


def test_a_spinning_process_makes_the_machine_busy():
    """Real /proc/stat: 1.5 s of another process's CPU over ~1.5 s of wall is seen as load."""
    if conftest.machine_cpu_seconds() is None:  # no /proc/stat
        return
    path = "x/spin.ipynb"
    try:
        conftest._track_load(path, 0.0)
        spinner = subprocess.Popen([sys.executable, "-c",
                                    "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass"])
        try:
            spinner.wait(timeout=60)
        finally:
            spinner.kill()
        conftest._track_load(path, 0.0)
        busy = conftest._busy[path]
    finally:
        conftest._load_start.pop(path, None)
        conftest._busy.pop(path, None)
    assert busy >= 0.5, busy


def test_speed_factor_only_loosens_and_is_capped():
    ref = conftest.PROBE_REFERENCE_MS
    assert conftest.speed_factor(None, 0) == 1.0
    assert conftest.speed_factor(ref * 2, conftest.PROBE_MIN_SAMPLES - 1) == 1.0  # too few samples: no allowance
    assert conftest.speed_factor(ref * 0.5, 50) == 1.0  # a fast moment never tightens a budget
    assert conftest.speed_factor(ref, 50) == 1.0
    assert abs(conftest.speed_factor(ref * 1.1, 50) - 1.1) < 1e-12
    assert conftest.speed_factor(ref * 10, 50) == conftest.SPEED_CAP  # not a blank cheque
    assert 1.2 < conftest.SPEED_CAP <= 1.5


def test_slow_machine_allowance_combines_with_load_and_a_real_overrun_still_fails():
    path = "notebooks/08_vae_and_diffusion.ipynb"
    ref = conftest.PROBE_REFERENCE_MS
    try:
        conftest._wall[path], conftest._cpu[path], conftest._busy[path] = 190.0, 190.0, 0.0
        conftest._speed[path] = (ref, 60)  # usual speed: the stated 180 s, 190 s fails
        assert conftest.budget_seconds(path) == (180, "") and conftest.over_budget(path)
        conftest._speed[path] = (ref * 1.1, 60)  # the host ran 10% slow: 198 s allowed
        budget, note = conftest.budget_seconds(path)
        assert abs(budget - 198.0) < 1e-9 and "machine slow" in note and "x1.10" in note and "60 samples" in note
        assert not conftest.over_budget(path)
        conftest._speed[path] = (ref * 1.1, 3)  # three samples prove nothing
        assert conftest.budget_seconds(path) == (180, "")
        conftest._speed[path], conftest._busy[path] = (ref * 1.1, 60), 0.5  # both: 180 x 1.2 x 1.1
        budget, note = conftest.budget_seconds(path)
        assert abs(budget - 180 * 1.2 * 1.1) < 1e-9 and "50% busy" in note and "machine slow" in note
        conftest._cpu[path] = 300.0  # far more work than load and speed explain still fails
        assert conftest.over_budget(path)
    finally:
        for d in (conftest._wall, conftest._cpu, conftest._busy, conftest._speed):
            d.pop(path, None)


def test_probe_cpu_is_not_load(monkeypatch):
    """The probe's own CPU time is subtracted like pytest's, and its median over the notebook's run is kept."""
    clock = {"machine": 100.0, "own": 5.0, "t": 0.0}
    fake = SimpleNamespace(cpu=1.0, cpu_seconds=lambda: fake.cpu, median_ms=lambda a, b: (12.0, 20))
    monkeypatch.setattr(conftest, "machine_cpu_seconds", lambda: clock["machine"])
    monkeypatch.setattr(conftest, "_own_cpu_seconds", lambda: clock["own"])
    monkeypatch.setattr(conftest, "_clock", lambda: clock["t"])
    monkeypatch.setattr(conftest, "_probe", fake)
    path = "x/probe.ipynb"
    try:
        conftest._track_load(path, 10.0)
        fake.cpu = 3.0  # the probe used 2 s, the kernel 10 s: no other load
        clock.update(machine=100.0 + 10.0 + 2.0, t=10.0)
        conftest._track_load(path, 20.0)
        assert conftest._busy[path] == 0.0
        assert conftest._speed[path] == (12.0, 20)
    finally:
        for d in (conftest._load_start, conftest._busy, conftest._speed):
            d.pop(path, None)


def test_the_real_probe_reports_its_speed_and_stops():
    probe = conftest.SpeedProbe(period=0.05)
    try:
        deadline = time.monotonic() + 120
        while len(probe.samples) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(probe.samples) >= 5, "the probe printed no samples"
        start, end = probe.samples[0][0], probe.samples[-1][0]
        median, n = probe.median_ms(start, end)
        assert n == len([s for s in probe.samples if start <= s[0] <= end]) and n >= 5
        assert 0.5 < median < 1000, median  # milliseconds of CPU for a fixed small workload
        assert probe.median_ms(end + 1, end + 2) == (None, 0)
        assert 0.0 < probe.cpu_seconds() < 120
    finally:
        probe.stop()
    assert probe.proc.poll() is not None  # no probe left running
