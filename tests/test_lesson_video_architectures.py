"""Exercises of notebook 05: references pass, typical wrong answers fail with their own diagnosis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import metrics as M
from course_utils import quiz
from course_utils import video_models as V
from course_utils.exercises import ____
from course_utils.lessons import video_architectures as ex

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_video_architectures.ipynb"

EXERCISES = {
    "to_time_sequences": ex.to_time_sequences_reference,
    "from_time_sequences": ex.from_time_sequences_reference,
    "temporal_shift": ex.temporal_shift_reference,
    "inflate_kernel": ex.inflate_kernel_reference,
    "macro_f1": ex.macro_f1_reference,
    "average_precision": ex.average_precision_reference,
    "video_predictions": ex.video_predictions_reference,
}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_blank_is_not_attempted_crash_is_reported(name):
    exercise = getattr(ex, name)
    verdict = exercise.evaluate(EXERCISES[name])
    assert verdict.correct, verdict.message
    assert exercise.evaluate(...).outcome == "not attempted"
    assert exercise.evaluate(____).outcome == "not attempted"

    def blank(*args, **kwargs): ...

    def unfinished(*args, **kwargs):
        raise NotImplementedError

    def crashing(*args, **kwargs):
        return 1 / 0

    assert exercise.evaluate(blank).outcome == "not attempted"
    assert exercise.evaluate(unfinished).outcome == "not attempted"
    v = exercise.evaluate(crashing)
    assert v.outcome == "incorrect" and "ZeroDivisionError" in v.message
    assert exercise.evaluate(42).outcome == "incorrect"
    assert exercise.solution_text().startswith("def ")
    assert len(exercise.hints) >= 2


# ------------------------------------------------------------------ references agree with the library
def test_regrouping_references_match_the_zoo_and_invert():
    x = torch.randn(2, 3, 4, 5)
    y = ex.to_time_sequences_reference(x)
    assert torch.equal(y, V.to_time_sequences(x))
    assert torch.equal(y[1 * 4 + 2], x[1, :, 2])  # sequence n*P + p = patch p of clip n
    assert torch.equal(ex.from_time_sequences_reference(y, 2), x)
    assert torch.equal(V.from_time_sequences(y, 2), x)


def test_shift_reference_matches_the_zoo():
    x = torch.randn(2, 5, 16, 3, 3)
    for fold in (2, 4, 8):
        assert torch.equal(ex.temporal_shift_reference(x, fold), V.temporal_shift(x, fold))


def test_inflation_reference_matches_the_zoo():
    torch.manual_seed(0)
    net2d = V.TSN(width=4).eval()
    for m in net2d.modules():  # non-trivial BatchNorm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    net3d = V.inflate_2d_to_3d(net2d, V.CNN3D(width=4)).eval()
    w2d = net2d.cnn.features[0].weight
    assert torch.allclose(net3d.features[1].weight, ex.inflate_kernel_reference(w2d, 3))
    frame = torch.rand(3, 1, 1, 16, 16)
    boring = frame.repeat(1, 8, 1, 1, 1)  # (N, T, C, H, W): one frame repeated
    with torch.no_grad():
        assert torch.allclose(net3d(boring), net2d(boring), atol=1e-5)


def test_metric_references_match_metrics_module():
    rng = np.random.default_rng(0)
    for _ in range(30):
        y = rng.integers(0, 4, 40)
        p = np.where(rng.random(40) < 0.6, y, rng.integers(0, 3, 40))
        cm = torch.from_numpy(M.confusion_matrix(y, p, 4))
        assert abs(ex.macro_f1_reference(cm) - M.f1_score(y, p, 4, "macro")) < 1e-12
        yb = (rng.random(30) < 0.5).astype(int)
        yb[0] = 1
        s = np.round(rng.normal(size=30), 1)
        ref = ex.average_precision_reference(torch.from_numpy(yb), torch.from_numpy(s))
        assert abs(ref - M.average_precision(yb, s)) < 1e-12


def test_video_predictions_reference_matches_aggregate_by_video():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 5, generator=g)
    ids = torch.arange(20) % 6
    _, vs = M.aggregate_by_video(logits.softmax(1), ids)
    assert torch.equal(ex.video_predictions_reference(logits, ids, 6), torch.from_numpy(vs.argmax(1)))


# ------------------------------------------------------------------ typical wrong answers
def _n(x):
    return x.shape[0]


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x: x.reshape(x.shape[0] * x.shape[2], x.shape[1], x.shape[3]), "plain reshape"),
        (lambda x: x.transpose(1, 2), "merge the first two axes"),
        (lambda x: x.permute(2, 0, 1, 3).reshape(-1, x.shape[1], x.shape[3]), "patch-major"),
        (lambda x: x.reshape(x.shape[0] * x.shape[1], x.shape[2], x.shape[3]), "space"),
    ],
    ids=["reshape_only", "no_merge", "patch_major", "space_grouping"],
)
def test_to_time_wrong_answers(answer, words):
    v = ex.to_time_sequences.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda y, n: y.reshape(n, y.shape[1], -1, y.shape[2]), "plain reshape"),
        (lambda y, n: y.reshape(n, -1, y.shape[1], y.shape[2]), "transpose(1, 2)"),
        (lambda y, n: y.reshape(-1, n, y.shape[1], y.shape[2]).permute(1, 2, 0, 3), "clip-major"),
    ],
    ids=["reshape_only", "no_transpose", "patch_major"],
)
def test_from_time_wrong_answers(answer, words):
    v = ex.from_time_sequences.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


def _shift(kind):
    def shift(x, fold_div=8):
        f = x.shape[2] // fold_div
        out = torch.zeros_like(x)
        if kind == "swapped":
            out[:, 1:, :f] = x[:, :-1, :f]
            out[:, :-1, f : 2 * f] = x[:, 1:, f : 2 * f]
            out[:, :, 2 * f :] = x[:, :, 2 * f :]
        elif kind == "roll":
            out = x.clone()
            out[:, :, :f] = torch.roll(x[:, :, :f], -1, dims=1)
            out[:, :, f : 2 * f] = torch.roll(x[:, :, f : 2 * f], 1, dims=1)
        elif kind == "one_way":
            out = x.clone()
            out[:, :-1, :f] = x[:, 1:, :f]
            out[:, -1, :f] = 0
        elif kind == "all":
            out[:, :-1] = x[:, 1:]
        elif kind == "channels":
            out[:, :, :-1] = x[:, :, 1:]
        return out

    return shift


@pytest.mark.parametrize(
    "kind, words",
    [("swapped", "wrong way"), ("roll", "wraps around"), ("one_way", "Only one group"),
     ("all", "every channel"), ("channels", "channel axis")],
)  # fmt: skip
def test_shift_wrong_answers(kind, words):
    v = ex.temporal_shift.evaluate(_shift(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda w, t: w.unsqueeze(2).repeat(1, 1, t, 1, 1), "divide the repeated kernel by t"),
        (lambda w, t: w.unsqueeze(2).repeat(1, 1, t, 1, 1) / t**2, "not t squared"),
        (lambda w, t: w.unsqueeze(-1).repeat(1, 1, 1, 1, t) / t, "time axis goes before"),
        (lambda w, t: w, "expected shape"),
        (lambda w, t: (w.unsqueeze(2).repeat(1, 1, t, 1, 1) / t).numpy(), "torch.Tensor"),
    ],
    ids=["no_division", "t_squared", "time_last", "not_inflated", "numpy"],
)
def test_inflate_wrong_answers(answer, words):
    v = ex.inflate_kernel.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


def test_inflate_accepts_centre_initialization_too():
    """Any kernel whose temporal slices sum to the 2D kernel has the boring-video property."""

    def centre(w, t):
        out = torch.zeros(*w.shape[:2], t, *w.shape[2:])
        out[:, :, t // 2] = w
        return out

    assert ex.inflate_kernel.evaluate(centre).correct


def _f1(kind):
    def f1(cm):
        cm = cm.double()
        tp, fp, fn = cm.diag(), cm.sum(0) - cm.diag(), cm.sum(1) - cm.diag()
        if kind == "micro":
            return (tp.sum() / cm.sum()).item()
        if kind == "f1_of_means":
            p = torch.nan_to_num(tp / (tp + fp))
            r = torch.nan_to_num(tp / (tp + fn))
            return (2 * p.mean() * r.mean() / (p.mean() + r.mean())).item()
        per = 2 * tp / (2 * tp + fp + fn)
        if kind == "nan":
            return per.mean().item()
        if kind == "nanmean":
            return per[~per.isnan()].mean().item()
        if kind == "weighted":
            return ((torch.nan_to_num(per) * cm.sum(1)).sum() / cm.sum()).item()

    return f1


@pytest.mark.parametrize(
    "kind, words",
    [("micro", "micro-F1"), ("f1_of_means", "harmonic mean of the macro"), ("nan", "NaN"),
     ("nanmean", "dropped the classes"), ("weighted", "support-weighted")],
)  # fmt: skip
def test_macro_f1_wrong_answers(kind, words):
    v = ex.macro_f1.evaluate(_f1(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


def _ap(kind):
    def ap(labels, scores):
        for name, value in ex._ap_variants(labels, scores):
            if name == kind:
                return value

    return ap


@pytest.mark.parametrize(
    "kind, words",
    [("no_ties", "tied scores"), ("mean_precision", "mean precision over all ranks"),
     ("trapezoid", "trapezoidal"), ("interpolated", "interpolated")],
)  # fmt: skip
def test_average_precision_wrong_answers(kind, words):
    v = ex.average_precision.evaluate(_ap(kind))
    assert v.outcome == "incorrect" and words in v.message, v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda lo, ids, v: torch.zeros(v, lo.shape[1]).index_add_(0, ids, lo).argmax(1), "averaged the logits"),
        (lambda lo, ids, v: torch.zeros(v, lo.shape[1]).index_add_(0, ids, F.one_hot(lo.argmax(1), lo.shape[1]).float()).argmax(1), "majority vote"),
        (lambda lo, ids, v: lo.argmax(1), "one prediction per clip"),
    ],
    ids=["logits", "vote", "per_clip"],
)
def test_video_predictions_wrong_answers(answer, words):
    v = ex.video_predictions.evaluate(answer)
    assert v.outcome == "incorrect" and words in v.message, v.message


# ------------------------------------------------------------------ end-of-chapter questions
def _question_cells():
    if not NOTEBOOK.exists():
        pytest.skip("notebook 05 is not written yet")
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "show_questions(" in "".join(c["source"])]


def test_notebook_questions_come_from_the_bank_and_match_the_stored_html():
    cells = _question_cells()
    assert cells, "notebook 05 shows no end-of-chapter questions"
    bank = quiz.load_bank()
    for cell in cells:
        ids = re.findall(r"[\"']([a-z]+-\d{3})[\"']", "".join(cell["source"]))
        assert ids and all(i in bank for i in ids), ids
        stored = [
            "".join(o["data"]["text/html"]) for o in cell.get("outputs", []) if "text/html" in o.get("data", {})
        ]
        want = "".join(
            quiz.render_question(quiz.get_question(i), "en", answer=True, html_=True, number=k + 1)
            for k, i in enumerate(ids)
        )
        assert stored == [want], "notebook 05's end-of-chapter questions changed since it was executed"
