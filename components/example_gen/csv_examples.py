"""CsvExampleGen's executor with a columnar reader: the same examples as TFX's, several times faster.

TFX's CSV executor (tfx/components/example_gen/csv_example_gen/executor.py) sends every line
through Beam on its own and builds each tf.Example in Python: about 10 s per 100,000 rows here.
This executor reads each file in blocks with pyarrow's CSV reader, every cell as text, encodes a
block at once with tfx_bsl's example encoder, splits and shuffles blocks rather than single
examples, and only unpacks them to write (bench/csv_example_gen.py: 3.1 s for the same 100,000
rows). It is still Beam transforms throughout, so it runs on any Beam runner.

What it writes is what TFX's executor writes, decided the same way:
- column names are the header's cells without the spaces around them (`csv_input.column_names`,
  the rule preflight and `predict` follow too; TFX's `io_utils.load_csv_column_names` keeps the
  spaces, so `a, species` would name a feature " species" that no label check finds);
- a column's type is the highest over its filled cells of tfx_bsl's `_InferValueType` (INT,
  then FLOAT, then STRING; a column with no filled cell holds no value kind at all);
- an empty cell is an empty value list of the column's type;
- examples are serialized deterministically (features sorted by name), the bytes TFX hashes to
  pick an example's split, so every example lands in the split TFX's executor would choose.

Files the columnar reader does not take (csv_input.columnar_refusal: quoted fields, a carriage
return outside a CRLF line end) go through TFX's own reader instead.
`tests/test_csv_examples.py` holds both paths to the same output.
"""

from __future__ import annotations

import io
import itertools
import os
from typing import Any, Iterator

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from absl import logging
from tensorflow.core.example import example_pb2
from tfx.components.example_gen import base_example_gen_executor as tfx_base
from tfx.components.example_gen import utils, write_split
from tfx.components.example_gen.csv_example_gen import component
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils
from tfx_bsl.coders import csv_decoder, example_coder
from tfx_bsl.coders.csv_decoder import ColumnType, _InferValueType

from components.example_gen import csv_input
from components.tfx_types import ArtifactDict, ExecProperties

ColumnTypes = dict[str, ColumnType]
# Examples per Beam element after encoding: few elements, yet enough of them for every worker
# to get a share of the shuffling and writing.
EXAMPLES_PER_BLOCK = 10_000


def text_blocks(file: str, names: list[str]) -> Iterator[pa.RecordBatch]:
    """The file's rows after its header, each cell as its text, in blocks (any fileio path)."""
    with fileio.open(file, "rb") as f:
        yield from csv_input.text_blocks(io.BufferedReader(_Stream(f), csv_input.BLOCK_BYTES), names)


def columnar_refusal(files: list[str]) -> str | None:
    """Why the columnar reader does not take these files, or None when it takes them all."""
    for file in files:
        with fileio.open(file, "rb") as f:
            refusal = csv_input.columnar_refusal(file, f)
        if refusal:
            return refusal
    return None


class _Stream(io.RawIOBase):
    """A file from TFX's fileio (local, gs://, s3://, ...) as the stream pyarrow reads."""

    def __init__(self, file: Any):
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def block_types(block: pa.RecordBatch) -> ColumnTypes:
    """Each column's type over this block's filled cells, as tfx_bsl infers it cell by cell."""
    columns = zip(block.schema.names, block.columns)
    return {name: _column_type(csv_input.filled_cells(column)) for name, column in columns}


def merge_types(accumulated: ColumnTypes, more: ColumnTypes) -> ColumnTypes:
    """The higher type per column (UNKNOWN < INT < FLOAT < STRING), as ColumnTypeInferrer merges."""
    return {name: max(accumulated.get(name, ColumnType.UNKNOWN), kind) for name, kind in more.items()}


def encode_block(block: pa.RecordBatch, types: ColumnTypes) -> list[bytes]:
    """The block's rows as serialized tf.Examples, features in name order (deterministic bytes).

    tfx_bsl's encoder writes the feature map in its own order, so each example is parsed and
    serialized once more, deterministically (2.4 µs an example, about what the encoding costs)."""
    lists = [_value_lists(column, types[name]) for name, column in zip(block.schema.names, block.columns)]
    encoded = example_coder.RecordBatchToExamplesEncoder().encode(pa.RecordBatch.from_arrays(lists, block.schema.names))
    return [example_pb2.Example.FromString(example).SerializeToString(deterministic=True) for example in encoded]


def _column_type(filled: pa.Array) -> ColumnType:
    if len(filled) == 0:
        return ColumnType.UNKNOWN
    try:
        pc.cast(filled, pa.int64())
        return ColumnType.INT
    except pa.ArrowInvalid:
        # Not all plain int64 text: tfx_bsl's own rule per distinct cell (it accepts what Python's
        # int() and float() accept, e.g. " 5" or "1_000", and calls out-of-range integers text).
        return max(_InferValueType(cell.encode()) for cell in pc.unique(filled).to_pylist())


