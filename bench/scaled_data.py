"""Larger CSVs made reproducibly from the shipped penguins data, written once under a cache dir.

    path = scaled_penguins(100_000, cache_dir)

Rows are drawn with replacement (seeded) and every measurement gets Gaussian noise of 5% of its
column's standard deviation, so the rows are not exact copies; missing cells stay missing, and
integer columns stay integers (CSV type inference must see the same types as in the original).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
PENGUINS = REPO / "data" / "penguins" / "penguins.csv"
NOISE = 0.05
SEED = 20261125


def scaled_penguins(rows: int, cache_dir: Path) -> Path:
    path = Path(cache_dir) / f"penguins_{rows}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    original = pd.read_csv(PENGUINS)
    rng = np.random.default_rng(SEED + rows)
    scaled = original.iloc[rng.integers(0, len(original), size=rows)].reset_index(drop=True)
    for column in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        noise = rng.normal(0.0, NOISE * original[column].std(), size=rows)
        noisy = scaled[column] + noise
        if column in ("flipper_length_mm", "body_mass_g"):  # integers in the original
            noisy = noisy.round().astype("Int64")
        scaled[column] = noisy.where(scaled[column].notna())
    partial = path.with_suffix(".partial")
    scaled.to_csv(partial, index=False, float_format="%.2f")
    partial.rename(path)
    return path
