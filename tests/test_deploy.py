"""course_utils.deploy (notebook 07): export, checkpoints (with a real SIGKILL), predict, drift."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import compression as C
from course_utils import deploy as D
from course_utils.datasets import MOTION_CLASSES
from course_utils.env import REPO_ROOT

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models run fastest on one thread (as in the notebooks); restore afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return C.CausalVideoNet().eval()


@pytest.fixture(scope="module")
def bundle(model, tmp_path_factory):
    return D.save_bundle(model, tmp_path_factory.mktemp("m") / "model.pt", classes=MOTION_CLASSES)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    from course_utils.video_io import write_video

    root = tmp_path_factory.mktemp("v")
    g = np.random.default_rng(0)
    write_video(root / "ok.mp4", g.integers(0, 255, (20, 48, 64, 3), dtype=np.uint8), fps=10)
    write_video(root / "short.mp4", g.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8), fps=10)
    (root / "notes.mp4").write_text("this is not a video\n")
    return root


def _threads():
    class _Keep:
        def __enter__(self):
            self.n = torch.get_num_threads()

        def __exit__(self, *exc):
            torch.set_num_threads(self.n)

    return _Keep()


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def fp32_onnx(model, tmp_path_factory):
    return D.export_onnx(model, tmp_path_factory.mktemp("onnx") / "m.onnx", torch.rand(1, 8, 1, 32, 32))


def test_onnx_runtime_equals_pytorch_with_a_dynamic_batch_axis(model, fp32_onnx):
    session = D.onnx_session(fp32_onnx)
    batch_dim = session.get_inputs()[0].shape[0]
    assert isinstance(batch_dim, str), batch_dim  # symbolic, not a fixed number
    for b in (1, 3, 9):
        x = torch.rand(b, 8, 1, 32, 32, generator=torch.Generator().manual_seed(b))
        with torch.no_grad():
            ref = model(x)
        out = D.run_onnx(session, x)
        assert out.shape == ref.shape
        assert (out - ref).abs().max() < 1e-5


def test_torch_export_program_has_a_dynamic_batch(model):
    program = D.export_program(model, torch.rand(1, 8, 1, 32, 32))
    x = torch.rand(5, 8, 1, 32, 32)
    with torch.no_grad():
        assert (program.module()(x) - model(x)).abs().max() < 1e-5


def test_onnx_int8_is_smaller_and_close(fp32_onnx, tmp_path):
    fp32 = fp32_onnx
    calib = torch.rand(32, 8, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    dyn = C.onnx_int8(fp32, tmp_path / "dyn.onnx")
    static = C.onnx_int8(fp32, tmp_path / "static.onnx", calibration=calib)
    for q in (dyn, static):
        assert C.file_size(q) * 2.5 < C.file_size(fp32)  # int8 weights really stored
        x = calib[:4]
        ref, out = D.run_onnx(D.onnx_session(fp32), x), D.run_onnx(D.onnx_session(q), x)
        assert (out - ref).abs().max() < 0.1 * ref.abs().max() + 1e-3
    assert not list(tmp_path.glob("*.prep.onnx")) and not list(fp32.parent.glob("*.prep.onnx"))


# ------------------------------------------------------------------ checkpoints
def test_atomic_save_leaves_no_temp_file_and_replaces(tmp_path):
    p = tmp_path / "x.pt"
    D.atomic_save({"a": torch.ones(2)}, p)
    D.atomic_save({"a": torch.zeros(2)}, p)
    assert torch.equal(torch.load(p, weights_only=True)["a"], torch.zeros(2))
    assert [f.name for f in tmp_path.iterdir()] == ["x.pt"]


def test_atomic_save_failure_keeps_the_old_file(tmp_path):
    p = tmp_path / "x.pt"
    D.atomic_save({"a": torch.ones(2)}, p)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        D.atomic_save({"a": Unpicklable()}, p)
    assert torch.equal(torch.load(p, weights_only=True)["a"], torch.ones(2))
    assert [f.name for f in tmp_path.iterdir()] == ["x.pt"]


def test_simulated_crash_then_resume_equals_uninterrupted(tmp_path):
    with _threads(), torch.random.fork_rng(devices=[]):
        straight = D.resumable_training(tmp_path / "a.pt", epochs=5)
        D.resumable_training(tmp_path / "b.pt", epochs=5, stop_after=2)
        assert torch.load(tmp_path / "b.pt", weights_only=False)["epoch"] == 2
        resumed = D.resumable_training(tmp_path / "b.pt", epochs=5)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_sigkill_mid_training_then_resume_equals_uninterrupted(tmp_path):
    """A real SIGKILL of a training subprocess; the resumed run ends with the same parameters."""
    ckpt = tmp_path / "killed.pt"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    code = ("from course_utils.deploy import resumable_training; "
            f"resumable_training({str(ckpt)!r}, epochs=8, pause=0.15)")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 60
        epoch = 0
        while time.monotonic() < deadline:
            if ckpt.exists():
                epoch = torch.load(ckpt, weights_only=False)["epoch"]
                if epoch >= 2:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the training process ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = torch.load(ckpt, weights_only=False)["epoch"]  # atomic: always a whole checkpoint
    assert 2 <= killed_at < 8
    with _threads(), torch.random.fork_rng(devices=[]):
        resumed = D.resumable_training(ckpt, epochs=8)
        straight = D.resumable_training(tmp_path / "straight.pt", epochs=8)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


# ------------------------------------------------------------------ bundles and predict
def test_bundle_round_trip_with_weights_only(model, bundle):
    loaded, info = D.load_bundle(bundle)
    x = torch.rand(2, 8, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert info["classes"] == list(MOTION_CLASSES)
    torch.load(bundle, weights_only=True)  # plain tensors and data: no pickled code


def test_predict_prints_topk(bundle, videos, capsys):
    assert D.main([str(videos / "ok.mp4"), "--model", str(bundle), "--topk", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 4 and "top 3" in out[0]
    probs = [float(line.split()[-1].rstrip("%")) for line in out[1:]]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 100 for p in probs)
    assert all(line.split()[0] in MOTION_CLASSES for line in out[1:])
    top = D.predict(videos / "ok.mp4", bundle, topk=8)
    assert len(top) == 8 and abs(sum(p for _, p in top) - 1) < 1e-5


def test_predict_the_course_mp4(bundle, capsys):
    video = REPO_ROOT / "data" / "generated" / "pan_zoom.mp4"
    if not video.exists():
        pytest.skip("course data not built")
    assert D.main([str(video), "--model", str(bundle), "--topk", "2"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_the_real_command_reports_an_error_without_traceback(bundle):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    bad = subprocess.run([sys.executable, "-m", "course_utils", "predict", "README.md", "--model", str(bundle)],
                         capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "not a video" in bad.stderr


def _bad_bundles(model, root: Path) -> dict[str, Path]:
    root.mkdir(exist_ok=True)
    files = {}
    files["garbage"] = root / "garbage.pt"
    files["garbage"].write_bytes(b"\x00\x01 not a model at all")
    files["state_dict"] = root / "state_dict.pt"
    torch.save(model.state_dict(), files["state_dict"])
    files["pickled"] = root / "pickled.pt"
    torch.save(model, files["pickled"])
    other = C.CausalVideoNet(widths=(4, 8, 8), size=64)  # weights for 64x64 inputs ...
    files["shape"] = root / "shape.pt"
    b = {"format": D.BUNDLE_FORMAT, "version": 1, "config": dict(model.config), "state_dict": other.state_dict(),
         "classes": list(MOTION_CLASSES), "input": {"frames": 8, "channels": 1, "height": 32, "width": 32}}
    torch.save(b, files["shape"])  # ... in a bundle that declares 32x32
    files["channels"] = root / "channels.pt"
    torch.save(dict(b, state_dict=model.state_dict(), input={"frames": 8, "channels": 3, "height": 32, "width": 32}),
               files["channels"])
    return files


@pytest.mark.parametrize("case", ["missing_video", "not_a_video", "too_short", "missing_model", "garbage",
                                  "state_dict", "pickled", "shape", "channels", "topk", "no_video"])
def test_every_predict_error_is_one_sentence_and_exit_2(case, model, bundle, videos, tmp_path, capsys):
    bad = _bad_bundles(model, tmp_path / "bad")
    argv = {
        "missing_video": [str(videos / "nope.mp4"), "--model", str(bundle)],
        "not_a_video": [str(videos / "notes.mp4"), "--model", str(bundle)],
        "too_short": [str(videos / "short.mp4"), "--model", str(bundle)],
        "missing_model": [str(videos / "ok.mp4"), "--model", str(tmp_path / "none.pt")],
        "topk": [str(videos / "ok.mp4"), "--model", str(bundle), "--topk", "0"],
        "no_video": ["--model", str(bundle)],
    }.get(case) or [str(videos / "ok.mp4"), "--model", str(bad[case])]
    words = {
        "missing_video": "No video file", "not_a_video": "not a video", "too_short": "too short",
        "missing_model": "No model file", "garbage": "not a model file", "state_dict": "not a course model bundle",
        "pickled": "not a model file", "shape": "another input shape", "channels": "another input shape",
        "topk": "--topk", "no_video": "give a video file",
    }[case]
    assert D.main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert words in err, err
    assert captured.out == ""


def test_missing_default_model_says_how_to_create_it(videos, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert D.main([str(videos / "ok.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "predict --train" in err and "--model" in err


def test_cli_lists_predict():
    from course_utils.__main__ import main

    assert "predict" in main.__globals__["__doc__"]


def test_clip_from_video_samples_like_training():
    frames = np.zeros((16, 64, 48, 3), dtype=np.uint8)
    for t in range(16):
        frames[t] = t * 10
    x = D.clip_from_video(frames, clip_len=8, size=32)
    assert x.shape == (1, 8, 1, 32, 32)
    from course_utils.sampling import uniform_indices

    want = uniform_indices(16, 8).float() * 10 / 255
    assert torch.allclose(x[0, :, 0, 0, 0], want, atol=1e-5)


# ------------------------------------------------------------------ after deployment
def test_replay_buffer_is_a_uniform_reservoir():
    counts = torch.zeros(100)
    for seed in range(200):
        buf = D.ReplayBuffer(10, seed=seed)
        buf.add(torch.arange(100).float()[:, None], torch.arange(100))
        assert len(buf) == 10 and buf.seen == 100
        counts[buf.tensors()[1]] += 1
    assert counts[:50].sum() / counts.sum() == pytest.approx(0.5, abs=0.06)  # old items kept as often as new
    with pytest.raises(ValueError, match="capacity"):
        D.ReplayBuffer(0)


def test_gated_update_rolls_back_a_harmful_update_and_keeps_a_good_one(tmp_path):
    net = torch.nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.zero_()
    before = {k: v.clone() for k, v in net.state_dict().items()}

    def score(m):
        return float(-(m.weight.detach() - 1).abs().sum())  # best at weight == 1

    def harm(m):
        with torch.no_grad():
            m.weight.add_(0.5)

    d = D.gated_update(net, harm, score, tmp_path / "prev.pt", tolerance=0.02)
    assert not d["accepted"] and d["after"] < d["before"]
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # rolled back

    def help_(m):
        with torch.no_grad():
            m.bias.add_(1.0)  # the score does not care

    d = D.gated_update(net, help_, score, tmp_path / "prev.pt")
    assert d["accepted"] and net.bias.item() == 1.0


def test_drift_detector_alarms_on_a_shift_only():
    g = torch.Generator().manual_seed(0)
    det = D.DriftDetector(threshold=4.0).fit(torch.randn(5000, generator=g))
    quiet = [det.update(torch.randn(16, generator=g)) for _ in range(200)]
    assert max(abs(z) for z in quiet) < 4.5
    z = det.update(torch.randn(16, generator=g) + 1.5)
    assert det.alarm and z > 4
    with pytest.raises(RuntimeError, match="fit"):
        D.DriftDetector().update(torch.zeros(3))


def test_train_default_model_writes_a_bundle_predict_can_use(tmp_path, capsys):
    if not (REPO_ROOT / "data" / "generated" / "motion_train_clips.npy.gz").exists():
        pytest.skip("course data not built")
    lines = []
    with _threads(), torch.random.fork_rng(devices=[]):
        path = D.train_default_model(tmp_path / "default.pt", epochs=1, log=lines.append)
    assert path.exists() and "Saved" in lines[-1]
    model, info = D.load_bundle(path)
    assert 0 <= info["extra"]["test_acc"] <= 1 and info["classes"] == list(MOTION_CLASSES)
    assert D.main([str(REPO_ROOT / "data" / "generated" / "pan_zoom.mp4"), "--model", str(path), "--topk", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
