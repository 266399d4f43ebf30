"""Image data as users bring it: its layout, splits and classes, and each image as a tf.Example.

Two callers: config loading (`describe_image_data`: cheap listings and label reads, so a
mistake is reported before TFX starts) and the image ExampleGen's Beam workers (reading files
and array rows, checking that each image decodes). Paths go through `tf.io.gfile`, so gs://
data works as local folders do.

Layouts, as Keras reads them:
- `image_folder`: `root/<class>/*.png` (split into train, validation and eval by hash of the
  path), or pre-split `root/train/<class>/...` with optional `validation/` and `test/` (the eval
  split the gate judges); a split that is not stored is cut from the train folder.
- `npz`: `x_train`, `y_train` and optionally `x_test`, `y_test` (Keras' mnist.npz; the test
  arrays are the eval split); x is [n, height, width] or [n, height, width, channels], y holds
  class ids.
- `idx`: a folder of MNIST's `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` and
  optionally `t10k-*` files (gzipped or not; t10k is the eval split).
"""

from __future__ import annotations

import gzip
import os
import posixpath
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from components import features
from components.example_gen import is_folder
from components.settings import ImageSplit, InputError


class _TensorFlowOnUse:
    """`tf`, imported on first use: loading a config only asks `detect_format` about a CSV path,
    and a mistake there is reported without the seconds TensorFlow takes to import."""

    def __getattr__(self, name: str):
        import tensorflow

        return getattr(tensorflow, name)


tf = _TensorFlowOnUse()

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# Pre-split folder -> output split name: Keras' validation split is the one training watches, its
# test split the one the gate judges.
PRE_SPLIT_FOLDERS = {
    "train": features.TRAIN_SPLIT,
    "validation": features.VALIDATION_SPLIT,
    "test": features.EVAL_SPLIT,
}
# Array split (npz suffix x_<split>, IDX prefix) -> output split name.
ARRAY_SPLITS = {"train": features.TRAIN_SPLIT, "test": features.EVAL_SPLIT}
# IDX file prefix of each split (MNIST's naming).
IDX_PREFIXES = {"train": "train", "test": "t10k"}
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class ImageLayout:
    root: str  # the folder ExampleGen reads (input_base)
    format: str
    splits: list[ImageSplit]
    classes: list[str]
    train_counts: dict[str, int] = field(default_factory=dict)  # training images per class name

    @property
    def split_names(self) -> list[str]:
        return output_split_names(self.splits)


def output_split_names(stored: list[ImageSplit]) -> list[str]:
    """ExampleGen's output splits: train, validation and eval, those not stored cut from train."""
    return list(features.SPLITS)


def detect_format(path: str) -> str:
    """csv, image_folder, npz or idx: by the extension, else by what the folder holds. A path
    that cannot be listed here (not there yet, or object storage) is taken as CSV data, which
    is checked where it is read."""
    if not is_folder(path):
        extension = os.path.splitext(path)[1].lower()
        if extension in (".csv", ".npz"):
            return extension[1:]
        raise InputError(f"{path}: cannot tell the data format from the extension {extension}; set data.format")
    try:
        names = tf.io.gfile.listdir(path)
    except tf.errors.OpError:
        return "csv"
    if any(name.endswith(".csv") for name in names) or _csv_split_folders(path, names):
        return "csv"
    if any("-idx" in name and "-ubyte" in name for name in names):
        return "idx"
    if _sub_folders(path):
        return "image_folder"
    raise InputError(f"{path}: holds no CSV files, IDX files or class sub-folders; see docs/data.md for the layouts")


def _csv_split_folders(path: str, names: list[str]) -> bool:
    """A folder pre-split into train/... folders of CSV files (components/example_gen/csv_input.py)."""
    return any(
        name.rstrip("/") in features.CSV_SPLIT_FOLDERS
        and any(file.endswith(".csv") for file in tf.io.gfile.listdir(join(path, name.rstrip("/"))))
        for name in names
        if tf.io.gfile.isdir(join(path, name.rstrip("/")))
    )


