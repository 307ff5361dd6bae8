"""Recurrent networks from scratch: cells, unrolled stacks, ConvLSTM and gradient flow.

Introduced in notebook 02 (``02_recurrence.ipynb``). Every function mirrors its PyTorch
twin: same weight layout, same gate order, same argument order and same return values.

* Cells: :func:`rnn_cell`, :func:`lstm_cell`, :func:`gru_cell` take the parameters of
  ``nn.RNNCell``, ``nn.LSTMCell`` and ``nn.GRUCell`` (``weight_ih``, ``weight_hh``,
  ``bias_ih``, ``bias_hh``) and compute one step.
* Unrolled networks: :func:`rnn`, :func:`lstm`, :func:`gru` run a (T, N, input) sequence
  (or batch_first (N, T, input), or unbatched (T, input)) through a multi-layer,
  optionally bidirectional stack, given the parameters of ``nn.RNN`` / ``nn.LSTM`` /
  ``nn.GRU`` (a module or its ``named_parameters()``), and return what torch returns.
* ConvLSTM: :func:`conv_lstm_cell` and the modules :class:`ConvLSTMCell`, :class:`ConvLSTM`
  (Shi et al., 2015): the LSTM with its matrix products replaced by convolutions, so the
  state is a feature map (N, hidden, H, W).
* Gradient flow: :func:`hidden_grad_norms` measures ||dL/dh_t|| for every step t of an
  unrolled network (with autograd); :func:`rnn_bptt` is backpropagation through time
  written by hand for the vanilla RNN; :func:`linear_rnn_weight` builds a recurrent matrix
  with a chosen spectral radius.

Gate orders (as in torch): LSTM rows are ``[i, f, g, o]`` (input, forget, cell candidate,
output); GRU rows are ``[r, z, n]`` (reset, update, new).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.validate import check_int, check_number

__all__ = [
    "ConvLSTM",
    "ConvLSTMCell",
    "conv_lstm_cell",
    "gru",
    "gru_cell",
    "hidden_grad_norms",
    "linear_rnn_weight",
    "lstm",
    "lstm_cell",
    "lstm_num_params",
    "rnn",
    "rnn_bptt",
    "rnn_cell",
    "unroll",
]

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
}


# ------------------------------------------------------------------------------ helpers
def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """x @ weight.T + bias, with x (..., in), weight (out, in), bias (out,)."""
    out = x @ weight.T
    return out if bias is None else out + bias


def _check_cell_input(input: Tensor, weight_ih: Tensor, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise TypeError(f"{name}: input must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() not in (1, 2):
        raise ValueError(
            f"{name}: input must be (N, input_size) or (input_size,), got shape {tuple(input.shape)}"
        )
    if input.shape[-1] != weight_ih.shape[1]:
        raise ValueError(
            f"{name}: input has {input.shape[-1]} features but weight_ih expects "
            f"{weight_ih.shape[1]} (weight_ih is (gates * hidden_size, input_size) = "
            f"{tuple(weight_ih.shape)})"
        )


def _check_cell_weights(name: str, weight_ih: Tensor, weight_hh: Tensor, gates: int) -> int:
    """The hidden size H, after checking weight_ih (gates*H, I) and weight_hh (gates*H, H)."""
    for arg, w in (("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        if not isinstance(w, Tensor) or w.dim() != 2:
            raise ValueError(f"{name}: {arg} must be a 2-D tensor ({gates} * hidden_size, ...), got {_shape_of(w)}")
    hidden = weight_hh.shape[1]
    for arg, w in (("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        if w.shape[0] != gates * hidden:
            raise ValueError(
                f"{name}: {arg} must have {gates} * hidden_size = {gates * hidden} rows "
                f"(hidden_size {hidden} from weight_hh's columns), got shape {tuple(w.shape)}"
            )
    return hidden


def _check_state(name: str, arg: str, h: Any, input: Tensor, hidden: int) -> None:
    """A state must match the input's batch exactly: a batch of 1 would broadcast silently."""
    want = (*input.shape[:-1], hidden)
    if not isinstance(h, Tensor):
        raise TypeError(f"{name}: {arg} must be a torch.Tensor {want} or None, got {type(h).__name__}")
    if tuple(h.shape) != want:
        raise ValueError(
            f"{name}: {arg} must have shape {want} (one state of size hidden_size={hidden} per sample "
            f"of the input {tuple(input.shape)}), got {tuple(h.shape)}"
        )


