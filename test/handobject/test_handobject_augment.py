"""Camera-like degradations of training clips: images only, in range, one camera per clip."""
import numpy as np

from hoi_perception.handobject.training import augment


def _clip(seed=0, frames=3, size=32):
    return np.random.default_rng(seed).uniform(0, 1, size=(frames, 3, size, size)).astype(np.float32)


def test_desaturate_ends_and_keeps_luma():
    img = _clip()
    assert np.allclose(augment.desaturate(img, 1.0), img, atol=1e-6)
    grey = augment.desaturate(img, 0.0)
    assert np.allclose(grey[:, 0], grey[:, 1]) and np.allclose(grey[:, 1], grey[:, 2])
    luma = (img * augment.LUMA).sum(axis=1)
    assert np.allclose(grey[:, 0], luma, atol=1e-6)


def test_blur_smooths_and_keeps_a_flat_frame():
    img = _clip()
    out = augment.blur(img, 1.0)
    assert out.shape == img.shape
    # neighbouring-pixel differences shrink under blur; a flat frame stays flat
    assert np.abs(np.diff(out, axis=-1)).mean() < 0.5 * np.abs(np.diff(img, axis=-1)).mean()
    flat = np.full((2, 3, 16, 16), 0.4, np.float32)
    assert np.allclose(augment.blur(flat, 1.0), flat, atol=1e-6)
    assert augment.blur(img, 0.0) is img


def test_jpeg_round_trip_is_close_but_lossy():
    img = augment.blur(_clip(size=64), 2.0)
    out = augment.jpeg(img, 50)
    assert out.shape == img.shape and out.dtype == np.float32
    err = np.abs(out - img).mean()
    assert 0 < err < 0.05


def test_camera_degrade_is_seeded_in_range_and_changes_the_images():
    img = _clip()
    a = augment.camera_degrade(img, np.random.default_rng(3))
    b = augment.camera_degrade(img, np.random.default_rng(3))
    assert np.array_equal(a, b)
    assert a.shape == img.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert not np.allclose(a, img, atol=1e-3)