def describe_image_data(path: str, data_format: str, classes: list[str]) -> ImageLayout:
    """The layout of image data at `path`; `classes` (may be empty) fixes the class order."""
    if data_format == "image_folder":
        return _describe_folder(path.rstrip("/"), classes)
    if data_format == "npz":
        arrays = {split: load_arrays(path, "npz", split) for split in _npz_splits(path)}
        root, name = posixpath.split(path) if "://" in path else os.path.split(path)
        splits = [ImageSplit(ARRAY_SPLITS[split], name, split) for split in arrays]
        return _array_layout(path, root, "npz", splits, arrays, classes)
    if data_format == "idx":
        root = path.rstrip("/")
        arrays = {split: load_arrays(root, "idx", split) for split in _idx_splits(root)}
        splits = [ImageSplit(ARRAY_SPLITS[split], f"{IDX_PREFIXES[split]}-*", IDX_PREFIXES[split]) for split in arrays]
        return _array_layout(root, root, "idx", splits, arrays, classes)
    raise ValueError(f"not an image format: {data_format}")


def _describe_folder(root: str, classes: list[str]) -> ImageLayout:
    folders = _sub_folders(root)
    pre_split = "train" in folders and bool(_sub_folders(join(root, "train")))
    if pre_split:
        splits = [
            ImageSplit(name, f"{folder}/*/*", folder) for folder, name in PRE_SPLIT_FOLDERS.items() if folder in folders
        ]
    else:
        splits = [ImageSplit("train", "*/*", "")]
    train_root = join(root, "train") if pre_split else root
    found = sorted(_sub_folders(train_root))
    counts = {name: len(image_files(join(train_root, name))) for name in found}
    if not any(counts.values()):
        raise InputError(f"{train_root}: its class folders hold no {'/'.join(IMAGE_EXTENSIONS)} files")
    empty = [name for name, count in counts.items() if not count]
    if empty:
        raise InputError(
            f"{train_root}: class folder{'s' if len(empty) > 1 else ''} {', '.join(empty)} "
            f"hold{'' if len(empty) > 1 else 's'} no images: add images or remove the folder"
        )
    for split in splits[1:]:
        extra = sorted(set(_sub_folders(join(root, split.source))) - set(found))
        if extra:
            raise InputError(f"{join(root, split.source)}: class folders {', '.join(extra)} are not in {train_root}")
    if classes and sorted(classes) != found:
        raise InputError(
            f"data.classes {classes} must name exactly the class folders of {train_root}: {', '.join(found)}"
        )
    return ImageLayout(root, "image_folder", splits, list(classes or found), counts)


def _array_layout(
    path: str,
    root: str,
    data_format: str,
    splits: list[ImageSplit],
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    classes: list[str],
) -> ImageLayout:
    for split, (images, labels) in arrays.items():
        check_arrays(images, labels, f"{path} ({split})")
    top = max(int(labels.max()) for _, labels in arrays.values())
    if classes and top >= len(classes):
        raise InputError(f"{path}: has class id {top}, but data.classes names only {len(classes)} classes")
    names = list(classes) or [str(i) for i in range(top + 1)]
    train_labels = Counter(int(v) for v in arrays["train"][1])
    counts = {name: train_labels.get(i, 0) for i, name in enumerate(names)}
    return ImageLayout(root, data_format, splits, names, counts)


def check_arrays(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    """Shapes [n, h, w] or [n, h, w, 1|3|4], pixels 0-255 (or floats in [0, 1]), ids >= 0."""
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3, 4)):
        raise InputError(f"{where}: images must be [n, height, width] or [n, height, width, 1|3|4], got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError(f"{where}: {len(images)} images need {len(images)} labels in a 1-D array, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or (len(labels) and labels.min() < 0):
        raise InputError(f"{where}: labels must be class ids (integers >= 0), got {labels.dtype}")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise InputError(f"{where}: pixels must be numbers, got {images.dtype}")
    if len(images) and (images.min() < 0 or images.max() > 255):
        raise InputError(
            f"{where}: pixels must be in 0-255 (or floats in [0, 1]), found {images.min()} to {images.max()}"
        )


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[n, h, w, c] uint8: floats that stay within [0, 1] are taken as fractions of 255."""
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if np.issubdtype(images.dtype, np.floating) and images.max(initial=0.0) <= 1.0:
        images = images * 255.0
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def load_arrays(path: str, data_format: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of one split of an .npz file or an IDX folder."""
    if data_format == "npz":
        try:
            with tf.io.gfile.GFile(path, "rb") as f, np.load(f, allow_pickle=False) as arrays:
                return arrays[f"x_{split}"], arrays[f"y_{split}"]
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"{path}: cannot read x_{split}/y_{split} ({error})") from None
    prefix = IDX_PREFIXES[split]
    return (
        read_idx(_idx_file(path, f"{prefix}-images-idx3-ubyte")),
        read_idx(_idx_file(path, f"{prefix}-labels-idx1-ubyte")),
    )


