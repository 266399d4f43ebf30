"""The one resolution of a run's config: a loaded recipe (recipe.py) becomes everything the run
derives, in one call that keeps nothing between calls.

    resolved = resolve(load("configs/penguins.yaml", {"training.epochs": 5}))
    resolved.config       # what runs: names, paths, model, tuning space, the data's layout, the gate's bounds
    resolved.local_data   # where this machine reads the data (config.data.path is where the pipeline does)

The data is read here, once: its format, for image data its classes and stored splits; for CSV
data its header, label and every row (components/example_gen/csv_input.py), which gives the
gate's default bounds when the recipe sets none (components/evaluator/trivial_model.py): the
loss of a model that ignores the features and, for classes, an accuracy above the majority
class's. None of this imports TensorFlow for CSV data, so a mistake is reported in a fraction of
a second (bench/fast_answers.py).

Paths: a relative path is resolved against the working directory, and a data path found only in
this project's checkout (the shipped data) there. Compiled for Kubeflow, the pipeline's paths are
in the image (`kubeflow.image_workdir`), and the same relative path is read in this checkout when
it is here; URIs (gs://, s3://) are kept as they are and not read.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.evaluator.gate import resolve_gates
from components.evaluator.trivial_model import default_min_accuracy, trivial_class_loss, trivial_loss
from components.features import EVAL_SPLIT, IMAGE_LABEL
from components.settings import (
    AUTO_MODEL,
    CLASSIFICATION_TASKS,
    TARGET_STORES,
    ConfigError,
    DataSpec,
    EvaluationSpec,
    ModelSpec,
    OutputSpec,
    RunConfig,
    TrainingSpec,
    TransferSpec,
    TuningSpec,
)
from pipeline.config.beam_mode import BeamChoice, choose_beam
from pipeline.config.recipe import DEFAULT_OUTPUT_DIR, PROJECT_ROOT, load


@dataclass(frozen=True)
class Resolved:
    config: RunConfig  # what runs: every default filled in, the gate's bounds and the Beam mode included
    local_data: str | None  # the data's path on this machine; None: not readable here (gs://, or only in the image)
    description: str  # what the data is, in a few words: "label 'species'", "image_folder images, 10 classes"
    computed_bound: bool  # evaluation.max_loss was not set: it is the trivial model's loss
    computed_accuracy: bool  # evaluation.min_accuracy was not set: the majority class's, plus a margin
    beam: BeamChoice | None  # a local run's Beam mode, for the data's size (config/beam_mode.py)
    eval_rows: int | None  # about how many rows the eval split will hold (the gate's sample)
    positive_class: str | None  # binary: the class whose probability the model gives


def resolve(recipe: RunConfig) -> Resolved:
    """Everything `recipe` implies, its data read once, and each rule across sections checked."""
    on_kubeflow = recipe.runner.kind == "kubeflow"
    name, output = location(recipe)
    local_data = local_data_path(recipe)
    data_format = _data_format(recipe.data, local_data)
    model = _resolve_model(recipe.model, dataclasses.replace(recipe.data, format=data_format), on_kubeflow)
    data, image_counts = _resolve_data(recipe, local_data, data_format)
    resolve_gates(data.task, recipe.evaluation)  # the metric names and bounds fit the task
    config = dataclasses.replace(
        recipe,
        name=name,
        data=data,
        model=model,
        tuning=_resolve_tuning(recipe.tuning, model, recipe.training, data.task),
        output=output,
        kubeflow=recipe.kubeflow.for_target(),
    )
    if data.is_image:
        counts, rows, trivial = image_counts, sum(image_counts.values()), trivial_class_loss(image_counts)
    else:
        labels = _csv_labels(config, local_data)
        counts = Counter(labels) if labels is not None and data.task in CLASSIFICATION_TASKS else None
        rows = len(labels) if labels is not None else None
        trivial = trivial_loss(labels, data.task) if labels is not None else None
    evaluation, computed_bound, computed_accuracy = _default_bounds(config, trivial, counts)
    beam = None if on_kubeflow else choose_beam(config.runner, rows)
    runner = dataclasses.replace(config.runner, beam_args=beam.args) if beam else config.runner
    return Resolved(
        config=dataclasses.replace(config, evaluation=evaluation, runner=runner),
        local_data=local_data,
        description=f"{data.format} images, {len(data.classes)} classes" if data.is_image else f"label {data.label!r}",
        computed_bound=computed_bound,
        computed_accuracy=computed_accuracy,
        beam=beam,
        eval_rows=_eval_rows(config, local_data, rows),
        positive_class=positive_class(data.classes, counts) if data.task == "binary" else None,
    )


def resolved_config(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """`resolve(load(path, overrides)).config`: the config a run of this recipe runs with."""
    return resolve(load(path, overrides)).config


def location(recipe: RunConfig) -> tuple[str, OutputSpec]:
    """The pipeline's name and where its records and pushed models go: what finds a recipe's
    runs without reading its data (`runs`, `report --runs`, the up-to-date check)."""
    name = recipe.name or _pipeline_name(recipe.data.path)
    if recipe.runner.kind == "kubeflow":
        name = _kubeflow_name(name)
        return name, _kubeflow_output(recipe)
    return name, _local_output(recipe, name)


def local_data_path(recipe: RunConfig) -> str | None:
    """Where this machine reads the recipe's data: against the working directory, else this
    checkout (the shipped data, from any directory). A compiled pipeline's path is in the image;
    the same path relative to the image's work dir is read here when it is here."""
    path = recipe.data.path
    if "://" in path:
        return None
    if recipe.runner.kind != "kubeflow":
        return readable_path(path)
    in_image = os.path.relpath(absolute(path, recipe.kubeflow.image_workdir), recipe.kubeflow.image_workdir)
    local = readable_path(in_image)
    return local if not in_image.startswith("..") and os.path.exists(local) else None


