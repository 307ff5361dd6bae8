"""Issue 18: the doctor, data and CLI paths never end in a traceback; the terminal drill
survives sys.exit() answers, undecodable input bytes and an ASCII-only terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import data, quiz
from course_utils.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _progress_env(tmp_path, monkeypatch):
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(tmp_path / "progress.json"))
    return tmp_path / "progress.json"


def _cli(*args, env=None, stdin=b""):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "course_utils", *args], input=stdin,
                          capture_output=True, env=env, timeout=120)


def test_doctor_help_and_unknown_options():
    r = _cli("doctor", "-h")
    assert r.returncode == 0 and b"usage: python -m course_utils doctor" in r.stdout
    assert main(["doctor", "--bogus"]) == 2


def test_doctor_runs_when_torch_and_numpy_are_broken(tmp_path):
    for name in ("torch", "numpy"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('{name} is broken (test)')\n")
    data_dir = tmp_path / "data"  # no data: the data check fails fast instead of hashing every file
    data_dir.mkdir()
    r = _cli("doctor", env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "COURSE_DATA_DIR": str(data_dir)})
    out = r.stdout.decode()
    assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr.decode()
    assert "[FAIL] NumPy" in out and "[FAIL] torch" in out and "torch is broken" in out
    assert "To fix:" in out


def test_package_import_is_lazy_and_setup_still_imports():
    code = "import sys, course_utils; assert 'torch' not in sys.modules; from course_utils import setup; print(setup.__module__)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == b"course_utils.env", r.stderr.decode()


@pytest.mark.parametrize(
    "content, word",
    [("{}", "lists no files"), ("{not json", "not valid JSON"), ('["a"]', "not a mapping"), (None, "not a file")],
)
def test_data_verify_never_says_ok_for_a_bad_checksum_file(tmp_path, monkeypatch, content, word):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    if content is None:
        (tmp_path / "checksums.json").mkdir()
    else:
        (tmp_path / "checksums.json").write_text(content)
    problems = data.verify()
    assert len(problems) == 1 and word in problems[0] and "git checkout" in problems[0]
    r = _cli("data", "verify", env={"COURSE_DATA_DIR": str(tmp_path)})
    assert r.returncode == 1 and b"Traceback" not in r.stderr and b"Data OK" not in r.stdout
    from course_utils import doctor

    check = doctor.check_data()
    assert not check.ok and "git checkout data/checksums.json" in check.fix


def test_a_directory_in_place_of_a_data_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "checksums.json").write_text(json.dumps({"f.bin": "0" * 64}))
    (tmp_path / "generated" / "f.bin").mkdir(parents=True)
    problems = data.verify()
    assert problems and "not a regular file" in problems[0]
    logs = []
    data._make_room(tmp_path / "generated" / "f.bin", logs.append)  # what `data build` does first
    assert not (tmp_path / "generated" / "f.bin").exists() and "removing" in logs[0]


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--mock", "--minutes", "inf"], "positive finite"),
        (["--mock", "--minutes", "nan"], "positive finite"),
        (["--mock", "--minutes", "0"], "positive finite"),
        (["--mock", "--minutes", "-3"], "positive finite"),
        (["--minutes", "5"], "with --mock"),
        (["--list", "--topic", "bogus"], "unknown topic"),
        (["--list", "--mock"], "--list"),
        (["--list", "--n", "3"], "--list"),
        (["--bogus"], "unrecognized"),
    ],
)
def test_quiz_options_that_make_no_sense_exit_2(argv, word):
    out, err = io.StringIO(), io.StringIO()
    assert quiz.main(argv, stdin=io.StringIO(""), stdout=out, stderr=err) == 2
    assert word in err.getvalue(), err.getvalue()


def test_quiz_list_respects_topic():
    out = io.StringIO()
    assert quiz.main(["--list", "--topic", "rnn"], stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().startswith("rnn") and out.getvalue().count("\n") == 1


def test_code_answer_calling_sys_exit_does_not_end_the_drill(_progress_env):
    q = quiz.questions(types=["code"])[0]
    answer = f"import sys\ndef {q.raw['entry']}(*a, **k):\n    sys.exit(0)\nEND\n"
    out = io.StringIO()
    res = quiz.run_drill([q], progress=quiz.Progress(), stdin=io.StringIO(answer), stdout=out)
    text = out.getvalue()
    assert res["status"] == "done" and res["answered"] == [(q.id, "incorrect")]
    assert "sys.exit" in text and "Progress saved" in text
    assert q.id in json.loads(_progress_env.read_text())["cards"]
    assert quiz.grade(q, "import sys\nsys.exit(1)").outcome == "incorrect"


def test_drill_survives_non_utf8_input_and_an_ascii_terminal(_progress_env):
    qs = quiz.select_questions(["convolution"], 2, seed=0, types=["choice"])
    stdin = io.TextIOWrapper(io.BytesIO(b"\xff\xfe\x80\nA\nA\n"), encoding="utf-8")
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii")
    res = quiz.run_drill(qs, progress=quiz.Progress(), stdin=stdin, stdout=stdout)
    stdout.flush()
    text = raw.getvalue().decode("ascii")
    assert res["status"] == "done" and len(res["answered"]) == 2
    assert "Progress saved" in text and ("+ " in text or "x " in text)


def test_cli_drill_with_bad_bytes_and_ascii_terminal(_progress_env):
    r = _cli("quiz", "--n", "2", "--seed", "0", "--type", "choice", stdin=b"\xff\xfe\nA\nA\n",
             env={"PYTHONIOENCODING": "ascii", quiz.PROGRESS_ENV: str(_progress_env)})
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
    assert b"Progress saved" in r.stdout
