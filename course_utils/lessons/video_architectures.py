"""Exercises of notebook 05 (video architectures and evaluation).

``from course_utils.lessons import video_architectures as ex``:

* ``ex.to_time_sequences``: regroup tokens (N, T, P, D) -> (N*P, T, D) for time attention;
* ``ex.from_time_sequences``: and back, (N*P, T, D) -> (N, T, P, D);
* ``ex.temporal_shift``: TSM's shift of part of the channels along time;
* ``ex.inflate_kernel``: a 2D kernel inflated to 3D, checked by the boring-video property;
* ``ex.macro_f1``: macro-F1 from a confusion matrix, with classes never predicted;
* ``ex.average_precision``: AP of a binary score, tied scores included;
* ``ex.video_predictions``: clip-level scores to video-level predictions.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_utils.exercises import Case, Exercise, Incorrect, call_learner, compare

__all__ = [
    "average_precision",
    "average_precision_reference",
    "from_time_sequences",
    "from_time_sequences_reference",
    "inflate_kernel",
    "inflate_kernel_reference",
    "macro_f1",
    "macro_f1_reference",
    "temporal_shift",
    "temporal_shift_reference",
    "to_time_sequences",
    "to_time_sequences_reference",
    "video_predictions",
    "video_predictions_reference",
]


def _equal(a, b) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.shape == b.shape
        and bool(torch.allclose(a.double(), b.double(), atol=1e-6))
    )


def _tokens(g, n, t, p, d):
    return torch.randn(n, t, p, d, generator=g)


# ---------------------------------------------------------------- 1. tokens to time sequences
def to_time_sequences_reference(x):
    """(N, T, P, D) -> (N*P, T, D): sequence n*P + p holds patch p of clip n over the T frames."""
    N, T, P, D = x.shape
    return x.transpose(1, 2).reshape(N * P, T, D)  # (N, P, T, D) -> (N*P, T, D)


def _to_time_cases():
    g = torch.Generator().manual_seed(11)
    return [
        Case((_tokens(g, 2, 3, 4, 5),), label="N=2, T=3, P=4, D=5"),
        Case((_tokens(g, 1, 8, 4, 6),), label="one clip"),
        Case((_tokens(g, 3, 4, 4, 2),), label="T = P (the shape alone cannot tell)"),
        Case((_tokens(g, 2, 1, 6, 3),), label="a single frame"),
    ]


def _to_time_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    x = case.args[0]
    N, T, P, D = x.shape
    if received.shape == (N, P, T, D):
        return "You have (N, P, T, D): now merge the first two axes with .reshape(N * P, T, D)."
    if received.shape == (N * T, P, D) and received.shape != expected.shape:
        return "That is the grouping for *space* attention (one sequence per frame). Time attention needs one sequence per patch position: (N*P, T, D)."
    if received.shape != expected.shape:
        return None
    if _equal(received, x.reshape(N * P, T, D)):
        return "A plain reshape has the right shape but cuts the memory in the wrong places: each 'sequence' mixes patches and frames. Move the patch axis next to the clip axis first: x.transpose(1, 2), then reshape."
    if _equal(received, x.permute(2, 0, 1, 3).reshape(P * N, T, D)):
        return "Your sequences are ordered patch-major (p*N + n); keep the clip axis first so that sequence n*P + p is patch p of clip n: x.transpose(1, 2).reshape(N * P, T, D)."
    if _equal(received, x.reshape(N * T, P, D)):
        return "That is the grouping for *space* attention (one sequence per frame). Time attention needs one sequence per patch position."
    return None


to_time_sequences = Exercise(
    "to_time_sequences",
    title="Divided attention, step 1: tokens to time sequences",
    reference=to_time_sequences_reference,
    cases=_to_time_cases,
    diagnose=_to_time_diagnose,
    hints=[
        "Time attention runs over the T frames of one patch position, so the T axis must be the sequence axis and (clip, patch) together the batch axis.",
        "Put the patch axis next to the clip axis, then merge them: x.transpose(1, 2) is (N, P, T, D); .reshape(N * P, T, D).",
    ],
)


# ---------------------------------------------------------------- 2. and back
def from_time_sequences_reference(y, n):
    """(N*P, T, D) -> (N, T, P, D), the inverse of ``to_time_sequences``; ``n`` is N."""
    NP, T, D = y.shape
    return y.reshape(n, NP // n, T, D).transpose(1, 2)  # (N, P, T, D) -> (N, T, P, D)


def _from_time_cases():
    g = torch.Generator().manual_seed(12)
    cases = []
    for (n, t, p, d), label in [
        ((2, 3, 4, 5), "N=2, T=3, P=4, D=5"),
        ((3, 4, 4, 2), "T = P (the shape alone cannot tell)"),
        ((1, 8, 4, 6), "one clip"),
        ((4, 2, 3, 2), "N=4"),
    ]:
        x = _tokens(g, n, t, p, d)
        cases.append(Case((to_time_sequences_reference(x), n), label=label))
    return cases


def _from_time_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    y, n = case.args
    NP, T, D = y.shape
    P = NP // n
    if received.shape == (n, P, T, D) and received.shape != expected.shape:
        return "You have (N, P, T, D): swap the time and patch axes back with .transpose(1, 2)."
    if received.shape != expected.shape:
        return None
    if _equal(received, y.reshape(n, T, P, D)):
        return "A plain reshape to (N, T, P, D) has the right shape but scrambles the tokens: undo the steps in reverse order, reshape to (N, P, T, D) and then transpose(1, 2)."
    if _equal(received, y.reshape(P, n, T, D).permute(1, 2, 0, 3)):
        return "You split the batch axis as (P, N); it was built clip-major, (N, P): y.reshape(N, P, T, D)."
    return None


from_time_sequences = Exercise(
    "from_time_sequences",
    title="Divided attention, step 2: back to (N, T, P, D)",
    reference=from_time_sequences_reference,
    cases=_from_time_cases,
    diagnose=_from_time_diagnose,
    hints=[
        "Undo the two steps of to_time_sequences in reverse order: first split the batch axis, then swap the axes.",
        "y.reshape(n, -1, T, D) is (N, P, T, D); .transpose(1, 2) gives (N, T, P, D).",
    ],
)


# ---------------------------------------------------------------- 3. temporal shift
def temporal_shift_reference(x, fold_div=8):
    """TSM: channels [0, f) take frame t+1's values, [f, 2f) frame t-1's (f = C // fold_div); zeros enter."""
    N, T, C, H, W = x.shape
    f = C // fold_div
    out = torch.zeros_like(x)
    out[:, :-1, :f] = x[:, 1:, :f]  # shifted back in time: frame t sees frame t+1
    out[:, 1:, f : 2 * f] = x[:, :-1, f : 2 * f]  # shifted forward: frame t sees frame t-1
    out[:, :, 2 * f :] = x[:, :, 2 * f :]  # the rest stays
    return out


def _shift_variants(x, fold_div):
    f = x.shape[2] // fold_div
    swapped = torch.zeros_like(x)
    swapped[:, 1:, :f] = x[:, :-1, :f]
    swapped[:, :-1, f : 2 * f] = x[:, 1:, f : 2 * f]
    swapped[:, :, 2 * f :] = x[:, :, 2 * f :]
    yield "swapped", swapped
    rolled = x.clone()
    rolled[:, :, :f] = torch.roll(x[:, :, :f], -1, dims=1)
    rolled[:, :, f : 2 * f] = torch.roll(x[:, :, f : 2 * f], 1, dims=1)
    yield "roll", rolled
    one_way = x.clone()
    one_way[:, :-1, :f] = x[:, 1:, :f]
    one_way[:, -1, :f] = 0
    yield "one_way", one_way
    everything = torch.zeros_like(x)
    everything[:, :-1] = x[:, 1:]
    yield "all", everything
    channel_axis = torch.zeros_like(x)  # shifting along channels instead of time
    channel_axis[:, :, :-1] = x[:, :, 1:]
    yield "channels", channel_axis


_SHIFT_REMARKS = {
    "swapped": "Your two groups move the wrong way: the first C // fold_div channels of frame t should take frame t+1's values (out[:, :-1, :f] = x[:, 1:, :f]), the next group frame t-1's.",
    "roll": "torch.roll wraps around: the last frame receives the first frame's channels. TSM pads with zeros: frames shifted in from outside the clip are 0.",
    "one_way": "Only one group is shifted. TSM shifts f channels back in time AND f channels forward (f = C // fold_div).",
    "all": "You shifted every channel: then no channel keeps the current frame. Shift only 2 * (C // fold_div) channels, keep the rest.",
    "channels": "You shifted along the channel axis (dim 2). The shift moves values between *frames*: dim 1 of (N, T, C, H, W).",
}


def _shift_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    x = case.args[0]
    fold_div = case.args[1] if len(case.args) > 1 else case.kwargs.get("fold_div", 8)
    for name, out in _shift_variants(x, fold_div):
        if _equal(out, received) and not _equal(out, expected):
            return _SHIFT_REMARKS[name]
    return None


def _shift_cases():
    g = torch.Generator().manual_seed(13)
    return [
        Case((torch.randn(2, 4, 8, 3, 3, generator=g),), label="C=8, default fold_div=8: one channel each way"),
        Case((torch.randn(1, 5, 16, 2, 2, generator=g), 4), label="fold_div=4"),
        Case((torch.randn(2, 3, 12, 2, 3, generator=g), 4), label="C=12"),
        Case((torch.randn(1, 1, 8, 2, 2, generator=g), 4), label="a single frame: both groups become 0"),
        Case((torch.randn(2, 6, 10, 1, 1, generator=g), 3), label="C not divisible by fold_div"),
    ]


temporal_shift = Exercise(
    "temporal_shift",
    title="TSM's temporal shift",
    reference=temporal_shift_reference,
    cases=_shift_cases,
    diagnose=_shift_diagnose,
    hints=[
        "Start from out = torch.zeros_like(x) and f = C // fold_div. Three slices to fill along the channel axis: [0, f), [f, 2f), [2f, C).",
        "out[:, :-1, :f] = x[:, 1:, :f] (frame t gets t+1); out[:, 1:, f:2*f] = x[:, :-1, f:2*f] (frame t gets t-1); out[:, :, 2*f:] = x[:, :, 2*f:].",
    ],
)


# ---------------------------------------------------------------- 4. kernel inflation
def inflate_kernel_reference(weight2d, t):
    """(O, I, k, k) -> (O, I, t, k, k): the 2D kernel repeated t times along time, divided by t."""
    return weight2d.unsqueeze(2).repeat(1, 1, t, 1, 1) / t


def _boring_video_error(weight2d, weight3d, t, g):
    """Max |conv3d(boring clip) - conv2d(frame)| with time padded by repeating border frames."""
    o, i, k, _ = weight2d.shape
    frame = torch.randn(2, i, 6, 6, generator=g, dtype=torch.float64)  # (N, C, H, W)
    clip = frame.unsqueeze(2).repeat(1, 1, 5, 1, 1)  # (N, C, T=5, H, W), all frames equal
    pad = t // 2
    clip = torch.cat([clip[:, :, :1]] * pad + [clip] + [clip[:, :, -1:]] * pad, dim=2)
    out3d = F.conv3d(clip, weight3d.double(), padding=(0, k // 2, k // 2))  # (N, O, 5, H, W)
    out2d = F.conv2d(frame, weight2d.double(), padding=k // 2)  # (N, O, H, W)
    return (out3d - out2d.unsqueeze(2)).abs().max().item(), out3d, out2d


def _inflate_judge(answer):
    g = torch.Generator().manual_seed(14)
    name = getattr(answer, "__name__", "your_function")
    for shape, t in [((4, 1, 3, 3), 3), ((6, 4, 3, 3), 3), ((2, 3, 5, 5), 5), ((3, 2, 3, 3), 1)]:
        w2d = torch.randn(*shape, generator=g)
        expected = inflate_kernel_reference(w2d, t)
        received = call_learner(answer, w2d.clone(), t, name=name)
        call = f"{name}(weight of shape {shape}, t={t})"
        if not isinstance(received, torch.Tensor):
            compare(expected, received, where=f"for {call}")
        if tuple(received.shape) != tuple(expected.shape):
            o, i, k, _ = shape
            extra = ""
            if tuple(received.shape) == (o, i, k, k, t):
                extra = " The time axis goes before the spatial ones: Conv3d weights are (O, I, t, k, k)."
            raise Incorrect(f"For {call}: expected shape {tuple(expected.shape)}, received {tuple(received.shape)}.{extra}")
        time_last = w2d.unsqueeze(-1).repeat(1, 1, 1, 1, t) / t
        if t > 1 and _equal(received, time_last) and not _equal(received, expected):
            raise Incorrect(f"For {call}: you added the time axis last. The time axis goes before the spatial ones: Conv3d weights are (O, I, t, k, k), so unsqueeze(2).")
        err, out3d, out2d = _boring_video_error(w2d, received, t, g)
        if err > 1e-5:
            ratio = (out3d.abs().sum() / out2d.abs().sum().clamp_min(1e-12) / out3d.shape[2]).item()
            extra = ""
            if abs(ratio - t) < 1e-3 and t > 1:
                extra = f" Your 3D response is {t} times the 2D one: a temporal window adds up t copies of the frame, so divide the repeated kernel by t."
            elif t > 1 and abs(ratio - 1 / t) < 1e-3:
                extra = " Your response is t times too small: divide by t once (not t squared)."
            raise Incorrect(
                f"For {call}: the boring-video test fails. On a clip of one repeated frame, the "
                f"inflated 3D conv should give exactly the 2D conv's output on that frame; max "
                f"difference {err:.3g}.{extra}"
            )


inflate_kernel = Exercise(
    "inflate_kernel",
    title="I3D kernel inflation (checked by the boring-video property)",
    judge=_inflate_judge,
    expects_function=True,
    solution="""def inflate_kernel(weight2d, t):
    # (O, I, k, k) -> (O, I, t, k, k): repeat along a new time axis, divide by t
    return weight2d.unsqueeze(2).repeat(1, 1, t, 1, 1) / t""",
    hints=[
        "A Conv3d weight is (O, I, t, k, k): add a time axis at position 2 with unsqueeze(2), then repeat it t times.",
        "On a clip of identical frames each temporal window sums t copies of the same 2D response: divide the kernel by t so the sum is the 2D response itself.",
    ],
)


# ---------------------------------------------------------------- 5. macro-F1
def macro_f1_reference(cm):
    """Macro-F1 from a confusion matrix (K, K), rows = true class; a 0/0 F1 counts as 0."""
    cm = cm.double()
    tp = cm.diag()
    fp = cm.sum(0) - tp  # predicted k but truly another class
    fn = cm.sum(1) - tp  # truly k but predicted another class
    denom = 2 * tp + fp + fn
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp_min(1), torch.zeros_like(tp))
    return f1.mean().item()


def _f1_variants(cm):
    cm = cm.double()
    tp, fp, fn = cm.diag(), cm.sum(0) - cm.diag(), cm.sum(1) - cm.diag()
    yield "micro", (tp.sum() / cm.sum()).item()
    with torch.no_grad():
        p = torch.where(tp + fp > 0, tp / (tp + fp).clamp_min(1e-12), torch.zeros_like(tp))
        r = torch.where(tp + fn > 0, tp / (tp + fn).clamp_min(1e-12), torch.zeros_like(tp))
        mp, mr = p.mean(), r.mean()
        yield "f1_of_means", (2 * mp * mr / (mp + mr)).item() if mp + mr > 0 else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn)
        yield "nan", f1.mean().item()
        yield "nanmean", f1[~f1.isnan()].mean().item()
        support = cm.sum(1)
        f1z = torch.nan_to_num(f1)
        yield "weighted", ((f1z * support).sum() / support.sum()).item()


_F1_REMARKS = {
    "micro": "That is micro-F1, which for single-label data equals the accuracy. Macro-F1 is the plain mean of the per-class F1 scores.",
    "f1_of_means": "You took the harmonic mean of the macro precision and macro recall. Macro-F1 averages the per-class F1 scores instead: F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k), then the mean over k.",
    "nan": "Your result is NaN: a class that is never predicted and never present gives 0/0. Count its F1 as 0 (scikit-learn's zero_division=0.0).",
    "nanmean": "You dropped the classes whose F1 is 0/0; count them as 0 so every one of the K classes weighs the same.",
    "weighted": "That is the support-weighted F1. Macro gives every class the same weight 1/K.",
}


def _f1_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    if received != received:  # NaN
        return _F1_REMARKS["nan"]
    for name, value in _f1_variants(case.args[0]):
        same = (value != value and received != received) or abs(value - received) < 1e-9
        if same and abs(value - expected) > 1e-9:
            return _F1_REMARKS[name]
    return None


def _f1_cases():
    return [
        Case((torch.tensor([[5, 1], [2, 4]]),), label="two classes"),
        Case((torch.tensor([[8, 1, 1], [2, 6, 2], [0, 3, 7]]),), label="three classes"),
        Case((torch.tensor([[90, 0], [10, 0]]),), label="class 1 is never predicted"),
        Case((torch.tensor([[3, 1, 0], [2, 4, 0], [0, 0, 0]]),), label="class 2 is absent and never predicted"),
        Case((torch.tensor([[50, 3, 2, 0], [4, 1, 0, 0], [0, 0, 9, 1], [1, 0, 2, 7]]),), label="imbalanced, four classes"),
    ]


macro_f1 = Exercise(
    "macro_f1",
    title="Macro-F1 from a confusion matrix",
    reference=macro_f1_reference,
    cases=_f1_cases,
    diagnose=_f1_diagnose,
    hints=[
        "Per class k: TP = cm[k, k], FP = column k minus TP, FN = row k minus TP (rows are the truth).",
        "F1_k = 2 TP / (2 TP + FP + FN) is defined whenever the class was predicted or present; otherwise count 0. Macro-F1 is the mean over all K classes.",
    ],
)


# ---------------------------------------------------------------- 6. average precision
def average_precision_reference(labels, scores):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n (labels 0/1, scores (N,))."""
    order = torch.argsort(scores, descending=True, stable=True)
    y, s = labels[order].double(), scores[order]
    last = torch.cat([torch.nonzero(s[1:] != s[:-1]).flatten(), torch.tensor([len(s) - 1])])  # end of each tie group
    tp = torch.cumsum(y, 0)[last]
    predicted = (last + 1).double()
    precision, recall = tp / predicted, tp / y.sum()
    recall_prev = torch.cat([torch.zeros(1, dtype=recall.dtype), recall[:-1]])
    return ((recall - recall_prev) * precision).sum().item()


def _ap_variants(labels, scores):
    y = labels.double()
    order = torch.argsort(scores, descending=True, stable=True)
    ys = y[order]
    tp = torch.cumsum(ys, 0)
    prec = tp / torch.arange(1, len(ys) + 1)
    rec = tp / y.sum()
    rec_prev = torch.cat([torch.zeros(1, dtype=rec.dtype), rec[:-1]])
    yield "no_ties", ((rec - rec_prev) * prec).sum().item()
    yield "mean_precision", prec.mean().item()
    yield "precision_at_hits", prec[ys == 1].mean().item()
    r = torch.cat([torch.zeros(1, dtype=rec.dtype), rec])
    p = torch.cat([torch.ones(1, dtype=prec.dtype), prec])
    yield "trapezoid", (torch.diff(r) * (p[1:] + p[:-1]) / 2).sum().item()
    interp = torch.flip(torch.cummax(torch.flip(prec, [0]), 0).values, [0])
    yield "interpolated", ((rec - rec_prev) * interp).sum().item()


_AP_REMARKS = {
    "no_ties": "Your value treats tied scores as if they were ranked: items with equal scores cross the threshold together, so evaluate precision only at the last item of each group of ties.",
    "mean_precision": "That is the mean precision over all ranks. AP weights each precision by the recall gained at that threshold: sum (R_n - R_{n-1}) P_n.",
    "precision_at_hits": "That is AP when no scores are tied, but here some are: the items of a tie group cross the threshold together, so take the precision at the end of each group, weighted by the recall it adds.",
    "trapezoid": "That is the trapezoidal area under the PR curve, which is optimistic (linear interpolation between points is not achievable). AP uses the step sum (R_n - R_{n-1}) P_n.",
    "interpolated": "You interpolated the precision (the max to the right, as in the 11-point PASCAL VOC AP). scikit-learn's AP and this exercise use the plain precision at each threshold.",
}


def _ap_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    for name, value in _ap_variants(*case.args):
        if abs(value - received) < 1e-9 and abs(value - expected) > 1e-9:
            return _AP_REMARKS[name]
    return None


def _ap_cases():
    g = torch.Generator().manual_seed(15)
    cases = [
        Case((torch.tensor([1, 0, 1, 1, 0]), torch.tensor([0.9, 0.8, 0.7, 0.4, 0.2])), label="no ties"),
        Case((torch.tensor([1, 0, 1, 0, 1, 0]), torch.tensor([0.9, 0.9, 0.5, 0.5, 0.5, 0.1])), label="tied scores"),
        Case((torch.tensor([0, 1, 0, 1]), torch.tensor([0.3, 0.3, 0.3, 0.3])), label="all scores tied"),
        Case((torch.tensor([0, 0, 1, 1, 0, 1]), torch.tensor([0.8, 0.6, 0.6, 0.5, 0.3, 0.1])), label="a tie across a positive and a negative"),
    ]
    y = (torch.rand(40, generator=g) < 0.4).long()
    y[0] = 1
    cases.append(Case((y, torch.randint(0, 6, (40,), generator=g).double() / 5), label="40 items, 6 distinct scores"))
    return cases


average_precision = Exercise(
    "average_precision",
    title="Average precision, tied scores included",
    reference=average_precision_reference,
    cases=_ap_cases,
    diagnose=_ap_diagnose,
    hints=[
        "Sort by score, highest first. At each distinct score (the last item of a group of ties), precision = TP / (items so far), recall = TP / all positives.",
        "AP = sum over those thresholds of (recall - previous recall) * precision, starting from recall 0.",
    ],
)


# ---------------------------------------------------------------- 7. video-level predictions
def video_predictions_reference(clip_logits, video_ids, num_videos):
    """Video n's prediction: argmax of the mean softmax probability over its clips. -> (V,) long."""
    probs = clip_logits.softmax(dim=1)  # (N, K)
    sums = torch.zeros(num_videos, probs.shape[1], dtype=probs.dtype).index_add_(0, video_ids, probs)
    counts = torch.bincount(video_ids, minlength=num_videos).clamp_min(1)
    return (sums / counts[:, None]).argmax(dim=1)  # (V,)


def _vp_variants(clip_logits, video_ids, num_videos):
    def mean_of(x):
        sums = torch.zeros(num_videos, x.shape[1], dtype=x.dtype).index_add_(0, video_ids, x)
        return sums / torch.bincount(video_ids, minlength=num_videos).clamp_min(1)[:, None]

    yield "logits", mean_of(clip_logits).argmax(1)
    votes = F.one_hot(clip_logits.argmax(1), clip_logits.shape[1]).double()
    yield "vote", mean_of(votes).argmax(1)
    yield "max", torch.zeros(num_videos, clip_logits.shape[1]).index_reduce_(
        0, video_ids, clip_logits.softmax(1).float(), "amax", include_self=False).argmax(1)


_VP_REMARKS = {
    "logits": "You averaged the logits. Here the clips' softmax probabilities are averaged (a confident clip cannot outvote the others by an arbitrarily large logit).",
    "vote": "That is a majority vote of the clip predictions; average the clips' softmax probabilities instead (a vote throws away how sure each clip was).",
    "max": "You took the most confident clip; average the clips' softmax probabilities instead.",
}


def _vp_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    logits, ids, v = case.args
    if received.shape == (len(ids),) and received.shape != expected.shape:
        return "You returned one prediction per clip; group the clips by video_ids and return one per video: shape (num_videos,)."
    for name, out in _vp_variants(logits, ids, v):
        if received.shape == out.shape and torch.equal(received.long(), out) and not torch.equal(out, expected):
            return _VP_REMARKS[name]
    return None


def _vp_cases():
    g = torch.Generator().manual_seed(16)
    cases = [
        # video 0: two clips mildly for class 0, one clip extremely for class 1 -> probs say 0? see below
        Case((torch.tensor([[2.0, 0.0], [2.0, 0.0], [0.0, 9.0]]), torch.tensor([0, 0, 0]), 1), label="one very confident clip against two"),
        Case((torch.tensor([[1.0, 0.9, 0.0], [0.0, 1.2, 1.1], [1.0, 0.0, 0.95], [3.0, 0.0, 0.0]]), torch.tensor([0, 0, 0, 1]), 2), label="three clips disagree"),
    ]
    logits = torch.randn(30, 4, generator=g) * 2
    ids = torch.arange(30) % 7
    cases.append(Case((logits, ids, 7), label="30 clips of 7 videos, interleaved"))
    logits = torch.randn(12, 3, generator=g) * 4
    cases.append(Case((logits, torch.tensor([0] * 5 + [1] * 3 + [2] * 4), 3), label="videos with 5, 3 and 4 clips"))
    return cases


video_predictions = Exercise(
    "video_predictions",
    title="From clip scores to video predictions",
    reference=video_predictions_reference,
    cases=_vp_cases,
    diagnose=_vp_diagnose,
    hints=[
        "Turn each clip's logits into probabilities (softmax over classes), then average the rows that share a video id.",
        "torch.zeros(num_videos, K).index_add_(0, video_ids, probs) sums the rows per video; divide by torch.bincount(video_ids, minlength=num_videos), then argmax(dim=1).",
    ],
)
