"""Signatures of the exported SavedModel: raw inputs in, the Transform graph applied inside.

- `serving_default`: a batch of serialized `tf.Example`s holding RAW features (as in the CSV).
- `serving_raw`: one named 1-D tensor per raw feature; NaN (numbers) or "" (strings) is a
  missing value, imputed exactly as in training. Integer columns are float64 here. For image
  data it takes one tensor, `image`: the encoded files' bytes (PNG, JPEG, BMP, GIF).
- `transform_features`: raw tf.Examples, label included, to transformed features; TFMA uses it
  to find the transformed label and the example weight.
"""

from __future__ import annotations

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

    return {
        features.SERVING_EXAMPLES_SIGNATURE: serve_examples.get_concrete_function(),
        features.SERVING_RAW_SIGNATURE: serve_raw.get_concrete_function(),
        features.TRANSFORM_SIGNATURE: transform_features.get_concrete_function(),
    }


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
