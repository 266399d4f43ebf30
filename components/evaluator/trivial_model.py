"""The loss of a model that ignores the features: the gate's default bar (`evaluation.max_loss`).

A trained model that does not beat it has learned nothing from the features. For classes, the
cross-entropy of always predicting the class frequencies, which is their entropy; for a numeric
label, the mean absolute error of always predicting the median. CSV data (csv_input.py) and image
data (image_data.py) both count their labels and ask here.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Mapping


def entropy(counts: Mapping[str, int]) -> float:
    total = sum(counts.values())
    return -sum(n / total * math.log(n / total) for n in counts.values() if n)


def median_absolute_error(values: Iterable[float]) -> float:
    numbers = sorted(values)
    median = numbers[len(numbers) // 2]
    return sum(abs(y - median) for y in numbers) / len(numbers)


def trivial_loss(labels: list[str], task: str) -> float:
    """From the label cells (text, as read); `labels` is not empty and, for regression, numeric."""
    if task == "regression":
        return median_absolute_error(float(value) for value in labels)
    return entropy(Counter(labels))