def _shape_of(value: Any) -> str:
    return f"shape {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__


# -------------------------------------------------------------------------------- cells
def rnn_cell(
    input: Tensor,
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One step of the Elman RNN, like ``nn.RNNCell`` (notebook 02).

    h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)

    Shapes: input (N, I) or (I,); hx (N, H) or (H,) or None (zeros); weight_ih (H, I);
    weight_hh (H, H); biases (H,). Returns h' (N, H) (or (H,) for an unbatched input).
    """
    hidden = _check_cell_weights("rnn_cell", weight_ih, weight_hh, 1)
    _check_cell_input(input, weight_ih, "rnn_cell")
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if hx is None:
        hx = input.new_zeros(*input.shape[:-1], hidden)
    _check_state("rnn_cell", "hx", hx, input, hidden)
    pre = _linear(input, weight_ih, bias_ih) + _linear(hx, weight_hh, bias_hh)  # (N, H)
    return _ACTIVATIONS[nonlinearity](pre)


def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor] | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, like ``nn.LSTMCell`` (notebook 02); gate rows in torch's order ``[i, f, g, o]``.

    i, f, o = sigmoid(...), g = tanh(...);  c' = f * c + i * g;  h' = o * tanh(c')

    Shapes: input (N, I) or (I,); hx = (h, c), each (N, H), or None (zeros);
    weight_ih (4H, I); weight_hh (4H, H); biases (4H,). Returns (h', c'), each (N, H).
    """
    hidden = _check_cell_weights("lstm_cell", weight_ih, weight_hh, 4)
    _check_cell_input(input, weight_ih, "lstm_cell")
    if hx is None:
        zeros = input.new_zeros(*input.shape[:-1], hidden)
        hx = (zeros, zeros)
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        got = f"a tensor of {_shape_of(hx)}" if isinstance(hx, Tensor) else type(hx).__name__
        raise TypeError(f"lstm_cell: hx must be a tuple (h, c) of two tensors {(*input.shape[:-1], hidden)}, got {got}")
    h, c = hx
    _check_state("lstm_cell", "h", h, input, hidden)
    _check_state("lstm_cell", "c", c, input, hidden)
    gates = _linear(input, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # each (N, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_next = f * c + i * g  # the additive cell path
    h_next = o * torch.tanh(c_next)
    return h_next, c_next


def gru_cell(
    input: Tensor,
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, like ``nn.GRUCell`` (notebook 02); gate rows in torch's order ``[r, z, n]``.

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

    Shapes: input (N, I) or (I,); hx (N, H) or None; weight_ih (3H, I); weight_hh (3H, H);
    biases (3H,). Returns h' (N, H).
    """
    hidden = _check_cell_weights("gru_cell", weight_ih, weight_hh, 3)
    _check_cell_input(input, weight_ih, "gru_cell")
    if hx is None:
        hx = input.new_zeros(*input.shape[:-1], hidden)
    _check_state("gru_cell", "hx", hx, input, hidden)
    gi = _linear(input, weight_ih, bias_ih)  # (N, 3H)
    gh = _linear(hx, weight_hh, bias_hh)  # (N, 3H)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate scales the hidden part only
    return (1 - z) * n + z * hx


# --------------------------------------------------------------------- unrolled stacks
_PARAM_RE = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")


def _layer_params(params: Mapping[str, Tensor] | nn.Module) -> tuple[list[list[tuple]], int, bool]:
    """Group torch's flat parameter names into [layer][direction] -> (w_ih, w_hh, b_ih, b_hh)."""
    if isinstance(params, nn.Module):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError(
            "params must be an nn.RNN/nn.LSTM/nn.GRU module or a dict of its named_parameters(), "
            f"got {type(params).__name__}"
        )
    table: dict[tuple[int, int], dict[str, Tensor]] = {}
    for name, value in params.items():
        if name.startswith("weight_hr"):
            raise ValueError("LSTM projections (proj_size > 0) are not supported here")
        m = _PARAM_RE.match(name)
        if m is None:
            raise ValueError(f"unexpected parameter name {name!r} (expected e.g. 'weight_ih_l0')")
        kind, layer, rev = m.group(1), int(m.group(2)), m.group(3) is not None
        table.setdefault((layer, int(rev)), {})[kind] = value
    if not table:
        raise ValueError("params is empty")
    num_layers = max(k[0] for k in table) + 1
    bidirectional = any(k[1] == 1 for k in table)
    dirs = 2 if bidirectional else 1
    layers = []
    for layer in range(num_layers):
        row = []
        for d in range(dirs):
            p = table.get((layer, d))
            if p is None or "weight_ih" not in p or "weight_hh" not in p:
                raise ValueError(f"missing weights for layer {layer}, direction {d}")
            row.append((p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh")))
        layers.append(row)
    return layers, num_layers, bidirectional


def _run_stack(
    kind: str,
    input: Tensor,
    params: Mapping[str, Tensor] | nn.Module,
    hx: Any,
    batch_first: bool,
    nonlinearity: str = "tanh",
) -> tuple[Tensor, Any]:
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() not in (2, 3):
        raise ValueError(
            f"input must be (T, N, input_size), batch_first (N, T, input_size) or unbatched "
            f"(T, input_size); got shape {tuple(input.shape)}"
        )
    if input.shape[0 if (input.dim() == 2 or not batch_first) else 1] == 0:
        raise ValueError(f"input has no time steps (T=0), got shape {tuple(input.shape)}")
    layers, num_layers, bidirectional = _layer_params(params)
    dirs = 2 if bidirectional else 1
    hidden = layers[0][0][1].shape[1]
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    if layers[0][0][0].shape[0] != gates * hidden:
        raise ValueError(
            f"params hold weights with {layers[0][0][0].shape[0]} rows for hidden_size {hidden}, but "
            f"{kind} needs {gates} * hidden_size rows: pass the parameters of an nn.{kind.upper()}"
        )
    if kind == "lstm" and hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
        raise TypeError(f"hx must be a tuple (h0, c0) or None, got {type(hx).__name__}")
    unbatched = input.dim() == 2
    x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if batch_first else input)
    T, N, _ = x.shape  # (T, N, I)
    if x.shape[-1] != layers[0][0][0].shape[1]:
        raise ValueError(
            f"input has {x.shape[-1]} features but the first layer expects {layers[0][0][0].shape[1]}"
        )

    # initial states (num_layers * dirs, N, H), zeros when None
    def _init(h: Tensor | None) -> Tensor:
        if h is None:
            return x.new_zeros(num_layers * dirs, N, hidden)
        if unbatched:
            h = h.unsqueeze(1)
        if tuple(h.shape) != (num_layers * dirs, N, hidden):
            raise ValueError(
                f"initial state must have shape (num_layers * num_directions, N, hidden) = "
                f"{(num_layers * dirs, N, hidden)}, got {tuple(h.shape)}"
            )
        return h

    if kind == "lstm":
        h0, c0 = (None, None) if hx is None else hx
        h0, c0 = _init(h0), _init(c0)
    else:
        h0, c0 = _init(hx), None

    finals_h, finals_c = [], []
    layer_input = x  # (T, N, I) then (T, N, dirs * H)
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            w_ih, w_hh, b_ih, b_hh = layers[layer][d]
            idx = layer * dirs + d
            state: Any = (h0[idx], c0[idx]) if kind == "lstm" else h0[idx]
            steps = range(T - 1, -1, -1) if d == 1 else range(T)
            ys: list[Tensor] = [None] * T  # type: ignore[list-item]
            for t in steps:
                if kind == "lstm":
                    state = lstm_cell(layer_input[t], state, w_ih, w_hh, b_ih, b_hh)
                    ys[t] = state[0]
                elif kind == "gru":
                    state = gru_cell(layer_input[t], state, w_ih, w_hh, b_ih, b_hh)
                    ys[t] = state
                else:
                    state = rnn_cell(layer_input[t], state, w_ih, w_hh, b_ih, b_hh, nonlinearity)
                    ys[t] = state
            outs.append(torch.stack(ys))  # (T, N, H)
            if kind == "lstm":
                finals_h.append(state[0])
                finals_c.append(state[1])
            else:
                finals_h.append(state)
        layer_input = torch.cat(outs, dim=-1)  # (T, N, dirs * H)

    output = layer_input
    h_n = torch.stack(finals_h)  # (num_layers * dirs, N, H)
    c_n = torch.stack(finals_c) if kind == "lstm" else None
    if unbatched:
        output = output.squeeze(1)
        h_n = h_n.squeeze(1)
        c_n = c_n.squeeze(1) if c_n is not None else None
    elif batch_first:
        output = output.transpose(0, 1)
    return output, ((h_n, c_n) if kind == "lstm" else h_n)


def rnn(
    input: Tensor,
    params: Mapping[str, Tensor] | nn.Module,
    hx: Tensor | None = None,
    *,
    batch_first: bool = False,
    nonlinearity: str | None = None,
) -> tuple[Tensor, Tensor]:
    """Unrolled multi-layer (bi)directional Elman RNN, like ``nn.RNN`` (notebook 02).

    ``params`` is an ``nn.RNN`` or ``dict(module.named_parameters())``; the number of layers
    and directions are read from the names (``weight_ih_l1_reverse`` ...). ``nonlinearity``
    defaults to the module's (``nn.RNN(..., nonlinearity="relu")``), else ``"tanh"``; a
    value that contradicts the module's is refused.
    Shapes: input (T, N, I), (N, T, I) if batch_first, or (T, I); hx (L * D, N, H) or None.
    Returns (output (T, N, D * H), h_n (L * D, N, H)), as torch does. Dropout is not applied.
    """
    own = getattr(params, "nonlinearity", None) if isinstance(params, nn.Module) else None
    if nonlinearity is None:
        nonlinearity = own or "tanh"
    elif own is not None and own != nonlinearity:
        raise ValueError(f"nonlinearity={nonlinearity!r} contradicts the module's nonlinearity={own!r}")
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return _run_stack("rnn", input, params, hx, batch_first, nonlinearity)


def lstm(
    input: Tensor,
    params: Mapping[str, Tensor] | nn.Module,
    hx: tuple[Tensor, Tensor] | None = None,
    *,
    batch_first: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Unrolled multi-layer (bi)directional LSTM, like ``nn.LSTM`` (notebook 02; no projections).

    Shapes: input (T, N, I), (N, T, I) if batch_first, or (T, I); hx = (h0, c0), each
    (L * D, N, H), or None. Returns (output (T, N, D * H), (h_n, c_n)).
    """
    return _run_stack("lstm", input, params, hx, batch_first)


def gru(
    input: Tensor,
    params: Mapping[str, Tensor] | nn.Module,
    hx: Tensor | None = None,
    *,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor]:
    """Unrolled multi-layer (bi)directional GRU, like ``nn.GRU`` (notebook 02).

    Shapes: input (T, N, I), (N, T, I) if batch_first, or (T, I); hx (L * D, N, H) or None.
    Returns (output (T, N, D * H), h_n (L * D, N, H)).
    """
    return _run_stack("gru", input, params, hx, batch_first)


def lstm_num_params(
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
) -> int:
    """Parameters of ``nn.LSTM(input_size, hidden_size, num_layers, bias, bidirectional)`` (notebook 02).

    Per layer and direction: 4H * (I_l + H) weights + 2 * 4H biases (torch keeps b_ih and
    b_hh), where I_l = input_size for layer 0 and D * H above it.
    """
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        i = input_size if layer == 0 else dirs * hidden_size
        per_dir = 4 * hidden_size * (i + hidden_size) + (8 * hidden_size if bias else 0)
        total += dirs * per_dir
    return total


# ------------------------------------------------------------------------------ ConvLSTM
def conv_lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor] | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One ConvLSTM step (notebook 02; Shi et al., 2015, without peepholes); gates ``[i, f, g, o]``.

    The LSTM with its matrix products replaced by 'same' convolutions, so the state keeps
    its spatial layout:  gates = conv(x, W_x) + conv(h, W_h) + b.

    Shapes: input (N, C, H, W); hx = (h, c), each (N, K, H, W), or None; weight_ih
    (4K, C, k, k); weight_hh (4K, K, k, k) with odd k; bias (4K,). Returns (h', c').
    """
    if input.dim() != 4:
        raise ValueError(f"input must be (N, C, H, W), got shape {tuple(input.shape)}")
    k_x, k_h = weight_ih.shape[-1], weight_hh.shape[-1]
    if k_x % 2 == 0 or k_h % 2 == 0:
        raise ValueError("kernel sizes must be odd so that 'same' padding keeps H and W")
    hidden = weight_hh.shape[1]
    if hx is None:
        zeros = input.new_zeros(input.shape[0], hidden, *input.shape[2:])
        hx = (zeros, zeros)
    h, c = hx
    gates = F.conv2d(input, weight_ih, bias, padding=k_x // 2) + F.conv2d(
        h, weight_hh, padding=k_h // 2
    )
    i, f, g, o = gates.chunk(4, dim=1)  # each (N, K, H, W)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


class ConvLSTMCell(nn.Module):
    """A ConvLSTM cell as a module (notebook 02): state (h, c) of shape (N, hidden, H, W)."""

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.in_channels, self.hidden_channels, self.kernel_size = (
            in_channels,
            hidden_channels,
            kernel_size,
        )
        k = kernel_size
        bound = 1 / math.sqrt((in_channels + hidden_channels) * k * k)
        self.weight_ih = nn.Parameter(
            torch.empty(4 * hidden_channels, in_channels, k, k).uniform_(-bound, bound)
        )
        self.weight_hh = nn.Parameter(
            torch.empty(4 * hidden_channels, hidden_channels, k, k).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.zeros(4 * hidden_channels))

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """x (N, C, H, W), hx (h, c) each (N, K, H, W) or None -> (h', c')."""
        return conv_lstm_cell(x, hx, self.weight_ih, self.weight_hh, self.bias)


class ConvLSTM(nn.Module):
    """Runs a :class:`ConvLSTMCell` over a clip (N, T, C, H, W) (notebook 02).

    Returns (outputs (N, T, K, H, W), (h_T, c_T)).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3):
        super().__init__()
        self.cell = ConvLSTMCell(in_channels, hidden_channels, kernel_size)

    def forward(
        self, clip: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if clip.dim() != 5:
            raise ValueError(f"clip must be (N, T, C, H, W), got shape {tuple(clip.shape)}")
        outs = []
        state = hx
        for t in range(clip.shape[1]):
            state = self.cell(clip[:, t], state)
            outs.append(state[0])
        return torch.stack(outs, dim=1), state  # (N, T, K, H, W)


# ------------------------------------------------------------------------ gradient flow
def unroll(step: Callable[[Tensor, Any], Any], xs: Tensor, state: Any) -> list[Any]:
    """(Notebook 02.) Apply ``state = step(x_t, state)`` for every x_t in xs (T, ...) and return
    ``[state_0, state_1, ..., state_T]`` (T + 1 states, the initial one first)."""
    states = [state]
    for t in range(xs.shape[0]):
        state = step(xs[t], state)
        states.append(state)
    return states


def hidden_grad_norms(
    step: Callable[[Tensor, Any], Any],
    xs: Tensor,
    h0: Any,
    loss_fn: Callable[[Any], Tensor],
    *,
    which: int = 0,
) -> Tensor:
    """||dL/dh_t|| for t = 0..T of an unrolled network, measured with autograd (notebook 02).

    ``step(x_t, state) -> state`` is one step (a state is a tensor, or a tuple such as
    (h, c) for an LSTM; ``which`` picks the entry whose gradient is measured), ``xs`` is
    (T, N, I), ``h0`` the initial state and ``loss_fn(final_state) -> scalar`` the loss on
    the last state. The gradient at h_t is the *total* derivative: every path from h_t
    to the loss. Returns a float tensor (T + 1,), entry t for h_t (entry T is ||dL/dh_T||).

    The initial state is made part of the graph, so its gradient is measured too.
    """

    def pick(s: Any) -> Tensor:
        return s[which] if isinstance(s, tuple | list) else s

    def prepare(s: Any) -> Any:
        if isinstance(s, tuple | list):
            return tuple(v.detach().clone().requires_grad_(True) for v in s)
        return s.detach().clone().requires_grad_(True)

    with torch.enable_grad():
        states = unroll(step, xs, prepare(h0))
        loss = loss_fn(states[-1])
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        hs = [pick(s) for s in states]
        grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack(
        [g.detach().norm() if g is not None else torch.zeros((), dtype=xs.dtype) for g in grads]
    ).to(torch.float64)


def rnn_bptt(
    xs: Tensor,
    h0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor,
    grad_hT: Tensor,
    nonlinearity: str = "tanh",
) -> dict[str, Any]:
    """BPTT by hand (notebook 02) for h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b).

    The loss is L with dL/dh_T = ``grad_hT`` (for L = <v, h_T>, grad_hT = v). Going back:
        a_t = pre-activation, dL/da_t = dL/dh_t * act'(a_t)
        dL/dh_{t-1} = dL/da_t @ W_hh,   dL/dW_hh += dL/da_t^T h_{t-1},
        dL/dW_ih += dL/da_t^T x_t,      dL/db += sum_n dL/da_t

    Shapes: xs (T, N, I), h0 (N, H), weight_ih (H, I), weight_hh (H, H), bias (H,),
    grad_hT (N, H). Returns a dict with "hs" (T + 1, N, H), "grad_h" (T + 1, N, H) (dL/dh_t
    for t = 0..T), "weight_ih", "weight_hh", "bias" (the parameter gradients).
    """
    if nonlinearity not in ("tanh", "relu", "linear"):
        raise ValueError(f"nonlinearity must be 'tanh', 'relu' or 'linear', got {nonlinearity!r}")
    act = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[nonlinearity]
    with torch.no_grad():
        hs, pres = [h0], []
        for t in range(xs.shape[0]):  # forward, keeping what backward needs
            a = xs[t] @ weight_ih.T + hs[-1] @ weight_hh.T + bias  # (N, H)
            pres.append(a)
            hs.append(act(a))
        g_h = grad_hT.clone()  # dL/dh_T (N, H)
        grad_h = [g_h]
        g_wih, g_whh, g_b = (
            torch.zeros_like(weight_ih),
            torch.zeros_like(weight_hh),
            torch.zeros_like(bias),
        )
        for t in range(xs.shape[0] - 1, -1, -1):
            a, h_t = pres[t], hs[t + 1]
            if nonlinearity == "tanh":
                d_act = 1 - h_t**2
            elif nonlinearity == "relu":
                d_act = (a > 0).to(a.dtype)
            else:
                d_act = torch.ones_like(a)
            g_a = g_h * d_act  # (N, H)
            g_wih += g_a.T @ xs[t]
            g_whh += g_a.T @ hs[t]
            g_b += g_a.sum(0)
            g_h = g_a @ weight_hh  # dL/dh_{t-1} (N, H)
            grad_h.append(g_h)
    return {
        "hs": torch.stack(hs),
        "grad_h": torch.stack(grad_h[::-1]),
        "weight_ih": g_wih,
        "weight_hh": g_whh,
        "bias": g_b,
    }


def linear_rnn_weight(
    hidden_size: int,
    spectral_radius: float,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    orthogonal: bool = True,
) -> Tensor:
    """A recurrent matrix W_hh (H, H) with a given spectral radius (notebook 02).

    With ``orthogonal=True`` (default) it is ``spectral_radius * Q`` for a random orthogonal
    Q: every singular value equals the radius, so ||W^k v|| = radius^k ||v|| exactly and the
    curves in notebook 02 are clean. Otherwise a Gaussian matrix rescaled by its radius.
    """
    check_int("hidden_size", hidden_size, minimum=1, maximum=10_000)
    check_number("spectral_radius", spectral_radius, minimum=0.0)
    a = torch.randn(hidden_size, hidden_size, generator=generator, dtype=torch.float64)
    if orthogonal:
        q, r = torch.linalg.qr(a)
        w = q * torch.sign(torch.diagonal(r))
    else:
        w = a / torch.linalg.eigvals(a).abs().max()
    return (spectral_radius * w).to(dtype)
