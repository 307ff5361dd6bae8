"""A class on one JupyterHub (``make hub-test``): classroom/jupyterhub_config.py, for real.

As root: creates three temporary Unix users, starts the hub (the course's configuration,
with the test authenticator and free ports on 127.0.0.1), logs the users in through the
REST API (username + password for a token), starts their servers, runs the first code
cells of notebook 00 in each user's own kernel (REST + websocket through the proxy),
checks that each server runs as its user under the configured limits, that a user can
read neither another user's files nor write the course checkout, and that the idle culler
runs; measures RAM and CPU per learner (build/e2e/hub-sizing.json); stops the hub and
checks that no process is left; removes the users.

Not collected by ``pytest tests`` (the file name does not start with test_).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import (  # noqa: E402
    BUILD_DIR,
    HOST,
    NOTEBOOKS,
    REPO_ROOT,
    SetupError,
    check_port_free,
    port_from_env,
)

CONFIG = REPO_ROOT / "classroom" / "jupyterhub_config.py"
ENV_BIN = Path(sys.executable).parent
N_USERS = 3
FIRST_CELLS = 4  # code cells of notebook 00 run in each user's kernel
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- small helpers ------------------------------------------------------------------------
def api(base: str, path: str, token: str | None = None, method: str = "GET", body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"token {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read().decode()
        return r.status, (json.loads(text) if text.strip() else None)


def procs() -> list[dict]:
    """Every process: pid, uid, session id, cmdline, RSS, peak RSS, data size, CPU s, nice."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            st = (entry / "stat").read_text()
            status = (entry / "status").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        f = st[st.rindex(")") + 2 :].split()
        kv = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kb = lambda k, kv=kv: int(kv.get(k, "0 kB").split()[0])  # noqa: E731
        out.append({
            "pid": int(entry.name), "uid": int(kv["Uid"].split()[1]), "sid": int(f[3]),
            "state": f[0], "cmd": cmd, "rss_mb": kb("VmRSS") / 1024, "hwm_mb": kb("VmHWM") / 1024,
            "data_mb": kb("VmData") / 1024, "cpu_s": (int(f[11]) + int(f[12])) / CLK, "nice": int(f[16]),
        })
    return out


def limits_of(pid: int) -> dict[str, str]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {r[:26].strip(): r[26:47].strip() for r in rows}


# POSIX ACL (system.posix_acl_access, version 2): grant the test users traverse (x) on the
# folders of the course environment that others cannot enter (e.g. /root holding the shared
# environment in CI), without opening them to anyone else; removed afterwards.
_U = 0xFFFFFFFF


