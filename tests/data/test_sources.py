"""CIFAR-10 loading: image folders (directory and zip), the decoded-array cache, every error."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image
from support import real_cifar_zip, zip_tree

from convmixer.data import sources as data
from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset, load_cifar10
from convmixer.data.sample import cifar10_sample


@pytest.mark.parametrize("kind", ["directory", "zip"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_image_folder_gives_the_written_pixels_and_labels(tiny_folder, tmp_path, kind, split):
    source = tiny_folder.directory if kind == "directory" else tiny_folder.zip
    dataset = load_cifar10(split, source=source, cache_dir=tmp_path)
    expected = tiny_folder.train if split == "train" else tiny_folder.test
    expected_labels = tiny_folder.train_labels if split == "train" else tiny_folder.test_labels
    assert dataset.images.dtype == torch.uint8 and dataset.labels.dtype == torch.int64
    assert torch.equal(dataset.images, expected)
    assert torch.equal(dataset.labels, expected_labels)
    assert dataset.classes == CIFAR10_CLASSES
    assert str(source) in dataset.source


def test_environment_variable_chooses_the_source(tiny_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVMIXER_DATA", str(tiny_folder.zip))
    assert torch.equal(load_cifar10("test", cache_dir=tmp_path).images, tiny_folder.test)


def test_argument_wins_over_environment_variable(tiny_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVMIXER_DATA", str(tmp_path / "nowhere"))
    assert len(load_cifar10("test", source=tiny_folder.directory, cache_dir=tmp_path)) == 20


def test_cache_is_reused_then_rebuilt_when_damaged(tiny_folder, tmp_path, monkeypatch):
    first = load_cifar10("train", source=tiny_folder.zip, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("cifar10-train-*.pt")
    meta = json.loads(cache_file.with_suffix(".json").read_text())
    assert meta["size"] == cache_file.stat().st_size

    decoded = []
    original = data._decode_split
    monkeypatch.setattr(data, "_decode_split", lambda *a: decoded.append(1) or original(*a))
    assert torch.equal(load_cifar10("train", source=tiny_folder.zip, cache_dir=tmp_path).images, first.images)
    assert decoded == []  # served from the cache

    damaged = bytearray(cache_file.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # same size, different content: only the digest sees it
    cache_file.write_bytes(bytes(damaged))
    assert torch.equal(load_cifar10("train", source=tiny_folder.zip, cache_dir=tmp_path).images, first.images)
    assert decoded == [1]

    cache_file.write_bytes(cache_file.read_bytes()[:100])  # truncated
    assert torch.equal(load_cifar10("train", source=tiny_folder.zip, cache_dir=tmp_path).images, first.images)
    assert decoded == [1, 1]
    assert torch.equal(torch.load(cache_file, weights_only=True)["images"], first.images)


def test_changed_folder_is_decoded_again(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    before = load_cifar10("test", source=folder, cache_dir=tmp_path)
    replacement = folder / "test" / "cat" / "0000.png"
    other = folder / "test" / "dog" / "0001.png"
    replacement.write_bytes(other.read_bytes() + b"\0" * 7)  # a valid PNG of another size on disk
    after = load_cifar10("test", source=folder, cache_dir=tmp_path)
    assert not torch.equal(before.images, after.images)
    assert torch.equal(after.images[3 * 2], before.images[5 * 2 + 1])


def test_subset_is_a_fixed_random_draw(tiny_folder, tmp_path):
    dataset = load_cifar10("train", source=tiny_folder.zip, cache_dir=tmp_path)
    a, b, c = dataset.subset(17, seed=3), dataset.subset(17, seed=3), dataset.subset(17, seed=4)
    assert len(a) == 17 and torch.equal(a.images, b.images) and not torch.equal(a.labels, c.labels)
    assert dataset.subset(None) is dataset and dataset.subset(10_000) is dataset
    with pytest.raises(ValueError, match="subset size must be >= 1"):
        dataset.subset(0)


# --- errors ---------------------------------------------------------------------------------------


def test_missing_class_folder_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    for file in (folder / "train" / "horse").iterdir():
        file.unlink()
    with pytest.raises(ValueError, match=r"train/ has no images for class folder\(s\) horse;"):
        load_cifar10("train", source=folder, cache_dir=tmp_path)


def test_unexpected_class_folder_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    (folder / "test" / "cat").rename(folder / "test" / "kitten")
    with pytest.raises(ValueError, match=r"no images for class folder\(s\) cat"):
        load_cifar10("test", source=folder, cache_dir=tmp_path)
    (folder / "test" / "cat").mkdir()
    (folder / "test" / "kitten" / "0000.png").rename(folder / "test" / "cat" / "0000.png")
    with pytest.raises(ValueError, match=r"unexpected class folder\(s\) kitten"):
        load_cifar10("test", source=folder, cache_dir=tmp_path)


def test_wrong_image_size_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    Image.new("RGB", (40, 24)).save(folder / "test" / "ship" / "0001.png")
    archive = zip_tree(folder, tmp_path / "bad.zip", "cifar")
    with pytest.raises(ValueError, match=r"cifar/test/ship/0001.png is 40x24 pixels, CIFAR-10 images are 32x32"):
        load_cifar10("test", source=archive, cache_dir=tmp_path)


def test_empty_or_missing_split_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    for file in (folder / "test").rglob("*.png"):
        file.unlink()
    with pytest.raises(ValueError, match=r"no images in 'test/<class>/' \(the test split is missing or empty\)"):
        load_cifar10("test", source=folder, cache_dir=tmp_path)
    assert len(load_cifar10("train", source=folder, cache_dir=tmp_path)) == 60


def test_image_outside_a_class_folder_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    (folder / "test" / "cat" / "0000.png").rename(folder / "test" / "stray.png")
    with pytest.raises(ValueError, match=r"test/stray.png is not directly inside a class folder"):
        load_cifar10("test", source=folder, cache_dir=tmp_path)


def test_undecodable_image_is_named(tiny_folder, fresh_copy, tmp_path):
    folder = fresh_copy(tiny_folder.directory)
    (folder / "test" / "frog" / "0000.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"cannot decode test/frog/0000.png"):
        load_cifar10("test", source=folder, cache_dir=tmp_path)


def test_missing_or_unusable_source_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"CIFAR-10 source .*nowhere does not exist"):
        load_cifar10("train", source=tmp_path / "nowhere", cache_dir=tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.txt is neither a directory nor a .zip archive"):
        load_cifar10("train", source=text, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_cifar10("validation", source=text)


def test_broken_torchvision_folder_says_so(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"torchvision's CIFAR-10 files in .*cifar-10-batches-py are incomplete or corrupted"):
        load_cifar10("train", source=tmp_path)


def test_no_data_and_no_internet_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVMIXER_DATA", raising=False)

    def offline(root, split):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(data, "_download_torchvision", offline)
    with pytest.raises(ValueError) as error:
        load_cifar10("train", cache_dir=tmp_path)
    message = str(error.value)
    assert message.startswith("no CIFAR-10 data found; tried torchvision's files in")
    assert "a download with torchvision into" in message and "Name or service not known" in message
    assert "CONVMIXER_DATA" in message and "--data PATH" in message and "{train,test}/<class>" in message

    with pytest.raises(ValueError, match=r"a download \(not allowed: download=False\)"):
        load_cifar10("train", cache_dir=tmp_path, download=False)


def test_image_dataset_length():
    dataset = ImageDataset(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.zeros(4, dtype=torch.int64), ("a",), "x")
    assert len(dataset) == 4


# --- the real JPEG copy ---------------------------------------------------------------------------


@pytest.mark.slow  # decodes all 10,000 test JPEGs
@pytest.mark.skipif(real_cifar_zip() is None, reason="CONVMIXER_DATA does not name the CIFAR-10 JPEG zip")
def test_real_jpeg_zip_matches_the_bundled_sample(tmp_path):
    test = load_cifar10("test", source=real_cifar_zip(), cache_dir=tmp_path)
    assert test.images.shape == (10_000, 3, 32, 32)
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    # The bundled sample holds files cifar10-jpeg/test/<class>/00NN.jpg, decoded the same way.
    sample = cifar10_sample()
    for image, file in zip(sample.images, sample.files):
        _, _, cls, name = Path(file).parts
        index = CIFAR10_CLASSES.index(cls) * 1000 + int(Path(name).stem)
        assert torch.equal(test.images[index], image), file
    cached = load_cifar10("test", source=real_cifar_zip(), cache_dir=tmp_path)
    assert torch.equal(cached.images, test.images) and torch.equal(cached.labels, test.labels)
