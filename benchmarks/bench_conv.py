"""Benchmark of course_utils.conv (notebook 01): vectorized vs torch, loop vs vectorized.

Run: ``python benchmarks/bench_conv.py`` (about 10 s on 2 CPU cores).

Bars (issue 3):
* vectorized conv2d within 5x of torch.nn.functional.conv2d on a (8, 16, 64, 64)
  input with 32 3x3 filters (padding 1);
* vectorized conv2d at least 100x faster than the plain-loop conv2d on an input where
  the loop takes about a second ((1, 16, 80, 80), 16 3x3 filters, padding 1).

Timings use the course's one timing helper, ``course_utils.timing.measure`` (the same as
notebook 01): warm-up calls discarded, then the median of repeated calls. The script runs
once on one thread (the exit status) and once on all of torch's threads (reported only:
on a busy machine small-input timings suffer from thread contention).
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F

from course_utils.conv import conv2d, conv2d_loop
from course_utils.timing import measure


def run(repeat: int = 15, threads: int | None = 1) -> dict[str, float]:
    torch.manual_seed(0)
    x = torch.randn(8, 16, 64, 64)  # (N, C_in, H, W)
    w = torch.randn(32, 16, 3, 3)  # (C_out, C_in, kH, kW)
    b = torch.randn(32)
    err = (conv2d(x, w, b, padding=1) - F.conv2d(x, w, b, padding=1)).abs().max().item()
    t_torch = measure(lambda: F.conv2d(x, w, b, padding=1), repeat=repeat, warmup=5, threads=threads).median
    t_vec = measure(lambda: conv2d(x, w, b, padding=1), repeat=repeat, warmup=5, threads=threads).median

    xs = torch.randn(1, 16, 80, 80)
    ws = torch.randn(16, 16, 3, 3)
    t_loop = measure(lambda: conv2d_loop(xs, ws, padding=1), repeat=1, warmup=0, threads=threads).median
    t_vec_small = measure(lambda: conv2d(xs, ws, padding=1), repeat=repeat, warmup=5, threads=threads).median
    err_loop = (conv2d_loop(xs, ws, padding=1) - conv2d(xs, ws, padding=1)).abs().max().item()
    return {
        "torch_ms": t_torch * 1e3,
        "vectorized_ms": t_vec * 1e3,
        "vectorized_over_torch": t_vec / t_torch,
        "max_error_vs_torch": err,
        "loop_s": t_loop,
        "vectorized_small_ms": t_vec_small * 1e3,
        "loop_over_vectorized": t_loop / t_vec_small,
        "max_error_loop": err_loop,
    }


def report(r: dict[str, float], title: str) -> bool:
    """Print one run's figures; True when both bars hold."""
    print(f"--- {title} ---")
    print("(8, 16, 64, 64) input, 32 3x3 filters, padding 1:")
    print(f"  torch.nn.functional.conv2d  {r['torch_ms']:8.2f} ms")
    print(
        f"  course_utils.conv.conv2d    {r['vectorized_ms']:8.2f} ms   "
        f"ratio {r['vectorized_over_torch']:.2f}x (bar: <= 5x)   max error {r['max_error_vs_torch']:.1e}"
    )
    print("(1, 16, 80, 80) input, 16 3x3 filters, padding 1:")
    print(f"  conv2d_loop                 {r['loop_s']:8.2f} s")
    print(
        f"  conv2d (vectorized)         {r['vectorized_small_ms']:8.2f} ms   "
        f"speed-up {r['loop_over_vectorized']:.0f}x (bar: >= 100x)   max error {r['max_error_loop']:.1e}"
    )
    ok = r["vectorized_over_torch"] <= 5 and r["loop_over_vectorized"] >= 100
    print("bars met:", ok)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    default_threads = torch.get_num_threads()
    results = {}
    # One thread (the exit status), then all of torch's threads (reported only).
    results[1] = report(run(args.repeat, threads=1), "1 thread, median of repeats")
    title = f"{default_threads} threads, median of repeats"
    results[default_threads] = report(run(args.repeat, threads=default_threads), title)
    return 0 if results[1] else 1


if __name__ == "__main__":
    sys.exit(main())