def _acl(mode: int, uids: list[int]) -> bytes:
    group = (mode >> 3) & 7
    entries = [(0x01, (mode >> 6) & 7, _U), *[(0x02, 1, u) for u in sorted(uids)],
               (0x04, group, _U), (0x10, group | 1, _U), (0x20, mode & 7, _U)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def closed_folders(paths: list[Path]) -> list[Path]:
    """Folders on the way to ``paths`` that other users cannot traverse."""
    out: list[Path] = []
    for p in paths:
        for d in [*reversed(p.resolve().parents), p.resolve()]:
            if d.is_dir() and not os.stat(d).st_mode & stat.S_IXOTH and d not in out:
                out.append(d)
    return out


class Kernel:
    """A kernel of a user's server, driven over the jupyter server REST + websocket API."""

    def __init__(self, base: str, user: str, token: str):
        import websocket

        self.base = f"{base}/user/{user}"
        self.token = token
        # as a learner opening the notebook: a session for ~/course/00_video_as_data.ipynb
        _, session = api(self.base, "/api/sessions", token, "POST",
                         {"path": "00_video_as_data.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
        self.id = session["kernel"]["id"]
        ws_url = self.base.replace("http://", "ws://") + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=600)
        self.session = uuid.uuid4().hex

    def run(self, code: str, timeout: float = 600) -> tuple[str, list[str]]:
        """Execute ``code``; return (stdout text, errors as 'EName: value')."""
        mid = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": mid, "username": "hub-test", "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        out, errors, idle, reply = [], [], False, None
        deadline = time.monotonic() + timeout
        while not (idle and reply) and time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != mid:
                continue
            t, content = msg["msg_type"], msg["content"]
            if t == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif t == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")
            elif t == "status" and content["execution_state"] == "idle":
                idle = True
            elif t == "execute_reply":
                reply = content
                if content["status"] == "error" and not errors:
                    errors.append(f"{content.get('ename')}: {content.get('evalue')}")
        if not (idle and reply):
            raise AssertionError(f"{self.base}: no reply within {timeout:.0f} s to {code[:60]!r}")
        return "".join(out), errors

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()


# -- the test -----------------------------------------------------------------------------
def test_class_of_three_on_one_hub():
    if os.geteuid() != 0:
        pytest.fail("make hub-test creates temporary Unix users (real isolation between learners): "
                    "run it as root (as CI does), e.g. `sudo make hub-test`.", pytrace=False)
    for tool in ("useradd", "userdel"):
        if not shutil.which(tool):
            pytest.fail(f"make hub-test needs `{tool}` (package passwd) to create the test users.", pytrace=False)
    port = port_from_env("HUB_TEST_PORT", "the test hub")
    hub_port, proxy_api = _free(exclude={port}), 0
    proxy_api = _free(exclude={port, hub_port})
    base = f"http://{HOST}:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="vdl-hub-"))
    os.chmod(tmp, 0o755)
    tag = secrets.token_hex(2)
    users = [f"vdlt{tag}{c}" for c in "abc"[:N_USERS]]
    password, admin_token = secrets.token_hex(12), secrets.token_hex(24)
    created, acls, hub, kernels, passed = [], [], None, [], False
    t_start = time.monotonic()
    try:
        for u in users:
            subprocess.run(["useradd", "-m", "-s", "/usr/sbin/nologin", u], check=True)
            created.append(u)
        uids = [pwd.getpwnam(u).pw_uid for u in users]
        need = [Path(os.path.realpath(sys.executable)), ENV_BIN.parent, REPO_ROOT]
        for d in closed_folders(need):
            mode = stat.S_IMODE(os.stat(d).st_mode)
            try:
                os.setxattr(d, "system.posix_acl_access", _acl(mode, uids))
            except OSError as e:
                raise SetupError(f"the course environment is under {d}, which other users cannot enter, and "
                                 f"granting the test users access failed ({e}): install the environment in a "
                                 "shared place, e.g. `make env ENV_ROOT=/opt/vdl-course`.") from e
            acls.append((d, mode))
        (tmp / "hub_test_config.py").write_text(f"""
load_subconfig({str(CONFIG)!r})
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {set(users)!r}
c.Authenticator.admin_users = set()
c.JupyterHub.ip = {HOST!r}
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = {HOST!r}
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://{HOST}:{proxy_api}"
c.ConfigurableHTTPProxy.pid_file = {str(tmp / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{tmp / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(tmp / "cookie_secret")!r}
c.JupyterHub.services.append({{"name": "hub-test", "api_token": {admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "hub-test", "services": ["hub-test"],
    "scopes": ["admin:users", "admin:servers", "list:services", "read:services"]}})
""")
        log = tmp / "hub.log"
        with open(log, "wb") as out:
            hub = subprocess.Popen([str(ENV_BIN / "jupyterhub"), "-f", str(tmp / "hub_test_config.py")],
                                   cwd=tmp, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_hub(base, hub, log)
        print(f"\nhub up on {base} after {time.monotonic() - t_start:.0f} s")

        # log in through the REST API and start each user's server
        tokens = {}
        for u in users:
            _, body = api(base, f"/hub/api/users/{u}/tokens", None, "POST",
                          {"auth": {"username": u, "password": password}, "note": "hub-test login"})
            tokens[u] = body["token"]
        with pytest.raises(urllib.error.HTTPError):  # a wrong password gets no token
            api(base, f"/hub/api/users/{users[0]}/tokens", None, "POST",
                {"auth": {"username": users[0], "password": "wrong"}})
        cpu0 = {u: _cpu_of(uid) for u, uid in zip(users, uids, strict=True)}
        for u in users:
            api(base, f"/hub/api/users/{u}/server", tokens[u], "POST", {})
        for u in users:
            _wait_server(base, u, tokens[u], hub, log)
        print(f"servers ready after {time.monotonic() - t_start:.0f} s")

        # the first cells of notebook 00 in each user's own kernel
        nb = json.loads((NOTEBOOKS / "00_video_as_data.ipynb").read_text())
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"][:FIRST_CELLS]
        sizing = {}
        for u, uid in zip(users, uids, strict=True):
            k = Kernel(base, u, tokens[u])
            kernels.append(k)
            who, err = k.run("import os, pathlib; print(os.getuid(), pathlib.Path.cwd())")
            assert not err and who.split()[0] == str(uid), f"{u}'s kernel runs as {who!r}, expected uid {uid}"
            assert who.split()[1] == f"{pwd.getpwnam(u).pw_dir}/course", f"{u}'s kernel runs in {who!r}"
            t0 = time.monotonic()
            for i, code in enumerate(cells):
                _, err = k.run(code)
                assert not err, f"{u}: notebook 00, code cell {i} failed in the user's kernel: {err}"
            wall = time.monotonic() - t0
            mine = [p for p in procs() if p["uid"] == uid]
            kern = [p for p in mine if "ipykernel" in p["cmd"]]
            assert len(kern) == 1, f"{u}: expected one kernel process, found {[p['cmd'] for p in mine]}"
            lim = limits_of(kern[0]["pid"])
            sizing[u] = {
                "processes": len(mine), "rss_mb": round(sum(p["rss_mb"] for p in mine)),
                "peak_rss_mb": round(sum(p["hwm_mb"] for p in mine)),
                "kernel_rss_mb": round(kern[0]["rss_mb"]), "kernel_data_mb": round(kern[0]["data_mb"]),
                "cpu_s_since_start": round(_cpu_of(uid) - cpu0[u], 1), "cells_wall_s": round(wall, 1),
                "kernel_nice": kern[0]["nice"], "limit_data": lim["Max data size"],
                "limit_processes": lim["Max processes"],
            }
            assert kern[0]["nice"] == int(os.environ.get("VDL_NICE", "10")), f"{u}: kernel nice {kern[0]['nice']}"
            expect_mb = int(os.environ.get("VDL_MEM_LIMIT_MB", "3072"))
            assert lim["Max data size"] == str(expect_mb * 2**20), f"{u}: kernel limits {lim}"

        # isolation: nobody reads another learner's work or writes the course checkout
        for i, u in enumerate(users):
            other = users[(i + 1) % len(users)]
            home = pwd.getpwnam(other).pw_dir
            out, err = kernels[i].run(f"""
import os
res = []
for what, f in [("read", lambda: open({home + "/course/00_video_as_data.ipynb"!r}).read(1)),
                ("list", lambda: os.listdir({home!r})),
                ("write course", lambda: open({str(REPO_ROOT / "hub-test-write")!r}, "w"))]:
    try:
        f(); res.append(what + ": ALLOWED")
    except PermissionError:
        res.append(what + ": denied")
print("; ".join(res))""")
            assert not err and "ALLOWED" not in out, f"{u} could access {other}'s files or the course: {out}{err}"
        print("isolation: each user was denied reading and listing the next user's home and writing the course")

        # the idle culler runs as a hub service
        _, services = api(base, "/hub/api/services", admin_token)
        culler = services.get("idle-culler") or {}
        assert culler.get("pid") and Path(f"/proc/{culler['pid']}").exists(), f"idle culler not running: {culler}"

        # sizing, written for docs/classroom.md
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        (BUILD_DIR / "hub-sizing.json").write_text(json.dumps(sizing, indent=1))
        for u, s in sizing.items():
            print(u, s)
        passed = True
    finally:
        for k in kernels:
            k.close()
        left = _stop_hub(hub, users, tmp) if hub is not None else []
        for u in created:
            subprocess.run(["userdel", "-r", u], check=False, stderr=subprocess.DEVNULL)
        for d, mode in acls:
            with contextlib.suppress(OSError):
                os.removexattr(d, "system.posix_acl_access")
            os.chmod(d, mode)
        if not passed:
            print(f"hub log and state kept for reading: {tmp}")
        gone = [u for u in created if _user_exists(u)]
        print(f"hub test took {time.monotonic() - t_start:.0f} s")
    assert not left, f"processes left behind after the hub stopped: {left}"
    assert not gone, f"test users not removed: {gone}"
    if passed:
        shutil.rmtree(tmp, ignore_errors=True)


def _free(exclude: set[int]) -> int:
    from harness import free_port

    while (p := free_port()) in exclude:
        pass
    return check_port_free(p, "the hub", "HUB_TEST_PORT")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _cpu_of(uid: int) -> float:
    return sum(p["cpu_s"] for p in procs() if p["uid"] == uid)


def _hub_error(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    bad = [ln for ln in lines if "Error" in ln or "error" in ln or "SystemExit" in ln or "classroom/" in ln]
    return "\n".join((bad or lines)[-8:])


def _wait_hub(base: str, hub: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            text = log.read_text(errors="replace")
            if "address already in use" in text.lower():
                raise SetupError(f"the hub could not bind a port (address already in use): set HUB_TEST_PORT "
                                 f"to a free port or stop the program using it; log {log}:\n{_hub_error(log)}")
            raise SetupError(f"hub configuration error: JupyterHub exited with status {hub.returncode} "
                             f"while starting with {CONFIG}; fix the setting named here (full log {log}):\n"
                             f"{_hub_error(log)}")
        try:
            api(base, "/hub/api/", timeout=5)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SetupError(f"the hub did not answer at {base} within {timeout:.0f} s (log {log}):\n{_hub_error(log)}")


def _wait_server(base: str, user: str, token: str, hub, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, model = api(base, f"/hub/api/users/{user}", token)
        server = (model.get("servers") or {}).get("")
        if server and server.get("ready"):
            return
        if hub.poll() is not None:
            raise AssertionError(f"the hub died while starting {user}'s server:\n{_hub_error(log)}")
        if not server or (not server.get("pending") and not server.get("ready")):
            raise AssertionError(f"{user}'s server failed to start:\n{_hub_error(log)}")
        time.sleep(1)
    raise AssertionError(f"{user}'s server not ready within {timeout:.0f} s:\n{_hub_error(log)}")


def _stop_hub(hub: subprocess.Popen, users: list[str], tmp: Path) -> list[str]:
    """SIGTERM the hub (it stops the servers, the proxy and the culler); return what is left."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGINT)
        try:
            hub.wait(90)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait(10)
    uids = set()
    for u in users:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(u).pw_uid)
    time.sleep(1)
    left = [p for p in procs() if p["state"] != "Z" and (
        p["uid"] in uids or p["sid"] == hub.pid or str(tmp) in p["cmd"])]
    for p in left:  # clean up, then report them
        with contextlib.suppress(ProcessLookupError):
            os.kill(p["pid"], signal.SIGKILL)
    return [f"{p['pid']} {p['cmd'][:100]}" for p in left]