def _value_lists(column: pa.Array, kind: ColumnType) -> pa.Array:
    """One list per row: the cell's value, or an empty list for an empty cell (null: no kind)."""
    if kind == ColumnType.UNKNOWN:
        return pa.nulls(len(column), pa.large_list(pa.int64()))
    filled = csv_input.filled_mask(column)
    offsets = np.zeros(len(column) + 1, dtype=np.int64)
    np.cumsum(filled.to_numpy(zero_copy_only=False), out=offsets[1:])
    values = _typed_values(pc.filter(column, filled), kind)
    return pa.LargeListArray.from_arrays(pa.array(offsets), values)


def _typed_values(filled: pa.Array, kind: ColumnType) -> pa.Array:
    """The filled cells as TFX's handlers convert them: int(), float() to float32, or the bytes."""
    if kind == ColumnType.STRING:
        return pc.cast(filled, pa.large_binary())
    arrow_type, convert = (pa.int64(), int) if kind == ColumnType.INT else (pa.float64(), float)
    try:
        values = pc.cast(filled, arrow_type)
    except pa.ArrowInvalid:  # text Python reads and Arrow does not (" 5", "1_000"): Python's way
        values = pa.array([convert(cell) for cell in filled.to_pylist()], arrow_type)
    return values if kind == ColumnType.INT else pc.cast(values, pa.float32())


class _InferFileTypes(beam.DoFn):
    def __init__(self, names: list[str]):
        self._names = names

    def process(self, file: str) -> Iterator[ColumnTypes]:
        types: ColumnTypes = {}
        for block in text_blocks(file, self._names):
            types = merge_types(types, block_types(block))
        yield types


class _MergeTypes(beam.CombineFn):
    def create_accumulator(self) -> ColumnTypes:
        return {}

    def add_input(self, accumulated: ColumnTypes, types: ColumnTypes) -> ColumnTypes:
        return merge_types(accumulated, types)

    def merge_accumulators(self, accumulators) -> ColumnTypes:
        merged: ColumnTypes = {}
        for accumulated in accumulators:
            merged = merge_types(merged, accumulated)
        return merged

    def extract_output(self, accumulated: ColumnTypes) -> ColumnTypes:
        return accumulated


