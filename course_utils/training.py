"""One small, honest training loop that every lesson reuses (notebook 00).

``fit`` trains a classifier for some epochs (or until a time budget is spent), evaluates
on a validation loader after every epoch and returns the history. No magic: the loop body
is the five lines every PyTorch user should know by heart::

    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from course_utils.validate import check_number

__all__ = ["History", "accuracy", "evaluate", "fit"]


class History(dict):
    """Per-epoch metrics: ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``,
    ``epoch_time`` (lists), and ``seconds``: the total training time."""

    def __init__(self) -> None:
        super().__init__(train_loss=[], train_acc=[], val_loss=[], val_acc=[], epoch_time=[])
        self.seconds = 0.0
        self.stopped_early = False

    @property
    def epochs(self) -> int:
        return len(self["train_loss"])

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.items() if v and k != "epoch_time"}
        return f"History(epochs={self.epochs}, last={last})"


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max matches the label.

    Args:
        logits: (N, K) scores; labels: (N,) integer class indices.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(f"logits must be a tensor of shape (N, K), got {getattr(logits, 'shape', type(logits).__name__)}")
    if not isinstance(labels, torch.Tensor) or labels.shape != logits.shape[:1]:
        raise ValueError(f"labels must be a tensor of shape ({logits.shape[0]},), got {getattr(labels, 'shape', type(labels).__name__)}")
    if len(labels) == 0:
        raise ValueError("accuracy of an empty batch is undefined (N=0)")
    return (logits.argmax(dim=1) == labels).float().mean().item()


def _check_common(model: object, loader: object, name: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(loader, DataLoader):
        raise TypeError(f"{name} must be a torch.utils.data.DataLoader, got {type(loader).__name__}")


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, loss_fn: Callable | None = None) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` in eval mode.

    Returns ``{"loss": float, "acc": float}``; the model's train/eval mode is restored.
    """
    _check_common(model, loader, "loader")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in loader:
        logits = model(x)
        total_loss += loss_fn(logits, y).item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    model.train(was_training)
    if count == 0:
        raise ValueError("loader yielded no samples (an empty dataset?)")
    return {"loss": total_loss / count, "acc": correct / count}


def _length(loader: DataLoader) -> int | None:
    try:
        return len(loader)
    except TypeError:  # an IterableDataset without __len__
        return None


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None = None,
    *,
    epochs: int = 1,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    loss_fn: Callable | None = None,
    time_limit: float | None = None,
    progress: bool = True,
    clip_grad_norm: float | None = None,
) -> History:
    """Train a classifier; evaluate on ``val_loader`` after each epoch.

    Args:
        model: maps a batch ``x`` to logits (N, K).
        train_loader, val_loader: yield ``(x, y)`` with y (N,) class indices.
        epochs: maximum number of passes over ``train_loader``.
        optimizer: defaults to ``Adam(model.parameters(), lr)``.
        loss_fn: defaults to ``nn.CrossEntropyLoss()`` (takes raw logits).
        time_limit: stop after the epoch during which this many seconds have passed
            (checked after every batch, so the budget is honoured to within one batch).
        progress: show a tqdm progress bar.
        clip_grad_norm: if set, clip the global gradient norm to this value.

    Returns:
        :class:`History` with per-epoch lists and the total ``seconds``.
    """
    _check_common(model, train_loader, "train_loader")
    if val_loader is not None and not isinstance(val_loader, DataLoader):
        raise TypeError(f"val_loader must be a DataLoader or None, got {type(val_loader).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if time_limit is not None:
        check_number("time_limit", time_limit, minimum=0, inclusive=False)
    check_number("lr", lr, minimum=0, inclusive=False)
    if clip_grad_norm is not None:
        check_number("clip_grad_norm", clip_grad_norm, minimum=0, inclusive=False)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {type(loss_fn).__name__}")
    if _length(train_loader) == 0:
        raise ValueError("train_loader yields no batches (an empty dataset, or drop_last with fewer samples than batch_size)")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history = History()
    start = time.perf_counter()
    bar = tqdm(total=epochs * (_length(train_loader) or 0) or None, disable=not progress, desc="training", leave=False)
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            logits = model(x)  # (N, K)
            loss = loss_fn(logits, y)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
            bar.update(1)
            if time_limit is not None and time.perf_counter() - start > time_limit:
                history.stopped_early = True
                break
        if count == 0:
            raise ValueError("train_loader yielded no samples: fit has nothing to learn from")
        history["train_loss"].append(total_loss / max(count, 1))
        history["train_acc"].append(correct / max(count, 1))
        if val_loader is not None:
            metrics = evaluate(model, val_loader, loss_fn)
            history["val_loss"].append(metrics["loss"])
            history["val_acc"].append(metrics["acc"])
        history["epoch_time"].append(time.perf_counter() - t0)
        msg = f"loss {history['train_loss'][-1]:.3f}"
        if val_loader is not None:
            msg += f" | val acc {history['val_acc'][-1]:.3f}"
        bar.set_postfix_str(msg)
        if history.stopped_early:
            break
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
