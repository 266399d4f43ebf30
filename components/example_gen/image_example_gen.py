"""ImageExampleGen: image folders, .npz arrays and IDX files to tf.Examples, in Beam.

Each example holds the encoded image (`image`: the file's own bytes; array rows are encoded
as PNG), the class id (`label`), the class name (`class`) and where it came from (`path`).
Every file is decoded on the way in, with the decoder Transform uses, so a zero-byte,
truncated or non-image file never reaches the Trainer: it is skipped and reported by path
(the run summary shows the count and the paths), or the component fails with that list when
`data.image.bad_images` is `fail` or more than `data.image.max_bad_fraction` of the files are bad.

Splits: stored train/validation/test splits are kept (test is the eval split the gate judges);
the splits that are not stored are cut from the train split by a hash of each example's path
(`split.train`:`split.validation`:`split.eval` buckets, those of the stored splits left out), so
an image stays in its split when files are added.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
import posixpath
from typing import Any, Iterator

import apache_beam as beam
import numpy as np
from google.protobuf import any_pb2, wrappers_pb2
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import base_beam_executor, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import features
from components.example_gen import image_data
from components.settings import DataSpec, ImageSplit, InputError, from_dict
from components.tfx_types import ArtifactDict, ExecProperties

BAD_IMAGES_DIR = "bad_images"  # inside the Examples artifact: one JSON line per skipped file
# Custom properties of the Examples artifact (the run summary reads them).
BAD_IMAGE_COUNT = "bad_image_count"
BAD_IMAGES = "bad_images"  # JSON list of {"path", "reason"}, the first MAX_LISTED
IMAGE_COUNT = "image_count"  # files or array rows read, bad ones included
MAX_LISTED = 100
ARRAY_CHUNK = 2000  # array rows per Beam element


class Executor(base_beam_executor.BaseBeamExecutor):
    """Reads every stored split, checks each image, writes the train, validation and eval splits."""

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: ExecProperties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        data = read_settings(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY])
        root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        buckets = _buckets(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY])
        artifacts = output_dict[standard_component_specs.EXAMPLES_KEY]
        examples = artifact_utils.get_single_instance(artifacts)
        split_names = image_data.output_split_names(data.splits)
        examples.split_names = artifact_utils.encode_split_names(split_names)
        file_format = exec_properties.get(
            standard_component_specs.OUTPUT_FILE_FORMAT_KEY, example_gen_pb2.FORMAT_TFRECORDS_GZIP
        )
        bad_prefix = os.path.join(examples.uri, BAD_IMAGES_DIR, "bad")
        total = 0
        with self._make_beam_pipeline() as pipeline:
            bad_collections = []
            for split in data.splits:
                good, bad, count = read_split(pipeline, root, split, data)
                total += count
                bad_collections.append(bad)
                for name, collection in divide(good, split, data.splits, buckets).items():
                    _ = collection | f"Write[{name}]" >> write_split.WriteSplit(
                        artifact_utils.get_split_uri(artifacts, name), file_format
                    )
            _ = (
                tuple(bad_collections)
                | "AllBad" >> beam.Flatten()
                | "BadToJson" >> beam.Map(json.dumps)
                | "WriteBad" >> beam.io.WriteToText(bad_prefix, file_name_suffix=".jsonl")
            )
        bad = read_bad(bad_prefix)
        _record(artifacts, total, bad, file_format)
        check_bad_images(bad, total, data, root)


def read_split(
    pipeline: beam.Pipeline, root: str, split: ImageSplit, data: DataSpec
) -> tuple[beam.PCollection, beam.PCollection, int]:
    """(examples, bad files as {"path", "reason"}, number of files or rows) of one stored split."""
    if data.format == "image_folder":
        files = image_data.split_files(root, split)
        if not files:
            raise InputError(f"{image_data.join(root, split.source or '')}: no files in its class folders")
        results = (
            pipeline
            | f"List[{split.name}]" >> beam.Create(files)
            | f"Read[{split.name}]" >> beam.ParDo(ReadImageFile(root, data.classes)).with_outputs("bad", main="good")
        )
        return results.good, results.bad, len(files)
    path = image_data.join(root, split.pattern) if data.format == "npz" else root
    images, _ = image_data.load_arrays(path, data.format, split.source)
    chunks = [(start, min(start + ARRAY_CHUNK, len(images))) for start in range(0, len(images), ARRAY_CHUNK)]
    good = (
        pipeline
        | f"Chunks[{split.name}]" >> beam.Create(chunks)
        | f"Rows[{split.name}]" >> beam.ParDo(ReadArrayRows(path, data.format, split.source, data.classes))
    )
    no_bad = pipeline | f"NoBad[{split.name}]" >> beam.Create([])
    return good, no_bad, len(images)


class ReadImageFile(beam.DoFn):
    """Relative path -> tf.Example, or a tagged `bad` record naming the file and the reason."""

    def __init__(self, root: str, classes: list[str]):
        self._root = root
        self._class_ids = {name: i for i, name in enumerate(classes)}

    def process(self, relative_path: str) -> Iterator[Any]:
        class_name = posixpath.basename(posixpath.dirname(relative_path))
        if class_name not in self._class_ids:
            yield beam.pvalue.TaggedOutput(
                "bad", _bad(relative_path, f"class folder {class_name!r} is not in data.classes")
            )
            return
        extension = os.path.splitext(relative_path)[1].lower()
        if extension not in image_data.IMAGE_EXTENSIONS:
            yield beam.pvalue.TaggedOutput(
                "bad", _bad(relative_path, f"not an image file ({extension or 'no'} extension)")
            )
            return
        import tensorflow as tf

        try:
            with tf.io.gfile.GFile(image_data.join(self._root, relative_path), "rb") as f:
                content = f.read()
        except (OSError, tf.errors.OpError) as error:
            yield beam.pvalue.TaggedOutput("bad", _bad(relative_path, f"cannot read: {error}"))
            return
        reason = image_data.check_image(content)
        if reason:
            yield beam.pvalue.TaggedOutput("bad", _bad(relative_path, reason))
            return
        yield image_data.image_example(content, self._class_ids[class_name], class_name, relative_path)


class ReadArrayRows(beam.DoFn):
    """(start, stop) rows of one split's arrays -> tf.Examples with PNG-encoded images."""

    def __init__(self, path: str, data_format: str, source: str, classes: list[str]):
        self._path, self._format, self._source, self._classes = path, data_format, source, classes
        self._images: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def setup(self) -> None:
        images, self._labels = image_data.load_arrays(self._path, self._format, self._source)
        self._images = image_data.to_uint8(images)

    def process(self, rows: tuple[int, int]) -> Iterator[Any]:
        name = posixpath.basename(self._path.rstrip("/"))
        array = f"x_{self._source}" if self._format == "npz" else f"{self._source}-images"
        for i in range(*rows):
            class_id = int(self._labels[i])
            content = image_data.encode_png(self._images[i])
            yield image_data.image_example(content, class_id, self._classes[class_id], f"{name}:{array}[{i}]")


