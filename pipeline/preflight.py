"""Preflight: what every command does before TFX, Beam or TensorFlow start, in one place.

`run` and `compile` go through `prepare`: the config is loaded and validated, the files it names
checked, and the data read once (the CSV header and label, then every row: ragged rows, text in
numeric columns, too few classes; or the image layout), which also gives the gate's default bound
when the recipe sets none (components/evaluator/trivial_model.py). `sweep` (whose rows lift the
bounds), `report --config`, `runs --config` and the benchmarks go through `load`: the config
alone. None of this imports TensorFlow for CSV data, so a mistake is reported in a fraction of a
second (bench/fast_answers.py).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from components.evaluator.trivial_model import trivial_loss
from components.settings import ConfigError, InputError, RunConfig  # noqa: F401 - the errors a user can fix, for the CLI
from pipeline.config import check_files, load_config, take_described_layout


@dataclass(frozen=True)
class Prepared:
    config: RunConfig  # resolved, with evaluation.max_loss filled in
    data: str  # what the data is, in a few words: "label 'species'", "image_folder images, 10 classes"
    computed_bound: bool  # evaluation.max_loss was not set: it is the trivial model's loss


def load(config_file: str | os.PathLike | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The config alone (report, runs): loaded and validated, the data not read."""
    return load_config(config_file, overrides)


def prepare(config_file: str | None, overrides: dict[str, Any]) -> Prepared:
    """A config ready to run or compile: checked, its data read once, its gate bound set."""
    config = load_config(config_file, overrides)
    if config.runner.kind != "kubeflow":
        check_files(config)
    local = _local_data(config)
    layout = take_described_layout(config.data) if config.data.is_image else None
    if config.data.is_image:
        from components.example_gen.image_data import describe_image_data, trivial_image_loss

        if layout is None and local is not None:
            layout = describe_image_data(local.path, local.format, local.classes)
        what = f"{config.data.format} images, {len(config.data.classes)} classes"
        bound = trivial_image_loss(layout) if layout else None
    else:
        labels = _checked_rows(config, local)
        what = f"label {config.data.label!r}"
        bound = trivial_loss(labels, config.data.task) if labels is not None else None
    if config.evaluation.max_loss is not None:
        return Prepared(config, what, computed_bound=False)
    if bound is None:
        raise ConfigError(
            f"evaluation.max_loss: the default bound is computed from the data, and {config.data.path} "
            f"cannot be read here; set --set evaluation.max_loss=VALUE"
        )
    gated = dataclasses.replace(config, evaluation=dataclasses.replace(config.evaluation, max_loss=bound))
    return Prepared(gated, what, computed_bound=True)


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
    local = os.path.relpath(config.data.path, config.kubeflow.image_workdir)
    if local.startswith("..") or not os.path.exists(local):
        return None
    return dataclasses.replace(config.data, path=local)
