"""Fréchet distance (FID's formula) from scratch: closed forms, scipy reference, errors."""

import numpy as np
import pytest
import scipy.linalg
import torch

from course_utils.gan import GlyphClassifier, frechet_distance, gaussian_frechet_distance


def _scipy_fd(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _random_spd(d, gen):
    a = torch.randn(d, d, generator=gen, dtype=torch.float64)
    return a @ a.T + 0.1 * torch.eye(d, dtype=torch.float64)


def test_closed_forms():
    d = 5
    mu, eye = torch.zeros(d), torch.eye(d)
    assert gaussian_frechet_distance(mu, eye, mu, eye) == pytest.approx(0, abs=1e-10)
    shift = torch.full((d,), 2.0)
    assert gaussian_frechet_distance(mu, eye, shift, eye) == pytest.approx(4 * d)  # ||mu||^2
    # isotropic: (s1 - s2)^2 per dimension
    assert gaussian_frechet_distance(mu, 4 * eye, mu, 9 * eye) == pytest.approx(d * (2 - 3) ** 2)


@pytest.mark.parametrize("seed", range(30))
def test_matches_scipy_sqrtm(seed):
    gen = torch.Generator().manual_seed(seed)
    d = int(torch.randint(1, 12, (1,), generator=gen))
    mu1, mu2 = torch.randn(d, generator=gen, dtype=torch.float64), torch.randn(d, generator=gen, dtype=torch.float64)
    s1, s2 = _random_spd(d, gen), _random_spd(d, gen)
    ours = gaussian_frechet_distance(mu1, s1, mu2, s2)
    ref = _scipy_fd(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    assert ours == pytest.approx(ref, rel=1e-7, abs=1e-8)


def test_from_features_is_zero_for_the_same_set_and_symmetric():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 6, generator=gen), torch.randn(300, 6, generator=gen) + 0.5
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-8)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 6 * 0.25 * 0.8  # about ||0.5||^2 * 6 = 1.5


def test_glyph_classifier_features_shape():
    assert GlyphClassifier(width=8).features(torch.zeros(3, 1, 32, 32)).shape == (3, 32)


@pytest.mark.parametrize("args, match", [
    ((torch.zeros(1, 3), torch.zeros(5, 3)), "at least 2 rows"),
    ((torch.zeros(5, 3), torch.zeros(5, 4)), "same width"),
    ((torch.zeros(5), torch.zeros(5, 4)), r"\(N, D\)"),
])
def test_bad_features(args, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(*args)


def test_bad_gaussians():
    with pytest.raises(ValueError, match="sigma2"):
        gaussian_frechet_distance(torch.zeros(2), torch.eye(2), torch.zeros(2), torch.eye(3))
    with pytest.raises(ValueError, match="finite"):
        gaussian_frechet_distance(torch.zeros(2), torch.eye(2) * float("nan"), torch.zeros(2), torch.eye(2))
