"""Benchmark of course_utils.attention (notebook 03): the course's attention vs torch's fused one.

Run: ``python benchmarks/bench_attention.py`` (about 10 s on 2 CPU cores; ``--quick`` for less).

What it prints (issue 5):

* for a few sequence lengths L (self-attention, batch 2, 4 heads of 64 features), the time of
  ``course_utils.attention.scaled_dot_product_attention`` (which materializes the (L, L)
  weights) and of ``torch.nn.functional.scaled_dot_product_attention`` (fused, never stores
  them), their ratio, and the max difference of the outputs;
* for joint, divided and space-only attention on several clips, the attention-matrix memory
  predicted by ``attention_cost`` and the bytes of the weights the modules actually return
  (per head, as ``nn.MultiheadAttention`` with ``average_attn_weights=False``); they must agree
  exactly (exit status 1 otherwise).

Timings use the course's one timing helper, ``course_utils.timing.measure`` (the same as
notebook 03): warm-up calls discarded, then the median (and p95) of repeated calls, on one
thread by default (``--threads N`` for more). A log-log slope per doubling of L is printed:
2 is the quadratic regime, less means fixed costs still dominate.
"""

from __future__ import annotations

import argparse
import math
import sys

import torch
import torch.nn.functional as F

from course_utils.attention import (
    DividedSpaceTimeAttention,
    JointSpaceTimeAttention,
    MultiHeadAttention,
    SpaceOnlyAttention,
    attention_cost,
    scaled_dot_product_attention,
)
from course_utils.timing import measure


def speed(lengths=(64, 256, 1024, 2048), repeat: int = 10, threads: int | None = 1) -> list[dict]:
    """Median and p95 times of the course's attention and torch's fused one, per length L."""
    rows = []
    for L in lengths:
        torch.manual_seed(0)
        q, k, v = (torch.randn(2, 4, L, 64) for _ in range(3))  # (N, h, L, d)
        err = (
            (scaled_dot_product_attention(q, k, v) - F.scaled_dot_product_attention(q, k, v))
            .abs()
            .max()
            .item()
        )
        n = repeat if L <= 1024 else max(3, repeat // 3)
        ours = measure(lambda q=q, k=k, v=v: scaled_dot_product_attention(q, k, v), repeat=n, threads=threads)
        fused = measure(lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v), repeat=n, threads=threads)
        rows.append(
            {
                "L": L,
                "ours_ms": 1e3 * ours.median,
                "ours_p95_ms": 1e3 * ours.p95,
                "torch_ms": 1e3 * fused.median,
                "ratio": ours.median / fused.median,
                "max_err": err,
            }
        )
    return rows


def slopes(rows: list[dict], key: str) -> list[float]:
    """Log-log slope of time vs L between consecutive lengths (2 = quadratic)."""
    return [
        math.log(b[key] / a[key]) / math.log(b["L"] / a["L"]) for a, b in zip(rows, rows[1:], strict=False)
    ]


class _PerHead:
    """Make a MultiHeadAttention return per-head weights (what is really materialized)."""

    def __init__(self, mha: MultiHeadAttention):
        self.forward = mha.forward

    def __call__(self, q, k, v, **kw):
        return self.forward(q, k, v, average_attn_weights=False, **kw)


def memory(
    clips=((4, 4, 4), (8, 4, 4), (16, 2, 3)), dim: int = 16, heads: int = 4, batch: int = 2
) -> list[dict]:
    rows = []
    blocks = {
        "joint": JointSpaceTimeAttention,
        "divided": DividedSpaceTimeAttention,
        "space": SpaceOnlyAttention,
    }
    for T, h, w in clips:
        for mode, cls in blocks.items():
            block = cls(dim, heads)
            for m in block.modules():
                if isinstance(m, MultiHeadAttention):
                    m.forward = _PerHead(m)
            with torch.no_grad():
                _, weights = block(torch.randn(batch, T, h * w, dim), return_weights=True)
            measured = sum(t.numel() * t.element_size() for t in weights.values())
            predicted = attention_cost(T, h, w, mode=mode, dim=dim, num_heads=heads, batch=batch)[
                "memory_bytes"
            ]
            rows.append(
                {"clip": (T, h, w), "mode": mode, "predicted": predicted, "measured": measured}
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter lengths and fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while timing")
    args = parser.parse_args(argv)
    lengths = (64, 256, 512) if args.quick else (64, 256, 1024, 2048)
    print(f"torch {torch.__version__}, timing on {args.threads} thread(s)")
    print("\nself-attention, batch 2, 4 heads x 64 features (median of repeats after warm-up)")
    print(f"{'L':>6} {'course (ms)':>12} {'p95 (ms)':>9} {'torch fused (ms)':>17} {'ratio':>7} {'max |diff|':>11}")
    ok = True
    rows = speed(lengths, repeat=3 if args.quick else 10, threads=args.threads)
    for r in rows:
        print(
            f"{r['L']:6d} {r['ours_ms']:12.2f} {r['ours_p95_ms']:9.2f} {r['torch_ms']:17.2f} "
            f"{r['ratio']:7.2f} {r['max_err']:11.1e}"
        )
        ok &= r["max_err"] < 1e-4
    for key, name in [("ours_ms", "course"), ("torch_ms", "torch fused")]:
        print(f"log-log slope per step of L ({name}):", " ".join(f"{v:.2f}" for v in slopes(rows, key)))
    print("\nattention-matrix memory: attention_cost vs the weights the modules return")
    print(f"{'clip (T, h, w)':>15} {'mode':>8} {'predicted (B)':>14} {'measured (B)':>13}  agree")
    for r in memory():
        agree = r["predicted"] == r["measured"]
        ok &= agree
        print(
            f"{str(r['clip']):>15} {r['mode']:>8} {r['predicted']:14d} {r['measured']:13d}  {agree}"
        )
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