def read_idx(path: str) -> np.ndarray:
    """An IDX file (http://yann.lecun.com/exdb/mnist/ format), gzipped or not."""
    with tf.io.gfile.GFile(path, "rb") as f:
        content = f.read()
    if path.endswith(".gz"):
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as error:
            raise InputError(f"{path}: not a readable gzip file ({error})") from None
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] not in _IDX_DTYPES:
        raise InputError(f"{path}: not an IDX file (bad magic number)")
    ndim = content[3]
    dims = struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[content[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = content[4 + 4 * ndim :]
    if len(body) != expected:
        raise InputError(f"{path}: IDX header promises {dims} ({expected} bytes), the file has {len(body)}")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _npz_splits(path: str) -> list[str]:
    try:
        with tf.io.gfile.GFile(path, "rb") as f, np.load(f, allow_pickle=False) as arrays:
            keys = set(arrays.files)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable .npz file ({error})") from None
    if not {"x_train", "y_train"} <= keys:
        raise InputError(
            f"{path}: needs arrays x_train and y_train (and optionally x_test, y_test); has {sorted(keys)}"
        )
    return ["train"] + (["test"] if {"x_test", "y_test"} <= keys else [])


def _idx_splits(root: str) -> list[str]:
    _idx_file(root, "train-images-idx3-ubyte")  # raises with the expected names when absent
    names = tf.io.gfile.listdir(root)
    return ["train"] + (["test"] if any(name.startswith("t10k-images-idx3-ubyte") for name in names) else [])


def _idx_file(root: str, stem: str) -> str:
    for name in (stem, stem + ".gz"):
        if tf.io.gfile.exists(join(root, name)):
            return join(root, name)
    raise InputError(f"{root}: no {stem} or {stem}.gz (MNIST's IDX file names)")


def image_files(folder: str) -> list[str]:
    """Files with an image extension in `folder` (not recursive)."""
    return [name for name in _files(folder) if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS]


def split_files(root: str, split: ImageSplit) -> list[str]:
    """Every non-hidden file of a folder split's class folders, relative to `root`: those without
    an image extension are reported as bad, so nothing a user put there vanishes silently."""
    base = join(root, split.source) if split.source else root
    return sorted(
        posixpath.join(*([split.source] if split.source else []), folder, name)
        for folder in _sub_folders(base)
        for name in _files(join(base, folder))
    )


def check_image(content: bytes) -> str | None:
    """Why `content` is not a usable image, or None. Decodes it with the decoder Transform uses."""
    if not content:
        return "empty file (0 bytes)"
    try:
        image = tf.io.decode_image(content, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        return f"cannot decode: {readable_tf_error(error.message)}"
    if image.shape[0] == 0 or image.shape[1] == 0:
        return "the image has no pixels"
    return None


def readable_tf_error(message: str) -> str:
    """The first line of a TensorFlow error without its graph-node and op tags:
    "{{function_node __wrapped__DecodeImage_device_/job:...}} Unknown image file format. ...
    [Op:DecodeImage]" -> "Unknown image file format. ..."."""
    lines = message.strip().splitlines()
    line = re.sub(r"\{\{[^}]*\}\}\s*", "", lines[0] if lines else "")
    return re.sub(r"\s*\[Op:[^\]]*\]", "", line).strip() or "unreadable"


def encode_png(image: np.ndarray) -> bytes:
    """One [h, w, c] uint8 array as PNG bytes (RGBA arrays keep their alpha)."""
    return tf.io.encode_png(image).numpy()


def image_example(content: bytes, class_id: int, class_name: str, path: str) -> tf.train.Example:
    example = tf.train.Example()
    example.features.feature[features.IMAGE].bytes_list.value.append(content)
    example.features.feature[features.IMAGE_LABEL].int64_list.value.append(class_id)
    example.features.feature[features.IMAGE_CLASS].bytes_list.value.append(class_name.encode())
    example.features.feature[features.IMAGE_PATH].bytes_list.value.append(path.encode())
    return example


def _sub_folders(path: str) -> list[str]:
    return sorted(
        name.rstrip("/")
        for name in tf.io.gfile.listdir(path)
        if not name.startswith(".") and tf.io.gfile.isdir(join(path, name.rstrip("/")))
    )


def _files(folder: str) -> Iterable[str]:
    return sorted(
        name
        for name in tf.io.gfile.listdir(folder)
        if not name.startswith(".") and not tf.io.gfile.isdir(join(folder, name))
    )


def join(*parts: str) -> str:
    return posixpath.join(*parts) if "://" in parts[0] else os.path.join(*parts)