def readable_path(path: str) -> str:
    """A path against the working directory, else against this project's checkout when the
    path is there."""
    here = absolute(path, os.getcwd())
    shipped = absolute(path, str(PROJECT_ROOT))
    return shipped if not os.path.exists(here) and os.path.exists(shipped) else here


def absolute(path: str, base: str) -> str:
    """URIs (gs://, s3://) as they are; a relative path resolved against `base`."""
    return path if "://" in path else os.path.normpath(os.path.join(base, path))


def base_model_path(path: str) -> str:
    """A transfer base as the Trainer loads it: a pushed serving dir becomes its newest model
    version, so a run records which model its base came from (and a newer push re-runs the
    Trainer instead of hitting the cache). `run` and `models --base-model` both read it here."""
    from components.pusher.predict import model_version_dir

    path = absolute(path, os.getcwd())
    if os.path.isdir(path):  # a missing base is reported by `check_files` (before a run)
        path = model_version_dir(path)
    return path


def check_files(config: RunConfig) -> None:
    """Before a local run: the files the config names must exist."""
    if config.data.schema and not os.path.isfile(config.data.schema):
        raise ConfigError(f"data.schema: {config.data.schema} does not exist (a run summary's artifacts.schema)")
    base = config.model.transfer.base_model
    if config.model.name == "transfer" and not os.path.exists(base):
        raise ConfigError(
            f"model.transfer.base_model: {base} does not exist (train and push the base model first, "
            f"e.g. with configs/digits_cnn.yaml)"
        )


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


def _data_format(data: DataSpec, local_data: str | None) -> str:
    from components.example_gen.image_data import detect_format

    return detect_format(local_data or data.path) if data.format == "auto" else data.format


def _resolve_data(recipe: RunConfig, local_data: str | None, data_format: str) -> tuple[DataSpec, Counter | None]:
    """The data's paths as the pipeline reads them, and for image data its classes and stored
    splits, with the training images per class (listed once, here, where `local_data` is)."""
    from components.example_gen.image_data import describe_image_data

    data = recipe.data
    readable = local_data or data.path
    workdir = recipe.kubeflow.image_workdir if recipe.runner.kind == "kubeflow" else None
    resolved = dataclasses.replace(
        data,
        path=absolute(data.path, workdir) if workdir else readable,
        format=data_format,
        schema=absolute(data.schema, workdir or os.getcwd()) if data.schema else "",
    )
    if not resolved.is_image:
        return resolved, None
    if data.task == "regression":
        raise ConfigError("data.task: image data is classified by its class folders or labels, not regressed")
    if data.split_key:
        raise ConfigError("data.split_key: applies to CSV data; image data is split by each file's path")
    layout = describe_image_data(readable, data_format, data.classes)
    resolved = dataclasses.replace(
        resolved, label=IMAGE_LABEL, features=[], exclude=[], classes=layout.classes, splits=layout.splits
    )
    return resolved, Counter(layout.train_counts)


def _resolve_model(model: ModelSpec, data: DataSpec, on_kubeflow: bool) -> ModelSpec:
    """The model by task when the recipe says `auto`; checked against the task and the data; a
    transfer base as the Trainer loads it (on Kubeflow, a path the pods resolve)."""
    from components.trainer.models import check_model, default_model

    name = default_model(data.task) if model.name == AUTO_MODEL else model.name
    try:
        check_model(name, data.task, image_data=data.is_image)
    except ValueError as error:
        raise ConfigError(f"model.name: {error}") from None
    model = dataclasses.replace(model, name=name)
    if name == "transfer" and not on_kubeflow:
        model = dataclasses.replace(model, transfer=_resolve_base_model(model.transfer))
    return model


def _resolve_tuning(tuning: TuningSpec, model: ModelSpec, training: TrainingSpec, task: str) -> TuningSpec:
    """With tuning on: the space filled (the model's default when the recipe names none) and checked."""
    if not tuning.enabled:
        return tuning
    if tuning.objective == "accuracy" and task not in CLASSIFICATION_TASKS:
        raise ConfigError("tuning.objective: accuracy applies to classification, but data.task is regression")
    from components.tuner.space import resolve_space

    return dataclasses.replace(tuning, space=resolve_space(tuning, model, training))


