"""Checks a user's CSV before any TFX work starts, so mistakes are reported by file and column."""

from __future__ import annotations

import csv
import glob
import os
from typing import BinaryIO, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from components import features
from components.example_gen import is_folder
from components.settings import InputError


def column_names(header_line: str) -> list[str]:
    """The feature names of a CSV file's first line, the one rule every reader of the data follows
    (preflight here, CsvExampleGen, `predict`): the line split as the csv module splits it, a
    quote after the spaces that follow a comma still a quote, and each name without the spaces
    around it, so `a, species` and `a, "species"` both name the columns `a` and `species`."""
    cells = next(csv.reader([header_line.rstrip("\r\n")], skipinitialspace=True), [])
    return [cell.strip() for cell in cells]


def stored_splits(path: str) -> dict[str, str] | None:
    """Output split name -> sub-folder, for a folder pre-split into train/, validation/ and test/
    (or eval/) of CSV files; None for a file or a plain folder of CSVs. All three must be there:
    ExampleGen keeps stored splits as they are or hash-splits one input, not both at once."""
    if not os.path.isdir(path) or glob.glob(os.path.join(path, "*.csv")):
        return None
    found = {
        features.CSV_SPLIT_FOLDERS[name]: name
        for name in sorted(os.listdir(path))
        if name in features.CSV_SPLIT_FOLDERS and glob.glob(os.path.join(path, name, "*.csv"))
    }
    if not found:
        return None
    missing = [name for name in features.SPLITS if name not in found]
    if missing:
        raise InputError(
            f"{path}: pre-split CSV data needs train/, validation/ and test/ (or eval/) folders of CSV "
            f"files; {', '.join(missing)} is missing (or give one folder of CSVs to split by hash)"
        )
    return {name: found[name] for name in features.SPLITS}


def stored_eval_rows(path: str) -> int | None:
    """The data rows of a pre-split folder's eval split (None when the data is not pre-split)."""
    splits = stored_splits(path)
    if not splits:
        return None
    rows = 0
    for file in sorted(glob.glob(os.path.join(path, splits[features.EVAL_SPLIT], "*.csv"))):
        with open(file, newline="", encoding="utf-8") as f:
            rows += sum(1 for row in csv.reader(f) if row) - 1
    return rows


def csv_files(path: str) -> list[str]:
    """The CSV file, the *.csv files of a folder, or those of its split folders, that ExampleGen reads."""
    if is_folder(path):
        if not os.path.isdir(path):
            raise InputError(
                f"{path}: no such folder (a path without an extension is read as a folder of CSV files; "
                f"a CSV file needs its .csv)"
            )
        splits = stored_splits(path)
        folders = [os.path.join(path, folder) for folder in splits.values()] if splits else [path]
        files = sorted(file for folder in folders for file in glob.glob(os.path.join(folder, "*.csv")))
        if not files:
            raise InputError(f"{path}: the folder has no *.csv files")
        return files
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file (pass a CSV file or a folder of CSV files with --data)")
    return [path]


def check_csv(path: str, label: str, columns: list[str] | None = None) -> list[str]:
    """Returns the header of the data at `path` after checking the label and named columns."""
    header: list[str] | None = None
    for file in csv_files(path):
        file_header = _read_header(file)
        if header is not None and file_header != header:
            raise InputError(f"{file}: its header differs from the other CSV files in {path}")
        header = file_header
    assert header is not None
    if label not in header:
        raise InputError(f"{path}: no label column {label!r}; the columns are: {', '.join(header)}")
    missing = [column for column in columns or [] if column not in header]
    if missing:
        raise InputError(f"{path}: the config names columns not in the header: {', '.join(missing)}")
    return header


