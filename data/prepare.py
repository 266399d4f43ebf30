"""Regenerates the shipped CSVs from data that installed packages carry (nothing is downloaded).

    python data/prepare.py

- penguins/penguins.csv: `palmerpenguins` (data CC0). Its "NA" markers become empty cells,
  which is how CsvExampleGen reads a missing value (a literal "NA" would turn the column into text).
- breast_cancer/breast_cancer.csv: scikit-learn's copy of the UCI Breast Cancer Wisconsin
  (Diagnostic) data (CC BY 4.0), with the label as `diagnosis` = malignant | benign.
- wine/wine.csv: scikit-learn's copy of the UCI Wine data (CC BY 4.0), label `cultivar`.
- digits/digits.csv: scikit-learn's 8x8 handwritten digits (UCI Optical Recognition of
  Handwritten Digits, CC BY 4.0) as 64 pixel columns `px_<row>_<col>` (0-16) and `digit`.
- digits_images/{train,test}/<digit>/<row>.png: the same digits as 8-bit greyscale PNGs
  (pixel = round(value * 255 / 16)), a stratified 80/20 split; the layout Keras'
  image_dataset_from_directory reads. <row> is the row in scikit-learn's data.
- digits_npz/digits.npz: the same images and split as uint8 arrays x_train [n, 8, 8],
  y_train, x_test, y_test (the layout of Keras' mnist.npz).
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


DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def digits_split():
    """(images as uint8 [n, 8, 8], labels, sklearn row numbers) for train and for test."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.rint(bunch.images * 255.0 / 16.0).astype(np.uint8)
    rows = np.arange(len(images))
    train_rows, test_rows = train_test_split(
        rows, test_size=DIGITS_TEST_FRACTION, stratify=bunch.target, random_state=DIGITS_SPLIT_SEED
    )
    return {
        split: (images[chosen], bunch.target[chosen].astype(np.uint8), chosen)
        for split, chosen in (("train", np.sort(train_rows)), ("test", np.sort(test_rows)))
    }


def write_digits_images() -> Path:
    import shutil

    from PIL import Image

    target = HERE / "digits_images"
    shutil.rmtree(target, ignore_errors=True)
    for split, (images, labels, rows) in digits_split().items():
        for image, label, row in zip(images, labels, rows):
            folder = target / split / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, mode="L").save(folder / f"{row:04d}.png", optimize=True)
    return target


def write_digits_npz() -> Path:
    import numpy as np

    target = HERE / "digits_npz" / "digits.npz"
    target.parent.mkdir(parents=True, exist_ok=True)
    split = digits_split()
    np.savez_compressed(
        target, x_train=split["train"][0], y_train=split["train"][1], x_test=split["test"][0], y_test=split["test"][1]
    )
    return target


if __name__ == "__main__":
    for path in (write_penguins(), write_breast_cancer(), write_wine(), write_digits(), write_digits_images(),
                 write_digits_npz()):
        print(path)
