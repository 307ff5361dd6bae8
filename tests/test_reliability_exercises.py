"""Issue 18 / 15: the exercise framework's guarded call of learner code, verdict rendering,
hints past the last one, large-tensor summaries and the staged dtype comparison."""

from __future__ import annotations

import sys

import pytest
import torch

from course_utils.exercises import (
    Case,
    Exercise,
    ____,
    describe,
    markdown_to_html,
    markdown_to_text,
)
from course_utils.lessons import convolution as conv_ex


def _neg(t):
    return -t


neg = Exercise("neg", reference=_neg, cases=[Case((torch.arange(4.0),)), Case((torch.ones(2, 3),))])


def test_learner_nan_inf_is_incorrect_with_the_reason():
    for bad in (float("nan"), float("inf")):
        v = neg.evaluate(lambda t, bad=bad: torch.where(t > 2, bad, -t))
        assert v.outcome == "incorrect" and "non-finite" in v.message, v.message


def test_odd_results_are_the_learners_answer_not_a_checker_error():
    cases = {
        "meta": (lambda t: torch.empty_like(t, device="meta"), "meta"),
        "complex": (lambda t: (-t).to(torch.complex64), "complex"),
        "empty": (lambda t: t[:0], "shape"),
        "float16": (lambda t: (-t).half(), "dtype"),
    }
    for name, (fn, word) in cases.items():
        v = neg.evaluate(fn)
        assert v.outcome == "incorrect" and word in v.message, (name, v.message)
    big = Exercise("big", expected=0.5)
    v = big.evaluate(10**400)
    assert v.outcome == "incorrect" and "too large" in v.message


def test_complex_weight_is_rejected_by_temporal_difference():
    weight = torch.tensor([-1.0 + 2j, 1.0]).reshape(1, 1, 2, 1, 1)
    v = conv_ex.temporal_difference.evaluate(weight)
    assert v.outcome == "incorrect" and "complex" in v.message
    assert conv_ex.temporal_difference.evaluate(conv_ex.temporal_difference_reference).correct


def test_answers_whose_repr_or_getattr_raise_get_a_verdict():
    class BadRepr:
        def __repr__(self):
            raise RuntimeError("boom")

    class BadGetattr:
        def __getattr__(self, name):
            raise RuntimeError("boom")

        def __call__(self, t):
            return BadRepr()

    for answer in (BadRepr(), BadGetattr(), lambda t: BadRepr()):
        v = neg.evaluate(answer)
        assert v.outcome == "incorrect", v
    value_ex = Exercise("v", expected=(1, 2))
    assert value_ex.evaluate(BadRepr()).outcome == "incorrect"


def test_wrapped_loop_and_sys_exit_get_a_verdict():
    def looped(t):
        return -t

    looped.__wrapped__ = looped
    v = neg.evaluate(looped)
    assert v.outcome == "incorrect" and "__wrapped__" in v.message

    def exits(t):
        sys.exit(0)

    v = neg.evaluate(exits)
    assert v.outcome == "incorrect" and "sys.exit" in v.message


def test_in_place_change_of_an_input_is_reported():
    def sneaky(t):
        t.neg_()
        return t

    v = neg.evaluate(sneaky)
    assert v.outcome == "incorrect" and "in place" in v.message and "`t`" in v.message
    assert neg.evaluate(lambda t: -t).correct


def test_interrupt_leaves_the_exercise_usable(capsys):
    calls = []

    def hangs(t):
        calls.append(1)
        torch.set_grad_enabled(False)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        neg.check(hangs)
    assert "Interrupted" in capsys.readouterr().out and torch.is_grad_enabled()
    assert neg.check(lambda t: -t)


def test_not_attempted_says_the_stop_button_interrupts():
    assert "stop button" in neg.evaluate(____).message


def test_verdict_markdown_is_rendered():
    md = "Did you forget a `return` statement? **Careful**: *one* thing.\n```python\nx = 1\n```"
    h = markdown_to_html(md)
    assert "<code>return</code>" in h and "<b>Careful</b>" in h and "<i>one</i>" in h and "`" not in h
    assert "<pre><code>x = 1</code></pre>" in h
    t = markdown_to_text(md)
    assert "`" not in t and "*" not in t and "    x = 1" in t
    v = neg.evaluate(lambda t: None)
    assert "`" not in str(v) and "<code>return</code>" in v._repr_html_()
    assert markdown_to_html("a * b * c and 2*3") == "a * b * c and 2*3"


def test_hint_past_the_last_says_so(capsys):
    e = Exercise("h", expected=1, hints=["first", "second"])
    for level in (3, 0, "2", None):
        e.hint(level)
    out = capsys.readouterr().out
    assert "No more hints" in out and "numbered from 1" in out and "hint number" in out
    assert "**" not in out  # plain text outside Jupyter


def test_large_tensors_are_summarized_and_the_diagnosis_comes_first():
    t = torch.arange(25.0).reshape(5, 5)
    d = describe(t)
    assert "shape (5, 5)" in d and "float32" in d and "[0.0, 1.0, 2.0, ...]" in d
    assert "24.0" not in d
    e = Exercise("id", reference=lambda x, y: x + y, cases=[Case((torch.rand(4, 8, 16), torch.rand(4, 8, 16)))])
    v = e.evaluate(lambda x, y: x - y)
    assert v.message.startswith("Values differ"), v.message
    assert "(4, 8, 16) float32" in v.message and "..." not in v.message.split("The call")[1]


def test_float32_result_for_float64_inputs_is_a_dtype_error():
    e = Exercise("d", reference=lambda x: x * 2, cases=[Case((torch.ones(3, dtype=torch.float64),))])
    v = e.evaluate(lambda x: (x * 2).float())
    assert v.outcome == "incorrect" and "Expected dtype float64" in v.message and "float32" in v.message
