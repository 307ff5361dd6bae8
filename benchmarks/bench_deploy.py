"""Benchmark of notebook 07's deployment claims: file sizes, latency, throughput, speed-ups.

Run: ``python benchmarks/bench_deploy.py`` (about 30 s on 2 CPU cores; ``--quick`` for less).

Untrained models are enough here: size and speed do not depend on the weights' values
(accuracy is measured in the notebook). What it prints, all timed with
``course_utils.timing`` (warm-up, then median and p95, one thread):

* the fp32 ``CausalVideoNet`` and its variants exported to ONNX (fp32, channel-pruned to half
  the widths, int8 dynamic, int8 static, the small student, the student in int8): file size
  in bytes and the ratio to fp32, ONNX Runtime latency at batch 1 (median, p95);
* PyTorch latency of the dense model, of the same model with 80% of its weights set to
  zero (unstructured pruning), and of the channel-pruned model, at batch 1 and 32;
* throughput (clips per second) against the batch size, PyTorch and ONNX Runtime.

Exit status 1 if a size claim fails (int8 files at least 2.5x smaller than fp32; the pruned
dense-format state_dict the same size as the dense one): sizes are deterministic; times are
only printed.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn.utils.prune as prune
from torch import nn

from course_utils import compression as C
from course_utils import deploy as D
from course_utils.timing import latency, throughput


def onnx_fn(session):
    return lambda x: D.run_onnx(session, x)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 10 if args.quick else 50
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = C.CausalVideoNet().eval()
    pruned = C.prune_channels(model, 0.5).eval()
    student = C.CausalVideoNet(widths=(8, 16, 16), dim=32).eval()
    clip = torch.rand(1, 8, 1, 32, 32)  # (N, T, C, H, W), batch 1
    calibration = torch.rand(64, 8, 1, 32, 32)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {
            "fp32": D.export_onnx(model, tmp / "fp32.onnx", clip),
            "pruned (channels)": D.export_onnx(pruned, tmp / "pruned.onnx", clip),
            "student": D.export_onnx(student, tmp / "student.onnx", clip),
        }
        files["int8 dynamic"] = C.onnx_int8(files["fp32"], tmp / "dyn.onnx")
        files["int8 static"] = C.onnx_int8(files["fp32"], tmp / "static.onnx", calibration=calibration)
        files["student int8"] = C.onnx_int8(files["student"], tmp / "student8.onnx", calibration=calibration)
        base = C.file_size(files["fp32"])
        print("ONNX Runtime, one thread, batch 1")
        print(f"{'variant':18s} {'bytes':>8s} {'smaller':>8s} {'median ms':>10s} {'p95 ms':>8s}")
        sessions = {}
        for name, path in files.items():
            sessions[name] = D.onnx_session(path)
            t = latency(onnx_fn(sessions[name]), clip, repeat=repeat, warmup=5)
            size = C.file_size(path)
            print(f"{name:18s} {size:8d} {base / size:7.2f}x {t.median * 1e3:10.3f} {t.p95 * 1e3:8.3f}")
            if "int8" in name and name != "student int8" and base / size < 2.5:
                print(f"  FAIL: {name} is not at least 2.5x smaller than fp32")
                ok = False

    sparse = copy.deepcopy(model)
    targets = [(m, "weight") for m in sparse.modules() if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Linear)]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=0.8)
    for m, n in targets:
        prune.remove(m, n)
    dense_b, sparse_b = C.model_bytes(model.state_dict()), C.model_bytes(sparse.state_dict())
    csr_b = C.model_bytes(C.sparse_state_dict(sparse))
    print(f"\nstate_dict bytes: dense {dense_b}, 80% zeros (dense format) {sparse_b}, 80% zeros as CSR {csr_b}")
    if abs(dense_b - sparse_b) > 100 or csr_b >= dense_b:
        print("  FAIL: unstructured zeros should cost the same bytes densely and fewer as CSR")
        ok = False
    print("\nPyTorch, one thread, batch 1")
    times = {}
    for name, m in [("dense", model), ("80% zeros", sparse), ("pruned (channels)", pruned)]:
        times[name] = latency(m, clip, repeat=repeat, warmup=5)
        print(f"{name:18s} median {times[name].median * 1e3:.3f} ms, p95 {times[name].p95 * 1e3:.3f} ms")
    print(f"80% zeros / dense: {times['80% zeros'].median / times['dense'].median:.2f}; "
          f"speed-up of channel pruning: {times['dense'].median / times['pruned (channels)'].median:.2f}x")
    batch32 = torch.rand(32, 8, 1, 32, 32)
    print("PyTorch, one thread, batch 32 (the kernels' work dominates, not per-operator overhead)")
    t32 = {}
    for name, m in [("dense", model), ("80% zeros", sparse), ("pruned (channels)", pruned)]:
        t32[name] = latency(m, batch32, repeat=max(5, repeat // 5), warmup=2)
        print(f"{name:18s} median {t32[name].median * 1e3:.2f} ms, p95 {t32[name].p95 * 1e3:.2f} ms")
    print(f"80% zeros / dense: {t32['80% zeros'].median / t32['dense'].median:.2f}; "
          f"speed-up of channel pruning: {t32['dense'].median / t32['pruned (channels)'].median:.2f}x")

    print("\nThroughput (clips per second) against batch size, fp32")
    sizes = (1, 8, 32) if args.quick else (1, 4, 16, 64)
    make = lambda b: torch.rand(b, 8, 1, 32, 32)  # noqa: E731
    reps = 5 if args.quick else 10
    rows = {"PyTorch": throughput(model, make, sizes, repeat=reps),
            "ONNX Runtime": throughput(onnx_fn(sessions["fp32"]), make, sizes, repeat=reps)}
    for runtime, rs in rows.items():
        for row in rs:
            print(f"  {runtime:12s} batch {row['batch']:3d}: {row['items_per_s']:8.0f} clips/s ({row['ms_per_item']:.3f} ms per clip)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
