"""Preflight: what every command does before TFX, Beam or TensorFlow start, in one place.

`run` and `compile` go through `prepare`: the config is loaded and validated, the files it names
checked, and the data read once (the CSV header and label, then every row: ragged rows, text in
numeric columns, too few classes; or the image layout), which also gives the gate's default
bounds when the recipe sets none (components/evaluator/trivial_model.py): the loss of a model that
ignores the features and, for classes, an accuracy above the majority class's. `sweep` (whose rows lift the
bounds), `report --config`, `runs --config` and the benchmarks go through `load`: the config
alone. None of this imports TensorFlow for CSV data, so a mistake is reported in a fraction of a
second (bench/fast_answers.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from components.evaluator.trivial_model import default_min_accuracy, trivial_loss
from components.settings import CLASSIFICATION_TASKS, ConfigError, InputError, RunConfig  # noqa: F401 - the errors a user can fix, for the CLI
from pipeline.config import check_files, load_config, readable_path, recipe_or_default, take_described_layout


@dataclass(frozen=True)
class Prepared:
    config: RunConfig  # resolved, with the gate's default bounds filled in
    data: str  # what the data is, in a few words: "label 'species'", "image_folder images, 10 classes"
    computed_bound: bool  # evaluation.max_loss was not set: it is the trivial model's loss
    computed_accuracy: bool = False  # evaluation.min_accuracy was not set: the majority class's, plus a margin


def load(config_file: str | os.PathLike | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The config alone (report, runs): loaded and validated, the data not read."""
    return load_config(config_file, overrides)


def prepare(config_file: str | None, overrides: dict[str, Any]) -> Prepared:
    """A config ready to run or compile: checked, its data read once, its gate's bounds set."""
    config = load_config(recipe_or_default(config_file, overrides), overrides)
    if config.runner.kind != "kubeflow":
        check_files(config)
    local = _local_data(config)
    layout = take_described_layout(config.data) if config.data.is_image else None
    counts = None
    if config.data.is_image:
        from components.example_gen.image_data import describe_image_data, trivial_image_loss

        if layout is None and local is not None:
            layout = describe_image_data(local.path, local.format, local.classes)
        what = f"{config.data.format} images, {len(config.data.classes)} classes"
        bound = trivial_image_loss(layout) if layout else None
        counts = layout.train_counts if layout else None
    else:
        labels = _checked_rows(config, local)
        what = f"label {config.data.label!r}"
        bound = trivial_loss(labels, config.data.task) if labels is not None else None
        counts = Counter(labels) if labels is not None and config.data.task in CLASSIFICATION_TASKS else None
    evaluation = config.evaluation
    computed_bound = evaluation.max_loss is None
    if computed_bound:
        if bound is None:
            raise ConfigError(
                f"evaluation.max_loss: the default bound is computed from the data, and {config.data.path} "
                f"cannot be read here; set --set evaluation.max_loss=VALUE"
            )
        evaluation = dataclasses.replace(evaluation, max_loss=bound)
    computed_accuracy = evaluation.min_accuracy is None and counts is not None and config.data.task != "regression"
    if computed_accuracy:
        evaluation = dataclasses.replace(evaluation, min_accuracy=default_min_accuracy(counts))
    gated = dataclasses.replace(config, evaluation=evaluation)
    return Prepared(gated, what, computed_bound=computed_bound, computed_accuracy=computed_accuracy)


def _checked_rows(config: RunConfig, local: Any) -> list[str] | None:
    """The label cells after the CSV checks; None for data this machine cannot read (a compiled
    pipeline's gs:// or s3:// data is checked where it runs)."""
    from components.example_gen.csv_input import check_csv, check_rows

    if local is None:
        return None
    check_csv(local.path, config.data.label, config.data.features + config.data.exclude)
    return check_rows(local.path, config.data.label, config.data.task)


def _local_data(config: RunConfig) -> Any | None:
    """The data as this machine reads it. A compiled pipeline's paths point into the image
    (kubeflow.image_workdir); the same relative path is read in this checkout, if it is here."""
    if config.runner.kind != "kubeflow":
        return config.data
    if "://" in config.data.path:
        return None
    in_image = os.path.relpath(config.data.path, config.kubeflow.image_workdir)
    local = readable_path(in_image)
    if in_image.startswith("..") or not os.path.exists(local):
        return None
    return dataclasses.replace(config.data, path=local)
