"""Notebook set-up: seeds, plot style and a one-line environment report (notebook 00)."""

from __future__ import annotations

import os
import platform
import random
from pathlib import Path

# numpy and torch are imported inside the functions: the doctor imports REPO_ROOT from
# here and must run even when torch or numpy is broken.

__all__ = ["DATA_DIR", "REPO_ROOT", "data_dir", "seed_everything", "setup", "environment_line"]

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"


def data_dir() -> Path:
    """The data folder: ``$COURSE_DATA_DIR`` if set, else ``data/`` beside the package."""
    return Path(os.environ.get("COURSE_DATA_DIR", DATA_DIR))


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and PyTorch with ``seed`` (a non-negative int)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def environment_line(seed: int | None = None) -> str:
    """One line describing the environment, e.g. for the top of a notebook."""
    import torch

    from course_utils import __version__

    parts = [
        f"course_utils {__version__}",
        f"Python {platform.python_version()}",
        f"torch {torch.__version__} on CPU ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})",
    ]
    if seed is not None:
        parts.append(f"seed {seed}")
    return "Environment: " + " | ".join(parts)


def setup(seed: int = 0, *, threads: int | None = 1, style: bool = True, report: bool = True) -> None:
    """Call in a notebook's first cell: seeds everything, sets threads and plot style, reports.

    Args:
        seed: seed for ``random``, NumPy and PyTorch.
        threads: PyTorch's intra-op threads. The course's models are small: on a 2-core CPU
            one thread is as fast or faster (measured: 2 threads were 10x slower on a busy
            machine, from synchronisation), and float reductions then give the same bits on
            every machine. ``None`` keeps PyTorch's default.
        style: apply the course's matplotlib style (small, clean, readable figures).
        report: print the one-line environment report.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    if not isinstance(style, bool):
        raise TypeError(f"style must be True or False, got {style!r}")
    if not isinstance(report, bool):
        raise TypeError(f"report must be True or False, got {report!r}")
    import torch

    seed_everything(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    if style:
        import matplotlib as mpl

        mpl.rcParams.update(
            {
                "figure.figsize": (6.0, 3.6),
                "figure.dpi": 90,
                "axes.grid": True,
                "grid.alpha": 0.3,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "image.cmap": "gray",
                "animation.embed_limit": 40.0,
            }
        )
    if report:
        print(environment_line(seed))
