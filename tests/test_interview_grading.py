"""Grading of course_utils.interview: spot-the-bug alternatives and partial feedback,
system-design self-grading, on a small bank in a temporary folder."""

from __future__ import annotations

import pytest
from interview_fixtures import BUG, DESIGN, small_bank  # noqa: F401  (fixture)

from course_utils import interview
from course_utils.interview import text


def test_line_lists_are_grammatical_in_both_languages():
    assert text.expected_lines([4]) == "The faulty line is 4."
    assert text.expected_lines([4, 2]) == "The faulty lines are 2 and 4."
    assert text.expected_lines([2, 3, 4]) == "The faulty lines are 2, 3 and 4."
    assert text.expected_lines([2, 4], "zh") == "有错误的行是第 2、4 行。"
    assert text.lines_phrase([5]) == "line 5" and text.lines_phrase([1, 5]) == "lines 1 and 5"


@pytest.mark.usefixtures("small_bank")
def test_bug_accepts_the_canonical_set_and_every_alternative():
    q = interview.get_question("gan-901")
    canonical = interview.grade(q, "3")
    assert canonical.correct and canonical.message.startswith("The faulty line is 3.")
    assert "Also accepted: line 2; lines 2 and 4." in canonical.message
    alt = interview.grade(q, [2])
    assert alt.correct and alt.message.startswith("The faulty line is 2.") and alt.detail["accepted"] == 1
    assert interview.grade(q, "4, 2").correct and interview.grade(q, "2 4").detail["accepted"] == 2
    # wrong sets: a line of no accepted answer, and mixtures of two answers
    assert interview.grade(q, "5").outcome == "incorrect"
    assert interview.grade(q, "2, 3").outcome == "incorrect"
    assert interview.grade(q, "1").outcome == "incorrect"


@pytest.mark.usefixtures("small_bank")
def test_each_accepted_fix_replaces_its_own_lines():
    q = interview.get_question("gan-901")
    assert "d_fake = D(fake.detach())" in q.fixed_code()
    assert "fake = G(z).detach()" in q.fixed_code(0) and "D(fake)" in q.fixed_code(0)
    both = q.fixed_code(1)
    assert "loss = bce(D(fake.detach()), zeros)" in both and "fake = G(z)\n" in both
    assert [a["bug_lines"] for a in q.accepted_answers()] == [[3], [2], [2, 4]]
    with pytest.raises(ValueError, match="alternative"):
        q.fixed_code(2)


@pytest.mark.usefixtures("small_bank")
def test_partly_right_answers_say_which_lines_were_right():
    q = interview.get_question("gan-901")
    res = interview.grade(q, "4")  # part of the answer {2, 4}
    assert res.outcome == "incorrect"
    assert res.message.startswith("Right: line 4. Missing: line 2. The faulty lines are 2 and 4.")
    res = interview.grade(q, "2, 4, 5")
    assert res.message.startswith("Right: lines 2 and 4. Not faulty: line 5. The faulty lines are 2 and 4.")
    res = interview.grade(q, "1, 5")
    assert res.message.startswith("Not faulty: lines 1 and 5. The faulty line is 3.")
    assert "Missing" not in res.message and "Right" not in res.message
    both = interview.grade(q, "2, 3")  # two accepted answers at once
    assert both.outcome == "incorrect" and both.message.startswith(
        "Lines 2 and 3 are different fixes of the same bug: give one of them. The faulty line is 3."
    )
    assert "是同一个错误的不同改法" in interview.grade(q, "2 3", "zh").message
    zh = interview.grade(q, "4", "zh")
    assert "找对了：第 4 行。" in zh.message and "漏掉了：第 2 行。" in zh.message
    assert "有错误的行是第 2、4 行。" in zh.message


def test_bug_items_without_alternatives_grade_as_before():
    q = interview.get_question("att-005")  # the real bank: lines 2, 3 and 4
    assert interview.grade(q, "2 3 4").message == "The faulty lines are 2, 3 and 4."
    part = interview.grade(q, "2, 3")
    assert part.outcome == "incorrect"
    assert part.message == "Right: lines 2 and 3. Missing: line 4. The faulty lines are 2, 3 and 4."


@pytest.mark.usefixtures("small_bank")
def test_design_is_self_graded_against_the_rubric():
    q = interview.get_question("sys-901")
    n = len(DESIGN["rubric"]["en"])  # 7 points: 5 needed (70 %)
    five = interview.grade(q, "1 2 3 4 5")
    assert five.correct and five.score == pytest.approx(5 / n)
    assert "5 of 7 points (71%)" in five.message and "Not covered: 6. scale; 7. evaluation." in five.message
    four = interview.grade(q, [1, 2, 3, 7])
    assert four.outcome == "incorrect" and four.score == pytest.approx(4 / n)
    ticks = [True, True, True, True, True, True, True]
    full = interview.grade(q, ticks)
    assert full.correct and full.score == 1.0 and "Not covered" not in full.message
    none = interview.grade(q, "0")
    assert none.outcome == "incorrect" and none.score == 0.0
    assert interview.grade(q, [False] * n).score == 0.0
    for bad in ("", "8", "one", True):
        res = interview.grade(q, bad)
        assert res.outcome == "invalid" and "between 1 and 7" in res.message, bad
    assert interview.grade(q, [True, False]).outcome == "invalid"
    zh = interview.grade(q, "1 2", "zh")
    assert "你答到了 7 个要点中的 2 个" in zh.message and "规模" in zh.message


@pytest.mark.usefixtures("small_bank")
def test_design_pass_mark_is_seventy_percent():
    q = interview.get_question("sys-901")
    scores = {k: interview.grade(q, list(range(1, k + 1)) or "0").correct for k in range(8)}
    assert [k for k, ok in scores.items() if ok] == [5, 6, 7]
    assert interview.DESIGN_PASS == 0.7


def test_code_verdicts_speak_the_learners_language():
    q = interview.get_question("conv-012")
    assert interview.grade(q, "x = 1", "zh").message.startswith("请定义名为")
    assert "无法运行" in interview.grade(q, "def conv_output_size(:\n", "zh").message
    assert interview.grade(q, q.raw["solution"], "zh").message == "全部测试通过。"


def test_invalid_messages_do_not_mention_terminal_words():
    for qid, bad in [("conv-002", "lots"), ("conv-007", "Z"), ("att-005", "99"), ("gan-001", "maybe")]:
        for lang in ("en", "zh"):
            msg = interview.grade(interview.get_question(qid), bad, lang).message
            assert "skip" not in msg and "quit" not in msg, msg
