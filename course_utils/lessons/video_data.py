"""Exercises of notebook 00, *Video as data*.

    from course_utils.lessons import video_data as ex
    ex.channels_first.check(my_function)
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from course_utils.exercises import (
    Case,
    Exercise,
    Incorrect,
    LearnerError,
    call_learner,
    compare,
    describe,
    match_variant,
)

__all__ = [
    "batch_bytes",
    "channels_first",
    "frame_difference",
    "order_test",
    "order_test_reference",
    "read_frame",
    "read_frame_reference",
    "tsn_sampling",
    "tsn_sampling_reference",
    "uniform_sampling",
]


# --------------------------------------------------------------- 1. channels first
def channels_first_reference(video: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) uint8 as decoded by PyAV -> (C, T, H, W) float32 in [0, 1]."""
    return video.permute(3, 0, 1, 2).float() / 255.0


def _video_cases() -> list[Case]:
    g = torch.Generator().manual_seed(1)
    shapes = [(4, 6, 8, 3), (1, 5, 7, 3), (3, 2, 2, 1), (8, 16, 12, 3)]
    cases = [Case((torch.randint(0, 256, s, generator=g, dtype=torch.uint8),), label=f"video of shape {s}") for s in shapes]
    cases.append(Case((torch.full((2, 3, 3, 3), 255, dtype=torch.uint8),), label="an all-white video"))
    return cases


def _diagnose_layout(case, expected, received):
    if isinstance(received, torch.Tensor) and received.ndim == 4:
        v = case.args[0]
        t, h, w, c = v.shape
        if tuple(received.shape) == (t, c, h, w):
            return "That is (T, C, H, W), the layout torchvision transforms use; 3D CNNs want channels first: (C, T, H, W)."
        if received.is_floating_point() and received.max() > 1.5:
            return "The values are still 0-255: divide by 255."
        if not received.is_floating_point():
            return "Models need floating point input: convert with .float() and scale to [0, 1]."
        if received.dtype != torch.float32:
            return (
                f"The values are {received.dtype}; use float32 (`.float()`): the models' weights are "
                "float32, float64 doubles the memory and PyTorch refuses to mix the two in a layer."
            )
    return None


def _layout_judge(fn) -> None:
    """Run the learner's function on every case: layout, scale, and float32 exactly."""
    for case in _video_cases():
        expected = channels_first_reference(case.args[0])
        received = call_learner(fn, case.args[0].clone(), name="channels_first")
        hint = _diagnose_layout(case, expected, received)
        if isinstance(received, torch.Tensor) and tuple(received.shape) == tuple(expected.shape) \
                and received.dtype != torch.float32:
            raise Incorrect(
                f"For {case.label}: expected dtype torch.float32, received {received.dtype}. "
                + (hint or "Models take float32: use `.float()`.")
            )
        if hint:
            raise Incorrect(f"For {case.label}: expected shape {tuple(expected.shape)}, float32 in [0, 1]. {hint}")
        compare(expected, received, where=f"for {case.label}")


channels_first = Exercise(
    "channels_first",
    title="PyAV frames to a 3D-CNN input",
    judge=_layout_judge,
    expects_function=True,
    solution="""def channels_first(video):
    # (T, H, W, C) uint8 -> (C, T, H, W) float32 in [0, 1]
    return video.permute(3, 0, 1, 2).float() / 255.0""",
    hints=[
        "PyAV gives (T, H, W, C). Which position does each axis move to in (C, T, H, W)? `permute` takes the old axis numbers in the new order.",
        "`video.permute(3, 0, 1, 2)` puts channels first; then `.float() / 255` turns 0-255 bytes into [0, 1].",
    ],
)


# --------------------------------------------------------------- 2. uniform sampling
def uniform_sampling_reference(num_frames: int, clip_len: int) -> list[int]:
    """Indices of the centre frame of each of ``clip_len`` equal segments."""
    return [int((i + 0.5) * num_frames / clip_len) for i in range(clip_len)]


