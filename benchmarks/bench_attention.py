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

Timings are the best of several repeats (the minimum is the least disturbed by other
processes on a shared machine); calls alternate so both see the same allocator state.
"""

from __future__ import annotations

import argparse
import sys
import time

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


def best_times(*fns, repeat: int = 10, warmup: int = 2) -> list[float]:
    """Minimum seconds of each ``fn()`` over ``repeat`` alternating rounds after ``warmup``."""
    best = [float("inf")] * len(fns)
    for r in range(warmup + repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            if r >= warmup:
                best[i] = min(best[i], time.perf_counter() - start)
    return best


def speed(lengths=(64, 256, 1024, 2048), repeat: int = 10) -> list[dict]:
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
        ours, fused = best_times(
            lambda q=q, k=k, v=v: scaled_dot_product_attention(q, k, v),
            lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
            repeat=repeat if L <= 1024 else max(3, repeat // 3),
        )
        rows.append(
            {
                "L": L,
                "ours_ms": 1e3 * ours,
                "torch_ms": 1e3 * fused,
                "ratio": ours / fused,
                "max_err": err,
            }
        )
    return rows


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
    args = parser.parse_args(argv)
    lengths = (64, 256, 512) if args.quick else (64, 256, 1024, 2048)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("\nself-attention, batch 2, 4 heads x 64 features (best of repeats)")
    print(f"{'L':>6} {'course (ms)':>12} {'torch fused (ms)':>17} {'ratio':>7} {'max |diff|':>11}")
    ok = True
    for r in speed(lengths, repeat=3 if args.quick else 10):
        print(
            f"{r['L']:6d} {r['ours_ms']:12.2f} {r['torch_ms']:17.2f} {r['ratio']:7.2f} {r['max_err']:11.1e}"
        )
        ok &= r["max_err"] < 1e-4
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
