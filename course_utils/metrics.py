"""Evaluation from scratch (notebook 05): what a reported number means.

Every function here is written with NumPy from its definition and tested against
scikit-learn (``tests/test_metrics.py``: hundreds of random cases and the edge cases: a
class never predicted, a class absent from the labels, tied scores, a single class). In
practice use scikit-learn: the notebook shows each library call beside ours.

Inputs may be lists, NumPy arrays or torch tensors. Labels are integers ``0 .. K-1``;
``scores`` are any real numbers (higher = more confident), ``probs`` rows of
probabilities that sum to 1. Undefined ratios (0/0, e.g. the precision of a class that is
never predicted) are replaced by ``zero_division`` (0.0 by default, as scikit-learn does,
with the choice made explicit here).

Contents: :func:`confusion_matrix`, :func:`precision_recall_f1`, :func:`f1_score`,
:func:`accuracy`, :func:`balanced_accuracy`, :func:`top_k_accuracy`,
:func:`precision_recall_curve`, :func:`average_precision`, :func:`roc_curve`,
:func:`roc_auc`, :func:`reliability_curve`, :func:`expected_calibration_error`,
:func:`aggregate_by_video` (clip-level to video-level) and :func:`group_split`
(a train/test split that keeps each source video on one side).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.validate import check_bool

__all__ = [
    "accuracy",
    "aggregate_by_video",
    "average_precision",
    "balanced_accuracy",
    "confusion_matrix",
    "expected_calibration_error",
    "f1_score",
    "group_split",
    "precision_recall_curve",
    "precision_recall_f1",
    "reliability_curve",
    "roc_auc",
    "roc_curve",
    "top_k_accuracy",
]

AVERAGES = (None, "macro", "micro", "weighted")


# ------------------------------------------------------------------ input checks
def _array(x: object, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # noqa: BLE001
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from exc
    if arr.dtype == object:
        raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__} of objects")
    return arr


def _labels(x: object, name: str) -> np.ndarray:
    """A non-empty 1-D array of non-negative integer labels."""
    arr = _array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (N,), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: a metric of an empty batch is undefined")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {int(arr.min())}")
    return arr.astype(np.int64)


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}")


def _num_classes(num_classes: int | None, *arrays: np.ndarray) -> int:
    seen = max(int(a.max()) for a in arrays) + 1
    if num_classes is None:
        return seen
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int or None, got {num_classes!r}")
    if seen > num_classes:
        raise ValueError(f"num_classes={num_classes} but the labels go up to {seen - 1}")
    return int(num_classes)


def _scores_2d(x: object, name: str) -> np.ndarray:
    arr = _array(x, name).astype(np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, K), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: a metric of an empty batch is undefined")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _probs(x: object, name: str = "probs", atol: float = 1e-6) -> np.ndarray:
    arr = _scores_2d(x, name)
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"{name} must hold probabilities in [0, 1] (apply softmax to logits first)")
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > atol)
    if bad.size:
        raise ValueError(
            f"the rows of {name} must sum to 1 (apply softmax to logits first); "
            f"row {int(bad[0])} sums to {sums[bad[0]]:.6g}"
        )
    return arr


def _binary(y_true: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(y_true, "y_true")
    if y.max() > 1:
        raise ValueError("y_true must be binary (0 = negative, 1 = positive) for this curve; "
                         "for K classes, compare one class against the rest: (y_true == k)")
    s = _array(scores, "scores").astype(np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (N,) for a binary curve, got shape {s.shape}")
    _same_length(y, s, "y_true", "scores")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite (no NaN or inf)")
    return y, s


def _zero_division(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (value in (0, 1) or np.isnan(value)):
        raise ValueError(f"zero_division must be 0.0, 1.0 or nan, got {value!r}")
    return float(value)


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, zero_division, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


# ------------------------------------------------------------------ counts
def confusion_matrix(y_true: object, y_pred: object, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j`` (notebook 05).

    Rows are the truth, columns the prediction (scikit-learn's convention). Returns int64
    (K, K) with K = ``num_classes`` (default: the largest label seen + 1), so a class that
    is absent or never predicted still has its row and column.
    """
    y, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(y, p, "y_true", "y_pred")
    k = _num_classes(num_classes, y, p)
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def accuracy(y_true: object, y_pred: object) -> float:
    """Fraction of samples predicted right: ``trace(C) / N``."""
    y, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(y, p, "y_true", "y_pred")
    return float(np.mean(y == p))


