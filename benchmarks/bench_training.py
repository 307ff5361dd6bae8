"""Benchmark of the training input pipeline (notebook 06), and of torch.compile.

Run: ``python benchmarks/bench_training.py`` (a few minutes on 2 CPU cores);
``--quick`` runs a reduced version (fewer clips and repeats: what the notebook shows);
``--compile`` also measures ``torch.compile`` on a training step (slow: about a minute of
compilation here, caches disabled; ``--compile-only`` skips the table) and saves the result to ``benchmarks/results/compile.json``, which the
notebook prints, labelled as a saved measurement.

The input-pipeline table (issue 11): the motion clips are written once as a folder of mp4
files with ``course_utils.video_io.write_video`` (H.264), then read by a ``Dataset`` that
decodes each file with PyAV in ``__getitem__``. One row per way of feeding the model:

* ``decode full size``: the files are stored at 8x the model's resolution (256x256) and
  every epoch decodes them and resizes the frames to 32x32;
* ``decode small``: the files were re-encoded once at the model's 32x32; every epoch
  decodes them;
* ``uint8 cache``: the clips were decoded once into a uint8 numpy memmap (T, H, W) per
  clip; every epoch only reads bytes (the decode cost is paid once and printed);

each with ``num_workers`` 0, 1 and 2 (``persistent_workers`` so the worker start-up is
paid once, in the warm-up epoch). The figure is clips per second over one epoch,
the median of the repeats (``course_utils.timing.measure``, after one warm-up epoch).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from course_utils.timing import measure
from course_utils.video_io import write_video

RESULTS = Path(__file__).resolve().parent / "results"


class Mp4Clips(Dataset):
    """Decode one mp4 per item with PyAV; return (T, 1, size, size) float in [0, 1] and the label."""

    def __init__(self, files: list[Path], labels: np.ndarray, size: int = 32) -> None:
        self.files, self.labels, self.size = files, labels, size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        with av.open(str(self.files[i])) as container:
            frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]  # T x (H, W) uint8
        x = torch.from_numpy(np.stack(frames)).unsqueeze(1).float().div_(255)  # (T, 1, H, W)
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return x, int(self.labels[i])


class CachedClips(Dataset):
    """Read clips from a uint8 memmap (N, T, H, W) written once by :func:`build_cache`."""

    def __init__(self, path: Path, shape: tuple[int, ...], labels: np.ndarray) -> None:
        self.path, self.shape, self.labels = path, shape, labels
        self._mm = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, i: int):
        if self._mm is None:  # opened lazily, so each worker process maps the file itself
            self._mm = np.memmap(self.path, dtype=np.uint8, mode="r", shape=self.shape)
        x = torch.from_numpy(np.array(self._mm[i])).unsqueeze(1).float().div_(255)  # (T, 1, H, W)
        return x, int(self.labels[i])


def write_folder(clips: np.ndarray, folder: Path, size: int) -> list[Path]:
    """Write uint8 clips (N, T, 1, 32, 32) as H.264 mp4 files of size x size (RGB, gray content)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, clip in enumerate(clips):
        x = torch.from_numpy(clip).float()  # (T, 1, 32, 32)
        if size != x.shape[-1]:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        rgb = x.clamp(0, 255).round().to(torch.uint8).expand(-1, 3, -1, -1).permute(0, 2, 3, 1)  # (T, H, W, 3)
        path = folder / f"clip_{i:04d}.mp4"
        write_video(path, rgb.contiguous().numpy(), fps=12, crf=18)
        files.append(path)
    return files


def build_cache(dataset: Dataset, path: Path) -> tuple[tuple[int, ...], float]:
    """Decode every clip once into a uint8 memmap; returns (shape, seconds)."""
    start = time.perf_counter()
    first = dataset[0][0]
    shape = (len(dataset), first.shape[0], first.shape[-2], first.shape[-1])
    mm = np.memmap(path, dtype=np.uint8, mode="w+", shape=shape)
    for i in range(len(dataset)):
        mm[i] = (dataset[i][0][:, 0] * 255).round().to(torch.uint8).numpy()
    mm.flush()
    return shape, time.perf_counter() - start


