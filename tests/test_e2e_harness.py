"""Fast checks of the browser/classroom test harness (tests/e2e/harness.py) and of the
classroom's JupyterHub configuration: the set-up errors name their fix. The browser and
hub tests themselves (tests/e2e/*_e2e.py) run only with `make e2e` / `make hub-test`."""

import os
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
import harness  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_port_in_use_names_the_port_the_variable_and_how_to_find_the_program():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(harness.SetupError) as e:
            harness.check_port_free(port, "the test's JupyterLab", "E2E_PORT")
    msg = str(e.value)
    assert f"Port {port} on 127.0.0.1" in msg and "already in use" in msg
    assert "E2E_PORT" in msg and f"ss -ltnp | grep :{port}" in msg


def test_port_from_env_checks_the_value_and_picks_a_free_port_when_unset():
    port = harness.port_from_env("E2E_PORT", "lab", env={})
    assert isinstance(port, int) and 0 < port < 65536
    assert harness.check_port_free(port, "lab", "E2E_PORT") == port
    with pytest.raises(harness.SetupError, match="E2E_PORT='abc' is not a port number"):
        harness.port_from_env("E2E_PORT", "lab", env={"E2E_PORT": "abc"})
    with pytest.raises(ValueError, match="port must be an int"):
        harness.check_port_free(70000, "lab", "E2E_PORT")


def test_chromium_missing_and_not_installable_says_how_to_fix_it(monkeypatch, capsys):
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")  # set: never tries apt-get
    assert harness.find_chromium() is None
    with pytest.raises(harness.SetupError) as e:
        harness.ensure_chromium()
    msg = str(e.value)
    assert "/nonexistent/chromium" in msg and "CHROMIUM=" in msg and "playwright install" in msg
    assert harness.main(["chromium"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("make e2e: The browser tests need Chromium") and err.count("\n") == 1


def test_chromium_missing_message_fits_the_machine():
    assert "sudo apt-get install chromium" in harness.chromium_missing_message("/x", is_root=False, apt=True)
    assert "failed" in harness.chromium_missing_message("/x", is_root=True, apt=True)
    assert "package manager" in harness.chromium_missing_message("/x", is_root=False, apt=False)


def test_chromium_found_when_present(tmp_path, monkeypatch):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert harness.ensure_chromium() == str(fake)


def _load_hub_config(monkeypatch, **env):
    pytest.importorskip("jupyterhub")
    from traitlets.config.loader import PyFileConfigLoader

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return PyFileConfigLoader("jupyterhub_config.py", str(REPO / "classroom")).load_config()


def test_hub_config_loads_with_culler_limits_and_course_copy(monkeypatch):
    c = _load_hub_config(monkeypatch, VDL_MEM_LIMIT_MB="2048", VDL_IDLE_MINUTES="30")
    assert c.JupyterHub.spawner_class.__name__ == "CourseSpawner"
    assert c.Spawner.mem_limit == "2048M" and c.Spawner.environment["OMP_NUM_THREADS"] == "1"
    assert c.Spawner.pre_spawn_hook.__name__ == "copy_course"
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")
    assert "--timeout=1800" in culler["command"]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert "delete:servers" in role["scopes"]
    assert Path(c.ConfigurableHTTPProxy.command[0]).name == "configurable-http-proxy"


def test_hub_config_error_names_the_setting(monkeypatch, tmp_path):
    with pytest.raises(SystemExit) as e:
        _load_hub_config(monkeypatch, VDL_COURSE_DIR=str(tmp_path))
    assert "set VDL_COURSE_DIR" in str(e.value) and str(tmp_path) in str(e.value)


def test_browser_and_hub_tests_are_not_collected_by_the_unit_suite():
    names = [p.name for p in (REPO / "tests" / "e2e").glob("*.py")]
    assert "browser_e2e.py" in names and "hub_e2e.py" in names
    assert not [n for n in names if n.startswith("test_") or n.endswith("_test.py")]
    assert os.path.exists(REPO / "tests" / "e2e" / "harness.py")
