"""course_utils.quiz: grading, spaced repetition, progress file, terminal drill, notebook apps."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from course_utils import progress, quiz

ROOT = Path(__file__).resolve().parents[1]
DAY = quiz.Leitner.DAY


@pytest.fixture(autouse=True)
def _progress_env(tmp_path, monkeypatch):
    """Never touch the user's real progress file."""
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(tmp_path / "progress.json"))
    return tmp_path / "progress.json"


def correct_answer(q: quiz.Question):
    """A scripted right answer for the terminal, as lines of input."""
    if q.type == "choice":
        return [chr(ord("A") + q.raw["correct"])]
    if q.type == "numeric":
        return [str(q.raw["value"])]
    if q.type == "bug":
        return [", ".join(map(str, q.raw["bug_lines"]))]
    if q.type == "code":
        return [*q.raw["solution"].splitlines(), "END"]
    return ["", "y"]  # short: Enter to see the answer, then "I knew it"


def wrong_answer(q: quiz.Question):
    if q.type == "choice":
        return [chr(ord("A") + (q.raw["correct"] + 1) % len(q.raw["choices"]["en"]))]
    if q.type == "numeric":
        return [str(q.raw["value"] + 1000)]
    if q.type == "bug":
        n = len(q.raw["code"].splitlines())
        return [str(next(i for i in range(1, n + 1) if i not in q.raw["bug_lines"]))]
    if q.type == "code":
        return [*q.raw["wrong"].splitlines(), "END"]
    return ["", "n"]


def run(argv, lines, clock=time.time):
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    code = quiz.main(argv, stdin=stdin, stdout=out, stderr=err, clock=clock)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------------------ grading
def test_grade_choice_numeric_bug_short_and_invalid_input():
    q = quiz.get_question("conv-007")  # correct: B
    assert quiz.grade(q, "B").correct and quiz.grade(q, "b").correct and quiz.grade(q, 1).correct
    assert quiz.grade(q, "A").outcome == "incorrect"
    assert quiz.grade(q, "Z").outcome == "invalid" and quiz.grade(q, "").outcome == "invalid"
    n = quiz.get_question("conv-002")  # 1792
    assert quiz.grade(n, "1,792").correct and quiz.grade(n, " 1792 ").correct
    assert quiz.grade(n, "1793").outcome == "incorrect"
    bad = quiz.grade(n, "about two thousand")
    assert bad.outcome == "invalid" and "number" in bad.message
    assert quiz.grade(n, "inf").outcome == "invalid"
    assert quiz.grade(quiz.get_question("metric-001"), "75%").correct
    b = quiz.get_question("att-005")  # lines 2, 3 and 4
    assert (
        quiz.grade(b, "4, 2, 3").correct
        and quiz.grade(b, "2 3 4").correct
        and quiz.grade(b, "2，3，4").correct
        and quiz.grade(b, [2, 3, 4]).correct
    )
    assert quiz.grade(b, "2, 3").outcome == "incorrect"
    assert quiz.grade(b, "99").outcome == "invalid" and quiz.grade(b, "one").outcome == "invalid"
    s = quiz.get_question("gan-001")
    assert quiz.grade(s, "y").correct and quiz.grade(s, True).correct
    assert quiz.grade(s, "n").outcome == "incorrect" and quiz.grade(s, "maybe").outcome == "invalid"
    zh = quiz.grade(n, "abc", lang="zh")
    assert zh.outcome == "invalid" and "请输入" in zh.message


def test_code_answers_that_crash_or_do_not_parse_are_reported_not_raised():
    q = quiz.get_question("conv-012")
    res = quiz.grade(q, "def conv_output_size(n, k, s=1, p=0, d=1):\n    return n // 0")
    assert res.outcome == "incorrect" and "ZeroDivisionError" in res.message
    res = quiz.grade(q, "def conv_output_size(:\n")
    assert res.outcome == "incorrect" and "SyntaxError" in res.message
    res = quiz.grade(q, "x = 1")
    assert res.outcome == "incorrect" and "conv_output_size" in res.message
    assert quiz.grade(q, 42).outcome == "invalid"

    def conv_output_size(n, k, s=1, p=0, d=1):
        return (n + 2 * p - d * (k - 1) - 1) // s + 1

    assert quiz.grade(q, conv_output_size).correct


