"""The bundled pictures and the image-display helpers."""

import numpy as np
import pytest
import torch

from convmixer.data.sample import cifar10_sample, photo
from convmixer.viz.images import show_images, to_display


def test_cifar10_sample_is_balanced_real_images():
    sample = cifar10_sample()
    assert sample.images.shape == (300, 3, 32, 32) and sample.images.dtype == torch.uint8
    assert sample.classes[0] == "airplane" and len(sample.classes) == 10
    assert torch.bincount(sample.labels).tolist() == [30] * 10
    assert sample.images.float().std() > 30  # real pictures, not a constant
    for file, label in zip(sample.files, sample.labels):
        assert f"/test/{sample.classes[label]}/" in file


def test_photo_shape():
    image = photo()
    assert image.shape == (3, 600, 512) and image.dtype == torch.uint8


def test_to_display_keeps_uint8_and_rescales_floats():
    image = torch.arange(12, dtype=torch.uint8).view(3, 2, 2)
    assert to_display(image).shape == (2, 2, 3)
    scaled = to_display(torch.tensor([[[-2.0, 0.0], [2.0, 6.0]]]))
    np.testing.assert_allclose(scaled, [[0.0, 0.25], [0.5, 1.0]])
    with pytest.raises(ValueError, match=r"expected an image shaped \(C, H, W\)"):
        to_display(torch.zeros(2, 2))


def test_show_images_grid():
    sample = cifar10_sample()
    figure = show_images(list(sample.images[:10]), titles=[str(i) for i in range(10)], ncols=4)
    assert len(figure.axes) == 12  # 3 rows of 4, the last two empty
    with pytest.raises(ValueError, match="got 2 images but 1 titles"):
        show_images(list(sample.images[:2]), titles=["a"])
