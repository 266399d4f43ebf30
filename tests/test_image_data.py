"""Image data layouts: format detection, splits and classes, IDX/npz reading, image checks, decoding."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.evaluator.trivial_model import trivial_class_loss
from components.example_gen import image_data
from components.settings import ImageSpec, ImageSplit, InputError
from components.transform.preprocessing import decode_image
from conftest import IMAGE_WRITERS, REPO, write_image_tree


def write_idx(path: Path, array: np.ndarray) -> Path:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def test_formats_are_told_by_extension_and_folder_content(tmp_path):
    write_image_tree(tmp_path / "folder", bad=False)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 3, 3)))
    assert image_data.detect_format(str(tmp_path / "folder")) == "image_folder"
    assert image_data.detect_format(str(tmp_path)) == "idx"
    assert image_data.detect_format(str(REPO / "data" / "digits_npz" / "digits.npz")) == "npz"
    assert image_data.detect_format(str(REPO / "data" / "penguins")) == "csv"
    assert image_data.detect_format("not/there/yet.csv") == "csv"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no CSV files, IDX files or class sub-folders"):
        image_data.detect_format(str(tmp_path / "empty"))
    with pytest.raises(InputError, match="set data.format"):
        image_data.detect_format(str(tmp_path / "images.tar"))


def test_unsplit_folder_has_sorted_classes_and_one_train_split(tmp_path):
    write_image_tree(tmp_path, classes=("zebra", "ant"), copies=1, bad=False)
    layout = image_data.describe_image_data(str(tmp_path), "image_folder", [])
    assert layout.classes == ["ant", "zebra"]  # sorted, so ids are stable
    assert layout.splits == [ImageSplit("train", "*/*", "")]
    assert layout.train_counts == {"ant": len(IMAGE_WRITERS), "zebra": len(IMAGE_WRITERS)}
    assert layout.split_names == ["train", "validation", "eval"]  # validation and eval cut from train
    assert trivial_class_loss(layout.train_counts) == pytest.approx(np.log(2))


def test_pre_split_folders_are_kept_and_class_order_can_be_given(tmp_path):
    for folder in ("train", "validation", "test"):
        write_image_tree(tmp_path / folder, classes=("a", "b"), copies=1, bad=False)
    layout = image_data.describe_image_data(str(tmp_path), "image_folder", ["b", "a"])
    assert [(s.name, s.pattern) for s in layout.splits] == [
        ("train", "train/*/*"),
        ("validation", "validation/*/*"),
        ("eval", "test/*/*"),  # Keras' test split is the one the gate judges
    ]
    assert layout.classes == ["b", "a"]
    assert layout.split_names == ["train", "validation", "eval"]
    with pytest.raises(InputError, match="must name exactly the class folders"):
        image_data.describe_image_data(str(tmp_path), "image_folder", ["a", "c"])
    (tmp_path / "test" / "extra").mkdir()
    with pytest.raises(InputError, match="class folders extra are not in"):
        image_data.describe_image_data(str(tmp_path), "image_folder", [])


def test_a_class_folder_without_images_is_named(tmp_path):
    write_image_tree(tmp_path, classes=("cat", "dog"), copies=1, bad=False)
    (tmp_path / "emu").mkdir()
    (tmp_path / "emu" / "notes.txt").write_text("no images here")
    with pytest.raises(InputError, match=f"{tmp_path}: class folder emu holds no images"):
        image_data.describe_image_data(str(tmp_path), "image_folder", [])


def test_shipped_digits_folder_and_npz_hold_the_same_split():
    folder = image_data.describe_image_data(str(REPO / "data" / "digits_images"), "image_folder", [])
    arrays = image_data.describe_image_data(str(REPO / "data" / "digits_npz" / "digits.npz"), "npz", [])
    assert folder.classes == arrays.classes == [str(d) for d in range(10)]
    assert folder.train_counts == arrays.train_counts
    assert sum(folder.train_counts.values()) == 1437  # 80% of scikit-learn's 1,797 digits
    x_test, y_test = image_data.load_arrays(str(REPO / "data" / "digits_npz" / "digits.npz"), "npz", "test")
    assert x_test.shape == (360, 8, 8) and x_test.dtype == np.uint8 and len(y_test) == 360


def test_idx_files_gzipped_or_not_are_read(tmp_path):
    images = np.arange(2 * 4 * 5).reshape(2, 4, 5) % 256
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 0]))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:1])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1]))
    layout = image_data.describe_image_data(str(tmp_path), "idx", [])
    assert [s.name for s in layout.splits] == ["train", "eval"] and layout.classes == ["0", "1"]
    x, y = image_data.load_arrays(str(tmp_path), "idx", "train")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, [1, 0])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x05\x01")
    with pytest.raises(InputError, match="promises"):
        image_data.read_idx(str(tmp_path / "t10k-labels-idx1-ubyte"))


def test_bad_arrays_are_named(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((3, 4)), y_train=np.zeros(3, dtype=int))
    with pytest.raises(InputError, match=r"bad.npz \(train\): images must be \[n, height, width\]"):
        image_data.describe_image_data(str(path), "npz", [])
    np.savez(path, x_train=np.zeros((3, 4, 4)), y_train=np.array([0, 1, 2]))
    with pytest.raises(InputError, match="has class id 2, but data.classes names only 2"):
        image_data.describe_image_data(str(path), "npz", ["no", "yes"])
    np.savez(path, images=np.zeros((3, 4, 4)))
    with pytest.raises(InputError, match="needs arrays x_train and y_train"):
        image_data.describe_image_data(str(path), "npz", [])


def test_every_format_decodes_and_every_bad_file_has_a_reason(tmp_path):
    bad = write_image_tree(tmp_path, classes=("c",), copies=1)
    for name in IMAGE_WRITERS:
        assert image_data.check_image((tmp_path / "c" / f"0_{name}").read_bytes()) is None, name
    reasons = {path: image_data.check_image((tmp_path / path).read_bytes()) for path in bad}
    assert reasons["c/empty.png"] == "empty file (0 bytes)"
    assert reasons["c/truncated.png"].startswith("cannot decode")
    assert reasons["c/not_an_image.jpg"].startswith("cannot decode")


@pytest.mark.parametrize("channels", [1, 3])
def test_transform_decodes_every_format_to_the_configured_shape(tmp_path, channels):
    write_image_tree(tmp_path, classes=("c",), copies=1, bad=False)
    spec = ImageSpec(height=4, width=5, channels=channels)
    for name in IMAGE_WRITERS:
        image = decode_image(tf.constant((tmp_path / "c" / f"0_{name}").read_bytes()), spec).numpy()
        assert image.shape == (4, 5, channels), name
        assert 0.0 <= image.min() <= image.max() <= 1.0, name


def test_channel_conversion_keeps_colour_and_drops_alpha():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 0  # red, fully transparent
    png = image_data.encode_png(rgba)
    as_rgb = decode_image(tf.constant(png), ImageSpec(height=2, width=2, channels=3)).numpy()
    np.testing.assert_allclose(as_rgb[0, 0], [1.0, 0.0, 0.0])
    grey = image_data.encode_png(np.full((2, 2, 1), 51, np.uint8))
    as_rgb = decode_image(tf.constant(grey), ImageSpec(height=2, width=2, channels=3)).numpy()
    np.testing.assert_allclose(as_rgb[0, 0], [0.2, 0.2, 0.2], atol=1e-6)


def test_arrays_become_uint8_pixels():
    np.testing.assert_array_equal(image_data.to_uint8(np.array([[[0.0, 0.5, 1.0]]]))[..., 0], [[[0, 128, 255]]])
    assert image_data.to_uint8(np.array([[[0, 16, 255]]], dtype=np.int64)).dtype == np.uint8
    with pytest.raises(InputError, match="pixels must be in 0-255"):
        image_data.check_arrays(np.full((1, 2, 2), 300), np.array([0]), "x")
