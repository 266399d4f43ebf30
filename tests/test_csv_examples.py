"""The columnar CSV executor writes the examples TFX's CSV executor writes, split for split.

TFX's executor (tfx/components/example_gen/csv_example_gen/executor.py) decides the column
types with tfx_bsl's `_InferValueType` (tfx_bsl/coders/csv_decoder.py) and picks each
example's split from the SHA-256 of its deterministic serialization
(tfx/components/example_gen/base_example_gen_executor.py `_PartitionFn`). Both executors run
here on the same files and their splits are compared as multisets: TFX's own order inside a
split already differs between two of its runs (its Reshuffle before writing).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from tensorflow.core.example import example_pb2
from tfx_bsl.coders.csv_decoder import ColumnType

from bench import csv_example_gen
from components.example_gen import csv_examples, csv_input

# Every rule of TFX's type inference and conversion, with empty cells in each kind of column.
MIXED = "\n".join(
    [
        "count,score,name,blank,mixed,spaced,underscored,huge,special",
        "1,0.5,ann,,3,5,1_000,1,nan",
        "2,,bob,,x,  7,2,2,inf",
        ",1e3,,,4.5,8 ,3,99999999999999999999,-inf",
        "4,2,émile,,,9,4,4,1.5",
        "",
        "-5,-0.25,zoë,,7,10,5,5,2",
    ]
)


def run_executor(
    module: str, files: dict[str, str], tmp_path: Path, name: str, split_key: str | None = None
) -> dict[str, Counter]:
    """The executor's splits (train 2 : eval 1 buckets) as multisets of deterministic bytes."""
    data = tmp_path / f"{name}-data"
    data.mkdir()
    for file, text in files.items():
        (data / file).write_bytes(text.encode())
    csv_example_gen.run_executor(module, data, tmp_path / f"{name}-examples", split_key)
    return csv_example_gen.split_contents(tmp_path / f"{name}-examples")


def ids_by_split(splits: dict[str, Counter], column: str) -> dict[str, set]:
    def key(serialized: bytes):
        feature = example_pb2.Example.FromString(serialized).features.feature[column]
        return feature.int64_list.value[0] if feature.int64_list.value else feature.bytes_list.value[0]

    return {split: {key(example) for example in examples} for split, examples in splits.items()}


def test_a_split_key_splits_as_tfx_does_and_keeps_each_rows_split_when_a_column_is_added(tmp_path):
    """`data.split_key`: TFX's partition by one feature's value (`_GeneratePartitionKey`), which
    our executor reads from each parsed example; rows split by the whole example move instead."""
    rows = [(i, f"{i * 0.37:.2f}", "ab"[i % 2]) for i in range(60)]
    narrow = {"rows.csv": "id,x,y\n" + "".join(f"{i},{x},{y}\n" for i, x, y in rows)}
    wide = {"rows.csv": "id,x,y,note\n" + "".join(f"{i},{x},{y},n{i % 3}\n" for i, x, y in rows)}
    theirs_module, ours_module = csv_example_gen.EXECUTORS.values()
    ours = run_executor(ours_module, narrow, tmp_path, "ours", split_key="id")
    assert ours == run_executor(theirs_module, narrow, tmp_path, "tfx", split_key="id")
    wider = run_executor(ours_module, wide, tmp_path, "wide", split_key="id")
    assert ids_by_split(ours, "id") == ids_by_split(wider, "id")
    assert ids_by_split(ours, "id")["eval"] and ids_by_split(ours, "id")["train"]
    by_row = ids_by_split(run_executor(ours_module, narrow, tmp_path, "row"), "id")
    by_wider_row = ids_by_split(run_executor(ours_module, wide, tmp_path, "wide-row"), "id")
    assert by_row != by_wider_row


HEADER = MIXED.splitlines()[0]


@pytest.mark.parametrize(
    "files, rows",
    [
        ({"mixed.csv": MIXED + "\n"}, 5),
        ({"crlf.csv": MIXED.replace("\n", "\r\n"), "more.csv": f"{HEADER}\n7,1,x,,2,3,4,5,6\n"}, 6),
        ({"quoted.csv": 'a,b\n1,"x, y"\n2,"z"\n3,""\n'}, 3),
    ],
    ids=["every-type-rule", "crlf-and-two-files", "quoted-fields-go-to-tfx-reader"],
)
def test_the_same_examples_in_the_same_splits_as_tfx(files, rows, tmp_path):
    theirs_module, ours_module = csv_example_gen.EXECUTORS.values()
    ours = run_executor(ours_module, files, tmp_path, "ours")
    theirs = run_executor(theirs_module, files, tmp_path, "tfx")
    assert ours == theirs
    assert sum(ours["train"].values()) + sum(ours["eval"].values()) == rows
    assert ours["train"] and ours["eval"]