def test_show_questions_plain_text_is_deterministic_and_bilingual(capsys):
    quiz.show_questions(["conv-001", "conv-007"])
    first = capsys.readouterr().out
    quiz.show_questions(["conv-001", "conv-007"])
    assert capsys.readouterr().out == first
    assert first.startswith("1. [conv-001")
    assert first.index("What is the output width") < first.index("Answer: 16")
    assert "   B. Same receptive field" in first and "notebooks/01_convolution.ipynb" in first
    quiz.show_questions(["conv-001"], lang="zh")
    zh = capsys.readouterr().out
    assert "输出宽度" in zh and "答案：16" in zh
    with pytest.raises(KeyError, match="conv-001"):
        quiz.show_questions(["conv-0001"])
    with pytest.raises(ValueError):
        quiz.show_questions(["conv-001"], lang="fr")


def test_html_rendering_hides_the_answer_in_details():
    text = quiz.render_question(quiz.get_question("gan-005"), "en", answer=True, html_=True)
    before, after = text.split("<details>")
    assert "Line 4" not in before and "Line 4" in after and "<summary>Show the answer" in after


# ------------------------------------------------------------------- spaced repetition
def test_leitner_right_moves_up_wrong_goes_back_to_box_one():
    lt = quiz.Leitner(quiz.Progress())
    t0 = 1_000_000.0
    assert lt.box("conv-001") == 0 and lt.is_due("conv-001", t0)
    boxes = [lt.answer("conv-001", True, t0 + i * 100 * DAY) for i in range(6)]
    assert boxes == [2, 3, 4, 5, 5, 5]
    assert lt.answer("conv-001", False, t0 + 700 * DAY) == 1
    assert lt.is_due("conv-001", t0 + 700 * DAY)  # a wrong card is due again at once
    card = lt.progress.cards["conv-001"]
    assert card["seen"] == 7 and card["right"] == 6


def test_leitner_due_dates_are_honoured():
    lt = quiz.Leitner(quiz.Progress())
    t0 = 5_000_000.0
    lt.answer("a", True, t0)  # box 2: due in 1 day
    lt.answer("b", True, t0)
    lt.answer("b", True, t0)  # box 3: due in 3 days
    lt.answer("c", False, t0)  # box 1: due now
    ids = ["a", "b", "c", "new"]
    assert lt.due(ids, t0 + 0.5 * DAY) == ["c", "new"]
    assert lt.due(ids, t0 + 1.0 * DAY) == ["c", "a", "new"]
    assert lt.due(ids, t0 + 3.0 * DAY) == ["c", "a", "b", "new"]
    assert lt.order(ids, t0 + 0.5 * DAY) == ["c", "new", "a", "b"]
    assert lt.boxes(ids) == {0: 1, 1: 1, 2: 1, 3: 1, 4: 0, 5: 0}
    for box, days in enumerate(quiz.Leitner.INTERVAL_DAYS, start=1):
        lt.progress.cards["x"] = {"box": box - 1 or 1, "due": 0, "seen": 1}
        if box == 1:
            continue
        lt.answer("x", True, t0)
        assert lt.progress.cards["x"]["due"] == t0 + days * DAY


# ---------------------------------------------------------------------- progress file
def test_progress_path_env_and_round_trip(_progress_env):
    assert quiz.progress_path() == _progress_env
    p = quiz.Progress()
    quiz.Leitner(p).answer("conv-001", True, 10.0)
    p.save()
    again = quiz.Progress()
    assert again.warnings == [] and again.cards["conv-001"]["box"] == 2
    assert json.loads(_progress_env.read_text())["format"] == quiz.PROGRESS_FORMAT


