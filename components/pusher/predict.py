"""Feeding raw inputs to an exported model's serving signatures: CSV/JSON rows, or image files.

Bad input is named, as in the pipeline: a cell that is not a number by its file, line and
column; a feature column missing from a whole file is an error unless allowed (then each such
row is predicted with it missing, imputed as in training); an image file that does not decode
is skipped and listed with its reason, the other files predicted.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf

from components import features
from components.example_gen.csv_input import column_names
from components.example_gen.image_data import IMAGE_EXTENSIONS, check_image
from components.serving_dir import latest_version
from components.settings import InputError

Row = Mapping[str, str]  # a CSV row as csv.DictReader gives it; "" is a missing cell


def load_model(model_dir: str) -> Any:
    return tf.saved_model.load(model_dir)


def model_version_dir(path: str) -> str:
    """`path` if it holds a SavedModel; for a Pusher's serving dir, its newest version."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    version = latest_version(path)
    if version is None:
        raise InputError(f"{path}: neither a SavedModel nor a serving dir with numbered model versions")
    return version


def takes_images(model: Any) -> bool:
    return list(raw_input_dtypes(model)) == [features.IMAGE]


def is_image_file(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def predict_images(model: Any, contents: Sequence[bytes]) -> dict[str, np.ndarray]:
    """Through `serving_raw` of an image model: the files' encoded bytes, decoded in the model."""
    outputs = model.signatures[features.SERVING_RAW_SIGNATURE](**{features.IMAGE: tf.constant(list(contents))})
    return {name: value.numpy() for name, value in outputs.items()}


@dataclass
class Rows:
    """Rows of one file with where each came from: `places[i]` names row i ("rows.csv line 3",
    "rows.json item 2") in an error."""

    path: str
    rows: list[dict[str, str]]
    places: list[str]
    columns: set[str]  # every column the file names (a CSV's header, any JSON object's keys)


def read_rows(path: str) -> list[dict[str, str]]:
    """Rows of a CSV file (with a header), a JSON list of objects, or JSON lines; values as text."""
    return read_file_rows(path).rows


def read_file_rows(path: str) -> Rows:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            if path.lower().endswith(".csv"):
                names = column_names(f.readline())  # the columns named as ExampleGen names them
                reader = csv.DictReader(f, fieldnames=names)
                rows, lines = [], []
                for row in reader:
                    rows.append(dict(row))
                    lines.append(reader.line_num + 1)  # the header was line 1
                return Rows(path, rows, [f"{path} line {line}" for line in lines], set(reader.fieldnames or []))
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    try:
        if text.lstrip().startswith("["):
            parsed = json.loads(text)
            places = [f"{path} item {i + 1}" for i in range(len(parsed) if isinstance(parsed, list) else 0)]
        else:
            numbered = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
            parsed, places = [json.loads(line) for _, line in numbered], [f"{path} line {n}" for n, _ in numbered]
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON or JSON lines ({error})") from None
    if not isinstance(parsed, list) or not all(isinstance(row, dict) for row in parsed):
        raise InputError(f"{path}: expected JSON objects mapping column names to values")
    rows = [{name: "" if value is None else str(value) for name, value in row.items()} for row in parsed]
    return Rows(path, rows, places, {name for row in rows for name in row})


def raw_input_dtypes(model: Any) -> dict[str, tf.DType]:
    """Name -> dtype of every raw feature the `serving_raw` signature takes."""
    _, inputs = model.signatures[features.SERVING_RAW_SIGNATURE].structured_input_signature
    return {name: spec.dtype for name, spec in inputs.items()}


def predict_examples(model: Any, rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """Through `serving_default`: each row becomes a serialized tf.Example."""
    dtypes = raw_input_dtypes(model)
    serialized = [to_example(row, dtypes).SerializeToString() for row in rows]
    outputs = model.signatures[features.SERVING_EXAMPLES_SIGNATURE](examples=tf.constant(serialized))
    return {name: value.numpy() for name, value in outputs.items()}


def predict_raw(model: Any, rows: Sequence[Row], where: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Through `serving_raw`: one tensor per column, NaN or "" where a cell is missing.
    `where[i]` names row i in an error ("rows.csv line 3")."""
    columns = raw_columns(rows, raw_input_dtypes(model), where)
    outputs = model.signatures[features.SERVING_RAW_SIGNATURE](**columns)
    return {name: value.numpy() for name, value in outputs.items()}


def raw_columns(rows: Sequence[Row], dtypes: Mapping[str, tf.DType], where: Sequence[str] = ()) -> dict[str, tf.Tensor]:
    """The `serving_raw` inputs for `rows`: one tensor per column, NaN or "" where a cell is missing."""
    columns = {}
    for name, dtype in dtypes.items():
        cells = []
        for i, row in enumerate(rows):
            try:
                cells.append(_cell(row, name, dtype))
            except ValueError:
                place = where[i] if where else f"row {i + 1}"
                raise InputError(
                    f"{place}, column {name!r}: {row[name]!r} is not a number "
                    f"(leave the cell empty for a missing value)"
                ) from None
        columns[name] = tf.constant(cells, dtype)
    return columns


def to_example(row: Row, dtypes: Mapping[str, tf.DType]) -> tf.train.Example:
    """A tf.Example holding the row's non-empty cells, typed as the model's raw features."""
    example = tf.train.Example()
    for name, dtype in dtypes.items():
        text = (row.get(name) or "").strip()
        if not text:
            continue
        feature = example.features.feature[name]
        if dtype == tf.string:
            feature.bytes_list.value.append(text.encode())
        elif dtype == tf.float64:  # an integer column (see serving.raw_input_dtype)
            feature.int64_list.value.append(int(float(text)))
        else:
            feature.float_list.value.append(float(text))
    return example


def _cell(row: Row, name: str, dtype: tf.DType) -> Any:
    text = (row.get(name) or "").strip()
    if dtype == tf.string:
        return text
    return float(text) if text else float("nan")


def class_probability(probabilities: Any, class_id: int) -> float:
    """The predicted class's probability; a binary model outputs the positive class's alone."""
    if len(probabilities) == 1:
        return float(probabilities[0] if class_id == 1 else 1 - probabilities[0])
    return float(probabilities[class_id])


@dataclass
class Predictions:
    """`predict`'s result: the model version used, a name per prediction (an image file, or a
    row as `file:row`), the model's outputs, and what was left out or assumed."""

    model_dir: str
    names: list[str]
    outputs: dict[str, np.ndarray]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why) of images not read
    warnings: list[str] = field(default_factory=list)


def predict_files(model_path: str, files: Sequence[str], allow_missing: bool = False) -> Predictions:
    """`predict`'s work. Image models take image files; others CSV/JSON rows."""
    model_dir = model_version_dir(model_path)
    model = load_model(model_dir)
    if takes_images(model):
        return _predict_image_files(model_dir, model, files)
    dtypes = raw_input_dtypes(model)
    rows, names, where, warnings = [], [], [], []
    for path in files:
        if is_image_file(path):
            raise InputError(f"{path}: this model takes CSV or JSON rows, not images")
        file_rows = read_file_rows(path)
        missing = sorted(set(dtypes) - file_rows.columns)
        if missing and not allow_missing:
            raise InputError(
                f"{path}: no column {', '.join(map(repr, missing))}, which the model takes; add it, or pass "
                f"--allow-missing to predict with it missing in every row (imputed as in training)"
            )
        if missing:
            warnings.append(f"{path}: no column {', '.join(map(repr, missing))}: predicted as missing in every row")
        rows += file_rows.rows
        names += [f"{path}:{i + 1}" for i in range(len(file_rows.rows))]
        where += file_rows.places
    return Predictions(model_dir, names, predict_raw(model, rows, where), warnings=warnings)


def _predict_image_files(model_dir: str, model: Any, files: Sequence[str]) -> Predictions:
    """Every file that decodes, as ExampleGen checks them; the others skipped with the reason."""
    not_images = [path for path in files if not is_image_file(path)]
    if not_images:
        raise InputError(f"{not_images[0]}: this model takes image files (.png .jpg .jpeg .bmp .gif)")
    good, contents, skipped = [], [], []
    for path in files:
        content = _read_bytes(path)
        reason = check_image(content)
        if reason:
            skipped.append((path, reason))
        else:
            good.append(path)
            contents.append(content)
    if not good:
        raise InputError("no file is a usable image: " + "; ".join(f"{path}: {reason}" for path, reason in skipped))
    return Predictions(model_dir, good, predict_images(model, contents), skipped=skipped)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