def _sampling_cases() -> list[Case]:
    pairs = [(48, 8), (10, 5), (7, 3), (16, 16), (5, 8), (1, 4), (100, 1), (300, 32), (31, 7)]
    return [Case((n, k), label=f"{n} frames, clip of {k}") for n, k in pairs]


def _diagnose_sampling(case, expected, received):
    if not isinstance(received, list | tuple) or len(received) != len(expected):
        return None
    n, k = case.args
    try:
        if list(received) == [int(i * n / k) for i in range(k)]:
            return "Those are the segment *starts*: add half a segment (i + 0.5) to take the centres."
        if list(received) == [round(i * (n - 1) / max(k - 1, 1)) for i in range(k)]:
            return "That is linspace from the first to the last frame; the exercise asks for segment centres."
    except TypeError:
        return None
    return None


def _sampling_judge(fn) -> None:
    """Run the learner's function on every case; a list, a tuple or a 1-D integer tensor is fine."""
    for case in _sampling_cases():
        n, k = case.args
        expected = uniform_sampling_reference(n, k)
        received = call_learner(fn, n, k, name="uniform_sampling")
        if isinstance(received, torch.Tensor):
            if received.dim() != 1 or received.is_floating_point() or received.dtype == torch.bool:
                raise Incorrect(
                    f"For {case.label}: expected {k} integer frame indices; a tensor is fine, but it must "
                    f"be 1-D with an integer dtype, and received one of shape {tuple(received.shape)} and "
                    f"dtype {received.dtype}."
                )
            received = received.tolist()
        elif isinstance(received, tuple):
            received = list(received)
        if isinstance(received, list) and len(received) == k and received != expected:
            hint = _diagnose_sampling(case, expected, received)
            if hint:
                raise Incorrect(f"For {case.label}: expected {expected}, received {received}. {hint}")
        compare(expected, received, where=f"for {case.label} (uniform_sampling({n}, {k}))")


uniform_sampling = Exercise(
    "uniform_sampling",
    title="Uniform (segment-centre) frame sampling",
    judge=_sampling_judge,
    expects_function=True,
    solution="""def uniform_sampling(num_frames, clip_len):
    # centre of each of clip_len equal segments; a list or a 1-D integer tensor
    return [int((i + 0.5) * num_frames / clip_len) for i in range(clip_len)]""",
    hints=[
        "Cut the video into clip_len equal segments of num_frames / clip_len frames each; take the frame at the middle of each segment.",
        "Segment i spans [i * L, (i + 1) * L) with L = num_frames / clip_len; its centre is (i + 0.5) * L; `int()` floors it.",
    ],
)


# --------------------------------------------------------------- 3. batch memory
def batch_bytes_reference(shape: tuple[int, ...], dtype: torch.dtype) -> int:
    """Bytes taken by a tensor of ``shape`` and ``dtype``."""
    n = 1
    for s in shape:
        n *= s
    return n * torch.empty((), dtype=dtype).element_size()


def _memory_cases() -> list[Case]:
    return [
        Case(((8, 16, 3, 224, 224), torch.float32), label="8 clips of 16 RGB frames at 224x224, float32"),
        Case(((8, 16, 3, 224, 224), torch.uint8), label="the same batch kept as uint8"),
        Case(((4, 3, 32, 112, 112), torch.float16), label="half precision"),
        Case(((1, 1, 1, 1, 1), torch.float64), label="a single float64"),
        Case(((64, 16, 1, 32, 32), torch.float32), label="a batch of the course's motion clips"),
    ]


def _diagnose_memory(case, expected, received):
    if not isinstance(received, int | float):
        return None
    shape, dtype = case.args
    n = 1
    for s in shape:
        n *= s
    size = torch.empty((), dtype=dtype).element_size()
    if received == n and size != 1:
        return f"That is the number of elements; each {dtype} element takes {size} bytes."
    if received == n * size * 8:
        return "That is in bits; the exercise asks for bytes."
    return None


