"""Argument validation shared by every public function of the course (issue 18).

One place for the checks a public function makes before any work starts, each raising a
``ValueError`` or ``TypeError`` that names the argument and what was expected:

    check_int("kernel_size", k, minimum=1)            # 1, 2, ... (not True, not 2.0)
    check_number("lr", lr, minimum=0, inclusive=False) # finite, > 0
    x = check_tensor("x", x, ndim=5, shape="(N, C, T, H, W)", floating=True)
    check_batch("h", h, x)                            # same batch size N as x

Standard library only at import (torch is imported inside the tensor checks), so modules
that must not import torch (the doctor, the progress file) can use it too. Introduced with
notebook 00's helpers; every lesson module uses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MAX_ELEMENTS",
    "check_batch",
    "check_bool",
    "check_choice",
    "check_module",
    "check_int",
    "check_number",
    "check_tensor",
    "check_elements",
]

#: the most elements a helper will allocate (8 GB of float64): beyond that a size is
#: almost surely a typo, and the machine would swap before torch raises
MAX_ELEMENTS = 2**30


def _is_int(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within ``[minimum, maximum]``; booleans and floats are refused."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    inclusive: bool = True,
) -> float:
    """``value`` as a finite float (not NaN, not inf, not a bool) within the bounds."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large for a float") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and (value < minimum or (not inclusive and value == minimum)):
        raise ValueError(f"{name} must be {'>=' if inclusive else '>'} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not inclusive and value == maximum)):
        raise ValueError(f"{name} must be {'<=' if inclusive else '<'} {maximum}, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is True or False (a numpy bool too); a tensor, a string or a number is
    refused (``bool(tensor)`` is ambiguous, ``bool("no")`` is True)."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_" and type(value).__module__ == "numpy":
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_short_repr(value)}")


def check_module(name: str, value: Any) -> Any:
    """``value`` if it is a ``torch.nn.Module`` (a model, a layer)."""
    from torch import nn

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module (a model), got {type(value).__name__}")
    return value


def _short_repr(value: Any, limit: int = 40) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real message
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices`` (compared with ==, strings case-sensitive)."""
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_tensor(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: str = "",
    floating: bool = False,
    finite: bool = False,
    nonempty: bool = False,
) -> Any:
    """``value`` if it is a dense torch tensor with the given number of dimensions.

    ``shape`` names the layout for the message (``"(N, C, T, H, W)"``); ``floating``
    refuses integer, boolean and complex tensors; ``finite`` refuses NaN and inf;
    ``nonempty`` refuses a tensor with no elements (e.g. a batch of N=0).
    """
    import torch

    want = f" {shape}" if shape else ""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{want}, got {type(value).__name__}")
    if value.layout != torch.strided:
        raise TypeError(f"{name} must be a dense tensor, got layout {value.layout}")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in dims:
            n = " or ".join(map(str, dims))
            raise ValueError(f"{name} must have {n} dimensions{want}, got shape {tuple(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (e.g. float32), got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); give at least one element")
    if finite and value.is_floating_point() and value.device.type != "meta" and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return value


def check_batch(name: str, value: Any, reference: Any, ref_name: str = "input", dim: int = 0) -> None:
    """Refuse a tensor whose batch size (dimension ``dim``) differs from ``reference``'s:
    torch would broadcast a batch of 1 silently, giving every sample the same state."""
    if value.shape[dim] != reference.shape[dim]:
        raise ValueError(
            f"{name} has batch size {value.shape[dim]} but {ref_name} has {reference.shape[dim]} "
            f"(dimension {dim}): give one per sample (expand it explicitly if that is what you mean)"
        )


def check_elements(name: str, *sizes: int, limit: int = MAX_ELEMENTS) -> None:
    """Refuse sizes whose product would need more than ``limit`` elements (gigabytes)."""
    total = 1
    for s in sizes:
        total *= max(int(s), 0)
    if total > limit:
        raise ValueError(f"{name} would need {total:,} elements (more than {limit:,}); use smaller sizes")