def precision_recall_f1(
    y_true: object,
    y_pred: object,
    num_classes: int | None = None,
    average: str | None = None,
    zero_division: float = 0.0,
) -> tuple:
    """Precision, recall, F1 per class (``average=None``) or averaged (notebook 05).

    Per class ``k``: ``P = TP / (TP + FP)`` (of the clips predicted ``k``, the share that
    are ``k``), ``R = TP / (TP + FN)``, ``F1 = 2 TP / (2 TP + FP + FN)`` (the harmonic mean
    of P and R, written so that it is defined whenever either is). A 0/0 becomes
    ``zero_division``.

    ``average``: ``"macro"`` (plain mean over the K classes: every class counts the same),
    ``"micro"`` (pool the counts of all classes first: for single-label data P = R = F1 =
    accuracy), ``"weighted"`` (mean weighted by each class's support, its number of true
    samples).

    Returns ``(precision, recall, f1, support)``: arrays (K,) per class, or three floats and
    the total support when averaged. Matches ``sklearn.metrics.precision_recall_fscore_support``
    with ``labels=range(K)``.
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    zd = _zero_division(zero_division)
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp  # predicted k, truly something else
    fn = cm.sum(axis=1) - tp  # truly k, predicted something else
    support = cm.sum(axis=1)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    precision = _divide(tp, tp + fp, zd)
    recall = _divide(tp, tp + fn, zd)
    f1 = _divide(2 * tp, 2 * tp + fp + fn, zd)
    if average is None:
        return precision, recall, f1, support
    if average == "micro":
        return float(precision), float(recall), float(f1), int(support.sum())
    if average == "macro":
        weights = np.ones_like(precision)
    else:  # weighted
        weights = support.astype(np.float64)
        if weights.sum() == 0:
            return zd, zd, zd, 0
    avg = [float(np.average(v, weights=weights)) for v in (precision, recall, f1)]
    return avg[0], avg[1], avg[2], int(support.sum())


def f1_score(y_true: object, y_pred: object, num_classes: int | None = None,
             average: str | None = "macro", zero_division: float = 0.0):  # fmt: skip
    """F1 alone, macro-averaged by default (see :func:`precision_recall_f1`)."""
    return precision_recall_f1(y_true, y_pred, num_classes, average, zero_division)[2]


def balanced_accuracy(y_true: object, y_pred: object) -> float:
    """Mean recall over the classes present in ``y_true`` (notebook 05).

    Each class weighs the same however rare it is; a constant prediction scores 1/K.
    (Classes only predicted, never true, have no recall and are left out, as in
    ``sklearn.metrics.balanced_accuracy_score``.)
    """
    cm = confusion_matrix(y_true, y_pred)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def top_k_accuracy(y_true: object, scores: object, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores (notebook 05).

    ``scores`` (N, K). Ties are broken in favour of the higher class index (what a stable
    ascending sort read backwards gives, as in ``sklearn.metrics.top_k_accuracy_score``).
    """
    s = _scores_2d(scores, "scores")
    y = _labels(y_true, "y_true")
    _same_length(y, s, "y_true", "scores")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if y.max() >= s.shape[1]:
        raise ValueError(f"y_true holds label {int(y.max())} but scores has only {s.shape[1]} columns")
    order = np.argsort(s, axis=1, kind="stable")[:, ::-1]  # best first
    return float(np.mean((order[:, :k] == y[:, None]).any(axis=1)))


