"""Set-up helpers of the browser tests (``make e2e``) and the classroom test (``make hub-test``).

Everything here fails with :class:`SetupError`, whose message names the problem and its fix
in one sentence; ``python tests/e2e/harness.py chromium`` is the first step of ``make e2e``
(exit status 2 and that sentence when Chromium is missing and cannot be installed).
Fast unit tests: tests/test_e2e_harness.py. Not part of the course package on purpose: only
the test harness uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build" / "e2e"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
HOST = "127.0.0.1"


class SetupError(RuntimeError):
    """The machine is not set up for the test; the message names the fix."""


# -- Chromium -----------------------------------------------------------------------------
def find_chromium(env: dict[str, str] | None = None) -> str | None:
    """Path of the Chromium to drive: $CHROMIUM if set, else Debian's /usr/bin/chromium."""
    env = os.environ if env is None else env
    path = env.get("CHROMIUM") or DEFAULT_CHROMIUM
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def chromium_missing_message(path: str, is_root: bool, apt: bool) -> str:
    """One sentence naming the fix when no Chromium can be used (and none installed)."""
    how = (
        "`apt-get install -y chromium` failed (see its output above): fix the package sources "
        "or the network, then run `make e2e` again"
        if is_root and apt
        else "install Debian's package as root (`sudo apt-get install chromium`)"
        if apt
        else "install a Chromium with your system's package manager"
    )
    return (
        f"The browser tests need Chromium, but there is none at {path}: {how}, "
        "or point CHROMIUM=/path/to/chromium at one (no browser download via "
        "`playwright install` is needed or used)."
    )


