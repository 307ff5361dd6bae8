"""Which frames of a video does a model see? Frame-sampling strategies (notebook 00).

A video has ``num_frames`` frames; a model takes ``clip_len``. Three classic answers:

* ``uniform_indices``: evenly spaced over the whole video (the centre of each of
  ``clip_len`` equal segments). Deterministic: used at test time.
* ``random_indices``: a random window of consecutive frames, every ``stride``-th frame
  (the I3D / SlowFast training recipe). Sees fine motion, but only part of the video.
* ``segment_indices``: TSN-style: split the video into ``clip_len`` equal segments and
  pick one random frame from each. Covers the whole video with random jitter.

Each returns a sorted int64 tensor of length ``clip_len``; short videos repeat frames.
"""

from __future__ import annotations

import torch

__all__ = ["random_indices", "segment_indices", "uniform_indices"]


def _check(num_frames: int, clip_len: int) -> None:
    for name, value in (("num_frames", num_frames), ("clip_len", clip_len)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def uniform_indices(num_frames: int, clip_len: int) -> torch.Tensor:
    """Centres of ``clip_len`` equal segments: ``floor((i + 0.5) * num_frames / clip_len)``.

    Returns: int64 tensor (clip_len,).
    """
    _check(num_frames, clip_len)
    i = torch.arange(clip_len, dtype=torch.float64)
    return torch.floor((i + 0.5) * num_frames / clip_len).long()


def random_indices(num_frames: int, clip_len: int, stride: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random window of ``clip_len`` frames taken every ``stride`` frames.

    If the window is longer than the video, indices are clamped to the last frame.
    Returns: int64 tensor (clip_len,).
    """
    _check(num_frames, clip_len)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be a positive int, got {stride!r}")
    span = (clip_len - 1) * stride + 1
    start = int(torch.randint(0, max(num_frames - span, 0) + 1, (1,), generator=generator))
    return (start + stride * torch.arange(clip_len)).clamp(max=num_frames - 1)


def segment_indices(num_frames: int, clip_len: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """TSN sampling: one random frame from each of ``clip_len`` equal segments.

    Returns: int64 tensor (clip_len,), sorted.
    """
    _check(num_frames, clip_len)
    edges = torch.arange(clip_len + 1, dtype=torch.float64) * num_frames / clip_len
    lo = torch.floor(edges[:-1])
    hi = torch.maximum(torch.ceil(edges[1:]) - 1, lo)  # last frame of each segment
    u = torch.rand(clip_len, generator=generator, dtype=torch.float64)
    return (lo + torch.floor(u * (hi - lo + 1))).long().clamp(max=num_frames - 1)
