"""Regenerates the shipped CSVs from data that installed packages carry (nothing is downloaded).

    python data/prepare.py

- penguins/penguins.csv: `palmerpenguins` (data CC0). Its "NA" markers become empty cells,
  which is how CsvExampleGen reads a missing value (a literal "NA" would turn the column into text).
- breast_cancer/breast_cancer.csv: scikit-learn's copy of the UCI Breast Cancer Wisconsin
  (Diagnostic) data (CC BY 4.0), with the label as `diagnosis` = malignant | benign.
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


def write_breast_cancer() -> Path:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    columns = [re.sub(r"\W+", "_", name.strip()) for name in bunch.feature_names]
    target = HERE / "breast_cancer" / "breast_cancer.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow([*columns, "diagnosis"])
        for features, label in zip(bunch.data, bunch.target):
            writer.writerow([*(f"{value:g}" for value in features), bunch.target_names[label]])
    return target


if __name__ == "__main__":
    for path in (write_penguins(), write_breast_cancer()):
        print(path)