batch_bytes = Exercise(
    "batch_bytes",
    title="Memory of a batch of clips",
    reference=batch_bytes_reference,
    cases=_memory_cases,
    diagnose=_diagnose_memory,
    hints=[
        "Memory = number of elements x bytes per element.",
        "Multiply the sizes in `shape`; `torch.empty((), dtype=dtype).element_size()` gives the bytes per element.",
    ],
)


# --------------------------------------------------------------- 4. frame difference
def frame_difference_reference(clip: torch.Tensor) -> torch.Tensor:
    """|x[t+1] - x[t]| for a clip (T, C, H, W) -> (T - 1, C, H, W)."""
    return (clip[1:] - clip[:-1]).abs()


def _diff_cases() -> list[Case]:
    g = torch.Generator().manual_seed(3)
    shapes = [(5, 1, 4, 4), (2, 3, 6, 5), (16, 1, 8, 8)]
    cases = [Case((torch.rand(s, generator=g),), label=f"random clip {s}") for s in shapes]
    ramp = torch.linspace(1, 0, 4).view(4, 1, 1, 1).expand(4, 1, 3, 3).contiguous()
    cases.append(Case((ramp,), label="a clip that gets darker: differences are negative before abs"))
    return cases


def _diagnose_diff(case, expected, received):
    if isinstance(received, torch.Tensor) and received.shape == expected.shape and (received < 0).any():
        return "Some values are negative: take the absolute value so that any change counts as motion."
    if isinstance(received, torch.Tensor) and received.ndim == 4 and received.shape[0] == expected.shape[0] + 1:
        return "A clip of T frames has T - 1 consecutive differences."
    return None


frame_difference = Exercise(
    "frame_difference",
    title="Frame differences as a motion cue",
    reference=frame_difference_reference,
    cases=_diff_cases,
    diagnose=_diagnose_diff,
    hints=[
        "Slice the clip twice: all frames but the first, and all frames but the last.",
        "`(clip[1:] - clip[:-1]).abs()`",
    ],
)


# --------------------------------------------------------------- 5. TSN sampling
def _segment_bounds(num_frames: int, clip_len: int, i: int) -> tuple[int, int]:
    """First and last frame that segment ``i`` of ``clip_len`` equal segments touches.

    Segment i covers [i N / L, (i + 1) N / L) in frame units; when the video is shorter
    than the clip (N < L) a segment is shorter than one frame, and lies inside one frame."""
    start, end = i * num_frames / clip_len, (i + 1) * num_frames / clip_len
    lo = math.floor(start)
    return lo, max(math.ceil(end) - 1, lo)


def tsn_sampling_reference(num_frames: int, clip_len: int, generator: torch.Generator) -> list[int]:
    """One random frame from each of ``clip_len`` equal segments (TSN); works for N < L."""
    indices = []
    for i in range(clip_len):
        lo, hi = _segment_bounds(num_frames, clip_len, i)  # the frames segment i touches
        indices.append(lo + int(torch.randint(0, hi - lo + 1, (1,), generator=generator)))
    return indices


_TSN_CASES = [(48, 8), (10, 4), (5, 8), (3, 7), (1, 4), (7, 3), (16, 16), (31, 7), (100, 1)]
_TSN_DRAWS = 60  # with segments of at most 5 frames, a frame is missed by 60 fair draws with probability < 2e-6


