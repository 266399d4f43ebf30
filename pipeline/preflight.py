"""Preflight: what every command does before TFX, Beam or TensorFlow start, in one place.

`run` and `compile` go through `prepare`: the config is loaded and validated, the files it names
checked, and the data read once (the CSV header and label, then every row: ragged rows, text in
numeric columns, too few classes; or the image layout), which also gives the gate's default
bounds when the recipe sets none (components/evaluator/trivial_model.py): the loss of a model that
ignores the features and, for classes, an accuracy above the majority class's. `sweep` (whose rows lift the
bounds), `report --config`, `runs --config` and the benchmarks go through `load`: the config
alone. None of this imports TensorFlow for CSV data, so a mistake is reported in a fraction of a
second (bench/fast_answers.py).

A local run whose inputs are those of a completed run (`inputs_fingerprint`: the config, the
data files, the code, the model in production) is up to date: `prepare` says which run it
matches, before the data is read or TensorFlow imported, and nothing runs unless forced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.code_version import code_fingerprint, model_code_fingerprint, tree_fingerprint
from components.evaluator.trivial_model import default_min_accuracy, trivial_loss
from components.features import EVAL_SPLIT
from components.pusher import newest_version
from components.settings import CLASSIFICATION_TASKS, ConfigError, InputError, RunConfig  # noqa: F401 - the errors a user can fix, for the CLI
from pipeline.beam_mode import BeamChoice, choose_beam
from pipeline.config import (
    PROJECT_ROOT,
    check_files,
    load_config,
    readable_path,
    recipe_or_default,
    take_described_layout,
)
from pipeline.records import SUMMARY_FILE, write_json

UP_TO_DATE_FILE = "up_to_date.json"  # in the pipeline root: completed runs by their inputs' fingerprint


@dataclass(frozen=True)
class UpToDate:
    """The completed run whose inputs a command's are."""

    run_id: str
    summary_file: str


@dataclass(frozen=True)
class Prepared:
    config: RunConfig  # resolved, with the gate's default bounds filled in
    data: str  # what the data is, in a few words: "label 'species'", "image_folder images, 10 classes"
    computed_bound: bool  # evaluation.max_loss was not set: it is the trivial model's loss
    computed_accuracy: bool = False  # evaluation.min_accuracy was not set: the majority class's, plus a margin
    recipe: RunConfig | None = None  # as loaded, before the bounds derived from the data: what is fingerprinted
    up_to_date: UpToDate | None = None  # set: nothing to run (the data was not read)
    beam: BeamChoice | None = None  # a local run's Beam mode, for the data's size (pipeline/beam_mode.py)
    eval_rows: int | None = None  # about how many rows the eval split will hold (the gate's sample)
    positive_class: str | None = None  # binary: the class whose probability the model gives


