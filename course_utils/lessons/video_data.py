"""Exercises of notebook 00, *Video as data*.

    from course_utils.lessons import video_data as ex
    ex.channels_first.check(my_function)
"""

from __future__ import annotations

import torch

from course_utils.exercises import Case, Exercise, Incorrect, call_learner, compare

__all__ = ["batch_bytes", "channels_first", "frame_difference", "uniform_sampling"]


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