def _as_indices(received, k: int, where: str) -> list[int]:
    """A list, tuple or 1-D integer tensor of ``k`` ints, as a list; else Incorrect."""
    if isinstance(received, torch.Tensor):
        if received.dim() != 1 or received.is_floating_point() or received.is_complex() or received.dtype == torch.bool:
            raise Incorrect(
                f"{where}: expected {k} integer frame indices; a tensor is fine, but it must be 1-D with an "
                f"integer dtype, and received one of shape {tuple(received.shape)} and dtype {received.dtype}."
            )
        received = received.tolist()
    if not isinstance(received, list | tuple):
        raise Incorrect(f"{where}: expected a list of {k} frame indices, received {describe(received)}.")
    if any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in received):
        bad = next(v for v in received if isinstance(v, bool) or not isinstance(v, int | np.integer))
        raise Incorrect(
            f"{where}: frame indices must be ints, received {describe(bad)} among them "
            "(`int(...)` or `.item()` turns a number or a one-element tensor into an int)."
        )
    received = [int(v) for v in received]
    if len(received) != k:
        raise Incorrect(f"{where}: expected {k} indices (one per segment), received {len(received)}: {received}.")
    return received


def _tsn_call(fn, n: int, k: int, seed: int) -> list[int]:
    where = f"For a video of {n} frames and a clip of {k}"
    try:
        received = call_learner(fn, n, k, torch.Generator().manual_seed(seed), name="tsn_sampling")
    except LearnerError as exc:
        if n < k:
            raise Incorrect(
                f"Your code raised {exc} when called as {exc.call}. With {n} frames and a clip of {k}, the video is "
                "shorter than the clip, so a segment is shorter than one frame and `torch.randint(lo, hi)` gets an empty range "
                "(hi == lo). Such a segment lies inside one frame: take that frame (frames repeat), e.g. with "
                "hi = max(ceil(end) - 1, lo) as the last frame and randint(0, hi - lo + 1)."
            ) from None
        raise
    return _as_indices(received, k, where)


def _tsn_judge(fn) -> None:
    """Properties, since the answer is random: every index in its segment, reproducible with
    the generator, random within segments, every frame reachable."""
    for n, k in _TSN_CASES:
        where = f"For a video of {n} frames and a clip of {k}"
        draws = [_tsn_call(fn, n, k, seed) for seed in range(_TSN_DRAWS)]
        for picks in draws:
            bad = [v for v in picks if not 0 <= v < n]
            if bad:
                extra = (" Frame indices run from 0 to num_frames - 1: an upper bound of num_frames is one too far "
                         "(`torch.randint(lo, hi)` already excludes hi).") if n in bad else ""
                raise Incorrect(f"{where}: index {bad[0]} is outside the video (frames 0 to {n - 1}); received {picks}.{extra}")
            for i, v in enumerate(picks):
                lo, hi = _segment_bounds(n, k, i)
                if lo <= v <= hi:
                    continue
                seg = n // k
                if v == hi + 1:
                    hint = (f" {v} is one past the segment's last frame: `torch.randint(low, high)` already excludes "
                            "high, so `torch.randint(0, hi - lo + 1)` gives offsets 0 to hi - lo; a `+ 1` too many "
                            "reaches into the next segment.")
                elif seg and all(j * seg <= p < (j + 1) * seg for j, p in enumerate(picks)):
                    hint = (f" Your segments hold n // k = {seg} frames each (mmaction2's shortcut), so the last "
                            f"{n - seg * k} frames can never be chosen. Cut at i * num_frames / clip_len (a float) "
                            "so that the segments cover the whole video.")
                else:
                    hint = (" The frames must come one from each segment, in order: draw within segment i, "
                            "not anywhere in the video.")
                raise Incorrect(
                    f"{where}: index {i} is {v}, but segment {i} covers frames {lo} to {hi} "
                    f"([{i} * {n} / {k}, {i + 1} * {n} / {k}) in frame units); received {picks}.{hint}"
                )
        again = _tsn_call(fn, n, k, 0)
        if again != draws[0]:
            raise Incorrect(
                f"{where}: two calls with generators seeded alike gave {draws[0]} and {again}. Draw the random "
                "numbers from the `generator` argument (`torch.randint(..., generator=generator)`), so a run "
                "can be repeated exactly."
            )
        if n >= 2 * k and all(d == draws[0] for d in draws):
            raise Incorrect(
                f"{where}: {_TSN_DRAWS} calls with different generators all returned {draws[0]}. That is a fixed "
                "choice (like uniform sampling); TSN draws a *random* frame in each segment, a new one each time "
                "(that jitter is the augmentation)."
            )
        if k <= n <= 5 * k:
            seen = {v for d in draws for v in d}
            never = sorted(set(range(n)) - seen)
            if never:
                raise Incorrect(
                    f"{where}: in {_TSN_DRAWS} calls with different generators, frame(s) {never[:6]} were never "
                    "chosen. Every frame of a segment must be possible: `torch.randint(lo, hi)` excludes hi, "
                    "and `int(num_frames / clip_len)` drops the remainder."
                )


