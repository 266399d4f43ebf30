"""The loader of a run's config: a YAML recipe, overridden by flags, validated, resolved.

The specs themselves (`RunConfig` and its sections) and their checks are in
components/settings.py; here a recipe becomes one, with its defaults derived from the data.

    config = load_config("configs/penguins.yaml", {"training.epochs": 5})

Errors are `ConfigError`s that name the dotted key. Relative paths are resolved against the
working directory, and a data path found only in this project's checkout (the shipped data)
there, so the shipped recipes run and compile from any directory; URIs (gs://, s3://) are kept
as they are. `run` and `compile` with neither a recipe nor `--data` use `DEFAULT_RECIPE`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import yaml

from components.evaluator.gate import resolve_gates
from components.features import IMAGE_LABEL
from components.settings import (
    AUTO_MODEL,
    CLASSIFICATION_TASKS,
    TARGET_STORES,
    ConfigError,
    DataSpec,
    ModelSpec,
    OutputSpec,
    RunConfig,
    TrainingSpec,
    TransferSpec,
    TuningSpec,
    from_dict,
)

DEFAULT_OUTPUT_DIR = "output"
# This project's checkout: the shipped recipes and data (in the image, kubeflow.image_workdir).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECIPE = PROJECT_ROOT / "configs" / "penguins.yaml"


def recipe_or_default(path: str | os.PathLike | None, overrides: dict[str, Any]) -> str | os.PathLike | None:
    """The recipe a run or compile reads: the one given; the default recipe when neither a recipe
    nor data is named (`make run`, and `compile` as the README shows it); none for `--data` alone
    (a user's own data, with the built-in defaults)."""
    if path is not None or "data.path" in overrides:
        return path
    if not DEFAULT_RECIPE.is_file():
        raise ConfigError(f"no --config or --data given, and the default recipe {DEFAULT_RECIPE} is not here")
    return DEFAULT_RECIPE


def load_config(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Reads the recipe (if any), applies dotted-key overrides, validates and resolves defaults."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_yaml(Path(path))
    for dotted_key, value in (overrides or {}).items():
        _set_dotted(raw, dotted_key, value)
    config = from_dict(RunConfig, raw)
    return _resolve(config)


def parse_assignment(text: str) -> tuple[str, Any]:
    """`training.epochs=5` -> ("training.epochs", 5); the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. training.epochs=5")
    return key.strip(), yaml.safe_load(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    return raw


def _set_dotted(raw: dict[str, Any], dotted_key: str, value: Any) -> None:
    *parents, leaf = dotted_key.split(".")
    node = raw
    for i, part in enumerate(parents):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parents[: i + 1])}: is a value, cannot set {dotted_key}")
    node[leaf] = value


def _resolve(config: RunConfig) -> RunConfig:
    """Fills derived defaults and checks what involves more than one section."""
    from components.trainer.models import check_model, default_model

    name = config.name or _pipeline_name(config.data.path)
    if config.runner.kind == "kubeflow":
        name = _kubeflow_name(name)
    task = config.data.task
    model_name = config.model.name
    if model_name == AUTO_MODEL:
        model_name = default_model(task)
    try:
        info = check_model(model_name, task)
    except ValueError as error:
        raise ConfigError(f"model.name: {error}") from None
    data = _resolve_data(config.data, config.kubeflow.image_workdir if config.runner.kind == "kubeflow" else None)
    if info.needs_image and not data.is_image:
        raise ConfigError(f"model.name: {model_name} needs image data; CSV data has tabular features only")
    if data.is_image and task == "regression":
        raise ConfigError("data.task: image data is classified by its class folders or labels, not regressed")
    resolve_gates(task, config.evaluation)  # the metric names and bounds fit the task
    if data.is_image and data.split_key:
        raise ConfigError("data.split_key: applies to CSV data; image data is split by each file's path")
    output = _kubeflow_output(config, name) if config.runner.kind == "kubeflow" else _local_output(config, name)
    kubeflow = config.kubeflow.for_target()
    model = dataclasses.replace(config.model, name=model_name)
    if model_name == "transfer" and config.runner.kind != "kubeflow":
        model = dataclasses.replace(model, transfer=_resolve_base_model(model.transfer))
    tuning = _resolve_tuning(config.tuning, model, config.training, task)
    return dataclasses.replace(
        config, name=name, data=data, model=model, tuning=tuning, output=output, kubeflow=kubeflow
    )


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


def base_model_path(path: str) -> str:
    """A transfer base as the Trainer loads it: a pushed serving dir becomes its newest model
    version, so a run records which model its base came from (and a newer push re-runs the
    Trainer instead of hitting the cache). `run` and `models --base-model` both read it here."""
    from components.pusher.predict import model_version_dir

    path = _absolute(path, os.getcwd())
    if os.path.isdir(path):  # a missing base is reported by `run` (a recipe may load before its base exists)
        path = model_version_dir(path)
    return path


def check_files(config: RunConfig) -> None:
    """Before a run: the files the config names must exist."""
    if config.data.schema and not os.path.isfile(config.data.schema):
        raise ConfigError(f"data.schema: {config.data.schema} does not exist (a run summary's artifacts.schema)")
    check_base_model(config)


def check_base_model(config: RunConfig) -> None:
    """Before a run: the transfer model's base must exist."""
    base = config.model.transfer.base_model
    if config.model.name == "transfer" and not os.path.exists(base):
        raise ConfigError(
            f"model.transfer.base_model: {base} does not exist (train and push the base model first, "
            f"e.g. with configs/digits_cnn.yaml)"
        )


def _resolve_data(data: DataSpec, image_workdir: str | None) -> DataSpec:
    """The data's format and, for image data, its classes and stored splits.

    The data is read where this runs (`readable_path`), also when the recipe is compiled for
    Kubeflow and its relative paths are resolved in the image's work dir, where the same files live."""
    from components.example_gen.image_data import describe_image_data, detect_format

    readable = readable_path(data.path)
    data_format = detect_format(readable) if data.format == "auto" else data.format
    resolved = dataclasses.replace(
        data,
        path=_absolute(data.path, image_workdir) if image_workdir else readable,
        format=data_format,
        schema=_absolute(data.schema, image_workdir or os.getcwd()) if data.schema else "",
    )
    if not resolved.is_image:
        return resolved
    layout = describe_image_data(readable, data_format, data.classes)
    resolved = dataclasses.replace(
        resolved, label=IMAGE_LABEL, features=[], exclude=[], classes=layout.classes, splits=layout.splits
    )
    _described[resolved.path] = layout
    return resolved


# Image layouts described while resolving a config, for preflight to take once (so the data is
# listed and its labels read once per command, not again for the gate's default bound).
_described: dict[str, Any] = {}


def take_described_layout(data: DataSpec) -> Any | None:
    """The layout `load_config` described for this (resolved) data, once; None after that."""
    return _described.pop(data.path, None)


def readable_path(path: str) -> str:
    """Where this machine reads a recipe's path: against the working directory, else against
    this project's checkout when the path is there (the shipped data, read from any directory)."""
    here = _absolute(path, os.getcwd())
    shipped = _absolute(path, str(PROJECT_ROOT))
    return shipped if not os.path.exists(here) and os.path.exists(shipped) else here


def _local_output(config: RunConfig, name: str) -> OutputSpec:
    root = config.output.pipeline_root or os.path.join(DEFAULT_OUTPUT_DIR, name, "pipeline")
    serving = config.output.serving_dir or os.path.join(DEFAULT_OUTPUT_DIR, name, "serving")
    return OutputSpec(pipeline_root=_absolute(root, os.getcwd()), serving_dir=_absolute(serving, os.getcwd()))


def _kubeflow_output(config: RunConfig, name: str) -> OutputSpec:
    """Pods share artifacts and pushed models through object storage the target can use."""
    target = config.kubeflow.target
    root = _check_store("output.pipeline_root", config.output.pipeline_root, target, "artifacts")
    serving = config.output.serving_dir or f"{root.rstrip('/')}/serving"
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


def _absolute(path: str, base: str) -> str:
    """URIs (gs://, s3://) as they are; a relative path resolved against `base`."""
    return path if "://" in path else os.path.normpath(os.path.join(base, path))
