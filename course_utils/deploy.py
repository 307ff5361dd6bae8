"""From notebook to a command a user runs, and keeping the model right afterwards (notebook 07).

* Saving: :func:`atomic_save` (temp file + ``os.replace``: a crash never leaves half a file),
  :func:`save_checkpoint` / :func:`load_checkpoint` (model, optimizer, scheduler, epoch, RNG
  states), :func:`resumable_training` (the loop the kill-and-resume test runs), and model
  bundles (:func:`save_bundle` / :func:`load_bundle`: a ``state_dict`` plus the config to
  rebuild the network, never a pickled module).
* Export: :func:`export_onnx` (dynamic batch axis), :func:`onnx_session` /
  :func:`run_onnx` (ONNX Runtime on one thread), :func:`export_program` (``torch.export``).
* Serving: :func:`clip_from_video` (decode with PyAV, sample frames as in training),
  :func:`predict` and the ``python -m course_utils predict`` command (:func:`main`).
* Learning after deployment: :class:`ReplayBuffer`, :func:`gated_update` (validation gate
  with rollback) and :class:`DriftDetector` (a windowed z statistic with an alarm).
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validate import check_choice, check_int, check_number

__all__ = [
    "BUNDLE_FORMAT",
    "DriftDetector",
    "PredictError",
    "ReplayBuffer",
    "atomic_save",
    "clip_from_video",
    "default_model_path",
    "export_onnx",
    "export_program",
    "gated_update",
    "load_bundle",
    "load_checkpoint",
    "main",
    "onnx_session",
    "predict",
    "resumable_training",
    "run_onnx",
    "save_bundle",
    "save_checkpoint",
    "train_default_model",
]

BUNDLE_FORMAT = "video-dl-course/model"
CLIP_LEN, FRAME_STRIDE = 8, 2  # the lesson's models see every 2nd frame of a 16-frame clip


# ------------------------------------------------------------------ atomic checkpoints
def atomic_save(obj: object, path: str | Path) -> Path:
    """``torch.save(obj)`` to a temporary file in the same folder, then ``os.replace``.

    ``os.replace`` is atomic on POSIX and Windows: readers see the old file or the new one,
    never a truncated one, even if the process is killed mid-write (notebook 07).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _rng_state(generator: torch.Generator | None = None) -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def _set_rng_state(state: dict, generator: torch.Generator | None = None) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: object | None, epoch: int, generator: torch.Generator | None = None) -> Path:
    """Everything needed to continue training as if nothing happened, written atomically.

    Keys: ``model``, ``optimizer``, ``scheduler`` (state dicts; scheduler may be None),
    ``epoch`` (epochs **completed**: resume at this index), ``rng`` (torch, numpy, python and
    the data-order ``generator``). Introduced in notebook 07.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative int (epochs completed), got {epoch!r}")
    return atomic_save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "epoch": epoch,
        "rng": _rng_state(generator),
    }, path)


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: object | None = None, generator: torch.Generator | None = None) -> int:
    """Restore a :func:`save_checkpoint` file in place; return the epoch to resume at."""
    ckpt = torch.load(path, weights_only=False)  # our own file: RNG states are numpy objects
    model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and ckpt.get("scheduler") is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    _set_rng_state(ckpt["rng"], generator)
    return int(ckpt["epoch"])


def resumable_training(checkpoint: str | Path, *, epochs: int = 6, seed: int = 0, pause: float = 0.0,
                       stop_after: int | None = None) -> dict[str, torch.Tensor]:
    """A small, complete training run that checkpoints after every epoch and resumes (notebook 07).

    A dropout MLP learns a fixed random classification task with Adam and a StepLR
    schedule; data order comes from a seeded generator. If ``checkpoint`` exists the run
    continues from it; every epoch ends with an atomic checkpoint. ``pause`` sleeps after
    each checkpoint (so a test can kill the process mid-run); ``stop_after`` returns early
    after that many epochs (a simulated crash). Returns the final ``state_dict``.
    """
    torch.set_num_threads(1)
    checkpoint = Path(checkpoint)
    data_gen = torch.Generator().manual_seed(1234)
    x = torch.randn(256, 16, generator=data_gen)  # (N, 16)
    y = (x[:, :4].sum(1) > 0).long() + 2 * (x[:, 4] > 0).long()  # (N,) 4 classes
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    order = torch.Generator().manual_seed(seed)
    start = load_checkpoint(checkpoint, model, optimizer, scheduler, order) if checkpoint.exists() else 0
    for epoch in range(start, epochs):
        model.train()
        perm = torch.randperm(len(x), generator=order)
        for i in range(0, len(x), 32):
            idx = perm[i:i + 32]
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
        scheduler.step()
        save_checkpoint(checkpoint, model, optimizer, scheduler, epoch + 1, order)
        if pause:
            time.sleep(pause)
        if stop_after is not None and epoch + 1 >= stop_after:
            break
    return model.state_dict()


# ------------------------------------------------------------------ model bundles
def save_bundle(model: nn.Module, path: str | Path, *, classes: Sequence[str], clip_len: int = CLIP_LEN,
                extra: dict | None = None) -> Path:
    """Save a deployable model: ``state_dict`` + the config that rebuilds it + how to feed it.

    A pickled module (``torch.save(model)``) stores a reference to its class by import path;
    it breaks when the code moves and cannot be loaded with ``weights_only=True``. A bundle
    holds only tensors and plain data, so ``torch.load(..., weights_only=True)`` reads it.
    """
    from course_utils.compression import CausalVideoNet

    if not isinstance(model, CausalVideoNet):
        raise TypeError(f"model must be a CausalVideoNet (it carries its config), got {type(model).__name__}")
    cfg = model.config
    bundle = {
        "format": BUNDLE_FORMAT,
        "version": 1,
        "config": dict(cfg),
        "state_dict": model.state_dict(),
        "classes": list(classes),
        "input": {"frames": int(clip_len), "channels": cfg["in_channels"], "height": cfg["size"], "width": cfg["size"]},
        "extra": dict(extra or {}),
    }
    return atomic_save(bundle, path)


class PredictError(Exception):
    """A problem with the user's input to ``predict``: the message is one sentence for them."""


