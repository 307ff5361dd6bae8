"""One honest way to time code, shared by every notebook and benchmark (notebook 03).

A single ``time.perf_counter()`` around one call proves nothing: the first call pays for
memory allocation and lazy initialisation, and any one call can be slowed by the rest of
the machine. So every timing in the course goes through :func:`measure`:

1. run the function ``warmup`` times and throw those times away;
2. run it ``repeat`` times (one call each), on one thread by default;
3. report the **median** (robust to a few slow outliers) and the **p95** (what a user
   waits for in the worst 1 call in 20: the number that matters for latency).

:func:`latency` times a model on one input under ``torch.inference_mode()``;
:func:`throughput` times it for several batch sizes and reports items per second.
Notebooks print these numbers; they never assert them (a slower laptop must not fail).
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

__all__ = ["Timing", "latency", "measure", "one_thread", "throughput"]


@dataclass(frozen=True)
class Timing:
    """Times (seconds) of ``repeat`` calls after warm-up, with their summary statistics."""

    times: tuple[float, ...] = field(repr=False)
    warmup: int = 0
    threads: int = 1

    @property
    def repeats(self) -> int:
        return len(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        """95th percentile (nearest-rank: the smallest time that at least 95% of calls meet)."""
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    def __repr__(self) -> str:
        return (f"Timing(median={self.median * 1e3:.3f} ms, p95={self.p95 * 1e3:.3f} ms, "
                f"repeats={self.repeats}, warmup={self.warmup}, threads={self.threads})")


def _positive_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


@contextlib.contextmanager
def one_thread(threads: int | None = 1) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)``, then restore the old value.

    ``threads=None`` leaves the setting alone (time with whatever the process uses).
    """
    if threads is None:
        yield
        return
    _positive_int(threads, "threads")
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def measure(fn: Callable[[], object], *, repeat: int = 10, warmup: int = 2,
            threads: int | None = 1) -> Timing:
    """Time ``fn()``: ``warmup`` discarded calls, then ``repeat`` timed calls.

    Args:
        fn: a function of no arguments (wrap yours: ``lambda: model(x)``).
        repeat: timed calls (>= 1); the median and p95 are taken over these.
        warmup: discarded calls first (>= 0).
        threads: torch threads during the timing (1 by default, as in the whole course);
            None keeps the current setting.

    Returns:
        a :class:`Timing` with ``median``, ``p95``, ``min``, ``mean`` and ``times``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function of no arguments, got {type(fn).__name__}")
    _positive_int(repeat, "repeat")
    _positive_int(warmup, "warmup", minimum=0)
    times = []
    with one_thread(threads):
        for _ in range(warmup):
            fn()
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        used = torch.get_num_threads()
    return Timing(tuple(times), warmup=warmup, threads=used)


def latency(model: Callable[[torch.Tensor], object], example: torch.Tensor, *, repeat: int = 20,
            warmup: int = 3, threads: int | None = 1) -> Timing:
    """Latency of ``model(example)`` in inference mode (an ``nn.Module`` is put in eval mode
    for the timing and restored afterwards). ``example`` usually has batch size 1."""
    if not callable(model):
        raise TypeError(f"model must be callable (an nn.Module or a function), got {type(model).__name__}")
    if not isinstance(example, torch.Tensor):
        raise TypeError(f"example must be a tensor, got {type(example).__name__}")
    was_training = getattr(model, "training", None)
    if isinstance(model, torch.nn.Module):
        model.eval()
    try:
        with torch.inference_mode():
            return measure(lambda: model(example), repeat=repeat, warmup=warmup, threads=threads)
    finally:
        if isinstance(model, torch.nn.Module) and was_training:
            model.train()


def throughput(model: Callable[[torch.Tensor], object], make_batch: Callable[[int], torch.Tensor],
               batch_sizes: Sequence[int] = (1, 8, 32), *, repeat: int = 5, warmup: int = 1,
               threads: int | None = 1) -> list[dict[str, float]]:
    """Items per second of ``model`` for each batch size.

    Args:
        make_batch: ``make_batch(b)`` returns an input with batch size ``b``.
        batch_sizes: the batch sizes to try (positive integers).

    Returns:
        one row per batch size: ``batch``, ``median_s`` (per batch), ``p95_s``, ``items_per_s``
        (batch / median), ``ms_per_item``.
    """
    if not callable(make_batch):
        raise TypeError(f"make_batch must be a function batch_size -> tensor, got {type(make_batch).__name__}")
    if not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise ValueError(f"batch_sizes must be a non-empty sequence of positive integers, got {batch_sizes!r}")
    rows = []
    for b in batch_sizes:
        _positive_int(b, "batch_sizes[i]")
        t = latency(model, make_batch(b), repeat=repeat, warmup=warmup, threads=threads)
        rows.append({"batch": b, "median_s": t.median, "p95_s": t.p95,
                     "items_per_s": b / t.median, "ms_per_item": 1e3 * t.median / b})
    return rows
