"""Signatures of the exported SavedModel: raw inputs in, the Transform graph applied inside.

- `serving_default`: a batch of serialized `tf.Example`s holding RAW features (as in the CSV).
- `serving_raw`: one named 1-D tensor per raw feature; NaN (numbers) or "" (strings) is a
  missing value, imputed exactly as in training. Integer columns are float64 here, float
  columns float32 (Python numbers and JSON, ints or floats, are converted to these; a tensor of
  another dtype is refused, as by any signature). For image data it takes one tensor, `image`:
  the encoded files' bytes (PNG, JPEG, BMP, GIF).
- `transform_features`: raw tf.Examples, label included, to transformed features; TFMA uses it
  to find the transformed label and the example weight.

Classifiers output `probabilities`, `class_ids`, `classes` (the predicted class's name) and
`class_names` (every class's name in id order, naming the probability columns); the names are
also in the SavedModel's assets/class_names.txt. For Python callers the model also has
`serve_columns({column: tensor})`: `serving_raw` taking int32/int64/float32/float64 tensors
for every numeric column (the integer columns in one of these dtypes, the float columns in
float32 or float64), as `tf.constant` of Python numbers or NumPy arrays give them.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from typing import Any, Callable

import tensorflow as tf
import tensorflow_transform as tft

from components import features


def make_signatures(
    model: tf.keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    label_column: str,
    task: str,
    class_names: list[str],
) -> dict[str, Any]:
    # Tracked as an attribute so the Transform graph and its assets are saved with the model.
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = serving_feature_spec(raw_spec, label_column)
    predict = _predict_fn(model, task, class_names)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        return predict(tf.io.parse_example(serialized, serving_spec))

    names = sorted(serving_spec)
    raw_inputs = [tf.TensorSpec([None], raw_input_dtype(serving_spec[name].dtype), name=name) for name in names]

    @tf.function(input_signature=raw_inputs)
    def serve_raw(*columns: tf.Tensor) -> dict[str, tf.Tensor]:
        return predict(
            {name: _present_values(column, serving_spec[name].dtype) for name, column in zip(names, columns)}
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.tft_layer(tf.io.parse_example(serialized, raw_spec))

    serve_raw_function = serve_raw.get_concrete_function()
    setattr(model, features.SERVE_COLUMNS_FUNCTION, columns_function(serve_raw_function, raw_inputs))
    if class_names:
        model.class_names_asset = tf.saved_model.Asset(_class_names_file(class_names))
    return {
        features.SERVING_EXAMPLES_SIGNATURE: serve_examples.get_concrete_function(),
        features.SERVING_RAW_SIGNATURE: serve_raw_function,
        features.TRANSFORM_SIGNATURE: transform_features.get_concrete_function(),
    }


INTEGER_COLUMN_DTYPES = (tf.int32, tf.int64, tf.float32, tf.float64)
FLOAT_COLUMN_DTYPES = (tf.float32, tf.float64)


def columns_function(serve_raw: Any, raw_inputs: list[tf.TensorSpec]) -> Any:
    """`serving_raw` over a dict of columns whose numbers may be any int or float dtype.

    A signature has one dtype per input, and `tf.constant([2007])` is int32 where an integer
    column is float64. This function is traced once per pair (integer columns' dtype, float
    columns' dtype); each trace casts and calls the one `serving_raw` graph, so it costs casts,
    not another copy of the model."""

    @tf.function
    def serve_columns(columns: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return serve_raw(**{spec.name: tf.cast(columns[spec.name], spec.dtype) for spec in raw_inputs})

    integer = [spec.name for spec in raw_inputs if spec.dtype == tf.float64]
    floating = [spec.name for spec in raw_inputs if spec.dtype == tf.float32]
    pairs = itertools.product(
        INTEGER_COLUMN_DTYPES if integer else (None,), FLOAT_COLUMN_DTYPES if floating else (None,)
    )
    for integer_dtype, float_dtype in pairs:
        dtypes = {**{name: integer_dtype for name in integer}, **{name: float_dtype for name in floating}}
        serve_columns.get_concrete_function(
            {spec.name: tf.TensorSpec([None], dtypes.get(spec.name, spec.dtype), name=spec.name) for spec in raw_inputs}
        )
    return serve_columns


def _class_names_file(class_names: list[str]) -> str:
    """The class names, one per line in id order, in a file the SavedModel copies into assets/."""
    path = os.path.join(tempfile.mkdtemp(prefix="class-names-"), features.CLASS_NAMES_ASSET)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{name}\n" for name in class_names))
    return path


def serving_feature_spec(raw_spec: dict[str, Any], label_column: str) -> dict[str, Any]:
    """The raw features a prediction needs: all but the label; for image data the image alone
    (its class name and path are bookkeeping of ExampleGen)."""
    if features.IMAGE in raw_spec and label_column == features.IMAGE_LABEL:
        return {features.IMAGE: raw_spec[features.IMAGE]}
    return {key: spec for key, spec in raw_spec.items() if key != label_column}


def _predict_fn(model: tf.keras.Model, task: str, class_names: list[str]) -> Callable:
    """Raw features -> transformed -> model -> named outputs."""
    names = tf.constant(class_names or [""], dtype=tf.string)

    def predict(raw_features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        transformed = model.tft_layer(raw_features)
        # training=False: random augmentation layers default to training mode when not told.
        output = model({name: transformed[name] for name in model.input_names}, training=False)
        if task == "regression":
            return {features.PREDICTIONS: output}
        if task == "binary":
            class_ids = tf.cast(output[:, 0] > 0.5, tf.int64)
        else:
            class_ids = tf.argmax(output, axis=1)
        return {
            features.PROBABILITIES: output,
            features.CLASS_IDS: class_ids,
            features.CLASSES: tf.gather(names, class_ids),
            features.CLASS_NAMES: tf.tile(names[tf.newaxis, :], [tf.shape(output)[0], 1]),
        }

    return predict


def raw_input_dtype(feature_dtype: tf.DType) -> tf.DType:
    """Integer columns are taken as float64 in `serving_raw`, so NaN can mark a missing value
    (float64 holds every integer up to 2**53 exactly)."""
    return tf.float64 if feature_dtype.is_integer else feature_dtype


def _present_values(column: tf.Tensor, feature_dtype: tf.DType) -> tf.SparseTensor:
    """A [batch] tensor as the [batch, <=1] SparseTensor Transform expects; NaN or "" is missing."""
    if column.dtype == tf.string:
        present = tf.not_equal(column, "")
    else:
        present = tf.logical_not(tf.math.is_nan(column))
    rows = tf.where(present)
    return tf.SparseTensor(
        indices=tf.concat([rows, tf.zeros_like(rows)], axis=1),
        values=tf.cast(tf.gather_nd(column, rows), feature_dtype),
        dense_shape=tf.stack([tf.size(column, out_type=tf.int64), 1]),
    )
