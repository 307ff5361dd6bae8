"""Benchmark of the video model zoo (notebook 05): parameters, MACs, latency and throughput.

Run: ``python benchmarks/bench_architectures.py`` (under a minute on 2 CPU cores; ``--quick``
for fewer repeats).

For every model of ``course_utils.video_models.ZOO`` at the notebook's parameter budget
(16,000) and clip size (8 frames of 16 x 16), it prints the parameters, the multiply-adds
per clip (``count_macs``, checked against ``torch.utils.flop_counter.FlopCounterMode``:
exit status 1 if they disagree), the latency at batch 1 (median and p95) and the throughput
at batch 1, 8 and 32, all on one thread with ``course_utils.timing`` (warm-up, then the
median of repeats). Untrained weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from course_utils import timing
from course_utils import video_models as V

BUDGET, SHAPE = 16_000, (8, 1, 16, 16)  # parameters; (T, C, H, W)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 20
    torch.manual_seed(0)
    ok = True
    print(f"{'model':13s} {'width':>5s} {'params':>7s} {'MMACs':>6s} {'MACs ok':>7s} "
          f"{'lat ms (p95)':>14s} {'clips/s b=1':>11s} {'b=8':>7s} {'b=32':>7s}")
    for name in V.ZOO:
        width = V.width_for_params(name, BUDGET, multiple_of=2 if name.startswith("ViT") else 1)
        model = V.build_model(name, width=width).eval()
        params = sum(p.numel() for p in model.parameters())
        macs = V.count_macs(model, (1, *SHAPE))
        with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH), torch.no_grad():
            model(torch.zeros(1, *SHAPE))
        same = 2 * macs == counter.get_total_flops()
        ok &= same
        x = torch.rand(32, *SHAPE)
        lat = timing.latency(model, x[:1], repeat=repeat, warmup=3)
        rows = timing.throughput(model, lambda b, x=x: x[:b], batch_sizes=(1, 8, 32),
                                 repeat=max(3, repeat // 4))
        tput = [r["items_per_s"] for r in rows]
        print(f"{name:13s} {width:5d} {params:7,d} {macs / 1e6:6.2f} {str(same):>7s} "
              f"{lat.median * 1e3:7.2f} ({lat.p95 * 1e3:5.2f}) {tput[0]:11.0f} {tput[1]:7.0f} {tput[2]:7.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
