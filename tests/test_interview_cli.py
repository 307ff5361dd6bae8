"""The terminal drill's options --difficulty and --design (python -m course_utils quiz)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from interview_fixtures import small_bank  # noqa: F401  (fixture)

from course_utils import interview
from course_utils.interview import drill

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _progress_env(tmp_path, monkeypatch):
    monkeypatch.setenv(interview.PROGRESS_ENV, str(tmp_path / "progress.json"))
    return tmp_path / "progress.json"


def run(argv, lines=()):
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    code = drill.main(argv, stdin=stdin, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_parse_difficulty_accepts_lists_and_repeats():
    assert drill.parse_difficulty(["3"]) == [3]
    assert drill.parse_difficulty(["1,3"]) == drill.parse_difficulty(["3", "1"]) == [1, 3]
    assert drill.parse_difficulty(["1 2", "2"]) == [1, 2]
    for bad in ("hard", "4", "0", "", "1,x"):
        with pytest.raises(ValueError, match="--difficulty must be 1, 2 or 3"):
            drill.parse_difficulty([bad])


def test_difficulty_filters_the_drill():
    answer_types = list(interview.ANSWER_TYPES)
    topic = next(t for t in interview.TOPICS  # a topic with at least two hard questions
                 if len(interview.questions(t, difficulty=[3], types=answer_types)) >= 2)
    hard = interview.questions(topic, difficulty=[3], types=answer_types)
    qs = drill.select_questions([topic], 50, seed=0, difficulty=[3])
    assert {q.difficulty for q in qs} == {3} and len(qs) == len(hard)
    code, out, err = run(["--topic", topic, "--difficulty", "3", "--n", "2", "--seed", "0"],
                         ["skip", "skip"])
    assert code == 0, err
    assert out.count("★★★]") == 2 and "★☆☆]" not in out and "★★☆]" not in out
    code, out, _ = run(["--list", "--topic", topic, "--difficulty", "1,2"])
    n = len(interview.questions(topic, difficulty=[1, 2], types=answer_types))
    assert code == 0 and out.split()[:2] == [topic, str(n)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--difficulty", "hard"], "error: --difficulty must be 1, 2 or 3 (or a list such as 1,3), got 'hard'"),
        (["--difficulty", "4"], "got '4'"),
        (["--difficulty", "1", "--difficulty", "0"], "got '0'"),
        (["--difficulty", ""], "got ''"),
        (["--design", "--type", "choice"], "error: --design asks the system-design cases; it does not go with --type"),
        (["--design", "--topic", "gan"], "it does not go with --topic"),
        (["--list", "--design", "--n", "3"], "--list only lists the topics"),
    ],
)
def test_bad_values_and_clashes_are_one_sentence_and_exit_2(argv, message, _progress_env):
    code, out, err = run(argv)
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and out == ""  # one sentence, no usage dump
    assert not _progress_env.exists()


@pytest.mark.usefixtures("small_bank")
def test_design_cases_in_the_terminal(_progress_env):
    code, out, err = run(["--design", "--seed", "0"], ["", "9", "1 2 3 4 5"])
    assert code == 0, err
    assert "Design near-duplicate video search." in out and "Model answer: Embed keyframes" in out
    assert "  7. evaluation" in out  # the rubric, numbered
    assert "between 1 and 7 (0 for none) (or 'skip', 'quit')." in out  # a bad number, asked again
    assert "✓ Correct. You covered 5 of 7 points (71%)" in out and "Score: 1/1" in out
    assert json.loads(_progress_env.read_text())["cards"]["sys-901"]["box"] == 2
    code, out, _ = run(["--design", "--lang", "zh", "--seed", "0"], ["", "1"])
    assert code == 0 and "参考答案" in out and "✗ 错误" in out and "评分要点" in out


@pytest.mark.usefixtures("small_bank")
def test_design_cases_only_when_asked():
    code, out, _ = run(["--n", "10", "--seed", "0"], ["skip"] * 10)
    assert code == 0 and "sys-901" not in out and "Score: 0/3" in out
    code, out, _ = run(["--topic", "system_design", "--seed", "0"], ["quit"])
    assert code == 0 and "sys-901" in out
    code, out, _ = run(["--list", "--design"])
    assert out.splitlines() == ["gan                    0  GANs and video generation",
                                "system_design          1  System design"]
    code, out, _ = run(["--design", "--mock", "--seed", "0"], ["", "1 2 3 4 5 6 7"])
    assert code == 0 and "Mock interview report · Score: 1/1" in out
    code, _, err = run(["--design", "--difficulty", "1"])
    assert code == 2 and "no question matches these options" in err


def test_python_dash_m_reports_a_bad_level(tmp_path):
    env = {**os.environ, "VDL_PROGRESS": str(tmp_path / "p.json"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "course_utils", "quiz", "--difficulty", "easy"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.strip() == (
        "error: --difficulty must be 1, 2 or 3 (or a list such as 1,3), got 'easy'")
