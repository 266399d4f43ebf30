"""Regenerates the shipped CSVs from data that installed packages carry (nothing is downloaded).

    python data/prepare.py

- penguins/penguins.csv: `palmerpenguins` (data CC0). Its "NA" markers become empty cells,
  which is how CsvExampleGen reads a missing value (a literal "NA" would turn the column into text).
- breast_cancer/breast_cancer.csv: scikit-learn's copy of the UCI Breast Cancer Wisconsin
  (Diagnostic) data (CC BY 4.0), with the label as `diagnosis` = malignant | benign.
- wine/wine.csv: scikit-learn's copy of the UCI Wine data (CC BY 4.0), label `cultivar`.
- digits/digits.csv: scikit-learn's 8x8 handwritten digits (UCI Optical Recognition of
  Handwritten Digits, CC BY 4.0) as 64 pixel columns `px_<row>_<col>` (0-16) and `digit`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_penguins() -> Path:
    from importlib.resources import files

    source = files("palmerpenguins") / "data" / "penguins.csv"
    target = HERE / "penguins" / "penguins.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(newline="") as src, target.open("w", newline="") as dst:
        writer = csv.writer(dst)
        for row in csv.reader(src):
            writer.writerow(["" if cell == "NA" else cell for cell in row])
    return target


def write_sklearn_table(name: str, label: str, columns: list[str], data, labels) -> Path:
    """One CSV of a scikit-learn data set: feature columns then the label column."""
    target = HERE / name / f"{name}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow([*columns, label])
        for features, value in zip(data, labels):
            writer.writerow([*(f"{x:g}" for x in features), value])
    return target


def _clean(names) -> list[str]:
    return [re.sub(r"\W+", "_", str(name).strip()).strip("_") for name in names]


def write_breast_cancer() -> Path:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    labels = [bunch.target_names[t] for t in bunch.target]
    return write_sklearn_table("breast_cancer", "diagnosis", _clean(bunch.feature_names), bunch.data, labels)


def write_wine() -> Path:
    from sklearn.datasets import load_wine

    bunch = load_wine()
    labels = [bunch.target_names[t] for t in bunch.target]
    return write_sklearn_table("wine", "cultivar", _clean(bunch.feature_names), bunch.data, labels)


def write_digits() -> Path:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    columns = [f"px_{row}_{col}" for row in range(8) for col in range(8)]
    return write_sklearn_table("digits", "digit", columns, bunch.data, bunch.target)


if __name__ == "__main__":
    for path in (write_penguins(), write_breast_cancer(), write_wine(), write_digits()):
        print(path)