tsn_sampling = Exercise(
    "tsn_sampling",
    title="TSN segment sampling, short videos included",
    judge=_tsn_judge,
    expects_function=True,
    solution="""import math

def tsn_sampling(num_frames, clip_len, generator):
    # one random frame from each of clip_len equal segments; frames repeat when num_frames < clip_len
    indices = []
    for i in range(clip_len):
        start, end = i * num_frames / clip_len, (i + 1) * num_frames / clip_len  # segment i, in frames
        lo = math.floor(start)
        hi = max(math.ceil(end) - 1, lo)  # the last frame the segment touches (lo itself if shorter than a frame)
        indices.append(lo + int(torch.randint(0, hi - lo + 1, (1,), generator=generator)))
    return indices""",
    hints=[
        "Segment i covers [i * num_frames / clip_len, (i + 1) * num_frames / clip_len) in frame units: compute "
        "both ends as floats, then the first and last whole frame the segment touches.",
        "lo = floor(start), hi = max(ceil(end) - 1, lo); draw `torch.randint(0, hi - lo + 1, (1,), generator=generator)` "
        "and add lo. When num_frames < clip_len, lo == hi and the frame repeats.",
    ],
)


# --------------------------------------------------------------- 6. frame-order test
def order_test_reference(model, clips, labels, perm) -> dict[str, float]:
    """Accuracy of ``model`` on clips (N, T, C, H, W) as they are, reversed in time, and with
    their frames shuffled by ``perm`` (T,); evaluation mode, no gradients."""
    model.eval()
    with torch.no_grad():
        variants = {"original": clips, "reversed": clips.flip(1), "shuffled": clips[:, perm]}
        return {name: (model(x).argmax(1) == labels).float().mean().item() for name, x in variants.items()}