def test_default_progress_path_is_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv(quiz.PROGRESS_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert quiz.progress_path() == tmp_path / ".video_dl_course" / "progress.json"


@pytest.mark.parametrize(
    "content, reason",
    [
        (
            '{"format": "video-dl-course/progress", "version": 1, "cards": {"a": {"bo',
            "not valid JSON",
        ),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ('{"theme": "dark", "font": 12}', "not a progress file of this course"),
        ("[1, 2, 3]", "not a progress file of this course"),
        (
            '{"format": "video-dl-course/progress", "version": 1, "cards": {"a": {"box": 9, "due": 0}}}',
            "invalid box",
        ),
        (
            '{"format": "video-dl-course/progress", "version": 99, "cards": {}}',
            "unsupported version",
        ),
    ],
)
def test_corrupt_or_foreign_file_is_backed_up_and_reported(_progress_env, content, reason):
    raw = content.encode() if isinstance(content, str) else content
    _progress_env.write_bytes(raw)
    p = quiz.Progress()
    assert len(p.warnings) == 1 and reason in p.warnings[0]
    assert p.cards == {}
    backups = list(_progress_env.parent.glob("progress.json.bad-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == raw
    assert backups[0].name in p.warnings[0]
    p.save()  # a fresh, valid file
    assert quiz.Progress().warnings == []


def test_terminal_reports_a_corrupt_file_and_carries_on(_progress_env):
    _progress_env.write_text("{ not json")
    code, out, err = run(["--topic", "metrics", "--n", "1", "--seed", "0"], ["skip"])
    assert code == 0 and "warning:" in err and "not valid JSON" in err
    assert list(_progress_env.parent.glob("progress.json.bad-*"))


def test_interrupted_write_leaves_the_old_file_intact(_progress_env, monkeypatch):
    p = quiz.Progress()
    quiz.Leitner(p).answer("conv-001", True, 1.0)
    p.save()
    before = _progress_env.read_bytes()
    real_dump = json.dump

    def dump_then_die(obj, f, **kw):
        f.write('{"format": "video-dl-course/progress", "cards": {')  # half a file
        raise KeyboardInterrupt

    monkeypatch.setattr(progress.json, "dump", dump_then_die)
    quiz.Leitner(p).answer("conv-002", True, 2.0)
    with pytest.raises(KeyboardInterrupt):
        p.save()
    monkeypatch.setattr(progress.json, "dump", real_dump)
    assert _progress_env.read_bytes() == before
    assert [f.name for f in _progress_env.parent.iterdir() if f.name.endswith(".tmp")] == []


def test_progress_survives_a_kill_mid_write(tmp_path):
    """SIGKILL a process that rewrites a large progress file in a loop, many times.

    progress.py imports only the standard library, so the child loads it on its own and
    starts in milliseconds (importing the package would import torch)."""
    path = tmp_path / "progress.json"
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("q", {str(ROOT / "course_utils" / "progress.py")!r})
        q = importlib.util.module_from_spec(spec)
        sys.modules["q"] = q
        spec.loader.exec_module(q)
        p = q.Progress({str(path)!r})
        lt = q.Leitner(p)
        for i in range(4000):
            lt.answer(f"q{{i}}", True, float(i))
        p.data["history"] = p.data["history"] * 5
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        i = 0
        while True:
            i += 1
            lt.answer("q0", i % 2 == 0, float(i))
            p.save()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mid_write = 0
    for delay in (0.05, 0.09, 0.13, 0.17, 0.21, 0.25, 0.29, 0.33):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        leftovers = [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
        mid_write += bool(leftovers)  # killed while writing: the temp file was not renamed yet
        for f in leftovers:
            f.unlink()
        if path.exists():
            p = quiz.Progress(path)
            assert p.warnings == [], p.warnings
            assert len(p.cards) >= 4000
    assert path.exists()
    assert mid_write >= 1, "no kill landed during a write; the test did not test anything"


# ------------------------------------------------------------------------ mock interview
def test_mock_interview_draws_across_topics_and_reports_per_topic():
    n = len(quiz.TOPICS)  # one question per topic
    m = quiz.MockInterview(n, seed=3)
    assert sorted(q.topic for q in m.questions) == sorted(quiz.TOPICS)
    assert [q.id for q in quiz.MockInterview(n, seed=3).questions] == [q.id for q in m.questions]
    assert [q.id for q in quiz.MockInterview(n, seed=4).questions] != [q.id for q in m.questions]
    first, second = m.questions[0], m.questions[1]
    assert m.answer(
        first.id, correct_answer(first)[-1] if first.type != "code" else first.raw["solution"]
    ).correct
    rep = m.report()
    assert rep[first.topic]["score"] == 1.0 and rep[first.topic]["review"] == []
    assert rep[second.topic]["score"] == 0.0 and rep[second.topic]["missed"] == [second.id]
    assert quiz.ref_label(second.refs[0]) in rep[second.topic]["review"]
    text = m.report_text()
    assert f"Score: 1/{n}" in text and "To review:" in text
    assert "模拟面试报告" in m.report_text("zh")


def test_mock_interview_time_limit():
    t = [0.0]
    m = quiz.MockInterview(3, seed=0, minutes=1, clock=lambda: t[0])
    m.start()
    q = m.questions[0]
    t[0] = 61.0
    assert m.time_up() and m.answer(q.id, "A").outcome == "invalid"
    assert m.report_text().count("0/1") == 3


# ------------------------------------------------------------------------ terminal drill
def test_terminal_drill_end_to_end_all_right(_progress_env):
    qs = quiz.select_questions(["convolution"], 5, progress=quiz.Progress(), seed=7)
    assert {q.type for q in qs} >= {"numeric"}
    lines = [line for q in qs for line in correct_answer(q)]
    code, out, err = run(["--topic", "convolution", "--n", "5", "--seed", "7"], lines)
    assert code == 0, err
    assert "Score: 5/5 answered correctly (5 answered)." in out
    assert f"Progress saved to {_progress_env}" in out
    cards = json.loads(_progress_env.read_text())["cards"]
    assert {q.id for q in qs} == set(cards) and all(c["box"] == 2 for c in cards.values())


def test_terminal_drill_all_types_and_wrong_answers_in_chinese(_progress_env):
    bank = quiz.load_bank()
    ids = ["conv-007", "conv-002", "gan-004", "conv-012", "gan-001"]
    lines = [line for i in ids for line in wrong_answer(bank[i])]
    out = io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    res = quiz.run_drill(
        [bank[i] for i in ids], lang="zh", progress=quiz.Progress(), stdin=stdin, stdout=out
    )
    text = out.getvalue()
    assert res["status"] == "done" and [o for _, o in res["answered"]] == ["incorrect"] * 5
    assert "答对 0/5 题" in text and "有错误的行是第 1 行" in text and "测试未通过" in text
    assert "A test failed" not in text  # the code verdict is in Chinese too
    assert all(c["box"] == 1 for c in json.loads(_progress_env.read_text())["cards"].values())


def test_terminal_bad_input_is_explained_and_asked_again():
    qs = quiz.select_questions(
        ["convolution"], 1, progress=quiz.Progress(), seed=0, types=["numeric"]
    )
    code, out, _ = run(
        ["--topic", "convolution", "--n", "1", "--seed", "0", "--type", "numeric"],
        ["twelve", "", *correct_answer(qs[0])],
    )
    assert code == 0 and out.count("Please type a number") == 2
    assert "Score: 1/1" in out
    qs = quiz.select_questions(["attention"], 1, progress=quiz.Progress(), seed=0, types=["choice"])
    code, out, _ = run(
        ["--topic", "attention", "--n", "1", "--seed", "0", "--type", "choice"],
        ["7", "E", *correct_answer(qs[0])],
    )
    assert (
        code == 0
        and out.count("Please type one of the letters A/B/C/D") == 2
        and "Score: 1/1" in out
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--topic", "attenton"], "unknown topic 'attenton' (did you mean 'attention'?)"),
        (["--topic", "cooking"], "unknown topic 'cooking'; choose one of: convolution, rnn"),
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--n", "0"], "--n must be at least 1"),
        (["--n", "ten"], "invalid int value: 'ten'"),
        (["--type", "essay"], "invalid choice: 'essay'"),
    ],
)
def test_terminal_bad_arguments_give_a_clear_message_and_non_zero_exit(
    argv, message, _progress_env
):
    code, out, err = run(argv, [])
    assert code == 2 and message in err, err
    assert not _progress_env.exists()


def test_terminal_end_of_input_saves_what_was_answered(_progress_env):
    qs = quiz.select_questions(None, 4, progress=quiz.Progress(), seed=1)
    code, out, _ = run(["--n", "4", "--seed", "1"], correct_answer(qs[0]))
    assert code == 0 and "End of input: saving what was answered." in out
    assert "Score: 1/4 answered correctly (1 answered)." in out
    assert list(json.loads(_progress_env.read_text())["cards"]) == [qs[0].id]


def test_terminal_ctrl_c_saves_what_was_answered(_progress_env):
    qs = quiz.select_questions(["metrics"], 3, progress=quiz.Progress(), seed=2)
    answers = iter(line + "\n" for line in correct_answer(qs[0]))

    class CtrlC(io.StringIO):
        def readline(self, *a):
            try:
                return next(answers)
            except StopIteration:
                raise KeyboardInterrupt from None

    out = io.StringIO()
    code = quiz.main(
        ["--topic", "metrics", "--n", "3", "--seed", "2"],
        stdin=CtrlC(),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 130 and "Interrupted: saving what was answered." in out.getvalue()
    assert list(json.loads(_progress_env.read_text())["cards"]) == [qs[0].id]


def test_terminal_quit_and_skip(_progress_env):
    code, out, _ = run(["--topic", "gan", "--n", "3", "--seed", "0"], ["skip", "quit"])
    assert code == 0 and "Skipped." in out and "Score: 0/3 answered correctly (0 answered)." in out


def test_terminal_due_cards_come_first(_progress_env):
    p = quiz.Progress()
    lt = quiz.Leitner(p)
    now = time.time()
    pool = [q.id for q in quiz.questions("rnn")]
    for qid in pool:
        lt.answer(qid, True, now)  # all in box 2, due tomorrow
    lt.answer("rnn-005", False, now)  # back to box 1: due now
    p.save()
    qs = quiz.select_questions(["rnn"], 3, progress=quiz.Progress(), seed=0)
    assert qs[0].id == "rnn-005"


def test_terminal_mock_interview_report_and_time_up(_progress_env):
    m = quiz.MockInterview(5, seed=2, minutes=10)
    lines = [line for q in m.questions for line in correct_answer(q)]
    code, out, _ = run(["--mock", "--n", "5", "--seed", "2", "--minutes", "10"], lines)
    assert code == 0 and "Mock interview report · Score: 5/5" in out and "Nothing to review" in out
    t = [0.0]

    def clock():
        t[0] += 40.0  # every look at the clock costs 40 s
        return t[0]

    code, out, _ = run(
        ["--mock", "--n", "5", "--seed", "2", "--minutes", "1", "--lang", "zh"], lines, clock=clock
    )
    assert code == 0 and "时间到。" in out and "需要复习" in out


def test_python_dash_m_entry_point(tmp_path):
    env = {**os.environ, "VDL_PROGRESS": str(tmp_path / "p.json"), "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(
        [sys.executable, "-m", "course_utils", "quiz", "--topic", "nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert bad.returncode != 0 and "unknown topic 'nope'" in bad.stderr
    q = quiz.select_questions(["metrics"], 1, progress=quiz.Progress(tmp_path / "p.json"), seed=5)[
        0
    ]
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils",
            "quiz",
            "--topic",
            "metrics",
            "--n",
            "1",
            "--seed",
            "5",
            "--lang",
            "zh",
        ],
        input="\n".join(correct_answer(q)) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    assert "答对 1/1 题" in ok.stdout and (tmp_path / "p.json").exists()


# ------------------------------------------------------------------------ notebook apps
def test_quiz_app_feedback_language_switch_and_progress(_progress_env):
    app = quiz.QuizApp(["conv-002", "conv-009", "att-009"], progress=quiz.Progress())
    assert app.submit("lots").outcome == "invalid" and "Invalid input" in app.html()
    assert app.submit(1792).correct and "Correct" in app.html() and "Why" in app.html()
    app.set_lang("zh")
    assert "正确" in app.html() and "个可学习参数" in app.html()
    app.next()
    assert app.question.id == "conv-009" and app.submit(False).outcome == "incorrect"
    app.next()
    assert app.submit(quiz.get_question("att-009").raw["solution"]).correct
    assert app.score() == (2, 3)
    cards = json.loads(_progress_env.read_text())["cards"]
    assert cards["conv-002"]["box"] == 2 and cards["conv-009"]["box"] == 1


def test_flashcards_move_cards_and_remember_between_sessions(_progress_env):
    fc = quiz.FlashcardApp("gan", limit=3)
    first = fc.card.id
    fc.reveal()
    assert "Answer" in fc.html()
    assert fc.rate(True) == 2
    second = fc.card.id
    assert fc.rate(False) == 1
    assert fc.queue[-1] == second  # a forgotten card returns in the same session
    again = quiz.FlashcardApp("gan", limit=50)  # a new session reads the file
    assert first not in again.queue and second in again.queue
    assert again.leitner.box(first) == 2
    assert "盒" in (again.set_lang("zh") or again.html())


def test_mock_app_reports(_progress_env):
    t = [0.0]
    app = quiz.MockApp(4, minutes=5, seed=1, clock=lambda: t[0])
    q = app.question
    answer = q.raw["solution"] if q.type == "code" else correct_answer(q)[-1]
    assert app.submit(answer).correct
    t[0] = 400.0
    assert app.submit("A").outcome == "invalid" and app.finished
    assert "Score: 1/4" in app.finish()


def test_code_questions_as_exercises():
    ex = quiz.exercise("metric-007")

    def topk_accuracy(logits, labels, k): ...

    assert ex.evaluate(topk_accuracy).outcome == "not attempted"

    def topk_accuracy(logits, labels, k):  # noqa: F811
        (logits.topk(k, dim=1).indices == labels[:, None]).any(1).float().mean().item()

    v = ex.evaluate(topk_accuracy)
    assert v.outcome == "incorrect" and "forget a `return`" in v.message

    def topk_accuracy(logits, labels, k):  # noqa: F811
        return (logits.argmax(1) == labels).float().mean().item()  # ignores k

    v = ex.evaluate(topk_accuracy)
    assert v.outcome == "incorrect" and "k=2" in v.message

    def topk_accuracy(logits, labels, k):  # noqa: F811
        return (logits.topk(k, dim=1).indices == labels[:, None]).any(1).float().mean().item()

    assert ex.evaluate(topk_accuracy).correct
    assert "def topk_accuracy" in ex.solution_text()
    with pytest.raises(ValueError, match="only 'code' questions"):
        quiz.exercise("conv-001")


def test_widget_buttons_and_language_toggle_are_wired(_progress_env):
    app = quiz.QuizApp(["conv-007", "gan-004", "conv-009"], progress=quiz.Progress())
    app._input_w.value = 1  # choose B
    app._check_btn.click()
    assert app.results["conv-007"].correct and "Correct" in app._feedback_w.value
    app._next_btn.click()
    assert app.question.id == "gan-004" and app._input_w.value == ""
    app._input_w.value = "1"
    app._check_btn.click()
    assert app.results["gan-004"].correct
    app._lang_toggle.value = "zh"
    assert app.lang == "zh" and "找出" in app._body.value and "正确" in app._feedback_w.value
    app._next_btn.click()
    app._reveal_btn.click()
    assert "答案" in app._feedback_w.value
    app._forgot_btn.click()
    assert app.results["conv-009"].outcome == "incorrect"
    app._prev_btn.click()
    assert app.question.id == "gan-004"
    fc = quiz.FlashcardApp("metrics", limit=2)
    fc._reveal_btn.click()
    assert fc.revealed
    fc._knew_btn.click()
    fc._forgot_btn.click()
    assert [r[2] for r in fc.reviewed] == [2, 1]
    mock = quiz.MockApp(3, minutes=5, seed=0)
    mock._finish_btn.click()
    assert mock.finished and "Mock interview report" in mock._report_w.value
    assert "<a href=" in mock._report_w.value and ".ipynb#" in mock._report_w.value


def test_html_links_point_at_the_section_anchor():
    link = quiz.ref_link(
        {"notebook": "01_convolution", "section": "2. Output size and the off-by-one traps"}
    )
    assert link.startswith(
        '<a href="01_convolution.ipynb#2.-Output-size-and-the-off-by-one-traps">'
    )


def test_a_disk_error_while_saving_does_not_end_the_drill(_progress_env, monkeypatch):
    def no_space(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(progress, "atomic_write_json", no_space)
    qs = quiz.select_questions(["metrics"], 2, progress=quiz.Progress(), seed=3)
    lines = [line for q in qs for line in correct_answer(q)]
    code, out, _ = run(["--topic", "metrics", "--n", "2", "--seed", "3"], lines)
    assert code == 0 and "Score: 2/2" in out
    assert (
        out.count("No space left on device") == 2
    )  # reported once during the drill, once at the end
    app = quiz.QuizApp(["conv-002"], progress=quiz.Progress())
    assert app.submit(1792).correct and "No space left" in app.html()


def test_two_sessions_at_once_keep_both_sessions_answers(_progress_env):
    notebook, terminal = quiz.Progress(), quiz.Progress()
    quiz.Leitner(notebook).answer("conv-001", True, 100.0)
    notebook.save()
    quiz.Leitner(terminal).answer("rnn-001", False, 200.0)
    quiz.Leitner(terminal).answer("conv-001", False, 300.0)  # answered again, later
    terminal.save()
    quiz.Leitner(notebook).answer("gan-001", True, 400.0)
    notebook.save()
    final = quiz.Progress()
    assert set(final.cards) == {"conv-001", "rnn-001", "gan-001"}
    assert final.cards["conv-001"]["box"] == 1  # the later answer wins
    assert [h["t"] for h in final.data["history"]] == [100.0, 200.0, 300.0, 400.0]


def test_unreadable_progress_path_falls_back_without_crashing(_progress_env):
    _progress_env.mkdir()  # a folder where the file should be
    p = quiz.Progress()
    assert p.warnings and "fallback" in p.path.name
    quiz.Leitner(p).answer("conv-001", True, 1.0)
    p.save()
    assert quiz.Progress(p.path).cards["conv-001"]["box"] == 2
    assert _progress_env.is_dir()


def test_link_anchors_drop_inline_code_marks_as_jupyterlab_does():
    """JupyterLab's heading id is the rendered text: "10. Serving: the `predict` command" has
    the id ``10.-Serving:-the-predict-command``, so a link keeping the backticks goes nowhere."""
    link = quiz.ref_link({"notebook": "07_compression_and_deployment",
                          "section": "10. Serving: the `predict` command"})
    assert link.startswith('<a href="07_compression_and_deployment.ipynb#10.-Serving:-the-predict-command">')
    assert "`predict`" in link  # the label keeps the heading as written