class _EncodeFile(beam.DoFn):
    def __init__(self, names: list[str]):
        self._names = names

    def process(self, file: str, types: ColumnTypes) -> Iterator[list[bytes]]:
        for block in text_blocks(file, self._names):
            examples = encode_block(block, types)
            for start in range(0, len(examples), EXAMPLES_PER_BLOCK):
                yield examples[start : start + EXAMPLES_PER_BLOCK]


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(list[bytes])
def _CsvToBlocks(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> beam.PCollection:
    """The split's CSV files as blocks of serialized tf.Examples (TFX's reader for files ours refuses)."""
    pattern = f"{exec_properties[standard_component_specs.INPUT_BASE_KEY]}/{split_pattern}"
    files = fileio.glob(pattern)
    if not files:
        raise RuntimeError(f"Split pattern {pattern} does not match any files.")
    names = split_column_names(files, pattern)
    refusal = columnar_refusal(files)
    if refusal:
        logging.info("CsvExampleGen: TFX's line reader, since %s", refusal)
        return (
            pipeline
            | "TfxCsvToExample" >> _QuotedCsvToExample(files, names)
            | "Serialize" >> beam.Map(lambda example: example.SerializeToString(deterministic=True))
            | "Blocks" >> beam.BatchElements(min_batch_size=1000, max_batch_size=10_000)
        )
    file_names = pipeline | "CreateFilenames" >> beam.Create(files)
    file_types = file_names | "InferFileTypes" >> beam.ParDo(_InferFileTypes(names))
    types = beam.pvalue.AsSingleton(file_types | "MergeTypes" >> beam.CombineGlobally(_MergeTypes()))
    return file_names | "EncodeFiles" >> beam.ParDo(_EncodeFile(names), types)


def split_column_names(files: list[str], pattern: str) -> list[str]:
    """The split's column names (`csv_input.column_names`); every file's header must name the same."""

    def names(file: str) -> list[str]:
        with fileio.open(file) as f:
            line = f.readline()
        return csv_input.column_names(line.decode("utf-8") if isinstance(line, bytes) else line)

    first = names(files[0])
    if any(names(file) != first for file in files[1:]):
        raise RuntimeError(f"Files in same split {pattern} have different header.")
    return first


class _QuotedCsvToExample(beam.PTransform):
    """TFX's CSV reading (`tfx_csv._CsvToExample`: records that may span lines, tfx_bsl's
    parser and type inference, its example builder) with the split's column names as
    `column_names` gives them, where TFX's would keep the spaces around each name."""

    def __init__(self, files: list[str], names: list[str]):
        super().__init__()
        self._files, self._names = files, names

    def expand(self, pipeline: beam.Pipeline) -> beam.PCollection:
        lines = (
            pipeline
            | "CreateFilenames" >> beam.Create(self._files)
            | "ReadFromText" >> beam.ParDo(tfx_csv._ReadCsvRecordsFromTextFile())
            | "ParseCSVLine" >> beam.ParDo(csv_decoder.ParseCSVLine(delimiter=","))
            | "ExtractParsedCSVLines" >> beam.Keys()
        )
        column_infos = beam.pvalue.AsSingleton(
            lines
            | "InferColumnTypes"
            >> beam.CombineGlobally(csv_decoder.ColumnTypeInferrer(self._names, skip_blank_lines=True))
        )
        return lines | "ToTFExample" >> beam.ParDo(tfx_csv._ParsedCsvToTfExample(), column_infos)


class _SplitBlock(beam.DoFn):
    """A block's examples to their output splits, by TFX's own rule (`_PartitionFn`: the hash of
    the serialized example, or of one feature's value with `partition_feature_name`, which TFX
    reads from a parsed example), as blocks again."""

    def __init__(self, split_config: example_gen_pb2.SplitConfig):
        self._split_config = split_config
        self._names = [split.name for split in split_config.splits]
        self._buckets = list(itertools.accumulate(split.hash_buckets for split in split_config.splits))
        self._by_feature = bool(split_config.partition_feature_name)

    def process(self, block: list[bytes]) -> Iterator[beam.pvalue.TaggedOutput]:
        import tensorflow as tf

        parts: list[list[bytes]] = [[] for _ in self._names]
        for example in block:
            record = tf.train.Example.FromString(example) if self._by_feature else example
            parts[tfx_base._PartitionFn(record, len(self._buckets), self._buckets, self._split_config)].append(example)
        for name, part in zip(self._names, parts):
            if part:
                yield beam.pvalue.TaggedOutput(name, part)


@beam.ptransform_fn
def _WriteBlocks(blocks: beam.PCollection, split_uri: str) -> beam.pvalue.PDone:
    """TFX's WriteSplit (write_split.py: Reshuffle, then gzipped TFRecords of the same name) with
    blocks moving through the shuffle instead of single examples."""
    path = os.path.join(split_uri, write_split.DEFAULT_FILE_NAME)
    return (
        blocks
        | "Shuffle" >> beam.Reshuffle()
        | "Unblock" >> beam.FlatMap(lambda block: block)
        | "Write" >> beam.io.WriteToTFRecord(path, file_name_suffix=".gz")
    )


class Executor(tfx_csv.Executor):
    """TFX's CSV executor with the columnar reader above; examples travel through Beam in
    blocks, since at a million rows Beam's cost per element, most of all between worker
    processes, outweighed the reading (bench/RESULTS.md)."""

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline, exec_properties: dict[str, Any]) -> dict[str, Any]:
        """Each output split as a PCollection of blocks of serialized examples."""
        input_config, output_config = _configs(exec_properties)
        names = utils.generate_output_split_names(input_config, output_config)
        split_config = output_config.split_config
        if not split_config.splits:  # the input's own splits
            return {
                name: pipeline | f"InputToRecord[{split.name}]" >> _CsvToBlocks(exec_properties, split.pattern)
                for name, split in zip(names, input_config.splits)
            }
        (single,) = input_config.splits
        blocks = pipeline | "InputToRecord" >> _CsvToBlocks(exec_properties, single.pattern)
        parts = blocks | "SplitData" >> beam.ParDo(_SplitBlock(split_config)).with_outputs(*names)
        return {name: parts[name] for name in names}

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: ExecProperties) -> None:
        """TFX's ExampleGen `Do` (base_example_gen_executor.py), each split written from blocks."""
        self._log_startup(input_dict, output_dict, exec_properties)
        input_config, output_config = _configs(exec_properties)
        artifacts = output_dict[standard_component_specs.EXAMPLES_KEY]
        names = utils.generate_output_split_names(input_config, output_config)
        artifact_utils.get_single_instance(artifacts).split_names = artifact_utils.encode_split_names(names)
        with self._make_beam_pipeline() as pipeline:
            for name, blocks in self.GenerateExamplesByBeam(pipeline, exec_properties).items():
                _ = blocks | f"WriteSplit[{name}]" >> _WriteBlocks(artifact_utils.get_split_uri(artifacts, name))
        payload_format = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
        file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
        for artifact in artifacts:
            if payload_format:
                examples_utils.set_payload_format(artifact, payload_format)
            if file_format:
                examples_utils.set_file_format(artifact, write_split.to_file_format_str(file_format))


def _configs(exec_properties: dict[str, Any]) -> tuple[example_gen_pb2.Input, example_gen_pb2.Output]:
    input_config, output_config = example_gen_pb2.Input(), example_gen_pb2.Output()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
    proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
    return input_config, output_config


class CsvExampleGen(component.CsvExampleGen):
    """TFX's CsvExampleGen (same driver, parameters and id) running the executor above."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
