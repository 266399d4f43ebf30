"""Feeding raw inputs to an exported model's serving signatures: CSV/JSON rows, or image files."""

from __future__ import annotations

import csv
import json
import os
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf

from components import features
from components.example_gen.image_data import IMAGE_EXTENSIONS
from components.pusher.push import latest_version
from components.settings import InputError

Row = Mapping[str, str]  # a CSV row as csv.DictReader gives it; "" is a missing cell


def load_model(model_dir: str) -> Any:
    return tf.saved_model.load(model_dir)


def model_version_dir(path: str) -> str:
    """`path` if it holds a SavedModel; for a Pusher's serving dir, its newest version."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    version = latest_version(path)
    if version is None:
        raise InputError(f"{path}: neither a SavedModel nor a serving dir with numbered model versions")
    return version


def takes_images(model: Any) -> bool:
    return list(raw_input_dtypes(model)) == [features.IMAGE]


def is_image_file(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def predict_images(model: Any, contents: Sequence[bytes]) -> dict[str, np.ndarray]:
    """Through `serving_raw` of an image model: the files' encoded bytes, decoded in the model."""
    outputs = model.signatures[features.SERVING_RAW_SIGNATURE](**{features.IMAGE: tf.constant(list(contents))})
    return {name: value.numpy() for name, value in outputs.items()}


def read_rows(path: str) -> list[dict[str, str]]:
    """Rows of a CSV file (with a header), a JSON list of objects, or JSON lines; values as text."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            if path.lower().endswith(".csv"):
                return [dict(row) for row in csv.DictReader(f)]
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    try:
        parsed = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON or JSON lines ({error})") from None
    if not all(isinstance(row, dict) for row in parsed):
        raise InputError(f"{path}: expected JSON objects mapping column names to values")
    return [{name: "" if value is None else str(value) for name, value in row.items()} for row in parsed]


def raw_input_dtypes(model: Any) -> dict[str, tf.DType]:
    """Name -> dtype of every raw feature the `serving_raw` signature takes."""
    _, inputs = model.signatures[features.SERVING_RAW_SIGNATURE].structured_input_signature
    return {name: spec.dtype for name, spec in inputs.items()}


def predict_examples(model: Any, rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """Through `serving_default`: each row becomes a serialized tf.Example."""
    dtypes = raw_input_dtypes(model)
    serialized = [to_example(row, dtypes).SerializeToString() for row in rows]
    outputs = model.signatures[features.SERVING_EXAMPLES_SIGNATURE](examples=tf.constant(serialized))
    return {name: value.numpy() for name, value in outputs.items()}


def predict_raw(model: Any, rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """Through `serving_raw`: one tensor per column, NaN or "" where a cell is missing."""
    columns = raw_columns(rows, raw_input_dtypes(model))
    outputs = model.signatures[features.SERVING_RAW_SIGNATURE](**columns)
    return {name: value.numpy() for name, value in outputs.items()}


def raw_columns(rows: Sequence[Row], dtypes: Mapping[str, tf.DType]) -> dict[str, tf.Tensor]:
    """The `serving_raw` inputs for `rows`: one tensor per column, NaN or "" where a cell is missing."""
    return {name: tf.constant([_cell(row, name, dtype) for row in rows], dtype) for name, dtype in dtypes.items()}


def to_example(row: Row, dtypes: Mapping[str, tf.DType]) -> tf.train.Example:
    """A tf.Example holding the row's non-empty cells, typed as the model's raw features."""
    example = tf.train.Example()
    for name, dtype in dtypes.items():
        text = (row.get(name) or "").strip()
        if not text:
            continue
        feature = example.features.feature[name]
        if dtype == tf.string:
            feature.bytes_list.value.append(text.encode())
        elif dtype == tf.float64:  # an integer column (see serving.raw_input_dtype)
            feature.int64_list.value.append(int(float(text)))
        else:
            feature.float_list.value.append(float(text))
    return example


def _cell(row: Row, name: str, dtype: tf.DType) -> Any:
    text = (row.get(name) or "").strip()
    if dtype == tf.string:
        return text
    return float(text) if text else float("nan")


def class_probability(probabilities: Any, class_id: int) -> float:
    """The predicted class's probability; a binary model outputs the positive class's alone."""
    if len(probabilities) == 1:
        return float(probabilities[0] if class_id == 1 else 1 - probabilities[0])
    return float(probabilities[class_id])


def predict_files(model_path: str, files: Sequence[str]) -> tuple[str, list[str], dict[str, np.ndarray]]:
    """`predict`'s work: the model version used, a name per prediction (an image file, or a row
    as `file:line`), and the model's outputs. Image models take image files; others CSV/JSON rows."""
    model_dir = model_version_dir(model_path)
    model = load_model(model_dir)
    if takes_images(model):
        not_images = [path for path in files if not is_image_file(path)]
        if not_images:
            raise InputError(f"{not_images[0]}: this model takes image files (.png .jpg .jpeg .bmp .gif)")
        return model_dir, list(files), predict_images(model, [_read_bytes(path) for path in files])
    rows, names = [], []
    for path in files:
        if is_image_file(path):
            raise InputError(f"{path}: this model takes CSV or JSON rows, not images")
        file_rows = read_rows(path)
        rows += file_rows
        names += [f"{path}:{i + 1}" for i in range(len(file_rows))]
    return model_dir, names, predict_raw(model, rows)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
