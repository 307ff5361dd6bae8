"""Time budgets of the notebooks, enforced whenever nbval runs them.

Each notebook states its running time in its title cell; nbval re-runs it and this plugin
fails the session if a notebook is over its budget. Budgets are for a quiet 2-core CPU.

What is measured is the **CPU time of the notebook's kernel process** (user + system time
of the process, read from ``/proc/<pid>/stat`` after every cell; the kernel is started
fresh for each notebook, so its CPU time counts the kernel start and every cell). The
notebooks compute on one thread (``course_utils.setup()``), so on a quiet machine CPU time
and wall time agree. On a busy machine the wall time grows with the load; the CPU time
grows much less, but it does grow: the processes share caches and memory bandwidth.
Measured on this course's 2-core machine, quiet against the other core kept busy by the
browser tests (CI, 2026-12-03): 02 81.5 -> 95.8 s, 04 184.8 -> 230.1 s, 05 100.9 -> 134.1 s,
08 134.9 -> 164.2 s, i.e. up to 1.33x (pairs measured at different times, so part of each gap
is the VM's own speed drift). So the plugin also measures how busy the machine
was while the notebook ran (CPU time of every *other* process, from ``/proc/stat``, as a
share of the other cores) and allows ``1 + BUSY_ALLOWANCE * busy``: 1.0x on a quiet
machine, 1.4x with the other core fully busy. A busy machine cannot fail a budget; a
notebook that really does more work still fails on a quiet one, and CI runs nbval quiet
(``.ci/run`` starts the browser tests after it).

A quiet VM is not a constant-speed machine either: its host is shared, and the same
notebook's kernel CPU time, quiet, ranged 122-175 s within one morning. So a speed probe
(``PROBE_CODE``: a fixed torch workload every 2 s in a process of its own) runs while the
notebooks run, and a budget grows by how much slower than its reference the probe ran
(at least 1x, at most ``SPEED_CAP``); the summary line names every allowance it applied.
Where ``/proc`` is not available (macOS, Windows) the plugin falls back to wall time and
says so in the summary line. Notebooks themselves never assert a time: they print it.
"""

from __future__ import annotations

import os
import sys
import time
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

BUSY_ALLOWANCE = 0.4  # budget x (1 + 0.4 * busy): measured inflation up to 1.33x at busy ~ 1

# The machine's own speed drifts: the VM shares its host, and kernel CPU time of the same
# notebook, quiet, ranged 122-175 s (08) within one morning. A light probe process measures
# that speed while the notebooks run (a fixed torch workload, ~11 ms of CPU every 2 s, on
# the core the kernel does not use); when the probe runs slower than its reference, the
# budget grows by the same factor (never shrinks; capped). Reference: the median of the
# probe's medians over seven quiet nbval runs of 08 on this machine (2026-12-03: 9.08-11.24,
# median 10.85 ms); dividing those runs' kernel CPU by the probe's speed halved their spread.
PROBE_REFERENCE_MS = 10.85
SPEED_CAP = 1.5
PROBE_PERIOD_S = 2.0
PROBE_MIN_SAMPLES = 10
PROBE_CODE = r"""
import sys, time
import torch
torch.set_num_threads(1)
torch.manual_seed(0)
conv = torch.nn.Conv2d(16, 16, 3, padding=1)
x = torch.randn(16, 16, 16, 16, requires_grad=True)
a, b = torch.randn(256, 128), torch.randn(128, 128)
def work():
    for _ in range(5):
        conv(x).sum().backward()
    for _ in range(40):
        a @ b
for _ in range(5):
    work()
period = float(sys.argv[1])
while True:
    c0 = time.thread_time()
    work()
    print(f"{time.monotonic():.3f} {1e3 * (time.thread_time() - c0):.3f}", flush=True)
    time.sleep(period)
"""

_wall: dict[str, float] = defaultdict(float)  # sum of the cells' durations (pytest's clock)
_cpu: dict[str, float] = {}  # latest CPU time of the notebook's kernel process
_load_start: dict[str, tuple[float, float, float, float]] = {}  # machine, kernel, own CPU, clock
_busy: dict[str, float] = {}  # share of the other cores used by other processes (0..1)
_speed: dict[str, tuple[float, int]] = {}  # probe median (ms) during the notebook, samples


