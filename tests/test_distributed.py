"""DDP entry point (notebook 06): equivalence with one big batch, disjoint shards, bad input, crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import distributed as D
from course_utils.datasets import save_array

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("motion")
    rng = np.random.default_rng(0)
    for split, n in (("train", 32), ("val", 16)):
        save_array(folder / f"motion_{split}_clips.npy.gz", rng.integers(0, 256, (n, 4, 1, 8, 8), dtype=np.uint8))
        save_array(folder / f"motion_{split}_labels.npy.gz", np.arange(n) % 8)
    return folder


@pytest.fixture
def plain_env(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(k, raising=False)
    threads = torch.get_num_threads()
    yield monkeypatch
    torch.set_num_threads(threads)


def _torchrun(nproc, args, timeout=180):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    cmd = TORCHRUN + [f"--nproc_per_node={nproc}", "-m", "course_utils.distributed", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_two_processes_equal_one_process_with_double_batch(data, tmp_path, plain_env):
    common = ["--data", str(data), "--max-steps", "3", "--no-val", "--record-indices", "--epochs", "1", "--lr", "0.01"]
    r = _torchrun(2, [*common, "--batch-size", "4", "--out", str(tmp_path / "two")])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "world_size=2 backend=gloo" in r.stdout
    # the reference: one plain process, batch 2B, the same code path without a process group
    args = D.build_parser().parse_args([*common, "--batch-size", "8", "--out", str(tmp_path / "one")])
    D.train(args)
    two = torch.load(tmp_path / "two" / "checkpoint.pt")
    one = torch.load(tmp_path / "one" / "checkpoint.pt")
    assert two["world_size"] == 2 and one["world_size"] == 1 and two["step"] == one["step"] == 3
    for k, v in one["model"].items():
        assert (two["model"][k] - v).abs().max().item() < 1e-5, k
    torch.manual_seed(0)
    start = D.make_model("tiny3d").state_dict()  # the common initialisation (seed 0)
    assert any((start[k] - v).abs().max() > 1e-4 for k, v in one["model"].items())  # it trained
    r0 = json.loads((tmp_path / "two" / "indices_rank0.json").read_text())
    r1 = json.loads((tmp_path / "two" / "indices_rank1.json").read_text())
    ref = json.loads((tmp_path / "one" / "indices_rank0.json").read_text())
    assert len(r0) == len(r1) == 12 and not set(r0) & set(r1)  # disjoint shards
    for s in range(3):  # step s of the two ranks together = step s of the big batch
        assert set(r0[4 * s:4 * s + 4]) | set(r1[4 * s:4 * s + 4]) == set(ref[8 * s:8 * s + 8])


def test_crashed_rank_makes_the_job_exit_non_zero(data, tmp_path):
    r = _torchrun(2, ["--data", str(data), "--batch-size", "4", "--no-val", "--timeout", "20",
                      "--simulate-crash", "1:1"], timeout=120)
    assert r.returncode != 0
    assert "simulated crash of rank 1 at step 1" in r.stdout + r.stderr


@pytest.mark.parametrize("argv,env,needle", [
    (["--model", "resnet9000"], {}, "unknown model 'resnet9000'"),
    (["--data", "/nonexistent/folder"], {}, "data folder /nonexistent/folder does not exist"),
    ([], {"RANK": "0", "WORLD_SIZE": "3"}, "world size 3 does not divide the 32 training clips"),
    (["--batch-size", "64"], {}, "fewer than one batch of 64"),
    (["--simulate-crash", "x"], {}, "RANK:STEP"),
])
def test_bad_input_is_one_sentence_and_exit_code_2(data, plain_env, capsys, argv, env, needle):
    for k, v in env.items():
        plain_env.setenv(k, v)
    argv = ["--data", str(data), *argv] if "--data" not in argv else argv
    assert D.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and err.startswith("error: ") and err.count("\n") == 0, err


def test_model_shapes_and_names():
    x = torch.rand(2, 16, 1, 32, 32)  # (N, T, C, H, W)
    assert D.make_model("tiny3d")(x).shape == (2, 8)
    assert D.make_model("mlp")(x).shape == (2, 8)
    with pytest.raises(ValueError, match="N, T, C, H, W"):
        D.make_model("tiny3d")(torch.rand(2, 3, 4))
