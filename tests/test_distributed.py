"""DDP entry point (notebook 06): equivalence with one big batch, disjoint shards, FSDP2 sharding
equal to DDP, bad input, crashes and the launcher's error report."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from course_utils import distributed as D
from course_utils.datasets import save_array


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


COMMON = ["--max-steps", "3", "--no-val", "--record-indices", "--epochs", "1", "--lr", "0.01"]


@pytest.fixture(scope="module")
def ddp_two(data, tmp_path_factory):
    """One 2-process DDP run, batch 4 per rank, 3 steps: shared by the DDP and FSDP tests."""
    out = tmp_path_factory.mktemp("ddp_two")
    r = D.launch(["--data", str(data), *COMMON, "--batch-size", "4", "--out", str(out)], timeout=180)
    assert r.returncode == 0, "\n".join(D.worker_errors(r.stderr))
    return out, r.stdout


def test_two_processes_equal_one_process_with_double_batch(data, tmp_path, plain_env, ddp_two):
    two_dir, stdout = ddp_two
    assert "world_size=2 backend=gloo" in stdout
    # the reference: one plain process, batch 2B, the same code path without a process group
    args = D.build_parser().parse_args(["--data", str(data), *COMMON, "--batch-size", "8", "--out", str(tmp_path / "one")])
    D.train(args)
    two = torch.load(two_dir / "checkpoint.pt")
    one = torch.load(tmp_path / "one" / "checkpoint.pt")
    assert two["world_size"] == 2 and one["world_size"] == 1 and two["step"] == one["step"] == 3
    for k, v in one["model"].items():
        assert (two["model"][k] - v).abs().max().item() < 1e-5, k
    torch.manual_seed(0)
    start = D.make_model("tiny3d").state_dict()  # the common initialisation (seed 0)
    assert any((start[k] - v).abs().max() > 1e-4 for k, v in one["model"].items())  # it trained
    r0 = json.loads((two_dir / "indices_rank0.json").read_text())
    r1 = json.loads((two_dir / "indices_rank1.json").read_text())
    ref = json.loads((tmp_path / "one" / "indices_rank0.json").read_text())
    assert len(r0) == len(r1) == 12 and not set(r0) & set(r1)  # disjoint shards
    for s in range(3):  # step s of the two ranks together = step s of the big batch
        assert set(r0[4 * s:4 * s + 4]) | set(r1[4 * s:4 * s + 4]) == set(ref[8 * s:8 * s + 8])


def test_fsdp_shards_the_weights_and_trains_like_ddp(data, tmp_path, ddp_two):
    """FSDP2 (fully_shard) on 2 gloo processes: each rank holds half of the parameters, and
    after 3 steps the gathered weights and the logged loss equal the DDP run's."""
    r = D.launch(["--data", str(data), *COMMON, "--batch-size", "4", "--strategy", "fsdp", "--out", str(tmp_path)],
                 timeout=180)
    assert r.returncode == 0, "\n".join(D.worker_errors(r.stderr))
    m = re.search(r"fsdp_params_per_rank=\[(\d+), (\d+)\] of (\d+)", r.stdout)
    assert m, r.stdout
    held, total = [int(m.group(1)), int(m.group(2))], int(m.group(3))
    torch.manual_seed(0)
    assert total == sum(p.numel() for p in D.make_model("tiny3d").parameters())
    assert sum(held) == total and all(abs(h - total / 2) <= 0.05 * total for h in held), (held, total)
    fsdp = torch.load(tmp_path / "checkpoint.pt")
    ddp = torch.load(ddp_two[0] / "checkpoint.pt")
    assert fsdp["step"] == ddp["step"] == 3 and set(fsdp["model"]) == set(ddp["model"])
    for k, v in ddp["model"].items():
        assert fsdp["model"][k].shape == v.shape and (fsdp["model"][k] - v).abs().max().item() < 1e-5, k
    loss = [json.loads(line)["train_loss"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    loss_ddp = [json.loads(line)["train_loss"] for line in (ddp_two[0] / "log.jsonl").read_text().splitlines()]
    assert loss == pytest.approx(loss_ddp, abs=2e-4)
    seen = [json.loads((tmp_path / f"indices_rank{r}.json").read_text()) for r in (0, 1)]
    assert not set(seen[0]) & set(seen[1])  # FSDP is data parallel too: disjoint shards of the data


def test_crashed_rank_makes_the_job_exit_non_zero_and_the_report_names_it(data):
    r = D.launch(["--data", str(data), "--batch-size", "4", "--no-val", "--timeout", "20",
                  "--simulate-crash", "1:1"], timeout=120)
    assert r.returncode != 0
    report = D.worker_errors(r.stderr)
    text = "\n".join(report)
    assert "RuntimeError: simulated crash of rank 1 at step 1" in text  # the worker's own error line
    assert report[-1] == "torchrun: root cause (first failure): rank 1, exit code 1"
    assert "ChildFailedError" not in text and "OMP_NUM_THREADS" not in text  # the launcher's lines are gone
    short = D.worker_errors(r.stderr, max_lines=1)
    assert "[rank1]: RuntimeError: simulated crash of rank 1 at step 1" in short


def test_worker_errors_on_a_usage_error_and_bad_arguments():
    stderr = ("*****\nSetting OMP_NUM_THREADS environment variable ...\n*****\n"
              "error: unknown model 'x': choose one of mlp, tiny3d.\n"
              "E1202 22:49:59.368000 32381 /x/torch/distributed/elastic/multiprocessing/api.py:1002] failed (exitcode: 2)\n"
              "Traceback (most recent call last):\n  File \"<frozen runpy>\", line 198\n"
              "  File \"/x/torch/distributed/run.py\", line 1142, in <module>\nChildFailedError:\n"
              "Root Cause (first observed failure):\n[0]:\n  rank      : 0 (local_rank: 0)\n  exitcode  : 2 (pid: 1)\n")
    assert D.worker_errors(stderr) == ["error: unknown model 'x': choose one of mlp, tiny3d.",
                                       "torchrun: root cause (first failure): rank 0, exit code 2"]
    assert D.worker_errors("") == []
    with pytest.raises(TypeError, match="stderr"):
        D.worker_errors(b"bytes")
    with pytest.raises(ValueError, match="max_lines"):
        D.worker_errors("", max_lines=0)
    with pytest.raises(TypeError, match="args"):
        D.launch("--epochs 1")
    with pytest.raises(ValueError, match="nproc"):
        D.launch([], nproc=0)
    with pytest.raises(ValueError, match="timeout"):
        D.launch([], timeout=-1)


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