# ------------------------------------------------------------------ ranking curves
def _counts_at_thresholds(y: np.ndarray, s: np.ndarray):
    """TP and FP counts when predicting positive for ``score >= threshold``, one per distinct score."""
    order = np.argsort(s, kind="stable")[::-1]  # descending scores
    y, s = y[order], s[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # tied scores move together
    tps = np.cumsum(y, dtype=np.float64)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    return tps, fps, s[last_of_tie]


def precision_recall_curve(y_true: object, scores: object):
    """Precision and recall at every distinct threshold of a binary score (notebook 05).

    Predict positive when ``score >= threshold``. Tied scores cross the threshold
    together, so each distinct score is one point. Returns ``(precision, recall,
    thresholds)`` as in ``sklearn.metrics.precision_recall_curve``: thresholds increasing;
    precision and recall with one extra final point ``(1, 0)`` (no prediction at all).
    Without any positive label, recall is set to 1 everywhere.
    """
    y, s = _binary(y_true, scores)
    tps, fps, thr = _counts_at_thresholds(y, s)
    precision = _divide(tps, tps + fps, 0.0)
    recall = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thr[::-1]


def average_precision(y_true: object, scores: object) -> float:
    """Area under the precision-recall step curve: ``sum_n (R_n - R_{n-1}) P_n`` (notebook 05).

    Binary ``y_true`` (N,) with scores (N,); or labels ``0..K-1`` with scores (N, K): the
    mean over classes of the one-vs-rest AP (macro, as ``sklearn.metrics.average_precision_score``
    with one-hot labels). No interpolation (unlike the 11-point VOC AP).
    """
    s = _array(scores, "scores")
    if s.ndim == 2:
        s2 = _scores_2d(s, "scores")
        y = _labels(y_true, "y_true")
        _same_length(y, s2, "y_true", "scores")
        if y.max() >= s2.shape[1]:
            raise ValueError(f"y_true holds label {int(y.max())} but scores has only {s2.shape[1]} columns")
        return float(np.mean([average_precision((y == k).astype(np.int64), s2[:, k]) for k in range(s2.shape[1])]))
    precision, recall, _ = precision_recall_curve(y_true, scores)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def roc_curve(y_true: object, scores: object, drop_intermediate: bool = True):
    """False and true positive rates at every distinct threshold (notebook 05).

    Returns ``(fpr, tpr, thresholds)`` starting at ``(0, 0)`` with threshold ``+inf``, as
    ``sklearn.metrics.roc_curve``. A group of tied scores moves FP and TP together: a
    diagonal segment (half credit for the tied pairs in the area). ``drop_intermediate``
    removes points in the middle of straight runs (the curve and its area are unchanged).
    Needs both classes in ``y_true``.
    """
    check_bool("drop_intermediate", drop_intermediate)
    y, s = _binary(y_true, scores)
    if y.min() == y.max():
        raise ValueError("y_true must contain both classes (0 and 1) for a ROC curve")
    tps, fps, thr = _counts_at_thresholds(y, s)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        tps, fps, thr = tps[keep], fps[keep], thr[keep]
    tps, fps, thr = np.r_[0.0, tps], np.r_[0.0, fps], np.r_[np.inf, thr]
    return fps / fps[-1], tps / tps[-1], thr


def roc_auc(y_true: object, scores: object) -> float:
    """Area under the ROC curve (trapezoids) (notebook 05).

    Equals the probability that a random positive scores higher than a random negative,
    ties counting one half (the Mann-Whitney statistic). Binary ``y_true`` with scores
    (N,); or labels ``0..K-1`` with ``probs`` (N, K) whose rows sum to 1: the macro mean
    of one-vs-rest AUCs (``sklearn.metrics.roc_auc_score(..., multi_class="ovr")``).
    """
    s = _array(scores, "scores")
    if s.ndim == 2:
        p = _probs(s, "scores")
        y = _labels(y_true, "y_true")
        _same_length(y, p, "y_true", "scores")
        if y.max() >= p.shape[1]:
            raise ValueError(f"y_true holds label {int(y.max())} but scores has only {p.shape[1]} columns")
        return float(np.mean([roc_auc((y == k).astype(np.int64), p[:, k]) for k in range(p.shape[1])]))
    fpr, tpr, _ = roc_curve(y_true, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


# ------------------------------------------------------------------ calibration
def reliability_curve(y_true: object, probs: object, n_bins: int = 10):
    """Confidence vs accuracy in ``n_bins`` equal-width bins of confidence (notebook 05).

    The confidence of a prediction is its top probability ``max_k probs[i, k]``; bin ``b``
    holds the confidences in ``(b/n, (b+1)/n]`` (the first bin also holds 0). Returns
    ``(accuracy, confidence, counts)``, three arrays (n_bins,): the accuracy and the mean
    confidence of each bin (NaN for an empty bin) and its number of samples.
    """
    p = _probs(probs, "probs")
    y = _labels(y_true, "y_true")
    _same_length(y, p, "y_true", "probs")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / counts
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / counts
    return acc, mean_conf, counts


def expected_calibration_error(y_true: object, probs: object, n_bins: int = 10) -> float:
    """ECE: ``sum_b (|B_b| / N) |acc(B_b) - conf(B_b)|`` over the bins of :func:`reliability_curve`.

    0 for a perfectly calibrated model (among the predictions made with 80% confidence,
    80% are right). Guo et al. (2017) use 15 bins; the number depends on the bins chosen,
    so report them.
    """
    acc, conf, counts = reliability_curve(y_true, probs, n_bins)
    full = counts > 0
    return float(np.sum(counts[full] / counts.sum() * np.abs(acc[full] - conf[full])))


# ------------------------------------------------------------------ protocol
def aggregate_by_video(scores: object, video_ids: object, labels: object | None = None):
    """Average the scores of all clips of each video: clip level to video level (notebook 05).

    ``scores`` (N, K) (logits or probabilities of N clips), ``video_ids`` (N,) integers.
    Returns ``(ids, video_scores)`` with ``ids`` the sorted distinct video ids (V,) and
    ``video_scores`` (V, K) the mean over each video's clips; with ``labels`` (N,) also
    the video labels (V,) (every clip of a video must carry the video's label).
    """
    s = _scores_2d(scores, "scores")
    v = _labels(video_ids, "video_ids")
    _same_length(v, s, "video_ids", "scores")
    ids, inverse = np.unique(v, return_inverse=True)
    sums = np.zeros((len(ids), s.shape[1]))
    np.add.at(sums, inverse, s)
    video_scores = sums / np.bincount(inverse)[:, None]
    if labels is None:
        return ids, video_scores
    y = _labels(labels, "labels")
    _same_length(v, y, "video_ids", "labels")
    video_labels = np.zeros(len(ids), dtype=np.int64)
    video_labels[inverse] = y
    if np.any(video_labels[inverse] != y):
        raise ValueError("labels must be the same for every clip of a video")
    return ids, video_scores, video_labels


def group_split(groups: object, test_fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split that never puts one group on both sides (notebook 05).

    ``groups`` (N,) integers, e.g. the source video of each clip: whole groups are drawn at
    random for the test side until ``test_fraction`` of the groups are there. Returns
    ``(train_idx, test_idx)``. (scikit-learn: ``GroupShuffleSplit`` / ``GroupKFold``.)
    """
    g = _labels(groups, "groups")
    if not isinstance(test_fraction, int | float) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    ids = np.unique(g)
    if len(ids) < 2:
        raise ValueError("groups must contain at least 2 distinct groups to split")
    rng = np.random.default_rng(seed)
    n_test = min(max(1, round(test_fraction * len(ids))), len(ids) - 1)
    test_groups = rng.choice(ids, size=n_test, replace=False)
    is_test = np.isin(g, test_groups)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _check_sequence(x: Sequence, name: str) -> None:  # pragma: no cover - kept for symmetry
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} must be a sequence")