def _resolve_base_model(transfer: TransferSpec) -> TransferSpec:
    if not transfer.base_model:
        raise ConfigError("model.transfer.base_model: name a .h5/.keras file or a pushed model directory")
    return dataclasses.replace(transfer, base_model=base_model_path(transfer.base_model))


def _csv_labels(config: RunConfig, local_data: str | None) -> list[str] | None:
    """The label cells after the CSV checks; None for data this machine cannot read (a compiled
    pipeline's gs:// or s3:// data is checked where it runs)."""
    if local_data is None:
        return None
    data = config.data
    from components.example_gen.csv_input import check_csv, check_rows, check_split_key

    split_key = [data.split_key] if data.split_key else []
    check_csv(local_data, data.label, data.features + data.exclude + split_key)
    if split_key:
        check_split_key(local_data, data.split_key)
    return check_rows(local_data, data.label, data.task)


def _default_bounds(
    config: RunConfig, trivial: float | None, counts: Counter | None
) -> tuple[EvaluationSpec, bool, bool]:
    """The gate's bounds, those the recipe leaves unset computed from the data (`trivial`: the
    loss of a model that ignores the features; None, data not read here); and which were."""
    evaluation = config.evaluation
    computed_bound = evaluation.max_loss is None
    if computed_bound:
        if trivial is None:
            raise ConfigError(
                f"evaluation.max_loss: the default bound is computed from the data, and {config.data.path} "
                f"cannot be read here; set --set evaluation.max_loss=VALUE"
            )
        evaluation = dataclasses.replace(evaluation, max_loss=trivial)
    computed_accuracy = evaluation.min_accuracy is None and counts is not None and config.data.task != "regression"
    if computed_accuracy:
        evaluation = dataclasses.replace(evaluation, min_accuracy=default_min_accuracy(counts))
    return evaluation, computed_bound, computed_accuracy


def _eval_rows(config: RunConfig, local_data: str | None, rows: int | None) -> int | None:
    """About how many rows the gate will judge: the eval split's share of the rows, or a stored
    eval split's own rows (CSV); None where that cannot be known here (stored image splits, or
    data this machine cannot read)."""
    if rows is None or any(split.name == EVAL_SPLIT for split in config.data.splits):
        return None
    if not config.data.is_image:
        from components.example_gen.csv_input import stored_eval_rows

        stored = stored_eval_rows(local_data)
        if stored is not None:
            return stored
    return round(rows * config.split.share(EVAL_SPLIT))


def _local_output(recipe: RunConfig, name: str) -> OutputSpec:
    root = recipe.output.pipeline_root or os.path.join(DEFAULT_OUTPUT_DIR, name, "pipeline")
    serving = recipe.output.serving_dir or os.path.join(DEFAULT_OUTPUT_DIR, name, "serving")
    return OutputSpec(pipeline_root=absolute(root, os.getcwd()), serving_dir=absolute(serving, os.getcwd()))


def _kubeflow_output(recipe: RunConfig) -> OutputSpec:
    """Pods share artifacts and pushed models through object storage the target can use."""
    target = recipe.kubeflow.target
    root = _check_store("output.pipeline_root", recipe.output.pipeline_root, target, "artifacts")
    serving = recipe.output.serving_dir or f"{root.rstrip('/')}/serving"
    _check_store("output.serving_dir", serving, target, "pushed models")
    return OutputSpec(pipeline_root=root, serving_dir=serving)


def _check_store(key: str, uri: str, target: str, what: str) -> str:
    stores = TARGET_STORES[target]
    if uri.startswith(stores):
        return uri
    where = "open-source Kubeflow Pipelines" if target == "kubeflow" else "Vertex AI Pipelines"
    hint = ""
    if uri.startswith("minio://"):
        hint = (
            "; TFX's executors open artifact URIs themselves and know no minio://: use "
            "s3://BUCKET/PATH with S3_ENDPOINT set to the MinIO service (docs/kubeflow.md)"
        )
    elif "://" not in uri:
        hint = "; each component runs in its own pod, so a local path would stay in that pod"
    raise ConfigError(
        f"{key}: on {where} {what} go to {' or '.join(s + '...' for s in stores)}, got {uri or 'nothing'!r}{hint}"
    )


def _pipeline_name(data_path: str) -> str:
    stem = Path(data_path.rstrip("/")).stem or "pipeline"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem)


def _kubeflow_name(name: str) -> str:
    """Kubeflow Pipelines names match [a-z0-9][a-z0-9-]*: `digits_cnn` compiles as `digits-cnn`."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not cleaned:
        raise ConfigError(f"name: {name!r} has no letters or digits for a Kubeflow pipeline name")
    return cleaned[:128]
