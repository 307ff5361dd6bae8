"""Exercises of notebook 02: references pass, typical wrong answers fail with a helpful message."""

from __future__ import annotations

import pytest
import torch

from course_utils.lessons import recurrence as ex

EXERCISES = {
    "rnn_step": (ex.rnn_step, ex.rnn_step_reference),
    "lstm_step": (ex.lstm_step, ex.lstm_step_reference),
    "lstm_params": (ex.lstm_params, ex.lstm_params_reference),
    "grad_norm_after_k": (ex.grad_norm_after_k, ex.grad_norm_after_k_reference),
    "clip_features": (ex.clip_features, ex.clip_features_reference),
}


def incorrect(exercise, answer, *phrases: str) -> str:
    verdict = exercise.evaluate(answer)
    assert verdict.outcome == "incorrect", verdict
    for phrase in phrases:
        assert phrase in verdict.message, (phrase, verdict.message)
    return verdict.message


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes(name):
    exercise, reference = EXERCISES[name]
    verdict = exercise.evaluate(reference)
    assert verdict.correct, verdict
    assert exercise.solution_text().startswith("def ")


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_blank_is_not_attempted(name):
    exercise, _ = EXERCISES[name]

    def blank(*args): ...

    assert exercise.evaluate(...).outcome == "not attempted"
    assert exercise.evaluate(blank).outcome == "not attempted"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_crashing_answer_is_reported_not_raised(name):
    exercise, _ = EXERCISES[name]

    def crash(*args):
        return 1 / 0

    msg = incorrect(exercise, crash, "ZeroDivisionError")
    assert "when called as crash(" in msg


