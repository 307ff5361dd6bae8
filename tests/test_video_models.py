"""The video model zoo (course_utils.video_models): shapes, parameters, MACs, the key properties."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from course_utils import video_models as V
from course_utils.conv import count_parameters, mid_channels_2plus1d

SHAPE = (2, 8, 1, 16, 16)  # (N, T, C, H, W)


def _params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", list(V.ZOO))
def test_every_model_maps_clips_to_logits_and_macs_match_torch(name):
    torch.manual_seed(0)
    width = 8 if "ViT" not in name else 16
    m = V.build_model(name, width=width).eval()
    x = torch.rand(*SHAPE)
    with torch.no_grad():
        assert m(x).shape == (2, 8)
    macs = V.count_macs(m, (1, *SHAPE[1:]))
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH), torch.no_grad():
        m(torch.zeros(1, *SHAPE[1:]))
    assert 2 * macs == counter.get_total_flops(), (name, macs, counter.get_total_flops())
    with pytest.raises(ValueError, match=r"\(N, T, C, H, W\)"):
        m(torch.rand(8, 1, 16, 16))


def test_tsm_adds_zero_parameters_and_zero_macs():
    tsn, tsm = V.TSN(width=8), V.TSM(width=8)
    assert _params(tsn) == _params(tsm)
    assert V.count_macs(tsn, SHAPE) == V.count_macs(tsm, SHAPE)


def test_tsn_and_single_frame_are_blind_to_frame_order():
    torch.manual_seed(0)
    x = torch.rand(*SHAPE)
    for m in (V.TSN(width=8).eval(), V.VideoViT(width=16, mode="space").eval()):
        with torch.no_grad():
            assert torch.allclose(m(x), m(x.flip(1)), atol=1e-5)
    tsm = V.TSM(width=8).eval()
    with torch.no_grad():
        assert not torch.allclose(tsm(x), tsm(x.flip(1)), atol=1e-4)


def test_temporal_shift_moves_only_two_groups_and_pads_with_zeros():
    x = torch.arange(1.0, 1 + 2 * 4 * 8).reshape(2, 4, 8, 1, 1)
    y = V.temporal_shift(x, fold_div=4)  # fold = 2 channels each way
    assert torch.equal(y[:, :-1, :2], x[:, 1:, :2]) and (y[:, -1, :2] == 0).all()
    assert torch.equal(y[:, 1:, 2:4], x[:, :-1, 2:4]) and (y[:, 0, 2:4] == 0).all()
    assert torch.equal(y[:, :, 4:], x[:, :, 4:])
    layer = V.TemporalShift(4, 4)
    assert torch.equal(layer(x.flatten(0, 1)), y.flatten(0, 1))
    with pytest.raises(ValueError, match="fold_div"):
        V.temporal_shift(x, 0)


def test_r2plus1d_uses_the_notebook_01_rule_and_matches_the_3d_parameters():
    w = 9
    r21, c3d = V.R2Plus1D(width=w), V.CNN3D(width=w)
    mids = [m.out_channels for m in r21.modules() if isinstance(m, torch.nn.Conv3d) and m.kernel_size == (1, 3, 3)]
    assert mids == [mid_channels_2plus1d(1, w), mid_channels_2plus1d(w, 2 * w), mid_channels_2plus1d(2 * w, 2 * w)]
    assert abs(_params(r21) - _params(c3d)) / _params(c3d) < 0.02
    assert count_parameters(c3d) == _params(c3d)


def test_inflation_gives_the_2d_output_on_boring_videos():
    torch.manual_seed(1)
    net2d = V.SingleFrame(width=6)
    net2d.train()
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        for _ in range(3):
            net2d(torch.rand(16, 8, 1, 16, 16) * 2)
    net2d.eval()
    net3d = V.inflate_2d_to_3d(net2d, V.CNN3D(width=6)).eval()
    frames = torch.rand(4, 1, 1, 16, 16)
    with torch.no_grad():
        out2d = net2d.head(net2d.cnn(frames[:, 0]))
        out3d = net3d(frames.repeat(1, 8, 1, 1, 1))
    assert torch.allclose(out2d, out3d, atol=1e-5)
    with pytest.raises(ValueError, match="same width"):
        V.inflate_2d_to_3d(net2d, V.CNN3D(width=7))
    with pytest.raises(TypeError, match="net3d"):
        V.inflate_2d_to_3d(net2d, V.TSN(width=6))


def test_video_vit_variants_have_nearly_equal_parameters():
    counts = [_params(V.VideoViT(width=20, mode=m)) for m in V.VideoViT.MODES]
    assert max(counts) / min(counts) < 1.05, counts
    with pytest.raises(ValueError, match="mode"):
        V.VideoViT(mode="temporal")


def test_regrouping_round_trip():
    x = torch.randn(3, 4, 5, 6)
    y = V.to_time_sequences(x)
    assert y.shape == (15, 4, 6) and torch.equal(y[2 * 5 + 1], x[2, :, 1])
    assert torch.equal(V.from_time_sequences(y, 3), x)


def test_width_for_params_and_downsample_and_mean_sd():
    w = V.width_for_params("TSN", 10_000)
    assert _params(V.TSN(width=w)) <= 10_000 < _params(V.TSN(width=w + 1))
    w2 = V.width_for_params("ViT divided", 16_000, multiple_of=2)
    assert w2 % 2 == 0 and _params(V.VideoViT(width=w2)) <= 16_000 < _params(V.VideoViT(width=w2 + 2))
    clips = torch.randint(0, 256, (2, 16, 1, 32, 32), dtype=torch.uint8)
    small = V.downsample_clips(clips, frames=8, size=16)
    assert small.shape == (2, 8, 1, 16, 16) and small.max() <= 1.0
    assert torch.allclose(small[0, 0, 0, 0, 0], clips[0, 0, 0, :2, :2].float().mean() / 255)
    with pytest.raises(ValueError, match="size=5"):
        V.downsample_clips(clips, size=5)
    with pytest.raises(ValueError, match="frames=20"):
        V.downsample_clips(clips, frames=20)
    assert V.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        V.mean_sd([])


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="name must be one of"):
        V.build_model("I3D")
    with pytest.raises(ValueError, match="budget"):
        V.width_for_params("TSN", 0)
    with pytest.raises(ValueError, match="input_shape"):
        V.count_macs(V.TSN(width=4), (1, 8, 1, 16, -16))
    with pytest.raises(TypeError, match="model"):
        V.count_macs("TSN", SHAPE)
    with pytest.raises(TypeError, match="clips"):
        V.TSN(width=4)(None)
    with pytest.raises(ValueError, match="T=8"):
        V.EarlyFusion(width=4)(torch.rand(1, 4, 1, 16, 16))


def test_lesson05_data_generators_are_deterministic_and_well_formed():
    from course_utils.datasets import APPEARANCE_CLASSES, make_appearance_clips, make_source_videos

    clips, labels = make_appearance_clips(1, seed=3)
    again, _ = make_appearance_clips(1, seed=3)
    assert clips.shape == (8, 16, 1, 32, 32) and clips.dtype == torch.uint8
    assert torch.equal(clips, again) and labels.tolist() == list(range(len(APPEARANCE_CLASSES)))
    assert clips.float().amax(dim=(1, 2, 3, 4)).min() > 100  # every clip shows its object
    videos, vlabels = make_source_videos(1, seed=4, num_frames=20)
    assert videos.shape == (8, 20, 1, 32, 32) and vlabels.tolist() == list(range(8))
    assert (videos[:, 0].float().mean(dim=(1, 2, 3)) > 0).all()  # a background in every video
    with pytest.raises(ValueError, match="n_per_class"):
        make_appearance_clips(0, seed=0)
    with pytest.raises(TypeError, match="seed"):
        make_source_videos(1, seed=1.5)
