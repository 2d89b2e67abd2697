"""Hold-out validation split and the standard error of a measured accuracy."""

import math

import pytest
import torch

from convmixer.data.splits import hold_out
from support import synthetic


def test_hold_out_takes_the_same_number_from_every_class_and_shares_no_image():
    data = synthetic(per_class=6, seed=0)
    rest, held = hold_out(data, per_class=2, seed=1)
    assert torch.bincount(held.labels, minlength=10).tolist() == [2] * 10
    assert torch.bincount(rest.labels, minlength=10).tolist() == [4] * 10
    # Every image lands in exactly one part (synthetic images carry per-image noise: all distinct).
    flat = lambda part: {bytes(image.flatten().tolist()) for image in part.images}  # noqa: E731
    assert flat(rest).isdisjoint(flat(held))
    assert flat(rest) | flat(held) == flat(data)
    assert rest.classes == held.classes == data.classes


def test_hold_out_is_a_fixed_draw_per_seed():
    data = synthetic(per_class=6, seed=0)
    first, again, other = (hold_out(data, 2, seed)[1] for seed in (1, 1, 2))
    assert torch.equal(first.images, again.images)
    assert not torch.equal(first.images, other.images)


def test_hold_out_refuses_to_take_a_whole_class():
    data = synthetic(per_class=3, seed=0)
    with pytest.raises(ValueError, match="has 3 images"):
        hold_out(data, per_class=3)
    with pytest.raises(ValueError, match="per_class"):
        hold_out(data, per_class=0)
