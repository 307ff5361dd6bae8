"""Issue 18: no silent wrong result. Each item of the issue's list, refused with a clear
ValueError/TypeError (or computed right) instead of a plausible wrong answer."""

from __future__ import annotations

import gzip
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import attention as A
from course_utils import conv as C
from course_utils import gan as G
from course_utils import rnn as R
from course_utils import validate as V


def test_rnn_honours_the_modules_relu():
    torch.manual_seed(0)
    m = nn.RNN(3, 4, nonlinearity="relu")
    x = torch.randn(5, 2, 3)
    out, h = R.rnn(x, m)
    ref, href = m(x)
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match="contradicts"):
        R.rnn(x, m, nonlinearity="tanh")


def test_lstm_cell_refuses_a_two_row_h():
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match="tuple"):
        R.lstm_cell(x, torch.randn(2, 4), torch.randn(16, 3), torch.randn(16, 4))


@pytest.mark.parametrize("cell, gates", [(R.rnn_cell, 1), (R.gru_cell, 3), (R.lstm_cell, 4)])
def test_cells_refuse_a_batch_1_state_against_batch_n(cell, gates):
    x = torch.randn(3, 2)
    h1 = torch.randn(1, 4)
    hx = (h1, h1) if cell is R.lstm_cell else h1
    with pytest.raises(ValueError, match="shape"):
        cell(x, hx, torch.randn(gates * 4, 2), torch.randn(gates * 4, 4))


def test_multihead_attention_refuses_batch_1_keys_and_bad_sizes():
    mha = A.MultiHeadAttention(8, 2, batch_first=True)
    q, k = torch.randn(3, 4, 8), torch.randn(1, 5, 8)
    with pytest.raises(ValueError, match="batch size"):
        mha(q, k, k)
    for args in ((8, -2), (8, 0), (-8, 2), (8, 2.0)):
        with pytest.raises((ValueError, TypeError)):
            A.MultiHeadAttention(*args)


def test_dcgan_discriminator_refuses_another_image_size():
    d = G.DCGANDiscriminator(width=8, size=32)
    with pytest.raises(ValueError, match="size"):
        d(torch.randn(2, 1, 64, 64))
    assert d(torch.randn(2, 1, 32, 32)).shape == (2,)


def test_video_transformer_refuses_a_clip_of_another_length():
    m = A.VideoTransformer(num_classes=3, num_frames=4, image_size=16, tubelet_size=(2, 8, 8), dim=16, depth=1, positional="sinusoidal")
    assert m(torch.randn(1, 4, 1, 16, 16)).shape == (1, 3)
    with pytest.raises(ValueError, match="frames"):
        m(torch.randn(1, 2, 1, 16, 16))


def test_patch_and_tubelet_embeddings_refuse_leftovers():
    with pytest.raises(ValueError, match="dropped"):
        A.PatchEmbedding(1, 8, 4)(torch.randn(1, 1, 10, 8))
    with pytest.raises(ValueError, match="dropped"):
        A.TubeletEmbedding(1, 8, (2, 4, 4))(torch.randn(1, 3, 1, 8, 8))


def test_g_step_restores_what_it_found():
    g, d = G.MLPGenerator(z_dim=2), G.MLPDiscriminator()
    frozen = next(d.parameters())
    frozen.requires_grad_(False)
    G.g_step(g, d, torch.optim.SGD(g.parameters(), lr=0.01), 4)
    assert not frozen.requires_grad
    assert all(p.requires_grad for p in list(d.parameters())[1:])


def test_numeric_gradient_dtypes_and_non_contiguous_input():
    f = lambda t: (t**3).sum()  # noqa: E731
    x = torch.randn(3, 4, dtype=torch.float64).t()  # non-contiguous
    torch.testing.assert_close(C.numeric_gradient(f, x), 3 * x**2, rtol=1e-5, atol=1e-6)
    for bad in (torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.float16)):
        with pytest.raises(TypeError, match="float64"):
            C.numeric_gradient(f, bad)


