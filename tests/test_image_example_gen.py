"""ImageExampleGen's executor on a few files (Beam DirectRunner): folders, arrays, bad images."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import features
from components.example_gen import image_data
from components.example_gen.image_example_gen import (
    BAD_IMAGE_COUNT,
    BAD_IMAGES,
    IMAGE_COUNT,
    Executor,
    ImageExampleGen,
    read_settings,
    settings_config,
)
from components.settings import DataSpec, ImageSpec, InputError, SplitSpec
from conftest import IMAGE_WRITERS, write_image_tree


def image_data_spec(path: Path, data_format: str, **image: object) -> DataSpec:
    layout = image_data.describe_image_data(str(path), data_format, [])
    return DataSpec(
        path=str(path),
        format=data_format,
        label=features.IMAGE_LABEL,
        classes=layout.classes,
        splits=layout.splits,
        image=ImageSpec(**image),
    )


def run_example_gen(root: Path, data: DataSpec, output: Path) -> standard_artifacts.Examples:
    """Runs the executor as TFX would, with the component's own exec properties."""
    component = ImageExampleGen(str(root), data, SplitSpec().buckets)
    properties = dict(component.exec_properties)  # protos as JSON, as the executor receives them
    examples = standard_artifacts.Examples()
    examples.uri = str(output)
    Executor().Do({}, {"examples": [examples]}, properties)
    return examples


def read_examples(examples: standard_artifacts.Examples, split: str) -> list[dict]:
    files = [str(p) for p in Path(examples.uri, f"Split-{split}").glob("*.gz")]
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        rows.append(
            {
                "image": feature[features.IMAGE].bytes_list.value[0],
                "label": feature[features.IMAGE_LABEL].int64_list.value[0],
                "class": feature[features.IMAGE_CLASS].bytes_list.value[0].decode(),
                "path": feature[features.IMAGE_PATH].bytes_list.value[0].decode(),
            }
        )
    return rows


def all_splits(examples: standard_artifacts.Examples) -> list[dict]:
    return [row for split in features.SPLITS for row in read_examples(examples, split)]


def test_folder_becomes_three_splits_with_bad_files_skipped_and_listed(tmp_path):
    bad = write_image_tree(tmp_path / "data", classes=("cat", "dog"), copies=3)
    data = image_data_spec(tmp_path / "data", "image_folder", max_bad_fraction=0.2)
    examples = run_example_gen(tmp_path / "data", data, tmp_path / "out")

    assert json.loads(examples.split_names) == ["train", "validation", "eval"]
    rows = all_splits(examples)
    assert len(rows) == 2 * 3 * len(IMAGE_WRITERS)  # every good image once, no bad one
    sizes = [len(read_examples(examples, split)) for split in features.SPLITS]
    assert sizes[0] > sizes[1] > 0 and sizes[0] > sizes[2] > 0
    for row in rows:
        assert row["class"] == row["path"].split("/")[0]
        assert row["label"] == ["cat", "dog"].index(row["class"])
        assert row["image"] == (tmp_path / "data" / row["path"]).read_bytes()  # the file's own bytes
    assert examples.get_int_custom_property(IMAGE_COUNT) == len(rows) + len(bad)
    assert examples.get_int_custom_property(BAD_IMAGE_COUNT) == len(bad)
    listed = json.loads(examples.get_string_custom_property(BAD_IMAGES))
    assert [record["path"] for record in listed] == bad
    assert all(record["reason"] for record in listed)


def test_the_split_of_an_image_depends_on_its_path_only(tmp_path):
    write_image_tree(tmp_path / "data", copies=3, bad=False)
    data = image_data_spec(tmp_path / "data", "image_folder")
    first = run_example_gen(tmp_path / "data", data, tmp_path / "a")
    write_image_tree(tmp_path / "data" / "more", classes=("x",), copies=1, bad=False)  # ignored: not a class
    (tmp_path / "data" / "cat" / "9_new.png").write_bytes((tmp_path / "data" / "cat" / "0_grey.png").read_bytes())
    second = run_example_gen(tmp_path / "data", data, tmp_path / "b")
    eval_paths = {row["path"] for row in read_examples(first, "eval")}
    assert eval_paths <= {row["path"] for row in read_examples(second, "eval")}


@pytest.mark.parametrize("policy", [{"bad_images": "fail"}, {"max_bad_fraction": 0.01}])
def test_bad_images_fail_the_run_with_their_paths_when_configured(tmp_path, policy):
    bad = write_image_tree(tmp_path / "data", copies=1)
    data = image_data_spec(tmp_path / "data", "image_folder", **policy)
    with pytest.raises(InputError) as raised:
        run_example_gen(tmp_path / "data", data, tmp_path / "out")
    message = str(raised.value)
    assert f"{len(bad)} of {2 * len(IMAGE_WRITERS) + len(bad)} images cannot be used" in message
    assert all(path in message for path in bad)


def test_npz_arrays_become_png_examples_whose_test_arrays_are_the_eval_split(tmp_path):
    rng = np.random.default_rng(0)
    x_train, x_test = rng.integers(0, 256, (30, 5, 4), dtype=np.uint8), rng.random((6, 5, 4, 3))
    y_train, y_test = np.arange(30) % 3, np.array([2, 1, 0, 2, 1, 0])
    np.savez(tmp_path / "arrays.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = image_data_spec(tmp_path / "arrays.npz", "npz")
    examples = run_example_gen(tmp_path, data, tmp_path / "out")

    assert json.loads(examples.split_names) == ["train", "validation", "eval"]
    train = read_examples(examples, "train") + read_examples(examples, "validation")
    assert len(train) == 30 and read_examples(examples, "validation")
    for row in train:
        index = int(row["path"].split("[")[1].rstrip("]"))
        assert row["path"] == f"arrays.npz:x_train[{index}]"
        assert row["label"] == y_train[index] and row["class"] == str(y_train[index])
        np.testing.assert_array_equal(tf.io.decode_png(row["image"]).numpy()[..., 0], x_train[index])
    test = sorted(read_examples(examples, "eval"), key=lambda row: row["path"])
    assert [row["label"] for row in test] == list(y_test)
    decoded = tf.io.decode_png(test[0]["image"]).numpy()
    np.testing.assert_array_equal(decoded, np.rint(x_test[0] * 255).astype(np.uint8))  # floats in [0, 1]


def test_settings_survive_the_custom_config_round_trip(tmp_path):
    write_image_tree(tmp_path, copies=1, bad=False)
    data = dataclasses.replace(image_data_spec(tmp_path, "image_folder", height=3, channels=3), classes=["cat", "dog"])
    config = settings_config(data)
    assert read_settings(proto_utils.proto_to_json(config)) == data
    assert example_gen_pb2.CustomConfig.FromString(config.SerializeToString()) == config


def test_idx_files_become_examples(tmp_path):
    from test_image_data import write_idx

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 4, 4), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(12) % 2)
    data = image_data_spec(tmp_path, "idx")
    examples = run_example_gen(tmp_path, data, tmp_path / "out")
    assert json.loads(examples.split_names) == ["train", "validation", "eval"]
    rows = all_splits(examples)
    assert sorted(row["path"] for row in rows) == sorted(f"{tmp_path.name}:train-images[{i}]" for i in range(12))
    for row in rows:
        index = int(row["path"].split("[")[1].rstrip("]"))
        np.testing.assert_array_equal(tf.io.decode_png(row["image"]).numpy()[..., 0], images[index])
        assert row["label"] == index % 2
