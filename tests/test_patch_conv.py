"""PatchConv2d (notebook 05): a patch embedding computed as one matrix product equals the convolution."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from course_utils import video_models as V


@pytest.mark.parametrize("c,d,p,h,w", [(1, 20, 8, 16, 16), (4, 6, 4, 8, 12), (3, 5, 2, 2, 2)])
def test_patch_conv_equals_the_convolution_forward_and_backward(c, d, p, h, w):
    torch.manual_seed(0)
    ours = V.PatchConv2d(c, d, p)
    ref = torch.nn.Conv2d(c, d, p, stride=p)
    ref.load_state_dict(ours.state_dict())  # the same parameter names and shapes
    x = torch.randn(3, c, h, w, dtype=torch.float64)
    ours, ref = ours.double(), ref.double()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(xa), ref(xb)
    assert ya.shape == yb.shape == (3, d, h // p, w // p)
    assert (ya - yb).abs().max().item() < 1e-12
    g = torch.randn_like(ya)
    ya.backward(g)
    yb.backward(g)
    assert (xa.grad - xb.grad).abs().max().item() < 1e-12
    assert (ours.weight.grad - ref.weight.grad).abs().max().item() < 1e-12
    assert (ours.bias.grad - ref.bias.grad).abs().max().item() < 1e-12


def test_patch_conv_is_counted_like_a_convolution():
    layer = V.PatchConv2d(4, 20, 8)
    assert isinstance(layer, torch.nn.Conv2d)
    macs = V.count_macs(torch.nn.Sequential(layer), (2, 4, 16, 16))
    assert macs == 2 * 20 * 2 * 2 * 4 * 8 * 8  # output values x (C k k)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(torch.zeros(2, 4, 16, 16))
    assert counter.get_total_flops() == 2 * macs


def test_patch_conv_rejects_sizes_it_does_not_divide():
    with pytest.raises(ValueError, match="patch=8 must divide"):
        V.PatchConv2d(1, 4, 8)(torch.zeros(1, 1, 12, 16))
