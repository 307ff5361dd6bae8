"""course_utils.metrics against scikit-learn: >= 200 random cases per metric plus edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning

from course_utils import metrics as M

CASES = 200
TOL = 1e-9


def _random_labels(rng, n_min=1, n_max=60, k_max=6):
    """Labels and predictions with the awkward cases drawn often: classes absent, never predicted."""
    k = int(rng.integers(2, k_max + 1))
    n = int(rng.integers(n_min, n_max + 1))
    y = rng.integers(0, k, n)
    p = rng.integers(0, k, n)
    if rng.random() < 0.3:  # a class never predicted
        p[p == k - 1] = 0
    if rng.random() < 0.3:  # a class absent from the labels
        y[y == 1] = 0
    if rng.random() < 0.2:  # mostly right
        p = np.where(rng.random(n) < 0.8, y, p)
    return y, p, k


def _random_scores(rng, n, ties):
    s = rng.normal(size=n)
    if ties:  # few distinct values: many tied scores
        s = np.round(s * rng.integers(1, 3)) / 2
    return s


@pytest.fixture(autouse=True)
def _quiet_sklearn():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


# ------------------------------------------------------------------ counts
def test_confusion_matrix_random():
    rng = np.random.default_rng(0)
    for _ in range(CASES):
        y, p, k = _random_labels(rng)
        ours = M.confusion_matrix(y, p, num_classes=k)
        assert np.array_equal(ours, skm.confusion_matrix(y, p, labels=range(k)))


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
def test_precision_recall_f1_random(average):
    rng = np.random.default_rng(1)
    for i in range(CASES):
        y, p, k = _random_labels(rng)
        zero_division = float(i % 2)
        ours = M.precision_recall_f1(y, p, num_classes=k, average=average, zero_division=zero_division)
        ref = skm.precision_recall_fscore_support(
            y, p, labels=range(k), average=average, zero_division=zero_division
        )
        for a, b in zip(ours[:3], ref[:3], strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
        if average is None:
            assert np.array_equal(ours[3], ref[3])
        assert np.isclose(M.f1_score(y, p, k, average, zero_division), ref[2], rtol=0, atol=TOL).all()


def test_accuracy_and_balanced_accuracy_random():
    rng = np.random.default_rng(2)
    for _ in range(CASES):
        y, p, k = _random_labels(rng)
        assert abs(M.accuracy(y, p) - skm.accuracy_score(y, p)) < TOL
        assert abs(M.balanced_accuracy(y, p) - skm.balanced_accuracy_score(y, p)) < TOL


def test_top_k_random_with_ties():
    rng = np.random.default_rng(3)
    for i in range(CASES):
        k_classes = int(rng.integers(3, 8))
        n = int(rng.integers(1, 50))
        s = _random_scores(rng, n * k_classes, ties=i % 2 == 0).reshape(n, k_classes)
        y = rng.integers(0, k_classes, n)
        for k in (1, 2, 3):
            ref = skm.top_k_accuracy_score(y, s, k=k, labels=range(k_classes))
            assert abs(M.top_k_accuracy(y, s, k) - ref) < TOL


# ------------------------------------------------------------------ curves
def test_precision_recall_curve_and_average_precision_random():
    rng = np.random.default_rng(4)
    for i in range(CASES):
        n = int(rng.integers(2, 60))
        y = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
        if y.sum() == 0:
            y[0] = 1
        s = _random_scores(rng, n, ties=i % 2 == 0)
        for a, b in zip(M.precision_recall_curve(y, s), skm.precision_recall_curve(y, s), strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
        assert abs(M.average_precision(y, s) - skm.average_precision_score(y, s)) < TOL


def test_average_precision_multiclass_random():
    rng = np.random.default_rng(5)
    for _ in range(CASES):
        k = int(rng.integers(3, 6))
        n = int(rng.integers(k, 40))
        y = np.r_[np.arange(k), rng.integers(0, k, n - k)]  # every class present
        s = rng.normal(size=(n, k))
        ref = skm.average_precision_score(np.eye(k)[y], s, average="macro")
        assert abs(M.average_precision(y, s) - ref) < TOL


def test_roc_curve_and_auc_random_with_ties():
    rng = np.random.default_rng(6)
    for i in range(CASES):
        n = int(rng.integers(2, 60))
        y = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
        y[0], y[-1] = 0, 1  # both classes
        s = _random_scores(rng, n, ties=i % 2 == 0)
        for drop in (True, False):
            for a, b in zip(M.roc_curve(y, s, drop), skm.roc_curve(y, s, drop_intermediate=drop), strict=True):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
        assert abs(M.roc_auc(y, s) - skm.roc_auc_score(y, s)) < TOL
        # the Mann-Whitney reading: P(score_pos > score_neg) + 0.5 P(tie)
        pos, neg = s[y == 1], s[y == 0]
        mw = ((pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean())
        assert abs(M.roc_auc(y, s) - mw) < TOL


def test_roc_auc_multiclass_ovr_random():
    rng = np.random.default_rng(7)
    for _ in range(CASES):
        k = int(rng.integers(3, 6))
        n = int(rng.integers(2 * k, 50))
        y = np.r_[np.arange(k), rng.integers(0, k, n - k)]
        p = torch.softmax(torch.from_numpy(rng.normal(size=(n, k))), 1).numpy()
        ref = skm.roc_auc_score(y, p, multi_class="ovr", average="macro")
        assert abs(M.roc_auc(y, p) - ref) < TOL


# ------------------------------------------------------------------ calibration
def _ece_loop(y, p, n_bins):
    conf, pred = p.max(1), p.argmax(1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs((pred[inside] == y[inside]).mean() - conf[inside].mean())
    return total


def test_reliability_curve_and_ece_random():
    rng = np.random.default_rng(8)
    for _ in range(CASES):
        k = int(rng.integers(2, 6))
        n = int(rng.integers(5, 80))
        p = torch.softmax(torch.from_numpy(rng.normal(size=(n, k)) * rng.uniform(0.5, 4)), 1).numpy()
        y = rng.integers(0, k, n)
        n_bins = int(rng.integers(2, 16))
        acc, conf, counts = M.reliability_curve(y, p, n_bins)
        # scikit-learn's calibration_curve on (correct?, confidence): the non-empty bins
        correct = (p.argmax(1) == y).astype(int)
        if 0 < correct.sum() < n:
            prob_true, prob_pred = calibration_curve(correct, p.max(1), n_bins=n_bins)
            full = counts > 0
            np.testing.assert_allclose(acc[full], prob_true, rtol=0, atol=TOL)
            np.testing.assert_allclose(conf[full], prob_pred, rtol=0, atol=TOL)
        assert abs(M.expected_calibration_error(y, p, n_bins) - _ece_loop(y, p, n_bins)) < TOL


# ------------------------------------------------------------------ edge cases
def test_class_never_predicted_and_absent():
    y = np.array([0, 0, 1, 1])
    p = np.array([0, 0, 0, 0])  # class 1 never predicted; class 2 absent everywhere
    for zd in (0.0, 1.0):
        ours = M.precision_recall_f1(y, p, num_classes=3, zero_division=zd)
        ref = skm.precision_recall_fscore_support(y, p, labels=[0, 1, 2], zero_division=zd)
        for a, b in zip(ours, ref, strict=True):
            np.testing.assert_allclose(a, b)
    assert M.precision_recall_f1(y, p, 3)[0][1] == 0.0  # 0/0 -> zero_division, not NaN
    assert np.isnan(M.precision_recall_f1(y, p, 3, zero_division=float("nan"))[0][1])
    assert M.balanced_accuracy(y, p) == skm.balanced_accuracy_score(y, p) == 0.5


def test_single_class():
    y = np.zeros(5, dtype=int)
    assert M.accuracy(y, y) == 1.0
    assert M.balanced_accuracy(y, y) == 1.0
    assert M.confusion_matrix(y, y).tolist() == [[5]]
    assert M.precision_recall_f1(y, y, average="macro")[:3] == (1.0, 1.0, 1.0)
    s = np.linspace(0, 1, 5)
    for a, b in zip(M.precision_recall_curve(y, s), skm.precision_recall_curve(y, s), strict=True):
        np.testing.assert_allclose(a, b)  # no positives: recall 1 everywhere
    with pytest.raises(ValueError, match="both classes"):
        M.roc_curve(y, s)


def test_all_tied_scores_give_auc_one_half():
    y = np.array([0, 1, 0, 1, 1])
    s = np.ones(5)
    assert M.roc_auc(y, s) == skm.roc_auc_score(y, s) == 0.5
    assert abs(M.average_precision(y, s) - 0.6) < TOL  # one threshold: precision = prevalence


def test_top_k_tie_rule_is_documented():
    s = np.array([[1.0, 1.0, 0.0]])
    assert M.top_k_accuracy([1], s, 1) == 1.0  # the higher class index wins a tie
    assert M.top_k_accuracy([0], s, 1) == 0.0


def test_torch_inputs_work():
    y, p = torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0])
    assert M.accuracy(y, p) == pytest.approx(2 / 3)
    assert M.confusion_matrix(y, p).tolist() == [[1, 0], [1, 1]]


def test_aggregate_by_video_and_group_split():
    s = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0], [2.0, 2.0]])
    ids, vs, vl = M.aggregate_by_video(s, [5, 5, 7, 7], [1, 1, 0, 0])
    assert ids.tolist() == [5, 7] and vs.tolist() == [[0.5, 0.5], [1.0, 2.5]] and vl.tolist() == [1, 0]
    groups = np.repeat(np.arange(10), 3)
    tr, te = M.group_split(groups, 0.3, seed=1)
    assert set(groups[tr]).isdisjoint(groups[te]) and len(tr) + len(te) == 30
    assert len(set(groups[te])) == 3


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: M.confusion_matrix([0, 1], [0]), ValueError, "y_true and y_pred"),
        (lambda: M.confusion_matrix([], []), ValueError, "y_true is empty"),
        (lambda: M.confusion_matrix([0, -1], [0, 0]), ValueError, "y_true must hold labels >= 0"),
        (lambda: M.confusion_matrix([0.5, 1], [0, 0]), TypeError, "y_true must hold integer"),
        (lambda: M.confusion_matrix([[0, 1]], [0, 0]), ValueError, "y_true must be 1-D"),
        (lambda: M.confusion_matrix([0, 3], [0, 0], num_classes=2), ValueError, "num_classes=2"),
        (lambda: M.accuracy([0, 1], [0]), ValueError, "same length"),
        (lambda: M.precision_recall_f1([0], [0], average="mean"), ValueError, "average must be"),
        (lambda: M.precision_recall_f1([0], [0], zero_division=0.5), ValueError, "zero_division"),
        (lambda: M.f1_score([0, 1], [1]), ValueError, "same length"),
        (lambda: M.balanced_accuracy([], []), ValueError, "empty"),
        (lambda: M.top_k_accuracy([0, 1], np.zeros((3, 4))), ValueError, "y_true and scores"),
        (lambda: M.top_k_accuracy([0], np.zeros(4)), ValueError, "scores must have shape (N, K)"),
        (lambda: M.top_k_accuracy([0], np.zeros((1, 4)), k=0), ValueError, "k must be"),
        (lambda: M.top_k_accuracy([5], np.zeros((1, 4))), ValueError, "only 4 columns"),
        (lambda: M.top_k_accuracy([], np.zeros((0, 4))), ValueError, "empty"),
        (lambda: M.precision_recall_curve([0, 1], [0.5]), ValueError, "y_true and scores"),
        (lambda: M.precision_recall_curve([0, 2], [0.5, 0.1]), ValueError, "binary"),
        (lambda: M.average_precision([0, 1, 1], [0.1, 0.2]), ValueError, "same length"),
        (lambda: M.average_precision([0, 1], [0.1, np.nan]), ValueError, "finite"),
        (lambda: M.roc_curve([0, 1], [[0.1, 0.2]]), ValueError, "scores must be 1-D"),
        (lambda: M.roc_auc([0, 1, 2], np.full((3, 3), 0.5)), ValueError, "sum to 1"),
        (lambda: M.roc_auc([0, 1], np.eye(3)), ValueError, "y_true and scores"),
        (lambda: M.reliability_curve([0, 1], np.array([[0.5, 0.6], [0.5, 0.5]])), ValueError, "row 0 sums to 1.1"),
        (lambda: M.reliability_curve([0, 1], np.array([[2.0, -1.0], [0.5, 0.5]])), ValueError, "probabilities in [0, 1]"),
        (lambda: M.reliability_curve([0, 1], np.eye(2), n_bins=0), ValueError, "n_bins"),
        (lambda: M.expected_calibration_error([0], np.eye(2)), ValueError, "y_true and probs"),
        (lambda: M.expected_calibration_error([], np.zeros((0, 2))), ValueError, "empty"),
        (lambda: M.aggregate_by_video(np.zeros((3, 2)), [0, 1]), ValueError, "video_ids and scores"),
        (lambda: M.aggregate_by_video(np.zeros((2, 2)), [0, 0], [0, 1]), ValueError, "same for every clip"),
        (lambda: M.group_split([0, 0, 0]), ValueError, "at least 2 distinct"),
        (lambda: M.group_split([0, 1], test_fraction=1.5), ValueError, "test_fraction"),
        (lambda: M.confusion_matrix(["a", "b"], [0, 1]), TypeError, "y_true must hold integer"),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value), str(info.value)
