"""preprocessing_fn through tf.Transform's Beam implementation on in-memory rows."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import features
from components.transform.preprocessing import MISSING_STRING, preprocessing_fn

# As the pipeline's SchemaGen (infer_feature_shape=False) describes CSV columns: all VarLen.
RAW_SPEC = {
    "size": tf.io.VarLenFeature(tf.float32),
    "count": tf.io.VarLenFeature(tf.int64),
    "color": tf.io.VarLenFeature(tf.string),
    "label": tf.io.VarLenFeature(tf.string),
}
ROWS = [
    {"size": [1.0], "count": [3], "color": [b"red"], "label": [b"a"]},
    {"size": [2.0], "count": [4], "color": [b"blue"], "label": [b"b"]},
    {"size": [], "count": [5], "color": [b"red"], "label": [b"a"]},
    {"size": [4.0], "count": [6], "color": [], "label": [b"b"]},
    {"size": [5.0], "count": [7], "color": [b"green"], "label": [b"a"]},
    {"size": [6.0], "count": [8], "color": [b"red"], "label": []},
]


def transform(
    rows,
    data_config,
    raw_spec=RAW_SPEC,
    vocabularies=(features.LABEL_VOCABULARY, features.categorical_vocabulary("color")),
):
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw_spec))
    with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir, force_tf_compat_v1=False):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, {"data": data_config}), output_record_batches=False
        )
        output_dir = tempfile.mkdtemp(dir=temp_dir)
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
        read = {name: tft.TFTransformOutput(output_dir).vocabulary_by_name(name) for name in vocabularies}
    return transformed, read


def column(rows, name):
    return np.array([np.asarray(row[name]).reshape(-1)[0] for row in rows])


@pytest.fixture(scope="module")
def classified():
    return transform(ROWS, {"label": "label", "task": "multiclass", "missing_indicators": True})


def test_numeric_features_are_z_scored_with_the_observed_values_statistics(classified):
    rows, _ = classified
    count = column(rows, features.transformed_name("count"))  # no missing cells
    assert count.mean() == pytest.approx(0.0, abs=1e-6)
    assert count.std() == pytest.approx(1.0, abs=1e-5)
    size = column(rows, features.transformed_name("size"))
    observed = np.array([1.0, 2.0, 4.0, 5.0, 6.0])
    expected = (observed - observed.mean()) / observed.std()
    np.testing.assert_allclose(np.delete(size, 2), expected, rtol=1e-5)  # mean 0, std 1 where observed
    assert size[2] == pytest.approx(0.0, abs=1e-6)  # the missing cell is the training mean: 0


def test_missing_numeric_cells_get_an_indicator(classified):
    rows, _ = classified
    assert column(rows, features.missing_indicator_name("size")).tolist() == [0, 0, 1, 0, 0, 0]
    assert column(rows, features.missing_indicator_name("count")).tolist() == [0] * 6


def test_strings_get_a_vocabulary_with_missing_as_its_own_value(classified):
    rows, vocabularies = classified
    vocabulary = [v.decode() for v in vocabularies[features.categorical_vocabulary("color")]]
    assert vocabulary[0] == "red"  # most frequent first
    assert set(vocabulary) == {"red", "blue", "green", MISSING_STRING}
    ids = column(rows, features.transformed_name("color"))
    assert [vocabulary[i] for i in ids] == ["red", "blue", "red", MISSING_STRING, "green", "red"]


def test_label_becomes_class_ids_and_missing_labels_weigh_nothing(classified):
    rows, vocabularies = classified
    classes = [v.decode() for v in vocabularies[features.LABEL_VOCABULARY]]
    assert sorted(classes) == ["a", "b"]
    labels = column(rows, features.LABEL)
    assert [classes[i] for i in labels[:5]] == ["a", "b", "a", "b", "a"]
    assert column(rows, features.LABEL_WEIGHT).tolist() == [1, 1, 1, 1, 1, 0]
    assert features.transformed_name("label") not in rows[0]  # the label is never a feature


def test_indicators_can_be_turned_off_and_columns_excluded():
    rows, _ = transform(
        ROWS, {"label": "label", "task": "multiclass", "missing_indicators": False, "exclude": ["count"]}
    )
    assert features.missing_indicator_name("size") not in rows[0]
    assert features.transformed_name("count") not in rows[0]


def test_regression_label_is_kept_in_its_units_with_weight_zero_when_missing():
    spec = {"x": tf.io.VarLenFeature(tf.float32), "y": tf.io.VarLenFeature(tf.float32)}
    rows = [{"x": [1.0], "y": [10.5]}, {"x": [2.0], "y": []}, {"x": [3.0], "y": [30.0]}]
    out, _ = transform_regression(rows, spec)
    assert column(out, features.LABEL).tolist() == [10.5, 0.0, 30.0]
    assert column(out, features.LABEL_WEIGHT).tolist() == [1.0, 0.0, 1.0]


def test_a_constant_column_standardizes_to_zero_not_nan():
    spec = {"x": tf.io.VarLenFeature(tf.float32), "y": tf.io.VarLenFeature(tf.float32)}
    rows = [{"x": [7.0], "y": [1.0]}, {"x": [7.0], "y": [2.0]}]
    out, _ = transform_regression(rows, spec)
    assert column(out, features.transformed_name("x")).tolist() == [0.0, 0.0]


def transform_regression(rows, spec):
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    config = {"label": "y", "task": "regression", "missing_indicators": False}
    with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir, force_tf_compat_v1=False):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, {"data": config}), output_record_batches=False
        )
    return transformed, None


def test_configured_classes_fix_the_class_ids_and_unknown_labels_weigh_nothing():
    rows = [dict(row) for row in ROWS]
    rows[4] = {**rows[4], "label": [b"c"]}  # not a configured class
    config = {"label": "label", "task": "binary", "classes": ["b", "a"], "missing_indicators": False}
    out, _ = transform(rows, config, vocabularies=[features.categorical_vocabulary("color")])
    assert column(out, features.LABEL).tolist()[:4] == [1, 0, 1, 0]  # "b" is class 0 as configured
    assert column(out, features.LABEL_WEIGHT).tolist() == [1, 1, 1, 1, 0, 0]


IMAGE_SPEC = {
    features.IMAGE: tf.io.VarLenFeature(tf.string),
    features.IMAGE_LABEL: tf.io.VarLenFeature(tf.int64),
    features.IMAGE_CLASS: tf.io.VarLenFeature(tf.string),
    features.IMAGE_PATH: tf.io.VarLenFeature(tf.string),
}


def image_rows() -> list[dict]:
    """An RGB, an RGBA and a grey image of different sizes, and a row whose class id is unknown."""
    from components.example_gen.image_data import encode_png

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in ((4, 6, 3), (3, 3, 4), (5, 4, 1), (4, 4, 1))]
    labels = [0, 1, 1, 7]
    return [
        {
            features.IMAGE: [encode_png(image)],
            features.IMAGE_LABEL: [label],
            features.IMAGE_CLASS: [b"x"],
            features.IMAGE_PATH: [f"{i}.png".encode()],
        }
        for i, (image, label) in enumerate(zip(images, labels))
    ]


@pytest.mark.parametrize("channels", [1, 3])
def test_images_are_decoded_resized_and_z_scored_per_channel(channels):
    data = {
        "format": "image_folder",
        "label": features.IMAGE_LABEL,
        "classes": ["a", "b"],
        "image": {"height": 4, "width": 4, "channels": channels, "scale": "zscore"},
    }
    rows, _ = transform(image_rows(), data, IMAGE_SPEC, vocabularies=())
    images = np.stack([np.asarray(row[features.transformed_name(features.IMAGE)]) for row in rows])
    assert images.shape == (4, 4, 4, channels)
    pixels = images.reshape(-1, channels)
    np.testing.assert_allclose(pixels.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(pixels.std(axis=0), 1.0, atol=1e-4)
    assert list(column(rows, features.LABEL)) == [0, 1, 1, 0]
    assert list(column(rows, features.LABEL_WEIGHT)) == [1.0, 1.0, 1.0, 0.0]  # class id 7 is not a class


def test_unit_scaled_images_stay_in_0_1():
    data = {
        "format": "npz",
        "label": features.IMAGE_LABEL,
        "classes": ["a", "b"],
        "image": {"height": 2, "width": 3, "channels": 3, "scale": "unit"},
    }
    rows, _ = transform(image_rows(), data, IMAGE_SPEC, vocabularies=())
    images = np.stack([np.asarray(row[features.transformed_name(features.IMAGE)]) for row in rows])
    assert images.shape == (4, 2, 3, 3) and 0.0 <= images.min() <= images.max() <= 1.0