def _order_inputs():
    """(label, model, clips, labels, perm): a small seeded model whose output depends on the
    frame order, with batch norm and dropout so that training mode changes the result."""
    out = []
    for seed, n, t in [(18, 10, 10), (11, 12, 6), (12, 20, 5)]:  # seed 18: every known mistake changes an accuracy
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        c, h, w = 1, 4, 5
        model = nn.Sequential(nn.Flatten(), nn.Linear(t * c * h * w, 16), nn.BatchNorm1d(16), nn.ReLU(),
                              nn.Dropout(0.5), nn.Linear(16, 8))
        model[2].running_mean.copy_(torch.randn(16, generator=g))
        model[2].running_var.copy_(torch.rand(16, generator=g) * 3 + 0.2)
        clips = torch.randn(n, t, c, h, w, generator=g)  # (N, T, C, H, W)
        model.eval()
        with torch.no_grad():
            labels = model(clips).argmax(1)  # (N,) the model is right on most clips ...
        labels[: n // 4] = (labels[: n // 4] + 1) % 8  # ... and wrong on a quarter
        perm = torch.roll(torch.arange(t), 1)  # (T,) every frame moves
        out.append((f"{n} clips of {t} frames", model, clips, labels, perm))
    return out


def _order_variants(model, clips, labels, perm, expected):
    def acc(x):
        with torch.no_grad():
            return (model(x).argmax(1) == labels).float().mean().item()

    model.eval()
    variants = [
        ("`flip(0)` reverses the order of the clips in the batch, not the frames: time is dimension 1 of "
         "(N, T, C, H, W), use `clips.flip(1)`.", {**expected, "reversed": acc(clips.flip(0))}),
        ("`flip(-1)` mirrors every frame left-right (a spatial flip), it does not reverse time: use `clips.flip(1)`.",
         {**expected, "reversed": acc(clips.flip(-1))}),
    ]
    if len(perm) == len(clips):
        variants.append(("`clips[perm]` shuffles the clips of the batch, not the frames of each clip: use "
                         "`clips[:, perm]` (time is dimension 1).", {**expected, "shuffled": acc(clips[perm])}))
    n = len(labels)
    variants.append(("Those are counts of correct predictions; return the accuracy, a fraction in [0, 1] "
                     "(divide by the number of clips, or take `.float().mean()`).",
                     {k: v * n for k, v in expected.items()}))
    variants.append(("Those are percentages; return the accuracy as a fraction in [0, 1].",
                     {k: v * 100 for k, v in expected.items()}))
    return variants


def _order_judge(fn) -> None:
    for label, model, clips, labels, perm in _order_inputs():
        pristine = copy.deepcopy(model)
        expected = order_test_reference(copy.deepcopy(model), clips.clone(), labels.clone(), perm.clone())
        model.train()  # as a model is left after training: the function must switch to eval itself
        calls: list[tuple[bool, bool]] = []
        model.register_forward_pre_hook(lambda m, args, calls=calls: calls.append((m.training, torch.is_grad_enabled())))
        where = f"For {label}"
        try:
            received = call_learner(fn, model, clips.clone(), labels.clone(), perm.clone(), name="order_test")
        except LearnerError as exc:
            if "step must be greater than zero" in str(exc):
                raise Incorrect(f"Your code raised {exc} when called as {exc.call}: `x[:, ::-1]` is numpy's way; torch tensors have no negative steps. "
                                "Reverse time with `clips.flip(1)`.") from None
            raise
        if not calls:
            raise Incorrect(f"{where}: your function never called the model; it must measure the model's accuracy.")
        if any(training for training, _ in calls):
            raise Incorrect(
                f"{where}: the model ran in training mode: its dropout drops random units and its batch norm uses "
                "the statistics of the test batch, so the accuracies are noisy and wrong. Call `model.eval()` first."
            )
        if any(grad for _, grad in calls):
            raise Incorrect(
                f"{where}: the model ran with gradients enabled, so autograd kept every activation for a backward "
                "pass that never comes (memory). Evaluate inside `with torch.no_grad():`."
            )
        if not isinstance(received, dict):
            raise Incorrect(f"{where}: expected a dict with keys 'original', 'reversed', 'shuffled', received {describe(received)}.")
        try:
            compare(expected, received, rtol=1e-6, atol=1e-6, where=f"for {label}")
        except Incorrect as exc:
            remark = match_variant(received, expected, _order_variants(pristine, clips, labels, perm, expected)) \
                if set(received) == set(expected) else None
            raise Incorrect(f"{exc} {remark}" if remark else str(exc)) from None


order_test = Exercise(
    "order_test",
    title="Does the model use the frame order? Reverse and shuffle the frames",
    judge=_order_judge,
    expects_function=True,
    solution="""def order_test(model, clips, labels, perm):
    # clips (N, T, C, H, W), labels (N,), perm (T,) -> accuracy on each version of the clips
    model.eval()
    with torch.no_grad():
        variants = {"original": clips, "reversed": clips.flip(1), "shuffled": clips[:, perm]}
        return {name: (model(x).argmax(1) == labels).float().mean().item() for name, x in variants.items()}""",
    hints=[
        "Three inputs: `clips` as it is, `clips.flip(1)` (time is dimension 1 of (N, T, C, H, W)) and `clips[:, perm]`. "
        "Switch the model to evaluation mode and turn gradients off first.",
        "`model.eval()`, then inside `with torch.no_grad():` compute `(model(x).argmax(1) == labels).float().mean().item()` "
        "for each input, and return the three numbers in a dict.",
    ],
)


# --------------------------------------------------------------- 7. seek-based decoding
def read_frame_reference(path, index: int) -> np.ndarray:
    """Frame ``index`` (0-based) of a constant-frame-rate video as RGB (H, W, 3) uint8, decoding
    only from the key frame before it: seek, then decode forward to the target's timestamp."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        target = round(index / (stream.average_rate * stream.time_base))  # frame index -> pts
        container.seek(target, stream=stream, backward=True, any_frame=False)  # to the key frame at or before
        for frame in container.decode(stream):
            if frame.pts >= target:
                return frame.to_ndarray(format="rgb24")  # (H, W, 3)
    raise IndexError(f"the video has no frame {index}")


class _CountingContainer:
    """Wraps a PyAV input container: counts decoded frames (or demuxed packets) and seeks."""

    def __init__(self, container, log: dict):
        self._c, self._log = container, log

    def __getattr__(self, name):
        return getattr(self._c, name)

    def __enter__(self):
        self._c.__enter__()
        return self

    def __exit__(self, *exc):
        return self._c.__exit__(*exc)

    def __iter__(self):
        return iter(self._c)

    def decode(self, *args, **kwargs):
        for frame in self._c.decode(*args, **kwargs):
            self._log["decoded"] += 1
            yield frame

    def demux(self, *args, **kwargs):
        for packet in self._c.demux(*args, **kwargs):
            if packet.size:
                self._log["decoded"] += 1  # one packet: one frame to decode
            yield packet

    def seek(self, *args, **kwargs):
        self._log["seeks"].append((args, kwargs))
        return self._c.seek(*args, **kwargs)


_SEEK_FILES: dict[int, tuple[str, np.ndarray]] = {}


def _seek_files() -> dict[int, tuple[str, np.ndarray]]:
    """fps -> (path, all decoded frames): 30 frames of 32x48 with a key frame every 6
    frames, at 12 and 25 fps (made once per session in a temporary folder)."""
    if not _SEEK_FILES:
        import tempfile

        from course_utils.video_io import read_video, write_video

        folder = tempfile.mkdtemp(prefix="course_seek_")
        yy, xx = np.mgrid[0:32, 0:48]
        frames = np.asarray([np.stack([(xx * 5 + i * 9) % 256, (yy * 6 + i * 3) % 256, np.full_like(xx, 8 * i)], -1)
                             for i in range(30)], dtype=np.uint8)  # (30, 32, 48, 3): every frame different
        for fps in (12, 25):
            path = write_video(f"{folder}/gop6_{fps}fps.mp4", frames, fps, gop=6)
            _SEEK_FILES[fps] = (str(path), read_video(path))
    return _SEEK_FILES


_SEEK_LIMIT = 6 + 3  # a GOP of 6, plus the frames the decoder may hold back (B-frames)


def _seek_judge(fn) -> None:
    import av

    files = _seek_files()
    real_open = av.open
    for fps, index in [(12, 13), (12, 22), (12, 5), (25, 11), (12, 0), (25, 29)]:
        path, frames = files[fps]
        log = {"decoded": 0, "seeks": []}

        def counting_open(*args, log=log, **kwargs):
            return _CountingContainer(real_open(*args, **kwargs), log)

        where = f"For frame {index} of a {fps} fps video with a key frame every 6 frames"
        av.open = counting_open
        try:
            received = call_learner(fn, path, index, name="read_frame")
        finally:
            av.open = real_open
        if received is None:
            raise Incorrect(
                f"{where}: received None. Either a `return` is missing, or no decoded frame reached the target "
                "timestamp (the loop ran out of frames): frame i sits at pts = i / (fps * time_base), with the "
                "stream's own `average_rate` and `time_base`."
            )
        if isinstance(received, torch.Tensor):
            received = received.detach().cpu().numpy()
        if not isinstance(received, np.ndarray):
            raise Incorrect(f"{where}: expected the frame as a numpy array (H, W, 3) uint8, received {describe(received)}.")
        if received.shape != frames[index].shape:
            extra = ""
            if received.ndim == 2 or received.shape[:2] == (32 * 3 // 2, 48):
                extra = " `frame.to_ndarray()` without a format gives the raw YUV planes: ask for `format='rgb24'`."
            elif received.shape == (3, 32, 48):
                extra = " That is channels first; PyAV's `to_ndarray(format='rgb24')` gives (H, W, 3) directly."
            raise Incorrect(f"{where}: expected shape {frames[index].shape} (H, W, 3), received {received.shape}.{extra}")
        if received.dtype != np.uint8:
            raise Incorrect(f"{where}: expected dtype uint8 (0-255 as decoded), received {received.dtype}.")
        if not np.array_equal(received, frames[index]):
            match = [j for j in range(len(frames)) if np.array_equal(received, frames[j])]
            j = match[0] if match else None
            if j is None:
                raise Incorrect(f"{where}: the pixels differ from the decoded frame {index} (and from every other frame).")
            key = index - index % 6
            if j == key and j != index:
                hint = (f"That is frame {j}, the key frame the seek lands on: keep decoding forward until a frame's "
                        "pts reaches the target's.")
            elif j == index + 1:
                hint = "That is the next frame: stop at the first frame with `frame.pts >= target` (not `>`)."
            elif j == index - 1:
                hint = "That is the frame before: one step too early (compare pts with `>=` at the target)."
            elif fps != 12 and j == round(index * fps / 12):
                hint = (f"You computed the timestamp of frame {index} as if the video ran at 12 fps ({index}/12 s), "
                        f"which is frame {j} of this {fps} fps file. Read the rate from the stream "
                        "(`stream.average_rate`) instead of assuming it.")
            else:
                hint = "Frame i sits at pts = i / (fps * time_base): compute the target pts from the stream's own rate and time base."
            raise Incorrect(f"{where}: you returned frame {j}, not frame {index}. {hint}")
        if log["decoded"] > _SEEK_LIMIT:
            no_stream = [a for a, k in log["seeks"] if "stream" not in k]
            if not log["seeks"]:
                hint = ("You decoded from the start: call `container.seek(target_pts, stream=stream, backward=True)` "
                        "first, so that decoding starts at the key frame before the target.")
            elif no_stream:
                hint = ("`container.seek(offset)` without `stream=` reads the offset in microseconds (`av.time_base`), "
                        "not in the stream's time base, so it landed near the start. Pass `stream=stream`.")
            else:
                hint = "Seek to the key frame at or before the target (`backward=True`, `any_frame=False`), then decode forward."
            raise Incorrect(
                f"{where}: the frame is right, but you decoded {log['decoded']} frames to reach it; from the key frame "
                f"before it (frame {index - index % 6}) it takes {index % 6 + 1}. {hint}"
            )


read_frame = Exercise(
    "read_frame",
    title="Random access: seek, then decode forward",
    judge=_seek_judge,
    expects_function=True,
    solution="""import av

def read_frame(path, index):
    # frame `index` as RGB (H, W, 3) uint8, decoding only from the key frame before it
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        target = round(index / (stream.average_rate * stream.time_base))  # frame index -> pts
        container.seek(target, stream=stream, backward=True, any_frame=False)  # to the key frame at or before
        for frame in container.decode(stream):
            if frame.pts >= target:
                return frame.to_ndarray(format="rgb24")  # (H, W, 3)""",
    hints=[
        "Frame i of a constant-rate video has pts = i / (fps * time_base) with fps = `stream.average_rate`. "
        "`container.seek(pts, stream=stream, backward=True, any_frame=False)` jumps to the key frame at or before it.",
        "After the seek, loop over `container.decode(stream)` and return `frame.to_ndarray(format='rgb24')` for the "
        "first frame whose `frame.pts >= target`.",
    ],
)
