"""Feeding raw rows (as read from a CSV) to an exported model's two serving signatures."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf

from components import features

Row = Mapping[str, str]  # a CSV row as csv.DictReader gives it; "" is a missing cell


def load_model(model_dir: str) -> Any:
    return tf.saved_model.load(model_dir)


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
