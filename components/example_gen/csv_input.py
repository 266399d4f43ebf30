"""Checks a user's CSV before any TFX work starts, so mistakes are reported by file and column."""

from __future__ import annotations

import csv
import glob
import os

from components.settings import InputError


def csv_files(path: str) -> list[str]:
    """The CSV file, or the *.csv files of a folder, that ExampleGen will read."""
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, "*.csv")))
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


# A column whose filled cells are at least this share numbers is numeric data with typos:
# CsvExampleGen would silently read all of it as text.
NUMERIC_SHARE = 0.9
LISTED = 3


def check_rows(path: str, label: str, task: str) -> list[str]:
    """One pass over every row: ragged rows, text cells in a numeric column, and a label with
    fewer than two classes (or, for regression, a label cell that is no number) are refused here,
    by file, line and column, before TFX starts. Returns the filled label cells, in order."""
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
        filled = numbers.get(column, 0) + len(cells)
        if numbers.get(column, 0) >= NUMERIC_SHARE * filled:
            listed = "; ".join(cells[:LISTED]) + (f" and {len(cells) - LISTED} more" if len(cells) > LISTED else "")
            raise InputError(
                f"{path}: column {column!r} holds numbers, but {listed}: fix those cells or leave them "
                f"empty (an empty cell is a missing value)"
            )
    classes = set(labels)
    if not labels:
        raise InputError(f"{path}: the label column {label!r} has no values")
    if task != "regression" and len(classes) < 2:
        raise InputError(
            f"{path}: the label column {label!r} has only {labels[0]!r}: a classifier needs at least 2 classes"
        )
    return labels


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_header(file: str) -> list[str]:
    try:
        with open(file, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            first_row = next(rows, None)
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not header:
        raise InputError(f"{file}: the file is empty")
    if first_row is None:
        raise InputError(f"{file}: the file has a header but no data rows")
    return [column.strip() for column in header]
