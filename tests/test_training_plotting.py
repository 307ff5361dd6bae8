import time

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import setup
from course_utils.env import environment_line, seed_everything
from course_utils.plotting import animate_clip, plot_history, show_frames, show_images, to_tchw
from course_utils.training import History, accuracy, evaluate, fit


def _toy(n=256):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def test_fit_learns_a_separable_problem_and_returns_history():
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    loader = _toy()
    h = fit(model, loader, loader, epochs=15, lr=0.05, progress=False)
    assert isinstance(h, History) and h.epochs == 15 and len(h["val_acc"]) == 15
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["val_acc"][-1] > 0.95 and h.seconds > 0
    assert evaluate(model, loader)["acc"] > 0.95


def test_fit_honours_the_time_limit():
    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            time.sleep(0.05)
            return self.lin(x)

    h = fit(Slow(), _toy(), epochs=50, time_limit=0.3, progress=False)
    assert h.stopped_early and h.seconds < 1.5 and h.epochs == 1


def test_accuracy():
    assert accuracy(torch.tensor([[1.0, 0], [0, 1], [1, 0]]), torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: fit("model", _toy()), TypeError, "model must be a torch.nn.Module"),
        (lambda: fit(nn.Linear(2, 2), [1, 2]), TypeError, "train_loader"),
        (lambda: fit(nn.Linear(2, 2), _toy(), epochs=0), ValueError, "epochs"),
        (lambda: fit(nn.Linear(2, 2), _toy(), time_limit=-1), ValueError, "time_limit"),
        (lambda: fit(nn.Linear(2, 2), _toy(), lr=0), ValueError, "lr"),
        (lambda: fit(nn.Linear(2, 2), _toy(), val_loader=5), TypeError, "val_loader"),
        (lambda: accuracy(torch.zeros(3), torch.zeros(3)), ValueError, r"\(N, K\)"),
        (lambda: accuracy(torch.zeros(3, 2), torch.zeros(4)), ValueError, r"labels must be a tensor of shape \(3,\)"),
        (lambda: evaluate(nn.Linear(2, 2), None), TypeError, "loader"),
    ],
)
def test_training_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_to_tchw_accepts_both_layouts_and_dtypes():
    a = to_tchw(np.zeros((4, 8, 8, 3), np.uint8))
    b = to_tchw(torch.ones(4, 1, 8, 8))
    assert a.shape == (4, 3, 8, 8) and b.shape == (4, 1, 8, 8) and a.dtype == torch.float32


@pytest.mark.parametrize(
    "clip, exc, match",
    [
        (torch.zeros(8, 8, 3), ValueError, "4 dims"),
        (torch.zeros(4, 5, 8, 8), ValueError, "1 or 3 channels"),
        (torch.zeros(4, 3, 8, 8, dtype=torch.int32), TypeError, "uint8 or floating"),
        ("clip", TypeError, "torch.Tensor or numpy"),
    ],
)
def test_plotting_bad_input(clip, exc, match):
    with pytest.raises(exc, match=match):
        show_frames(clip)


def test_figures_and_animation():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = show_frames(torch.rand(6, 1, 8, 8), title="t")
    assert len(fig.axes) == 1
    fig = show_images(torch.rand(10, 3, 8, 8), nrow=5)
    assert fig.axes[0].get_images()[0].get_array().shape[:2] == (2 * 8 + 3 * 2, 5 * 8 + 6 * 2)
    html = animate_clip(torch.rand(5, 1, 8, 8), fps=4)
    assert html.data.count("data:image/png;base64") == 5
    h = History()
    h["train_loss"] += [1.0, 0.5]
    h["train_acc"] += [0.5, 0.8]
    assert plot_history(h)
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())
    with pytest.raises(ValueError, match="nrow"):
        show_images(torch.rand(2, 1, 4, 4), nrow=0)
    with pytest.raises(ValueError, match="fps"):
        animate_clip(torch.rand(2, 1, 4, 4), fps=0)
    plt.close("all")


def test_setup_seeds_and_reports(capsys):
    setup(3)
    a = torch.rand(3)
    setup(3, report=False)
    assert torch.equal(a, torch.rand(3))
    assert "Environment: course_utils" in capsys.readouterr().out
    assert "seed 7" in environment_line(7)
    with pytest.raises(TypeError, match="seed"):
        seed_everything(-1)
    with pytest.raises(TypeError, match="style"):
        setup(0, style="yes")


def test_same_augmentation_on_every_frame_with_tv_tensors_video():
    from torchvision import tv_tensors
    from torchvision.transforms import v2 as T

    frame = torch.randint(0, 256, (1, 3, 40, 40), dtype=torch.uint8)
    clip = tv_tensors.Video(frame.repeat(6, 1, 1, 1))  # 6 identical frames
    aug = T.Compose([T.RandomResizedCrop((24, 24), scale=(0.2, 0.9), antialias=True), T.RandomHorizontalFlip()])
    for seed in range(5):
        torch.manual_seed(seed)
        out = aug(clip)
        assert isinstance(out, tv_tensors.Video) and out.shape == (6, 3, 24, 24)
        assert (out == out[:1]).all()


def test_setup_sets_threads():
    before = torch.get_num_threads()
    try:
        setup(0, threads=1, report=False)
        assert torch.get_num_threads() == 1
        with pytest.raises(ValueError, match="threads"):
            setup(0, threads=0)
    finally:
        torch.set_num_threads(before)


def test_animation_player_works_offline():
    html = animate_clip(torch.rand(3, 1, 4, 4), fps=4).data
    assert "http" not in html.lower()  # no icon font from a CDN
    assert 'class="fa ' not in html
    assert "&#9654;" in html and "||" in html  # play and pause drawn as text