def test_conv_params_and_friends_refuse_nonsense_sizes():
    with pytest.raises(ValueError, match="in_channels"):
        C.conv_params(-3, 64, 3)
    with pytest.raises(TypeError, match="int"):
        C.conv_params(3.0, 64, 3)


def test_to_gan_range_refuses_int64():
    with pytest.raises(TypeError, match="uint8"):
        G.to_gan_range(torch.full((2,), 255, dtype=torch.int64))
    assert G.to_gan_range(torch.full((2,), 255, dtype=torch.uint8)).tolist() == [1.0, 1.0]


def test_fit_refuses_empty_loaders_and_non_finite_numbers():
    from course_utils.training import fit

    model = nn.Linear(2, 2)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)), batch_size=4)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, empty, progress=False)
    data = DataLoader(TensorDataset(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)), batch_size=4)
    for kw in ({"lr": math.inf}, {"lr": math.nan}, {"time_limit": math.nan}, {"clip_grad_norm": math.inf}):
        with pytest.raises(ValueError, match="finite"):
            fit(model, data, progress=False, **kw)


def test_write_video_refuses_an_fps_it_cannot_store(tmp_path):
    from course_utils.video_io import write_video

    frames = torch.zeros(2, 16, 16, 3, dtype=torch.uint8)
    for fps in (1e-6, math.inf, math.nan, 1e9):
        with pytest.raises(ValueError, match="fps"):
            write_video(tmp_path / "a.mp4", frames, fps=fps)


def test_sizes_that_would_need_gigabytes_are_refused():
    with pytest.raises(ValueError, match="elements"):
        A.sinusoidal_positional_encoding(10**6, 10**6)
    with pytest.raises(ValueError, match="elements"):
        A.causal_mask(10**6)
    with pytest.raises(ValueError, match="elements"):
        G.sample_noise(10**6, 10**6)


def test_validate_helpers_name_the_argument():
    with pytest.raises(TypeError, match="k must be an int"):
        V.check_int("k", True)
    with pytest.raises(ValueError, match="lr must be a finite"):
        V.check_number("lr", float("nan"))
    with pytest.raises(ValueError, match="x must have 5 dimensions"):
        V.check_tensor("x", torch.zeros(2, 3), ndim=5, shape="(N, C, T, H, W)")
    with pytest.raises(ValueError, match="h has batch size 1"):
        V.check_batch("h", torch.zeros(1, 4), torch.zeros(3, 4))


def test_datasets_name_the_file_and_the_fix(tmp_path, monkeypatch):
    from course_utils import datasets as D

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    gen = tmp_path / "generated"
    gen.mkdir()
    good = D.generated_dir  # the real files are elsewhere: write tiny ones
    D.save_array(gen / "glyphs_test_images.npy.gz", torch.zeros(3, 1, 4, 4, dtype=torch.uint8).numpy())
    D.save_array(gen / "glyphs_test_labels.npy.gz", torch.tensor([0, 1, 12]).numpy())
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\).*data build"):
        D.Glyphs("test")
    D.save_array(gen / "glyphs_test_labels.npy.gz", torch.tensor([0.0, 1.0, 2.0]).numpy())
    with pytest.raises(ValueError, match="integers"):
        D.Glyphs("test")
    raw = (gen / "glyphs_test_images.npy.gz").read_bytes()
    (gen / "glyphs_test_images.npy.gz").write_bytes(raw[: len(raw) // 2])  # truncated
    with pytest.raises(ValueError, match="glyphs_test_images.npy.gz is corrupt or truncated.*data build"):
        D.Glyphs("test")
    (gen / "glyphs_test_images.npy.gz").write_bytes(gzip.compress(b"not an array"))
    with pytest.raises(ValueError, match="corrupt"):
        D.Glyphs("test")
    assert good is D.generated_dir
