"""Shared fixtures. Importing `components` first pins Keras 2 before TensorFlow loads."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import components  # noqa: F401
import pytest

from pipeline.cli import main

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


@dataclass
class Run:
    exit_code: int
    summary: dict
    serving_dir: Path
    printed: str


def run_cli(root: Path, *args: str) -> Run:
    summary_file = root / f"summary-{len(list(root.glob('summary-*.json')))}.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "run",
                *args,
                "--pipeline-root", str(root / "pipeline"),
                "--serving-dir", str(root / "serving"),
                "--summary-json", str(summary_file),
            ]
        )
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return Run(code, summary, root / "serving", printed.getvalue())


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(file.relative_to(path)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file()
    }


@pytest.fixture(scope="session")
def penguins(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("penguins")
    return run_cli(root, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15")
