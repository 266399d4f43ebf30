"""A model that ignores the features: the gate's default bars (`evaluation.max_loss` and, for
classes, `evaluation.min_accuracy`).

A trained model that does not beat it has learned nothing from the features. Its loss: for
classes, the cross-entropy of always predicting the class frequencies, which is their entropy;
for a numeric label, the mean absolute error of always predicting the median. Its accuracy:
always guessing the majority class; the default bar asks for a margin over that. CSV data
(csv_input.py) and image data (image_data.py) both count their labels and ask here.
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
    return trivial_class_loss(Counter(labels))


def trivial_class_loss(counts: Mapping[str, int]) -> float:
    """Cross-entropy of always predicting the class frequencies: their entropy (the loss to
    beat for CSV labels and for image classes alike)."""
    return entropy(counts)


# The default accuracy bar: this share of the rows a majority-class guess gets wrong must be
# right. 152 of 344 penguins are Adelie (0.442), so the bar is 0.442 + 0.1 * 0.558 = 0.498.
ACCURACY_MARGIN = 0.1


def default_min_accuracy(counts: Mapping[str, int]) -> float:
    """Better than always guessing the majority class, by `ACCURACY_MARGIN` of its errors."""
    majority = max(counts.values()) / sum(counts.values())
    return round(majority + ACCURACY_MARGIN * (1 - majority), 4)
