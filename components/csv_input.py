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