def ensure_chromium(install: bool = True) -> str:
    """Return the Chromium executable; as root, install Debian's `chromium` if missing."""
    found = find_chromium()
    if found:
        return found
    path = os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    apt = shutil.which("apt-get") is not None
    if install and is_root and apt and not os.environ.get("CHROMIUM"):
        print(">> Chromium missing: apt-get install -y chromium", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        ok = subprocess.run(["apt-get", "install", "-y", "chromium"], env=env).returncode == 0
        if not ok:  # stale package lists on a fresh machine: update once and retry
            subprocess.run(["apt-get", "update"], env=env)
            subprocess.run(["apt-get", "install", "-y", "chromium"], env=env)
        found = find_chromium()
        if found:
            return found
    raise SetupError(chromium_missing_message(path, is_root, apt))


# -- ports --------------------------------------------------------------------------------
def free_port(host: str = HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use_message(port: int, what: str, variable: str, host: str = HOST) -> str:
    return (
        f"Port {port} on {host} (for {what}) is already in use by another program: set "
        f"{variable} to a free port (or leave it unset to pick one), or stop the program "
        f"listening there (`ss -ltnp | grep :{port}` shows it)."
    )


def check_port_free(port: int, what: str, variable: str, host: str = HOST) -> int:
    """Return ``port`` if nothing listens on ``host:port``, else raise SetupError naming the fix."""
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be an int in 1..65535, got {port!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise SetupError(port_in_use_message(port, what, variable, host)) from e
    return port


def port_from_env(variable: str, what: str, env: dict[str, str] | None = None) -> int:
    """The port in $variable (checked free), or a free one if the variable is unset or 0."""
    env = os.environ if env is None else env
    raw = env.get(variable, "").strip()
    if raw in ("", "0"):
        return free_port()
    try:
        port = int(raw)
    except ValueError:
        raise SetupError(f"{variable}={raw!r} is not a port number: set it to e.g. 8890, or unset it.") from None
    return check_port_free(port, what, variable)


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll ``url`` until it answers (any HTTP status), the process dies, or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise SetupError(f"{' '.join(map(str, proc.args[:2]))} exited with status {proc.returncode} "
                             f"before answering at {url}; its log ends with:\n{tail}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SetupError(f"nothing answered at {url} within {timeout:.0f} s (see {log})")


# -- processes ----------------------------------------------------------------------------
def stop_process_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group of ``proc`` (started with start_new_session), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # children left in the group
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _stat_fields() -> dict[int, list[str]]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = stat[stat.rindex(")") + 2 :].split()
    return out


def processes_in_group(pgid: int) -> list[int]:
    """Live process ids (from /proc) whose process group is ``pgid``."""
    return [pid for pid, f in _stat_fields().items() if int(f[2]) == pgid and f[0] != "Z"]


def descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (kernels start in sessions of their own, so not in its group)."""
    fields = _stat_fields()
    children: dict[int, list[int]] = {}
    for p, f in fields.items():
        if f[0] != "Z":
            children.setdefault(int(f[1]), []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


# -- JupyterLab ---------------------------------------------------------------------------
LAB_SETTINGS = {
    # JupyterLab 4 attaches only the cells near the viewport unless windowing is off; the
    # test reads every cell's DOM, so every cell must be attached.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # offline and quiet: no news or update check (requests to the internet), no toast
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the temporary copy of the notebooks
    tmp: Path
    proc: subprocess.Popen
    log: Path

    def notebook_url(self, name: str) -> str:
        """The notebook alone in a fresh workspace of its own (no tabs restored from another)."""
        workspace = "e2e-" + "".join(ch if ch.isalnum() else "-" for ch in name)
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"


@contextlib.contextmanager
def jupyterlab(notebooks: Sequence[Path] | None = None, timeout: float = 120) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 with a random token, private settings, workspace, runtime,
    config and data folders, and a copy of the notebooks, all in a temporary folder that is
    removed afterwards: nothing touches the learner's settings or the checkout."""
    port = port_from_env("E2E_PORT", "the test's JupyterLab")
    tmp = Path(tempfile.mkdtemp(prefix="vdl-e2e-"))
    root = tmp / "notebooks"
    root.mkdir()
    for nb in notebooks if notebooks is not None else sorted(NOTEBOOKS.glob("*.ipynb")):
        shutil.copy2(nb, root / nb.name)
    settings = tmp / "settings"
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "matplotlib"),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]),
    )
    token = secrets.token_hex(24)
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [
        str(jupyter), "lab", "--no-browser", f"--ServerApp.ip={HOST}", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.open_browser=False",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    lab = Lab(f"http://{HOST}:{port}", token, root, tmp, proc, log)
    try:
        try:
            wait_for_http(f"{lab.url}/api/status?token={token}", timeout, proc, log)
        except SetupError as e:
            if "address already in use" in log.read_text(errors="replace").lower():
                raise SetupError(port_in_use_message(port, "the test's JupyterLab", "E2E_PORT")) from e
            raise
        yield lab
    finally:
        kids = descendants(proc.pid)  # the kernels, each in a session of its own
        stop_process_group(proc)  # JupyterLab shuts its kernels down on SIGTERM
        time.sleep(1)
        left = sorted(set(processes_in_group(proc.pid)) | {p for p in kids if Path(f"/proc/{p}").exists()})
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        if left:
            raise RuntimeError(f"processes of the test's JupyterLab still running after it stopped: {left}")


def summary() -> int:
    """Print build/e2e/kernels.json: each notebook's Run All time and kernel peaks."""
    path = BUILD_DIR / "kernels.json"
    if not path.exists():
        return 0
    rows = json.loads(path.read_text())
    print(f"{'notebook':<40}{'Run All s':>10}{'kernel CPU s':>14}{'peak RSS MB':>13}{'peak data MB':>14}")
    for name, r in sorted(rows.items()):
        print(f"{name:<40}{r['run_all_wall_s']:>10}{r['kernel_cpu_s']:>14}{r['kernel_peak_rss_mb']:>13}"
              f"{r['kernel_peak_data_mb']:>14}")
    print(f"screenshots: {BUILD_DIR}")
    return 0


def main(argv: Sequence[str]) -> int:
    if list(argv) == ["summary"]:
        return summary()
    if list(argv) == ["chromium"]:
        try:
            print(">> Chromium:", ensure_chromium())
        except SetupError as e:
            print(f"make e2e: {e}", file=sys.stderr)
            return 2
        return 0
    print("usage: python tests/e2e/harness.py chromium|summary", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