def test_the_types_follow_tfx_rules(tmp_path):
    file = tmp_path / "mixed.csv"
    file.write_text(MIXED)
    (block,) = csv_examples.text_blocks(str(file), HEADER.split(","))
    assert csv_examples.block_types(block) == {
        "count": ColumnType.INT,
        "score": ColumnType.FLOAT,
        "name": ColumnType.STRING,
        "blank": ColumnType.UNKNOWN,
        "mixed": ColumnType.STRING,
        "spaced": ColumnType.INT,  # int(b"  7") is 7 in Python, as tfx_bsl reads it
        "underscored": ColumnType.INT,  # int(b"1_000") too
        "huge": ColumnType.STRING,  # beyond int64: tfx_bsl calls it text
        "special": ColumnType.FLOAT,
    }


def test_a_type_is_decided_over_every_block(monkeypatch, tmp_path):
    """A column of integers in the first block and a decimal in the last is FLOAT throughout."""
    monkeypatch.setattr(csv_input, "BLOCK_BYTES", 64)
    rows = [f"{i},{i}" for i in range(100)] + ["100,0.5"]
    file = tmp_path / "blocks.csv"
    file.write_text("a,b\n" + "\n".join(rows) + "\n")
    blocks = list(csv_examples.text_blocks(str(file), ["a", "b"]))
    assert len(blocks) > 2
    types: csv_examples.ColumnTypes = {}
    for block in blocks:
        types = csv_examples.merge_types(types, csv_examples.block_types(block))
    assert types == {"a": ColumnType.INT, "b": ColumnType.FLOAT}
    first = example_pb2.Example.FromString(csv_examples.encode_block(blocks[0], types)[0])
    assert first.features.feature["b"].float_list.value == [0.0]
    assert first.features.feature["a"].int64_list.value == [0]


def test_files_the_columnar_reader_refuses(tmp_path):
    plain, quoted, carriage = tmp_path / "plain.csv", tmp_path / "quoted.csv", tmp_path / "cr.csv"
    plain.write_bytes(b"a,b\r\n1,2\r\n")
    quoted.write_bytes(b'a,b\n1,"2"\n')
    carriage.write_bytes(b"a,b\n1,2\r3,4\n")
    assert csv_examples.columnar_refusal([str(plain)]) is None
    assert "quoted" in csv_examples.columnar_refusal([str(plain), str(quoted)])
    assert "carriage return" in csv_examples.columnar_refusal([str(carriage)])


def test_examples_are_serialized_deterministically():
    block = pa.RecordBatch.from_arrays([pa.array(["b", ""]), pa.array(["1", "2"])], ["z", "a"])
    types = {"z": ColumnType.STRING, "a": ColumnType.INT}
    for serialized in csv_examples.encode_block(block, types):
        assert example_pb2.Example.FromString(serialized).SerializeToString(deterministic=True) == serialized


@pytest.mark.parametrize(
    "text",
    ["a, species\n1,x\n2,y\n3,x\n", 'a, "species"\n1,"x"\n2,y\n3,x\n'],
    ids=["columnar-reader", "tfx-reader-for-quoted-fields"],
)
def test_a_header_with_spaces_names_its_features_as_preflight_and_predict_read_it(text, tmp_path):
    """One rule for column names (csv_input.column_names): TFX's `load_csv_column_names` would
    name the feature " species", which the label check (and the Trainer) never find."""
    from components.pusher.predict import read_file_rows

    ours_module = list(csv_example_gen.EXECUTORS.values())[1]
    splits = run_executor(ours_module, {"spaced.csv": text}, tmp_path, "ours")
    names = {
        name
        for examples in splits.values()
        for example in examples
        for name in example_pb2.Example.FromString(example).features.feature
    }
    assert names == {"a", "species"}
    file = tmp_path / "ours-data" / "spaced.csv"
    assert csv_input.check_csv(str(file), "species") == ["a", "species"]
    rows = read_file_rows(str(file))
    assert rows.columns == {"a", "species"} and rows.places[0] == f"{file} line 2"


@pytest.mark.parametrize(
    "header, message",
    [("a,,b", "column 2 of the header has no name"), ("a, b,b", "the header names column 'b' more than once")],
)
def test_a_header_without_a_name_or_with_one_twice_is_refused_naming_the_file(header, message, tmp_path):
    file = tmp_path / "bad.csv"
    file.write_text(f"{header}\n1,2,3\n")
    with pytest.raises(csv_input.InputError, match=f"{file}: {message}"):
        csv_input.check_csv(str(file), "a")