def check_split_key(path: str, key: str) -> None:
    """`data.split_key` must give every row a value ExampleGen can hash: TFX splits by a feature's
    value only for integers and text (`_GeneratePartitionKey` in tfx/components/example_gen/
    base_example_gen_executor.py), and a row without one has no split. Data stored pre-split
    keeps its splits, so a key there would decide nothing."""
    if stored_splits(path):
        raise InputError(f"{path}: the data is stored in split folders; data.split_key applies to one folder of CSVs")
    decimals = None
    for file in csv_files(path):
        with open(file, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = [column.strip() for column in next(rows)]
            column = header.index(key)
            for line, row in enumerate(rows, start=2):
                if not row:
                    continue
                cell = row[column].strip() if column < len(row) else ""
                if not cell:
                    raise InputError(f"{file}:{line}: data.split_key column {key!r} is empty; every row needs a value")
                if decimals is None and _is_number(cell) and not _is_number(cell, int):
                    decimals = f"{file}:{line}: {cell!r}"
    if decimals:
        raise InputError(
            f"{decimals}: data.split_key column {key!r} holds decimal numbers; TFX splits by integers or text only"
        )


# A column whose filled cells are at least this share numbers is numeric data with typos:
# CsvExampleGen would silently read all of it as text.
NUMERIC_SHARE = 0.9
LISTED = 3


def check_rows(path: str, label: str, task: str) -> list[str]:
    """One pass over every row: ragged rows, text cells in a numeric column, and a label with
    fewer than two classes (or, for regression, a label cell that is no number) are refused here,
    by file, line and column, before TFX starts. Returns the filled label cells, in order.

    The pass is columnar (pyarrow: 2.5 s for a million rows where row by row took 6.1 s); a file it
    cannot read as plainly, or data with something to refuse, is read again row by row, which
    is what names the line."""
    labels = _columnar_labels(path, label, task)
    if labels is None:
        labels = _row_by_row_labels(path, label, task)
    classes = set(labels)
    if not labels:
        raise InputError(f"{path}: the label column {label!r} has no values")
    if task != "regression" and len(classes) < 2:
        raise InputError(
            f"{path}: the label column {label!r} has only {labels[0]!r}: a classifier needs at least 2 classes"
        )
    return labels


def _row_by_row_labels(path: str, label: str, task: str) -> list[str]:
    numbers: dict[str, int] = {}
    text: dict[str, list[str]] = {}
    labels: list[str] = []
    for file in csv_files(path):
        with open(file, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = [column.strip() for column in next(rows)]
            for row in rows:
                if not row:
                    continue
                if len(row) != len(header):
                    raise InputError(
                        f"{file} line {rows.line_num}: {len(row)} fields, but the header has {len(header)}"
                    )
                for column, cell in zip(header, row):
                    cell = cell.strip()
                    if not cell:
                        continue
                    if column == label:
                        if task == "regression" and not _is_number(cell):
                            raise InputError(
                                f"{file} line {rows.line_num}: task regression needs a numeric label "
                                f"column {label!r}, got {cell!r}"
                            )
                        labels.append(cell)
                    elif _is_number(cell):
                        numbers[column] = numbers.get(column, 0) + 1
                    else:
                        text.setdefault(column, []).append(
                            f"line {rows.line_num} of {os.path.basename(file)}: {cell!r}"
                        )
    for column, cells in text.items():
        if _mistyped(numbers.get(column, 0), len(cells)):
            listed = "; ".join(cells[:LISTED]) + (f" and {len(cells) - LISTED} more" if len(cells) > LISTED else "")
            raise InputError(
                f"{path}: column {column!r} holds numbers, but {listed}: fix those cells or leave them "
                f"empty (an empty cell is a missing value)"
            )
    return labels


def _mistyped(numbers: int, text: int) -> bool:
    return text > 0 and numbers >= NUMERIC_SHARE * (numbers + text)


def _columnar_labels(path: str, label: str, task: str) -> list[str] | None:
    """The filled label cells, read column by column; None when the row-by-row pass must decide:
    a file the columnar reader does not take (quotes, a lone carriage return, a cell with
    spaces around it, a ragged row) or something to refuse, whose message needs the line."""
    counts: dict[str, dict[str, int]] = {}  # column -> numbers and text cells
    labels: list[str] = []
    for file in csv_files(path):
        with open(file, "rb") as f:
            if columnar_refusal(file, f):
                return None
        with open(file, encoding="utf-8") as f:
            header = column_names(f.readline())
        try:
            with open(file, "rb") as f:
                for block in text_blocks(f, [str(index) for index in range(len(header))]):
                    for column, cells in zip(header, block.columns):
                        if pc.any(pc.not_equal(pc.utf8_trim_whitespace(cells), cells)).as_py():
                            return None
                        filled = filled_cells(cells)
                        kinds = _number_or_text(filled)
                        if column != label:
                            total = counts.setdefault(column, {"numbers": 0, "text": 0})
                            total["numbers"] += kinds["numbers"]
                            total["text"] += kinds["text"]
                        elif task == "regression" and kinds["text"]:
                            return None
                        else:
                            labels.extend(filled.to_pylist())
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return None
    if any(_mistyped(total["numbers"], total["text"]) for total in counts.values()):
        return None
    return labels


def _number_or_text(filled: pa.Array) -> dict[str, int]:
    """How many cells Python's float() reads, and how many it does not."""
    try:
        pc.cast(filled, pa.float64())
        return {"numbers": len(filled), "text": 0}
    except pa.ArrowInvalid:  # some cell is no number to Arrow: Python decides per distinct cell
        counts = pc.value_counts(filled).to_pylist()
        text = sum(count["counts"] for count in counts if not _is_number(count["values"]))
        return {"numbers": len(filled) - text, "text": text}


# The columnar reading of CSV text, shared with the columnar CsvExampleGen (csv_examples.py).
BLOCK_BYTES = 16 << 20  # pyarrow reads a file this many bytes at a time


def filled_mask(cells: pa.Array) -> pa.Array:
    """True for each cell that holds a value: an empty cell is a missing value."""
    return pc.not_equal(cells, "")


def filled_cells(cells: pa.Array) -> pa.Array:
    return pc.filter(cells, filled_mask(cells))


def columnar_refusal(file: str, stream: BinaryIO) -> str | None:
    """Why the columnar reader does not take this file (quoting rules are where Python's csv
    module and pyarrow's parser differ), or None when it does."""
    while chunk := stream.read(BLOCK_BYTES):
        if b'"' in chunk:
            return f"{file} has quoted fields"
        if chunk.count(b"\r") != chunk.count(b"\r\n") or chunk.endswith(b"\r"):
            return f"{file} has carriage returns outside CRLF line ends"
    return None


def text_blocks(stream: BinaryIO, names: list[str]) -> Iterator[pa.RecordBatch]:
    """The rows after the header, each cell as its text (no quoting: see `columnar_refusal`),
    in blocks of about BLOCK_BYTES."""
    yield from pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names}, strings_can_be_null=False
        ),
    )


def _is_number(cell: str, kind: type = float) -> bool:
    """Whether `kind` (float, or int) reads the cell as Python does."""
    try:
        kind(cell)
    except ValueError:
        return False
    return True


def _read_header(file: str) -> list[str]:
    try:
        with open(file, newline="", encoding="utf-8") as f:
            header = f.readline()
            first_row = next(csv.reader(f), None)
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not header.strip():
        raise InputError(f"{file}: the file is empty")
    if first_row is None:
        raise InputError(f"{file}: the file has a header but no data rows")
    names = column_names(header)
    if "" in names:
        raise InputError(f"{file}: column {names.index('') + 1} of the header has no name; name every column")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"{file}: the header names column {repeated[0]!r} more than once")
    return names
