"""The Exercise API on right, wrong, malformed and crashing answers; notebook 00's exercises."""

import numpy as np
import pytest
import torch

from course_utils.exercises import Case, Exercise, Incorrect, ____, call_learner, compare
from course_utils.lessons import video_data as ex


def _ref(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


size_ex = Exercise("size", reference=_ref, cases=[Case((5, 3)), Case((7, 3), dict(s=2, p=1)), Case((4, 4))], hints=["a", "b"])


def test_right_answer_is_correct():
    v = size_ex.evaluate(lambda n, k, s=1, p=0: (n + 2 * p - k) // s + 1)
    assert v.correct and v.outcome == "correct" and "3 test cases" in v.message


def test_wrong_answer_names_the_case_expected_and_received():
    v = size_ex.evaluate(lambda n, k, s=1, p=0: (n + 2 * p - k) // s)
    assert v.outcome == "incorrect"
    assert "(5, 3)" in v.message and "Expected 3" in v.message and "received 2" in v.message


def test_blank_answers_are_not_attempted():
    def blank(n, k, s=1, p=0):
        ...

    def pass_body(n, k, s=1, p=0):
        """docstring"""
        pass

    def raises(n, k, s=1, p=0):
        raise NotImplementedError

    for answer in (..., ____, blank, pass_body, raises):
        assert size_ex.evaluate(answer).outcome == "not attempted", answer


def test_function_returning_the_blank_is_not_attempted():
    assert size_ex.evaluate(lambda n, k, s=1, p=0: ____).outcome == "not attempted"


def test_none_and_wrong_types_get_their_own_messages():
    v = size_ex.evaluate(None)
    assert v.outcome == "incorrect" and "None" in v.message and "function" in v.message
    v = size_ex.evaluate(42)
    assert v.outcome == "incorrect" and "expects a function" in v.message
    v = size_ex.evaluate(lambda n, k, s=1, p=0: None)
    assert "return" in v.message
    v = size_ex.evaluate(lambda n, k, s=1, p=0: "three")
    assert v.outcome == "incorrect" and "whole number" in v.message


def test_crashing_answer_is_reported_not_raised():
    v = size_ex.evaluate(lambda n, k, s=1, p=0: n // 0)
    assert v.outcome == "incorrect" and "ZeroDivisionError" in v.message and "(5, 3)" in v.message


def test_wrong_signature_is_reported():
    v = size_ex.evaluate(lambda n: n)
    assert v.outcome == "incorrect" and "TypeError" in v.message


def test_bug_in_the_checker_is_a_checker_error():
    broken = Exercise("broken", reference=lambda x: 1 / 0, cases=[Case((1,))])
    v = broken.evaluate(lambda x: x)
    assert v.outcome == "checker error" and "bug in the course" in v.message


def test_value_exercises_and_staged_tensor_comparison():
    e = Exercise("t", expected=torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert e.evaluate(torch.arange(6.0).reshape(2, 3)).correct
    assert "torch.Tensor" in e.evaluate(np.arange(6.0).reshape(2, 3)).message
    assert "dtype" in e.evaluate(torch.arange(6).reshape(2, 3)).message
    assert "shape (2, 3)" in e.evaluate(torch.arange(6.0).reshape(3, 2)).message
    m = e.evaluate(torch.tensor([[0.0, 1, 2], [3, 4, 6]])).message
    assert "index (1, 2)" in m and "expected 5" in m
    assert e.evaluate(None).outcome == "incorrect"


def test_judge_exercises():
    def judge(answer):
        out = call_learner(answer, 3)
        if out != 9:
            raise Incorrect(f"square(3) should be 9, got {out}")

    e = Exercise("sq", judge=judge, expects_function=True)
    assert e.evaluate(lambda x: x * x).correct
    assert "should be 9" in e.evaluate(lambda x: x + x).message
    assert "ValueError" in e.evaluate(lambda x: int("a")).message


def test_compare_handles_containers_and_numbers():
    compare((1, [2.0, 3.0]), (1, [2.0, 3.0000001]))
    with pytest.raises(Incorrect, match="item 1"):
        compare((1, 2), (1, 3))
    with pytest.raises(Incorrect, match="True or False"):
        compare(True, 1)
    with pytest.raises(Incorrect, match="key 'a'"):
        compare({"a": 1}, {"b": 1})
    compare(3, 3.0)
    with pytest.raises(Incorrect, match="whole number 3"):
        compare(3, 3.5)


def test_verdict_renders_rich_and_plain(capsys):
    v = size_ex.evaluate(lambda n, k, s=1, p=0: -1)
    assert "<div" in v._repr_html_() and "Incorrect" in str(v)
    res = size_ex.check(lambda n, k, s=1, p=0: -1)  # outside Jupyter: plain text
    assert "Incorrect" in capsys.readouterr().out and not res


def test_hints_step_through_levels(capsys):
    e = Exercise("h", expected=1, hints=["first", "second"])
    for _ in range(3):
        e.hint()
    out = capsys.readouterr().out
    assert out.index("first") < out.index("second") and out.count("second") == 2
    e.hint(1)
    assert "first" in capsys.readouterr().out
    e.hint(3)  # past the last hint: a message, never a traceback
    assert "No more hints" in capsys.readouterr().out


def test_solution_shows_reference_source(capsys):
    size_ex.solution()
    assert "return (n + 2 * p - k) // s + 1" in capsys.readouterr().out


def test_learner_cannot_change_the_cases_in_place():
    e = Exercise("neg", reference=lambda t: -t, cases=[Case((torch.ones(3),))])

    def sneaky(t):
        t.mul_(0)
        return -t

    assert not e.evaluate(sneaky).correct
    assert e.evaluate(lambda t: -t).correct


def test_exercise_constructor_validates():
    with pytest.raises(ValueError):
        Exercise("x")
    with pytest.raises(ValueError):
        Exercise("x", reference=lambda: 1)
    with pytest.raises(TypeError):
        Exercise("", expected=1)


# ------------------------------------------------------------ notebook 00 exercises
WRONG = {
    "channels_first": [
        lambda v: v.permute(0, 3, 1, 2).float() / 255,  # (T, C, H, W)
        lambda v: v.permute(3, 0, 1, 2).float(),  # not scaled
        lambda v: v.permute(3, 0, 1, 2),  # still uint8
        lambda v: v.reshape(v.shape[3], v.shape[0], v.shape[1], v.shape[2]).float() / 255,  # reshape scrambles
    ],
    "uniform_sampling": [
        lambda n, k: [int(i * n / k) for i in range(k)],
        lambda n, k: [round(i * (n - 1) / max(k - 1, 1)) for i in range(k)],
        lambda n, k: list(range(k)),
    ],
    "batch_bytes": [
        lambda s, d: int(np.prod(s)),
        lambda s, d: int(np.prod(s)) * torch.empty((), dtype=d).element_size() * 8,
        lambda s, d: int(np.prod(s)) * 4,
    ],
    "frame_difference": [
        lambda c: c[1:] - c[:-1],
        lambda c: (c[1:] - c[:-1]).abs().sum(0),
        lambda c: torch.cat([torch.zeros_like(c[:1]), (c[1:] - c[:-1]).abs()]),
    ],
}
REF = {
    "channels_first": ex.channels_first_reference,
    "uniform_sampling": ex.uniform_sampling_reference,
    "batch_bytes": ex.batch_bytes_reference,
    "frame_difference": ex.frame_difference_reference,
}


@pytest.mark.parametrize("name", sorted(REF))
def test_lesson00_reference_passes_and_blank_is_not_attempted(name):
    exercise = getattr(ex, name)
    assert exercise.evaluate(REF[name]).correct
    assert exercise.evaluate(...).outcome == "not attempted"

    def blank(*args):
        ...

    assert exercise.evaluate(blank).outcome == "not attempted"
    assert exercise.evaluate(lambda *a: 1 / 0).outcome == "incorrect"
    assert exercise.hints and exercise.solution_text()


@pytest.mark.parametrize("name, wrong", [(n, w) for n, ws in WRONG.items() for w in ws])
def test_lesson00_typical_wrong_answers_fail_helpfully(name, wrong):
    v = getattr(ex, name).evaluate(wrong)
    assert v.outcome == "incorrect", v
    assert "Expected" in v.message or "expected" in v.message


def test_lesson00_targeted_diagnoses():
    assert "(C, T, H, W)" in ex.channels_first.evaluate(WRONG["channels_first"][0]).message
    assert "255" in ex.channels_first.evaluate(WRONG["channels_first"][1]).message
    assert "centres" in ex.uniform_sampling.evaluate(WRONG["uniform_sampling"][0]).message
    assert "bytes" in ex.batch_bytes.evaluate(WRONG["batch_bytes"][0]).message
    assert "absolute" in ex.frame_difference.evaluate(WRONG["frame_difference"][0]).message