def load(config_file: str | os.PathLike | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The config alone (report, runs): loaded and validated, the data not read."""
    return load_config(config_file, overrides)


def prepare(config_file: str | None, overrides: dict[str, Any], force: bool = False) -> Prepared:
    """A config ready to run or compile: checked, its data read once, its gate's bounds set.
    A local run that is up to date (and not forced) is returned as such, its data not read."""
    config = load_config(recipe_or_default(config_file, overrides), overrides)
    if config.runner.kind != "kubeflow":
        match = None if force else up_to_date(config)
        if match:
            return Prepared(config, "", computed_bound=False, recipe=config, up_to_date=match)
        check_files(config)
    local = _local_data(config)
    layout = take_described_layout(config.data) if config.data.is_image else None
    counts, rows = None, None
    if config.data.is_image:
        from components.example_gen.image_data import describe_image_data, trivial_image_loss

        if layout is None and local is not None:
            layout = describe_image_data(local.path, local.format, local.classes)
        what = f"{config.data.format} images, {len(config.data.classes)} classes"
        bound = trivial_image_loss(layout) if layout else None
        counts = layout.train_counts if layout else None
        rows = sum(counts.values()) if counts else None
    else:
        labels = _checked_rows(config, local)
        what = f"label {config.data.label!r}"
        bound = trivial_loss(labels, config.data.task) if labels is not None else None
        counts = Counter(labels) if labels is not None and config.data.task in CLASSIFICATION_TASKS else None
        rows = len(labels) if labels is not None else None
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
    beam = None
    if config.runner.kind != "kubeflow":
        beam = choose_beam(config.runner, rows)
        gated = dataclasses.replace(gated, runner=dataclasses.replace(config.runner, beam_args=beam.args))
    eval_rows = _eval_rows(config, local, rows)
    return Prepared(
        gated,
        what,
        computed_bound,
        computed_accuracy,
        recipe=config,
        beam=beam,
        eval_rows=eval_rows,
        positive_class=positive_class(config.data.classes, counts) if config.data.task == "binary" else None,
    )


def _eval_rows(config: RunConfig, local: Any, rows: int | None) -> int | None:
    """About how many rows the gate will judge: the eval split's share of the rows, or a stored
    eval split's own rows (CSV); None where that cannot be known here (stored image splits, or
    data this machine cannot read)."""
    if rows is None or any(split.name == EVAL_SPLIT for split in config.data.splits):
        return None
    if not config.data.is_image:
        from components.example_gen.csv_input import stored_eval_rows

        stored = stored_eval_rows(local.path)
        if stored is not None:
            return stored
    return round(rows * config.split.share(EVAL_SPLIT))


def positive_class(classes: list[str], counts: Counter | None) -> str | None:
    """Binary: the second class of `data.classes`, else the less frequent label value (Transform's
    vocabulary puts the most frequent first, class id 0)."""
    if classes:
        return classes[1]
    if not counts or len(counts) != 2:
        return None
    (first, n_first), (second, n_second) = counts.most_common()
    if n_first == n_second:
        return f"{second} or {first} (equally frequent: set data.classes to choose)"
    return second


def inputs_fingerprint(config: RunConfig) -> str | None:
    """What decides a local run's outcome, without reading the data: the config, each input
    file's path, size and modification time (as TFX's ExampleGen fingerprints its input files),
    this project's code, a user's model code and the locked packages, and the model in
    production (a run that pushed changed it; a push or rollback since then means the gate has
    another bar). None when an input is not on this machine (gs://, s3://): such a run is never
    taken as up to date."""
    inputs = [config.data.path, config.data.schema, config.model.transfer.base_model]
    if any("://" in path for path in (*inputs, config.output.serving_dir, config.output.pipeline_root)):
        return None
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True, default=str).encode())
    for path in filter(None, inputs):
        for file, size, modified in _file_stats(path):
            digest.update(f"{file}\0{size}\0{modified}\n".encode())
    wiring = tree_fingerprint(Path(__file__).resolve().parent)  # this package: the pipeline's wiring
    digest.update(f"{code_fingerprint()} {wiring} {model_code_fingerprint(config.model.name)}".encode())
    lock = PROJECT_ROOT / "requirements.lock"  # the packages `make` installs: an upgrade is a change
    digest.update(lock.read_bytes() if lock.is_file() else b"no lock")
    serving = config.output.serving_dir
    production = newest_version(os.listdir(serving)) if os.path.isdir(serving) else None
    digest.update(f"in production: {production}".encode())
    return digest.hexdigest()


def up_to_date(config: RunConfig) -> UpToDate | None:
    """A completed run of this pipeline root whose inputs are this config's, if there is one."""
    match = _completed_runs(config.output.pipeline_root).get(inputs_fingerprint(config) or "")
    if not match or not os.path.isfile(match["summary_file"]):
        return None
    return UpToDate(match["run_id"], match["summary_file"])


def record_completed_run(prepared: Prepared, summary: dict[str, Any]) -> None:
    """After a local run: its inputs' fingerprint, taken now that the run has pushed (or not).
    One entry per fingerprint, the newest run's, at most `_REMEMBERED`."""
    fingerprint = inputs_fingerprint(prepared.recipe or prepared.config)
    if fingerprint is None or os.path.basename(summary.get("summary_file", "")) != SUMMARY_FILE:
        return
    root = prepared.config.output.pipeline_root
    runs = _completed_runs(root)
    runs.pop(fingerprint, None)
    runs[fingerprint] = {"run_id": summary["run_id"], "summary_file": summary["summary_file"]}
    write_json({"runs": dict(list(runs.items())[-_REMEMBERED:])}, os.path.join(root, UP_TO_DATE_FILE))


_REMEMBERED = 100


def _completed_runs(pipeline_root: str) -> dict[str, dict[str, str]]:
    """Inputs' fingerprint -> the newest completed run with those inputs, oldest first."""
    try:
        with open(os.path.join(pipeline_root, UP_TO_DATE_FILE), encoding="utf-8") as f:
            return dict(json.load(f)["runs"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _file_stats(path: str) -> list[tuple[str, int, int]]:
    """(path, size, mtime in ns) of a file, or of every file under a folder; [] for nothing there."""
    if os.path.isfile(path):
        stat = os.stat(path)
        return [(path, stat.st_size, stat.st_mtime_ns)]
    stats = []
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        for name in sorted(files):
            stat = os.stat(os.path.join(folder, name))
            stats.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return stats


def _checked_rows(config: RunConfig, local: Any) -> list[str] | None:
    """The label cells after the CSV checks; None for data this machine cannot read (a compiled
    pipeline's gs:// or s3:// data is checked where it runs)."""
    from components.example_gen.csv_input import check_csv, check_rows, check_split_key

    if local is None:
        return None
    split_key = [config.data.split_key] if config.data.split_key else []
    check_csv(local.path, config.data.label, config.data.features + config.data.exclude + split_key)
    if split_key:
        check_split_key(local.path, config.data.split_key)
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
