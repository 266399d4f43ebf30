"""tf.Transform `preprocessing_fn`: z-score numbers, vocabularies for strings, explicit missing values.

Features are whatever columns the CSV has, minus the label and `data.exclude`: their kind
(numeric or string) comes from the inferred schema, so a user's own CSV needs no code.
The schema is inferred with `infer_feature_shape=False`, so every raw feature arrives as a
SparseTensor with at most one value per row: an absent value is a missing cell.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components.settings import CLASSIFICATION_TASKS, DataSpec, ImageSpec, from_dict

MISSING_STRING = "__missing__"
NUM_OOV_BUCKETS = 1


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, Any]:
    """Called by TFX Transform; `custom_config["data"]` is a `DataSpec` as a dict."""
    spec = from_dict(DataSpec, custom_config["data"], "data")
    if spec.is_image:
        return image_preprocessing(inputs, spec)
    if spec.label not in inputs:
        raise ValueError(f"label column {spec.label!r} is not in the data; columns: {', '.join(sorted(inputs))}")
    keys = feature_keys(inputs, spec)
    numeric = [key for key in keys if inputs[key].dtype != tf.string]
    outputs: dict[str, Any] = _numeric(numeric, inputs, spec) if numeric else {}
    for key in keys:
        if inputs[key].dtype == tf.string:
            outputs[features.transformed_name(key)] = _encode_categorical(key, inputs[key])
    label, weight = _encode_label(inputs[spec.label], spec)
    outputs[features.LABEL] = label
    outputs[features.LABEL_WEIGHT] = weight
    return outputs


def feature_keys(inputs: dict[str, Any], spec: DataSpec) -> list[str]:
    """The raw columns that are model features: `data.features`, or all but the label, the
    excluded columns and the split key (an id: what decides a row's split tells nothing of it)."""
    for key in ("features", "exclude"):
        unknown = sorted(set(getattr(spec, key)) - set(inputs))
        if unknown:
            raise ValueError(f"data.{key} names columns not in the data: {', '.join(unknown)}")
    if spec.features:
        return sorted(spec.features)
    return sorted(key for key in inputs if key not in (spec.label, spec.split_key) and key not in spec.exclude)


def _to_dense(value: tf.SparseTensor | tf.Tensor, default: Any) -> tf.Tensor:
    """[batch, 1] dense tensor; rows with no value get `default`."""
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(
            tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]),
            default_value=default,
        )
    return tf.reshape(value, [-1, 1])


def _numeric(keys: list[str], inputs: dict[str, Any], spec: DataSpec) -> dict[str, tf.Tensor]:
    """z-score each column with the mean and variance of its observed training values; a
    missing cell is imputed with that mean (so it standardizes to exactly 0).

    All numeric columns are stacked into one [batch, columns] matrix, so three analyzers (count,
    sum, sum of squares per column, in float64) serve any number of columns in one pass; an
    analyzer per column made Transform's cost grow with the width of the CSV."""
    matrix = tf.concat([_to_dense(_map_values(inputs[key], _to_float64), default=float("nan")) for key in keys], axis=1)
    is_missing = tf.math.is_nan(matrix)
    observed = tf.where(is_missing, tf.zeros_like(matrix), matrix)
    count = tft.sum(tf.cast(tf.logical_not(is_missing), tf.float64), reduce_instance_dims=False, name="count")
    total = tft.sum(observed, reduce_instance_dims=False, name="sum")
    squares = tft.sum(observed * observed, reduce_instance_dims=False, name="sum_of_squares")
    mean = total / tf.maximum(count, 1.0)
    std = tf.sqrt(tf.maximum(squares / tf.maximum(count, 1.0) - mean * mean, 0.0))
    imputed = tf.where(is_missing, mean[tf.newaxis, :] + tf.zeros_like(matrix), matrix)
    if spec.standardize:
        # A constant column has no spread: centre it instead of dividing by zero.
        scale = tf.where(std > 0, std, tf.ones_like(std))
        imputed = (imputed - mean) / scale
    imputed = tf.cast(imputed, tf.float32)
    out = {}
    for i, key in enumerate(keys):
        out[features.transformed_name(key)] = imputed[:, i : i + 1]
        if spec.missing_indicators:
            out[features.missing_indicator_name(key)] = tf.cast(is_missing[:, i : i + 1], tf.float32)
    return out


def image_preprocessing(inputs: dict[str, Any], spec: DataSpec) -> dict[str, Any]:
    """Encoded image -> [height, width, channels] floats; `label` is already the class id."""
    images = decode_images(inputs[features.IMAGE], spec.image)
    if spec.image.scale == "zscore":
        images = _zscore_channels(images, spec.image.channels)
    label = _to_dense(inputs[features.IMAGE_LABEL], default=-1)
    known = tf.logical_and(label >= 0, label < len(spec.classes))
    return {
        features.transformed_name(features.IMAGE): images,
        features.LABEL: tf.where(known, label, tf.zeros_like(label)),
        features.LABEL_WEIGHT: tf.cast(known, tf.float32),
    }