class SpeedProbe:
    """The probe process (``PROBE_CODE``) and the samples it printed: (monotonic time, ms)."""

    def __init__(self, period: float = PROBE_PERIOD_S) -> None:
        import subprocess
        import threading

        self.samples: list[tuple[float, float]] = []
        self._cpu = 0.0
        self.proc = subprocess.Popen([sys.executable, "-c", PROBE_CODE, str(period)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                t, ms = (float(v) for v in line.split())
            except ValueError:
                continue
            self.samples.append((t, ms))

    def cpu_seconds(self) -> float:
        """CPU time the probe has used (the last reading once it has exited)."""
        if self.proc.poll() is None:
            self._cpu = process_cpu_seconds(self.proc.pid) or self._cpu
        return self._cpu

    def median_ms(self, start: float, end: float) -> tuple[float | None, int]:
        """Median probe time over the samples taken between ``start`` and ``end`` (monotonic)."""
        xs = sorted(ms for t, ms in list(self.samples) if start <= t <= end)
        if not xs:
            return None, 0
        mid = len(xs) // 2
        return (xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2), len(xs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


_probe: SpeedProbe | None = None


def speed_probe() -> SpeedProbe | None:
    """The session's probe, started on first use; None where it cannot run (no /proc: the
    budgets then use the stated numbers)."""
    global _probe
    if _probe is None and os.path.exists("/proc/self/stat"):
        try:
            _probe = SpeedProbe()
        except OSError:
            return None
    return _probe


def speed_factor(probe_ms: float | None, samples: int) -> float:
    """How much slower than its reference the machine ran: probe median / reference, at
    least 1 (a fast moment never tightens a budget), at most SPEED_CAP; 1 with too few samples."""
    if probe_ms is None or samples < PROBE_MIN_SAMPLES:
        return 1.0
    return min(SPEED_CAP, max(1.0, probe_ms / PROBE_REFERENCE_MS))


def process_cpu_seconds(pid: int, children: bool = False) -> float | None:
    """User + system CPU time of process ``pid`` in seconds, or None if unavailable.

    Reads fields 14 and 15 (utime, stime, in clock ticks) of ``/proc/<pid>/stat``; threads
    of the process are included. Children that exit and are waited for are not (fields
    16-17), which is fine: the notebooks load data in the kernel process itself. With
    ``children=True`` those are added (used to tell the notebook's own subprocesses, such as
    notebook 06's ``torchrun`` workers, from other load on the machine).
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def machine_cpu_seconds() -> float | None:
    """CPU time spent by every process of the machine so far (all non-idle time of all
    cores, from the first line of ``/proc/stat``), in seconds; None if unavailable."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        if fields[0] != "cpu":
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def busy_share(others_cpu: float, wall: float, cpus: int | None = None) -> float:
    """How busy the machine was: CPU seconds of other processes over ``wall`` seconds, as a
    share of the cores the notebook did not use (0 = quiet, 1 = every other core busy)."""
    cpus = cpus or os.cpu_count() or 1
    if wall <= 0:
        return 0.0
    return min(1.0, max(0.0, others_cpu / (max(1, cpus - 1) * wall)))


def allowance(busy: float) -> float:
    """The factor a notebook's budget is multiplied by when the machine was ``busy``."""
    return 1.0 + BUSY_ALLOWANCE * min(1.0, max(0.0, busy))


_clock = time.monotonic


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _track_load(path: str, kernel_cpu: float) -> None:
    """Update the busy share of ``path``'s run: other processes' CPU time since its first
    cell, i.e. the machine's CPU time minus the kernel's (with its finished subprocesses),
    this pytest process's and the speed probe's; and the probe's median over the run."""
    machine = machine_cpu_seconds()
    if machine is None:
        return
    probe = _probe
    now = (machine, kernel_cpu, _own_cpu_seconds() + (probe.cpu_seconds() if probe else 0.0), _clock())
    start = _load_start.setdefault(path, now)
    wall = now[3] - start[3]
    if wall >= 1.0:
        others = (now[0] - start[0]) - (now[1] - start[1]) - (now[2] - start[2])
        _busy[path] = busy_share(others, wall)
        if probe is not None:
            _speed[path] = probe.median_ms(start[3], now[3])


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
        speed_probe()
        pid = kernel_pid(item)
        seconds = process_cpu_seconds(pid) if pid is not None else None
        if seconds is not None:
            _cpu[path] = seconds
            _track_load(path, process_cpu_seconds(pid, children=True) or seconds)
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


def budget_seconds(path: str) -> tuple[float | None, str]:
    """The budget ``path`` is held to in this run, and a note on the allowances (empty on a
    quiet machine at its usual speed, or where kernel CPU time is unavailable)."""
    budget = NOTEBOOK_BUDGET_SECONDS.get(path.rsplit("/", 1)[-1])
    if budget is None or path not in _cpu:
        return budget, ""
    notes, factor = [], 1.0
    busy = _busy.get(path, 0.0)
    if busy >= 0.05:
        factor *= allowance(busy)
        notes.append(f"machine {busy:.0%} busy: x{allowance(busy):.2f}")
    probe_ms, samples = _speed.get(path, (None, 0))
    slow = speed_factor(probe_ms, samples)
    if slow > 1.0:
        factor *= slow
        notes.append(f"machine slow (speed probe {probe_ms:.2f} ms vs {PROBE_REFERENCE_MS} ms, {samples} samples): x{slow:.2f}")
    if not notes:
        return budget, ""
    return budget * factor, f"; {'; '.join(notes)}: allowed {budget * factor:.0f} s"


def over_budget(path: str) -> bool:
    budget, _ = budget_seconds(path)
    return budget is not None and spent_seconds(path)[0] > budget


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _wall:
        return
    terminalreporter.section("notebook running times (budget)")
    for path in sorted(_wall):
        seconds, clock = spent_seconds(path)
        budget = NOTEBOOK_BUDGET_SECONDS.get(path.rsplit("/", 1)[-1])
        _, note = budget_seconds(path)
        verdict = "OVER BUDGET" if over_budget(path) else "ok"
        probe_ms, samples = _speed.get(path, (None, 0))
        speed = ""  # the probe's reading, unless the allowance note already gives it
        if probe_ms is not None and "machine slow" not in note:
            speed = f"; speed probe {probe_ms:.2f} ms, reference {PROBE_REFERENCE_MS}"
        terminalreporter.write_line(
            f"{path}: {seconds:.1f} s {clock} (wall {_wall[path]:.1f} s; budget {budget} s{note}{speed}) {verdict}"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _probe is not None:
        _probe.stop()
    over = [p for p in _wall if over_budget(p)]
    if over and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