def divide(
    examples: beam.PCollection, split: ImageSplit, stored: list[ImageSplit], buckets: dict[str, int]
) -> dict[str, beam.PCollection]:
    """The stored train split, divided by path hash into train and each output split not stored."""
    if split.name != features.TRAIN_SPLIT:
        return {split.name: examples}
    kept = {split.name for split in stored}
    names = [name for name in buckets if name == features.TRAIN_SPLIT or name not in kept]
    if len(names) == 1:
        return {split.name: examples}
    bounds = list(itertools.accumulate(buckets[name] for name in names))
    parts = examples | "DivideTrain" >> beam.Partition(
        lambda example, _: bisect.bisect(bounds, _bucket(example, bounds[-1])), len(names)
    )
    return dict(zip(names, parts))


def _bucket(example: Any, buckets: int) -> int:
    path = example.features.feature[features.IMAGE_PATH].bytes_list.value[0]
    return int(hashlib.sha256(path).hexdigest(), 16) % buckets


def read_bad(prefix: str) -> list[dict[str, str]]:
    import tensorflow as tf

    bad = []
    for shard in sorted(tf.io.gfile.glob(prefix + "*")):
        with tf.io.gfile.GFile(shard) as f:
            bad.extend(json.loads(line) for line in f if line.strip())
    return sorted(bad, key=lambda record: record["path"])


def check_bad_images(bad: list[dict[str, str]], total: int, data: DataSpec, root: str) -> None:
    """Fails the run when the config says so; otherwise the skipped files stay in the summary."""
    if not bad:
        return
    fraction = len(bad) / max(total, 1)
    too_many = fraction > data.image.max_bad_fraction
    if data.image.bad_images == "skip" and not too_many:
        return
    why = (
        f"more than data.image.max_bad_fraction={data.image.max_bad_fraction:g} of them"
        if too_many
        else "data.image.bad_images is fail"
    )
    listed = "\n".join(f"  {record['path']}: {record['reason']}" for record in bad[:20])
    more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
    raise InputError(f"{root}: {len(bad)} of {total} images cannot be used ({fraction:.1%}; {why}):\n{listed}{more}")


def _record(artifacts: list[types.Artifact], total: int, bad: list[dict[str, str]], file_format: int) -> None:
    from tfx.components.util import examples_utils

    for artifact in artifacts:
        examples_utils.set_payload_format(artifact, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(artifact, write_split.to_file_format_str(file_format))
        artifact.set_int_custom_property(IMAGE_COUNT, total)
        artifact.set_int_custom_property(BAD_IMAGE_COUNT, len(bad))
        artifact.set_string_custom_property(BAD_IMAGES, json.dumps(bad[:MAX_LISTED]))


def _bad(path: str, reason: str) -> dict[str, str]:
    return {"path": path, "reason": reason}


def _buckets(output_config_json: str) -> dict[str, int]:
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(output_config_json, output_config)
    return {split.name: split.hash_buckets for split in output_config.split_config.splits}


def settings_config(data: DataSpec) -> example_gen_pb2.CustomConfig:
    """The DataSpec as ExampleGen's custom_config (JSON in an Any, so it survives compilation)."""
    import dataclasses

    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.StringValue(value=json.dumps(dataclasses.asdict(data))))
    return example_gen_pb2.CustomConfig(custom_config=packed)


def read_settings(custom_config_json: str) -> DataSpec:
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(custom_config_json, config)
    value = wrappers_pb2.StringValue()
    config.custom_config.Unpack(value)
    return from_dict(DataSpec, json.loads(value.value), "data")


class ImageExampleGen(FileBasedExampleGen):
    """ExampleGen for image data (`data.format` image_folder, npz or idx).

    TFX's file-based driver fingerprints the files of every stored split, so changed images
    re-run the pipeline and unchanged ones hit the cache."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, input_base: Any, data: DataSpec, buckets: dict[str, int]):
        super().__init__(
            input_base=input_base,
            input_config=example_gen_pb2.Input(
                splits=[example_gen_pb2.Input.Split(name=split.name, pattern=split.pattern) for split in data.splits]
            ),
            output_config=example_gen_pb2.Output(
                split_config=example_gen_pb2.SplitConfig(
                    splits=[
                        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=count)
                        for name, count in buckets.items()
                    ]
                )
            ),
            custom_config=settings_config(data),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
        )