def decode_images(encoded: Any, image: ImageSpec) -> tf.Tensor:
    """[batch] encoded images (PNG, JPEG, BMP, GIF) -> [batch, height, width, channels] in [0, 1]."""
    encoded = tf.reshape(_to_dense(encoded, default=""), [-1])
    return tf.map_fn(
        lambda content: decode_image(content, image),
        encoded,
        fn_output_signature=tf.TensorSpec(image.shape, tf.float32),
    )


def decode_image(content: tf.Tensor, image: ImageSpec) -> tf.Tensor:
    """One encoded image, converted to the configured channels, resized (bilinear, as Keras'
    image_dataset_from_directory does) and scaled to [0, 1]. A GIF gives its first frame; a
    palette PNG is expanded by the decoder."""
    decoded = tf.io.decode_image(content, expand_animations=False)  # uint8, 1-4 channels
    resized = tf.image.resize(_convert_channels(decoded, image.channels), [image.height, image.width])
    return tf.ensure_shape(resized / 255.0, image.shape)


def _convert_channels(decoded: tf.Tensor, channels: int) -> tf.Tensor:
    """Grey, grey+alpha, RGB or RGBA -> `channels` (1 or 3) floats; alpha is dropped.

    Written without control flow: tf.Transform cannot serialize a `switch_case` that feeds an
    analyzer (the z-score's mean and variance)."""
    colour = tf.shape(decoded)[-1] >= 3
    rgb = tf.gather(decoded, tf.where(colour, tf.constant([0, 1, 2]), tf.constant([0, 0, 0])), axis=-1)
    rgb = tf.cast(tf.ensure_shape(rgb, [None, None, 3]), tf.float32)
    if channels == 3:
        return rgb
    return tf.where(colour, tf.image.rgb_to_grayscale(rgb), rgb[..., :1])


def _zscore_channels(images: tf.Tensor, channels: int) -> tf.Tensor:
    """Per-channel z-score with the training pixels' mean and standard deviation."""
    pixels = tf.reshape(images, [-1, channels])
    mean = tft.mean(pixels, reduce_instance_dims=False, name="pixel_mean")
    std = tf.sqrt(tft.var(pixels, reduce_instance_dims=False, name="pixel_variance"))
    std = tf.where(std > 0, std, tf.ones_like(std))
    return (images - mean) / std


def _encode_categorical(key: str, value: Any) -> tf.Tensor:
    """Vocabulary index; a missing cell is its own category, unseen values share one OOV bucket."""
    dense = _to_dense(value, default=MISSING_STRING)
    dense = tf.where(tf.equal(dense, ""), MISSING_STRING, dense)
    return tft.compute_and_apply_vocabulary(
        dense,
        num_oov_buckets=NUM_OOV_BUCKETS,
        vocab_filename=features.categorical_vocabulary(key),
    )


def _encode_label(value: Any, spec: DataSpec) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns (label, weight); weight is 0 where the label is missing or not a known class."""
    if spec.task in CLASSIFICATION_TASKS:
        if value.dtype != tf.string:
            value = _map_values(value, tf.strings.as_string)
        dense = _to_dense(value, default="")
        if spec.classes:
            return _class_ids(dense, spec.classes)
        class_vocabulary = tft.vocabulary(
            tf.boolean_mask(dense, tf.not_equal(dense, "")),
            vocab_filename=features.LABEL_VOCABULARY,
        )
        class_id = tft.apply_vocabulary(dense, class_vocabulary, default_value=-1)
        known = class_id >= 0
        return tf.maximum(class_id, 0), tf.cast(known, tf.float32)
    if value.dtype == tf.string:
        raise ValueError("task regression needs a numeric label column, found strings")
    dense = _to_dense(_map_values(value, _to_float), default=float("nan"))
    present = tf.logical_not(tf.math.is_nan(dense))
    return tf.where(present, dense, 0.0), tf.cast(present, tf.float32)


def _class_ids(label: tf.Tensor, classes: list[str]) -> tuple[tf.Tensor, tf.Tensor]:
    """Position of each [batch, 1] label in the configured class list (no analyzer needed)."""
    matches = tf.equal(label, tf.constant(classes)[tf.newaxis, :])  # [batch, classes]
    known = tf.reduce_any(matches, axis=1, keepdims=True)
    class_id = tf.argmax(tf.cast(matches, tf.int32), axis=1, output_type=tf.int64)[:, tf.newaxis]
    return class_id, tf.cast(known, tf.float32)


def _map_values(value: Any, fn) -> Any:
    if isinstance(value, tf.SparseTensor):
        return tf.SparseTensor(value.indices, fn(value.values), value.dense_shape)
    return fn(value)


def _to_float(value: tf.Tensor) -> tf.Tensor:
    return tf.cast(value, tf.float32)


def _to_float64(value: tf.Tensor) -> tf.Tensor:
    return tf.cast(value, tf.float64)
