"""Shared fixtures. Importing `components` first pins Keras 2 before TensorFlow loads."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import components  # noqa: F401
import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Six rows with a string feature, an int and a float feature, a missing cell and a label."""
    return write_csv(
        tmp_path / "tiny.csv",
        ["size", "count", "color", "label"],
        [
            [1.0, 3, "red", "a"],
            [2.0, 4, "blue", "b"],
            ["", 5, "red", "a"],
            [4.0, 6, "", "b"],
            [5.0, 7, "green", "a"],
            [6.0, 8, "red", "b"],
        ],
    )
