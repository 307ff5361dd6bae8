"""The doctor's report and failure paths; the command line."""

import json
import subprocess
import sys

import pytest

from course_utils import doctor
from course_utils.__main__ import main


def _run(checks=None):
    lines = []
    code = doctor.run_doctor(checks, out=lines.append)
    return code, "\n".join(lines)


def test_doctor_passes_on_this_machine():
    code, report = _run()
    assert code == 0, report
    for name in ["Python", "torch", "torchvision", "PyAV", "ipywidgets", "JupyterLab", "course data"]:
        assert name in report
    assert "ops import and run" in report and "libx264" in report and "checksums valid" in report


def test_missing_data_fails_with_the_fix(tmp_path, monkeypatch):
    (tmp_path / "checksums.json").write_text(json.dumps({"motion_train_clips.npy.gz": "0" * 64}))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    code, report = _run([doctor.check_data])
    assert code == 1 and "missing" in report and "python -m course_utils data build" in report


def test_corrupt_data_fails(tmp_path, monkeypatch):
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "f.bin").write_bytes(b"abc")
    (tmp_path / "checksums.json").write_text(json.dumps({"f.bin": "0" * 64}))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    code, report = _run([doctor.check_data])
    assert code == 1 and "checksum mismatch" in report


def test_wrong_torch_version_fails(monkeypatch):
    real = doctor.md.version
    monkeypatch.setattr(doctor.md, "version", lambda d: "2.13.0+cpu" if d == "torch" else real(d))
    code, report = _run([doctor.check_torch])
    assert code == 1 and "2.13.0+cpu installed, but the course pins 2.14.1" in report and "make" in report


def test_broken_torchvision_ops_fail(monkeypatch):
    import torchvision.ops

    def broken(*a, **k):
        raise RuntimeError("operator torchvision::nms does not exist")

    monkeypatch.setattr(torchvision.ops, "nms", broken)
    code, report = _run([doctor.check_torchvision])
    assert code == 1 and "ops fail" in report and "torchvision 0.29.1" in report


def test_missing_codec_fails(monkeypatch):
    import av

    monkeypatch.setattr(av, "codecs_available", {"h264"})
    code, report = _run([doctor.check_av])
    assert code == 1 and "libx264" in report


def test_missing_widget_extension_fails(monkeypatch):
    real = doctor.md.version

    def version(d):
        if d == "jupyterlab_widgets":
            raise doctor.md.PackageNotFoundError(d)
        return real(d)

    monkeypatch.setattr(doctor.md, "version", version)
    code, report = _run([doctor.check_widgets])
    assert code == 1 and "extension" in report


def test_wrong_python_fails(monkeypatch):
    monkeypatch.setattr(doctor.sys, "version_info", (3, 10, 0))
    code, report = _run([doctor.check_python])
    assert code == 1 and "3.11" in report


def test_a_crashing_check_is_reported_not_raised():
    def check_boom():
        raise KeyError("boom")

    code, report = _run([check_boom])
    assert code == 1 and "check crashed" in report


def test_cli_unknown_command_and_help(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert main([]) == 2


def test_cli_data_verify_and_doctor_subprocess():
    r = subprocess.run([sys.executable, "-m", "course_utils", "data", "verify"], capture_output=True, text=True)
    assert r.returncode == 0 and "Data OK" in r.stdout
    r = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_data_verify_fails_on_missing_data(tmp_path):
    (tmp_path / "checksums.json").write_text(json.dumps({"x.npy.gz": "0" * 64}))
    env = {**__import__("os").environ, "COURSE_DATA_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "course_utils", "data", "verify"], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "data build" in r.stdout


@pytest.mark.parametrize("argv", [["data"], ["data", "frob"]])
def test_cli_data_bad_arguments(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