# --------------------------------------------------------------------------- rnn_step
def test_rnn_step_wrong_answers():
    def no_tanh(x, h, W_ih, W_hh, b_ih, b_hh):
        return x @ W_ih.T + b_ih + h @ W_hh.T + b_hh

    def sigmoid(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.sigmoid(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)

    def one_bias(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T)

    def untransposed(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.tanh(x @ W_ih + b_ih + h @ W_hh + b_hh)

    incorrect(ex.rnn_step, no_tanh, "apply tanh")
    incorrect(ex.rnn_step, sigmoid, "sigmoid", "tanh")
    incorrect(ex.rnn_step, one_bias, "both b_ih and b_hh")
    incorrect(ex.rnn_step, untransposed, "W.T")
    msg = incorrect(ex.rnn_step, lambda x, h, *w: h, "Values differ")
    assert "rnn_step" in msg or "lambda" in msg


# -------------------------------------------------------------------------- lstm_step
def _lstm(order="ifgo", acts="ssts", swap_out=False, c_in_gates=False, tanh_on_c=True):
    fns = {"s": torch.sigmoid, "t": torch.tanh}

    def answer(x, h, c, W_ih, W_hh, b_ih, b_hh):
        hh = c if c_in_gates else h
        chunks = dict(
            zip(order, (x @ W_ih.T + b_ih + hh @ W_hh.T + b_hh).chunk(4, dim=1), strict=True)
        )
        act = dict(zip("ifgo", acts, strict=True))
        i, f, g, o = (fns[act[k]](chunks[k]) for k in "ifgo")
        c2 = f * c + i * g
        h2 = o * (torch.tanh(c2) if tanh_on_c else c2)
        return (c2, h2) if swap_out else (h2, c2)

    return answer


def test_lstm_step_reference_shape_of_a_correct_alternative():
    assert ex.lstm_step.evaluate(_lstm()).correct


@pytest.mark.parametrize("order", ["ifog", "fiog", "iofg", "gifo"])
def test_lstm_step_gate_order_swapped(order):
    incorrect(
        ex.lstm_step, _lstm(order=order), "gate order", "[i, f, g, o]", f"[{', '.join(order)}]"
    )


@pytest.mark.parametrize(("acts", "gate"), [("tsts", "i"), ("stts", "f"), ("sstt", "o")])
def test_lstm_step_tanh_where_sigmoid_belongs(acts, gate):
    incorrect(ex.lstm_step, _lstm(acts=acts), "tanh where sigmoid belongs", f"the {gate} gate")


def test_lstm_step_sigmoid_candidate():
    incorrect(ex.lstm_step, _lstm(acts="ssss"), "candidate g uses tanh")


def test_lstm_step_h_and_c_mixed_up():
    incorrect(ex.lstm_step, _lstm(swap_out=True), "h and c are mixed up", "(h_next, c_next)")
    incorrect(ex.lstm_step, _lstm(c_in_gates=True), "h and c are mixed up", "not the cell c")


def test_lstm_step_missing_tanh_on_cell():
    incorrect(ex.lstm_step, _lstm(tanh_on_c=False), "o * tanh(c')")


def test_lstm_step_single_tensor_is_reported():
    def only_h(x, h, c, W_ih, W_hh, b_ih, b_hh):
        return ex.lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh)[0]

    incorrect(ex.lstm_step, only_h, "tuple of 2 items")


# ------------------------------------------------------------------------ lstm_params
def test_lstm_params_wrong_answers():
    def one_bias(i, h, layers=1, bidirectional=False):
        d = 2 if bidirectional else 1
        return sum(d * (4 * h * ((i if k == 0 else d * h) + h) + 4 * h) for k in range(layers))

    def one_gate(i, h, layers=1, bidirectional=False):
        d = 2 if bidirectional else 1
        return sum(d * (h * ((i if k == 0 else d * h) + h) + 2 * h) for k in range(layers))

    def upper_reads_h(i, h, layers=1, bidirectional=False):
        d = 2 if bidirectional else 1
        return sum(d * (4 * h * ((i if k == 0 else h) + h) + 8 * h) for k in range(layers))

    def first_layer_only(i, h, layers=1, bidirectional=False):
        d = 2 if bidirectional else 1
        return d * (4 * h * (i + h) + 8 * h)

    incorrect(ex.lstm_params, one_bias, "two bias vectors")
    incorrect(ex.lstm_params, one_gate, "four gate blocks")
    incorrect(ex.lstm_params, upper_reads_h, "both directions")
    incorrect(ex.lstm_params, first_layer_only, "every layer")
    incorrect(ex.lstm_params, lambda i, h, layers=1, bidirectional=False: "many", "whole number")


# ------------------------------------------------------------------ grad_norm_after_k
def test_grad_norm_after_k_wrong_answers():
    incorrect(
        ex.grad_norm_after_k, lambda lam, g, k: float((lam ** (k + 1) * g).norm()), "Off by one"
    )
    incorrect(
        ex.grad_norm_after_k,
        lambda lam, g, k: float(lam.abs().max() ** k * g.norm()),
        "upper bound",
    )
    incorrect(ex.grad_norm_after_k, lambda lam, g, k: float((lam**k * g).sum()), "Euclidean norm")
    # a tensor scalar is accepted as well as a float
    assert ex.grad_norm_after_k.evaluate(lambda lam, g, k: (lam**k * g).norm()).correct


# ---------------------------------------------------------------------- clip_features
def test_clip_features_wrong_answers():
    incorrect(ex.clip_features, lambda out, h_n: out[:, -1], "backward", "only the last frame")
    incorrect(ex.clip_features, lambda out, h_n: out[:, 0], "only the first frame")
    incorrect(ex.clip_features, lambda out, h_n: h_n[-1], "one direction only")
    incorrect(ex.clip_features, lambda out, h_n: torch.cat([h_n[0], h_n[1]], 1), "first layer")
    incorrect(
        ex.clip_features, lambda out, h_n: torch.cat([h_n[-1], h_n[-2]], 1), "forward state first"
    )
    # the equivalent answer read from `output` is correct
    H = lambda h_n: h_n.shape[-1]  # noqa: E731
    alt = lambda out, h_n: torch.cat([out[:, -1, : H(h_n)], out[:, 0, H(h_n) :]], 1)  # noqa: E731
    assert ex.clip_features.evaluate(alt).correct


def test_rnn_step_backward_reference_matches_autograd_and_gradcheck():
    for case in ex._rnn_backward_cases():
        dh_next, x, h, W_ih, W_hh, _ = case.args
        leaves = [t.clone().requires_grad_() for t in (x, h, W_ih, W_hh)]
        b = torch.zeros(W_hh.shape[0], dtype=torch.float64, requires_grad=True)
        out = torch.tanh(leaves[0] @ leaves[2].T + b + leaves[1] @ leaves[3].T)
        auto = torch.autograd.grad(out, [*leaves, b], dh_next)
        mine = ex.rnn_step_backward_reference(dh_next, x, h, W_ih, W_hh, out.detach())
        assert all(torch.allclose(a, m, atol=1e-10) for a, m in zip(auto, mine, strict=True))
    x, h, W_ih, W_hh = (t.clone().requires_grad_() for t in ex._rnn_backward_cases()[0].args[1:5])
    assert torch.autograd.gradcheck(lambda *t: torch.tanh(t[0] @ t[2].T + t[1] @ t[3].T), (x, h, W_ih, W_hh))


def test_rnn_step_backward_outcomes():
    ref = ex.rnn_step_backward_reference
    assert ex.rnn_step_backward.evaluate(ref).correct

    def blank(dh_next, x, h, W_ih, W_hh, h_next):
        ...

    assert ex.rnn_step_backward.evaluate(blank).outcome == "not attempted"
    crash = ex.rnn_step_backward.evaluate(lambda *a: 1 / 0)
    assert crash.outcome == "incorrect" and "ZeroDivisionError" in crash.message

    def no_tanh(dh, x, h, W_ih, W_hh, hn):
        return dh @ W_ih, dh @ W_hh, dh.T @ x, dh.T @ h, dh.sum(0)

    def tanh_again(dh, x, h, W_ih, W_hh, hn):
        return ref(dh, x, h, W_ih, W_hh, torch.tanh(hn))

    def averaged(dh, x, h, W_ih, W_hh, hn):
        dx, dhh, dwi, dwh, db = ref(dh, x, h, W_ih, W_hh, hn)
        n = dh.shape[0]
        return dx, dhh, dwi / n, dwh / n, db / n

    def transposed(dh, x, h, W_ih, W_hh, hn):
        dx, dhh, dwi, dwh, db = ref(dh, x, h, W_ih, W_hh, hn)
        return dx, dhh, dwi.T, dwh, db

    for wrong, words in [(no_tanh, "skipped the tanh"), (tanh_again, "already is tanh"),
                         (averaged, "averaged"), (transposed, "transposed")]:
        v = ex.rnn_step_backward.evaluate(wrong)
        assert v.outcome == "incorrect" and words in v.message, (wrong.__name__, v.message)
