"""Figures the course draws again and again: frame grids, clip animations, curves.

Introduced in notebook 00. Grids use ``torchvision.utils.make_grid``; animations use
``matplotlib.animation`` rendered as JavaScript HTML, so they play inline in Jupyter and in
the HTML export without any video codec.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.utils as vutils

from course_utils.validate import check_int, check_number

__all__ = ["animate_clip", "plot_history", "show_frames", "show_images", "to_tchw"]


def to_tchw(clip: torch.Tensor | np.ndarray, name: str = "clip") -> torch.Tensor:
    """Bring a clip to a float tensor (T, C, H, W) in [0, 1].

    Accepts (T, C, H, W) or (T, H, W, C) with C in {1, 3}, as uint8 (0-255) or float (0-1),
    torch tensor or numpy array.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the argument's name, for messages), got {type(name).__name__}")
    if isinstance(clip, np.ndarray):
        clip = torch.from_numpy(np.ascontiguousarray(clip))
    if not isinstance(clip, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(clip).__name__}")
    if clip.ndim != 4:
        raise ValueError(f"{name} must have 4 dims, (T, C, H, W) or (T, H, W, C), got shape {tuple(clip.shape)}")
    if clip.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(clip.shape)}): give at least one frame of at least one pixel")
    if clip.shape[1] not in (1, 3) and clip.shape[-1] in (1, 3):
        clip = clip.permute(0, 3, 1, 2)  # (T, H, W, C) -> (T, C, H, W)
    if clip.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels, in dim 1 (T, C, H, W) or dim 3 (T, H, W, C); got shape {tuple(clip.shape)}")
    if clip.dtype == torch.uint8:
        return clip.float() / 255.0
    if not clip.is_floating_point():
        raise TypeError(f"{name} must be uint8 or floating point, got {clip.dtype}")
    return clip.detach().float().clamp(0, 1)


def _new_ax(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()) or None, got {type(ax).__name__}")
        fig = ax.figure
    return fig, ax


def _check_title(title) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def show_images(images, nrow: int = 8, title: str | None = None, ax=None, padding: int = 2):
    """Show a batch of images (N, C, H, W) as one grid; returns the Figure.

    Floats are expected in [0, 1] (pass ``(x + 1) / 2`` for tanh outputs).
    """
    imgs = to_tchw(images, name="images")  # (N, C, H, W)
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow must be a positive int, got {nrow!r}")
    check_int("padding", padding, minimum=0, maximum=64)
    _check_title(title)
    grid = vutils.make_grid(imgs, nrow=nrow, padding=padding, pad_value=0.5)  # (3, H', W')
    rows = int(np.ceil(len(imgs) / nrow))
    fig, ax = _new_ax(ax, (min(1.1 * min(nrow, len(imgs)), 12), min(1.1 * rows, 10) + 0.4))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def show_frames(clip, nrow: int | None = None, title: str | None = None, ax=None):
    """Show the frames of one clip left to right (rows of ``nrow``); returns the Figure.

    Args:
        clip: (T, C, H, W) or (T, H, W, C), uint8 or float in [0, 1].
        nrow: frames per row (default: all in one row, up to 16).
    """
    frames = to_tchw(clip)
    if nrow is not None:
        check_int("nrow", nrow, minimum=1)
    _check_title(title)
    nrow = nrow or min(len(frames), 16)
    fig = show_images(frames, nrow=nrow, title=title, ax=ax)
    return fig


def animate_clip(clip, fps: float = 8, title: str | None = None, scale: float = 2.5):
    """An inline animation of a clip (plays in Jupyter and in HTML exports).

    Args:
        clip: (T, C, H, W) or (T, H, W, C), uint8 or float in [0, 1].
        fps: playback speed.

    Returns:
        ``IPython.display.HTML`` with the animation's JavaScript player.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation

    frames = to_tchw(clip).permute(0, 2, 3, 1).numpy()  # (T, H, W, C)
    check_number("fps", fps, minimum=0.01, maximum=1000)
    check_number("scale", scale, minimum=0.1, maximum=50)
    _check_title(title)
    h, w = frames.shape[1:3]
    fig, ax = plt.subplots(figsize=(scale * w / max(h, w), scale * h / max(h, w)))
    ax.set_axis_off()
    img = frames[..., 0] if frames.shape[-1] == 1 else frames
    im = ax.imshow(img[0], vmin=0, vmax=1, cmap="gray", interpolation="nearest")
    if title:
        ax.set_title(title)

    def update(i):
        im.set_data(img[i])
        return (im,)

    anim = animation.FuncAnimation(fig, update, frames=len(img), interval=1000 / fps, blit=True)
    html = offline_player(anim.to_jshtml(default_mode="loop"))
    plt.close(fig)
    return HTML(html)


# The player's buttons as plain text: matplotlib's to_jshtml draws them with Font Awesome
# icons loaded from a CDN, which leaves empty buttons offline (a classroom without internet).
_PLAYER_ICONS = {
    "fa fa-minus": "&minus;",
    "fa fa-fast-backward": "|&#9664;&#9664;",
    "fa fa-step-backward": "|&#9664;",
    "fa fa-play fa-flip-horizontal": "&#9664;",
    "fa fa-pause": "||",
    "fa fa-play": "&#9654;",
    "fa fa-step-forward": "&#9654;|",
    "fa fa-fast-forward": "&#9654;&#9654;|",
    "fa fa-plus": "+",
}


def offline_player(html: str) -> str:
    """Make matplotlib's ``to_jshtml`` player self-contained (notebook 00 introduces it).

    Removes the ``<link>`` that loads Font Awesome from the internet and replaces each
    ``<i class="fa ...">`` icon by a text symbol, so the controls show with no network.
    """
    import re

    if not isinstance(html, str):
        raise TypeError(f"html must be a str (the output of to_jshtml), got {type(html).__name__}")
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    return re.sub(r'<i class="(fa [^"]*)"></i>', lambda m: _PLAYER_ICONS.get(m.group(1), ""), html)


def plot_history(history, ax=None, title: str | None = None):
    """Training curves from a :class:`course_utils.training.History` (or dict of lists).

    Draws loss (left axis) and accuracy (right axis) per epoch; returns the Figure.
    """
    if not isinstance(history, dict) or "train_loss" not in history:
        raise TypeError("history must be the History returned by fit() (a dict with 'train_loss', ...)")
    if not history["train_loss"]:
        raise ValueError("history is empty: train for at least one epoch first")
    _check_title(title)
    fig, ax = _new_ax(ax, (6.0, 3.4))
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    ax.plot(epochs, history["train_loss"], "o-", label="train loss", color="C0")
    if history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], "o--", label="val loss", color="C0", alpha=0.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax2 = ax.twinx()
    ax2.plot(epochs, history["train_acc"], "s-", label="train acc", color="C1")
    if history.get("val_acc"):
        ax2.plot(epochs, history["val_acc"], "s--", label="val acc", color="C1", alpha=0.6)
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0, 1.02)
    ax2.grid(False)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