def pipeline_table(n_clips: int = 96, repeat: int = 3, workers=(0, 1, 2), batch: int = 16, log=print) -> list[dict]:
    """Clips per second of each way of feeding the model (see the module docstring)."""
    from course_utils.datasets import generated_dir, load_array

    clips = load_array(generated_dir() / "motion_train_clips.npy.gz")[:n_clips]  # (N, T, 1, 32, 32) uint8
    labels = load_array(generated_dir() / "motion_train_labels.npy.gz")[:n_clips]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        tmp = Path(tmp)
        full = Mp4Clips(write_folder(clips, tmp / "full", 256), labels)
        small = Mp4Clips(write_folder(clips, tmp / "small", 32), labels)
        shape, cache_s = build_cache(small, tmp / "cache.u8")
        cached = CachedClips(tmp / "cache.u8", shape, labels)
        mb = lambda folder: sum(f.stat().st_size for f in folder.iterdir()) / 1e6  # noqa: E731
        log(f"{n_clips} clips of {clips.shape[1]} frames; mp4 folder 256x256: {mb(tmp / 'full'):.2f} MB, "
            f"32x32: {mb(tmp / 'small'):.2f} MB; uint8 cache: {shape[0] * shape[1] * shape[2] * shape[3] / 1e6:.2f} MB, "
            f"built once in {cache_s:.2f} s")
        for name, ds in (("decode full size (256x256)", full), ("decode small (32x32)", small), ("uint8 memmap cache", cached)):
            for w in workers:
                loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=w, persistent_workers=w > 0,
                                    generator=torch.Generator().manual_seed(0))

                def epoch(loader=loader):
                    for x, _ in loader:
                        assert x.shape[1:] == (clips.shape[1], 1, 32, 32)

                t = measure(epoch, repeat=repeat, warmup=1)
                rows.append({"pipeline": name, "num_workers": w, "clips_per_s": n_clips / t.median,
                             "epoch_s": t.median})
                log(f"  {name:<28} num_workers={w}: {n_clips / t.median:8.0f} clips/s")
                del loader
    return rows


def compile_measurement(repeat: int = 10) -> dict:
    """torch.compile on one training step of TinyVideoNet: compile time and ms per step.

    Inductor caches compiled kernels on disk (a second run compiles much faster); the caches
    are disabled here so the figure is what a first run pays.
    """
    import torch._inductor.config as inductor_config

    from course_utils.distributed import TinyVideoNet

    inductor_config.force_disable_caches = True

    torch.manual_seed(0)
    x, y = torch.rand(16, 16, 1, 32, 32), torch.randint(0, 8, (16,))  # (N, T, C, H, W)

    def make(compiled: bool):
        model = TinyVideoNet()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        fwd = torch.compile(model) if compiled else model

        def step():
            loss = F.cross_entropy(fwd(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    eager = measure(make(False), repeat=repeat, warmup=2)
    step = make(True)
    start = time.perf_counter()
    step()  # the first call compiles (forward and backward graphs)
    compile_s = time.perf_counter() - start
    compiled = measure(step, repeat=repeat, warmup=2)
    return {"torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "caches": "disabled (cold compile)",
            "compile_s": compile_s,
            "eager_ms": eager.median * 1e3, "compiled_ms": compiled.median * 1e3,
            "break_even_steps": compile_s / max((eager.median - compiled.median), 1e-9)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clips and repeats (the notebook's version)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile (slow) and save it")
    parser.add_argument("--compile-only", action="store_true", help="only the torch.compile measurement")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    n, repeat = (32, 3) if args.quick else (160, 5)
    if not args.compile_only:
        print(f"Input pipeline: clips per second, median of {repeat} epochs after one warm-up epoch, one thread per process")
        rows = pipeline_table(n_clips=n, repeat=repeat)
        best = max(rows, key=lambda r: r["clips_per_s"])
        print(f"fastest: {best['pipeline']} with num_workers={best['num_workers']}")
    args.compile = args.compile or args.compile_only
    if args.compile:
        r = compile_measurement()
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "compile.json").write_text(json.dumps(r, indent=1) + "\n")
        print(f"torch.compile: {r['compile_s']:.1f} s to compile; eager {r['eager_ms']:.1f} ms/step, "
              f"compiled {r['compiled_ms']:.1f} ms/step; pays off after {r['break_even_steps']:.0f} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