def load_bundle(path: str | Path) -> tuple[nn.Module, dict]:
    """Load a model saved by :func:`save_bundle`; returns ``(model in eval mode, bundle info)``.

    Raises:
        PredictError: no such file, not a model file, or weights that do not fit the
            declared input shape / architecture.
    """
    from course_utils.compression import CausalVideoNet

    path = Path(path)
    if not path.is_file():
        raise PredictError(f"No model file at {path}.")
    try:
        bundle = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, AttributeError) as exc:
        raise PredictError(f"{path} is not a model file saved by the course (torch.load failed: {str(exc).splitlines()[0][:120]}).") from None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise PredictError(f"{path} is a PyTorch file but not a course model bundle (save one with course_utils.deploy.save_bundle).")
    try:
        model = CausalVideoNet(**bundle["config"])
        model.load_state_dict(bundle["state_dict"])
        inp = bundle["input"]
        if (inp["channels"], inp["height"], inp["width"]) != (model.config["in_channels"], model.config["size"], model.config["size"]):
            raise ValueError("declared input differs from the network's")
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0][:120]
        raise PredictError(f"{path} holds weights for another input shape or architecture ({first}).") from None
    return model.eval(), bundle


# ------------------------------------------------------------------ export
def export_onnx(model: nn.Module, path: str | Path, example: torch.Tensor, *, input_name: str = "clips") -> Path:
    """Export to ONNX with a dynamic batch axis (axis 0 named ``batch``), via ``torch.export``.

    Returns the path. Run it with :func:`onnx_session` / :func:`run_onnx` (notebook 07).
    """
    import warnings

    if not isinstance(example, torch.Tensor):
        raise TypeError(f"example must be a tensor input, got {type(example).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    if example.shape[0] == 1:  # a batch of 1 would be specialised to the constant 1
        example = example.expand(2, *example.shape[1:]).contiguous()
    batch = torch.export.Dim("batch", min=1, max=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=[input_name], output_names=["logits"],
                          dynamic_shapes={"clips": {0: batch}} if _forward_arg(model) == "clips" else ({0: batch},),
                          dynamo=True, external_data=False, verbose=False, optimize=True)
    _strip_metadata(path)
    return path


def _strip_metadata(path: Path) -> None:
    """Drop the exporter's per-node debug metadata (stack traces with local file paths):
    the file then depends only on the model, not on where it was exported."""
    import onnx

    model = onnx.load(str(path))
    graphs = [model.graph] + [f for f in model.functions]
    for g in graphs:
        for node in g.node:
            del node.metadata_props[:]
            node.doc_string = ""
    onnx.save(model, str(path))


def _forward_arg(model: nn.Module) -> str:
    import inspect

    params = list(inspect.signature(model.forward).parameters)
    return params[0] if params else ""


def export_program(model: nn.Module, example: torch.Tensor) -> torch.export.ExportedProgram:
    """``torch.export.export`` with a dynamic batch axis: a graph without Python (notebook 07)."""
    if example.shape[0] == 1:  # a batch of 1 would be specialised to the constant 1
        example = example.expand(2, *example.shape[1:]).contiguous()
    batch = torch.export.Dim("batch", min=1, max=1024)
    return torch.export.export(model.eval(), (example,), dynamic_shapes=({0: batch},))


def onnx_session(path: str | Path, threads: int = 1):
    """An ONNX Runtime CPU session on ``threads`` threads (one by default, as in the course)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_onnx(session, x: torch.Tensor) -> torch.Tensor:
    """Run a one-input session on a tensor; returns the first output as a tensor."""
    name = session.get_inputs()[0].name
    return torch.from_numpy(session.run(None, {name: x.detach().numpy()})[0])


# ------------------------------------------------------------------ serving
def clip_from_video(frames: np.ndarray | torch.Tensor, clip_len: int = CLIP_LEN, size: int = 32,
                    channels: int = 1) -> torch.Tensor:
    """Decoded RGB frames (T, H, W, 3) uint8 -> one model input (1, clip_len, channels, size, size).

    As in training: ``clip_len`` frames sampled uniformly over the video (segment centres,
    ``course_utils.sampling.uniform_indices``), gray (ITU-R 601 luma) for one channel,
    resized to ``size`` x ``size`` with antialiasing, scaled to [0, 1].
    """
    check_int("clip_len", clip_len, minimum=1)
    check_int("size", size, minimum=1, maximum=1024)
    check_choice("channels", channels, (1, 3))
    from course_utils.sampling import uniform_indices

    frames = torch.as_tensor(np.asarray(frames))
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (T, H, W, 3), got {tuple(frames.shape)}")
    if frames.shape[0] < clip_len:
        raise PredictError(f"the video has {frames.shape[0]} frames but the model samples {clip_len}: it is too short to classify.")
    idx = uniform_indices(int(frames.shape[0]), clip_len)
    x = frames[idx].permute(0, 3, 1, 2).float() / 255.0  # (clip_len, 3, H, W)
    if channels == 1:
        x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]  # (clip_len, 1, H, W)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0, 1)[None]  # (1, clip_len, C, size, size)


def predict(video: str | Path, model_path: str | Path, topk: int = 3) -> list[tuple[str, float]]:
    """Top-k ``(class, probability)`` of a model bundle on a video file (notebook 07).

    Raises:
        PredictError: with a one-sentence message for every user mistake.
    """
    from course_utils.video_io import VideoError, read_video

    model, bundle = load_bundle(model_path)
    video = Path(video)
    if not video.is_file():
        raise PredictError(f"No video file at {video}.")
    try:
        frames = read_video(video)
    except (VideoError, OSError) as exc:
        reason = getattr(exc.__cause__, "strerror", None) or str(exc).splitlines()[0][:80]
        raise PredictError(f"{video} is not a video PyAV can decode ({reason}).") from None
    inp = bundle["input"]
    x = clip_from_video(frames, inp["frames"], inp["height"], inp["channels"])
    with torch.inference_mode():
        probs = torch.softmax(model(x)[0], dim=0)  # (K,)
    k = min(topk, len(probs))
    top = probs.topk(k)
    return [(bundle["classes"][i], float(p)) for p, i in zip(top.values, top.indices, strict=True)]


def default_model_path() -> Path:
    """Where ``predict --train`` writes the default model and ``predict`` looks for it."""
    from course_utils.env import data_dir

    return data_dir() / "generated" / "motion_classifier.pt"


def train_default_model(path: str | Path | None = None, *, epochs: int = 12, log: Callable[[str], None] = print) -> Path:
    """Train the lesson's CausalVideoNet on the generated motion clips and save a bundle."""
    from torch.utils.data import DataLoader, TensorDataset

    from course_utils.compression import CausalVideoNet, SymmetryAugment
    from course_utils.datasets import MOTION_CLASSES, MotionClips
    from course_utils.env import seed_everything
    from course_utils.training import evaluate, fit

    path = Path(path) if path is not None else default_model_path()
    seed_everything(0)
    torch.set_num_threads(1)
    train, test = MotionClips("train"), MotionClips("test")
    loader = DataLoader(SymmetryAugment(train.clips[:, ::FRAME_STRIDE], train.labels), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(test.clips[:, ::FRAME_STRIDE].float() / 255, test.labels), batch_size=160)
    model = CausalVideoNet()
    log(f"Training the default motion classifier for {epochs} epochs (one CPU thread) ...")
    fit(model, loader, epochs=epochs, lr=2e-3, progress=False)
    acc = evaluate(model, test_loader)["acc"]
    save_bundle(model, path, classes=MOTION_CLASSES, extra={"test_acc": acc})
    log(f"Saved {path} (test accuracy {acc:.3f}).")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_utils predict CLIP.mp4 [--model FILE] [--topk K]`` (and ``--train``)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils predict",
        description="Classify a video file with a trained motion classifier (notebook 07).",
    )
    parser.add_argument("video", nargs="?", help="a video file (mp4, mkv, ...)")
    parser.add_argument("--model", help=f"a model bundle saved by save_bundle (default: {default_model_path()})")
    parser.add_argument("--topk", default="3", help="how many classes to print (default 3)")
    parser.add_argument("--train", action="store_true", help="train the default model first (offline, ~30 s) and save it")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    try:
        topk = int(args.topk)
        if topk < 1:
            raise ValueError
    except ValueError:
        print(f"error: --topk must be a positive whole number, got {args.topk!r}.", file=sys.stderr)
        return 2
    if args.train:
        train_default_model(args.model)
        if args.video is None:
            return 0
    if args.video is None:
        print("error: give a video file to classify, e.g. `python -m course_utils predict data/generated/pan_zoom.mp4`.", file=sys.stderr)
        return 2
    model = Path(args.model) if args.model else default_model_path()
    if args.model is None and not model.is_file():
        print(f"error: no default model at {model}; create it with `python -m course_utils predict --train` "
              "(offline, about 30 s) or pass --model FILE.", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    try:
        top = predict(args.video, model, topk)
    except PredictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width = max(len(name) for name, _ in top)
    print(f"{args.video}: top {len(top)} of {model.name}")
    for name, p in top:
        print(f"  {name:<{width}}  {p:6.1%}")
    return 0


# ------------------------------------------------------------------ after deployment
class ReplayBuffer:
    """A fixed-size reservoir of past examples (Vitter's algorithm R), notebook 07.

    After ``n`` offers every example has the same chance ``capacity / n`` of being kept, so
    the buffer is a uniform sample of everything seen, old data included.
    """

    def __init__(self, capacity: int, seed: int = 0):
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self.capacity, self.seen = capacity, 0
        self.x: list[torch.Tensor] = []
        self.y: list[int] = []
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.y)

    def add(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Offer a batch x (N, ...) with labels y (N,)."""
        if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or len(x) != len(y):
            raise ValueError("x and y must be tensors with the same first dimension (N, ...) and (N,)")
        for xi, yi in zip(x, y, strict=True):
            self.seen += 1
            if len(self.y) < self.capacity:
                self.x.append(xi.clone())
                self.y.append(int(yi))
            else:
                j = self._rng.randrange(self.seen)
                if j < self.capacity:
                    self.x[j], self.y[j] = xi.clone(), int(yi)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Everything in the buffer: (M, ...) and (M,)."""
        if not self.y:
            raise ValueError("the replay buffer is empty")
        return torch.stack(self.x), torch.tensor(self.y)


def gated_update(model: nn.Module, update: Callable[[nn.Module], object], score: Callable[[nn.Module], float],
                 checkpoint: str | Path, *, tolerance: float = 0.02) -> dict:
    """Apply ``update(model)`` only if it does not lower ``score(model)`` by more than ``tolerance``.

    The current weights are first written atomically to ``checkpoint``. After the update the
    held-out score is measured; if it dropped by more than ``tolerance`` the checkpoint is
    restored (rollback). Returns ``{"accepted", "before", "after"}`` (notebook 07).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not callable(update) or not callable(score):
        raise TypeError("update and score must be functions of the model")
    before = float(score(model))
    atomic_save(model.state_dict(), checkpoint)
    update(model)
    after = float(score(model))
    accepted = after >= before - tolerance
    if not accepted:
        model.load_state_dict(torch.load(checkpoint, weights_only=True))
    return {"accepted": accepted, "before": before, "after": after}


class DriftDetector:
    """Alarm when a statistic of the stream moves away from its reference (notebook 07).

    ``fit(reference)`` stores the mean and standard deviation of a per-item statistic on
    data the model was trained on (e.g. each clip's mean brightness, or a feature). Then
    ``update(values)`` takes a window of n new items and returns the z statistic of the
    window mean, ``z = (mean - mu) / (sigma / sqrt(n))``: about N(0, 1) while nothing
    changes. ``alarm`` is True when |z| > ``threshold`` (4 by default: a false alarm about
    once in 16 000 windows under the null).
    """

    def __init__(self, threshold: float = 4.0):
        check_number("threshold", threshold, minimum=0, inclusive=False)
        if not isinstance(threshold, int | float) or threshold <= 0:
            raise ValueError(f"threshold must be a positive number, got {threshold!r}")
        self.threshold = float(threshold)
        self.mu: float | None = None
        self.sigma: float | None = None
        self.alarm = False

    def fit(self, reference: torch.Tensor) -> DriftDetector:
        reference = torch.as_tensor(reference, dtype=torch.float64).flatten()
        if reference.numel() < 2:
            raise ValueError("reference needs at least 2 values")
        self.mu, self.sigma = float(reference.mean()), float(reference.std().clamp_min(1e-12))
        return self

    def update(self, values: torch.Tensor) -> float:
        if self.mu is None:
            raise RuntimeError("call fit(reference) before update(values)")
        values = torch.as_tensor(values, dtype=torch.float64).flatten()
        if values.numel() == 0:
            raise ValueError("values must hold at least one item")
        z = (float(values.mean()) - self.mu) / (self.sigma / values.numel() ** 0.5)
        self.alarm = abs(z) > self.threshold
        return z
