"""The one typed config of a run: loaded from a YAML recipe, overridden by flags, validated.

    config = load_config("configs/penguins.yaml", {"training.epochs": 5})

Errors are `ConfigError`s that name the dotted key. Relative paths are resolved against the
working directory; URIs (gs://, s3://) are kept as they are.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from components.settings import (
    CLASSIFICATION_TASKS,
    ConfigError,
    DataSpec,
    EvaluationSpec,
    ModelSpec,
    TrainingSpec,
    from_dict,
)

AUTO_MODEL = "auto"
DEFAULT_OUTPUT_DIR = "output"
# In-memory DirectRunner: on small data a multi-process runner spends more on start-up than work.
DEFAULT_BEAM_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


@dataclass
class SplitSpec:
    """Hash-bucket split of the CSV rows into train and eval (2:1 by default)."""

    train: int = 2
    eval: int = 1

    def validate(self) -> None:
        if self.train <= 0 or self.eval <= 0:
            raise ConfigError(f"split: both buckets must be > 0, got train={self.train} eval={self.eval}")


@dataclass
class OutputSpec:
    """Where TFX keeps artifacts and ML Metadata, and where blessed models are pushed."""

    pipeline_root: str = ""  # default: output/<name>/pipeline
    serving_dir: str = ""  # default: output/<name>/serving


@dataclass
class RunnerSpec:
    kind: Literal["beam", "local"] = "beam"
    beam_args: list[str] = field(default_factory=lambda: list(DEFAULT_BEAM_ARGS))


@dataclass
class RunConfig:
    name: str = ""  # pipeline name; default: the data file's stem
    data: DataSpec = field(default_factory=DataSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    model: ModelSpec = field(default_factory=lambda: ModelSpec(name=AUTO_MODEL))
    training: TrainingSpec = field(default_factory=TrainingSpec)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    runner: RunnerSpec = field(default_factory=RunnerSpec)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output.pipeline_root, "metadata.sqlite")


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
    from components.models import check_model  # imports TensorFlow: only once a config is loaded

    name = config.name or _pipeline_name(config.data.path)
    task = config.data.task
    model_name = config.model.name
    if model_name == AUTO_MODEL:
        model_name = "mlp_classifier" if task in CLASSIFICATION_TASKS else "mlp_regressor"
    try:
        info = check_model(model_name, task)
    except ValueError as error:
        raise ConfigError(f"model.name: {error}") from None
    if info.needs_image:
        raise ConfigError(f"model.name: {model_name} needs image data; CSV data has tabular features only")
    if task == "regression" and config.evaluation.min_accuracy is not None:
        raise ConfigError("evaluation.min_accuracy: applies to classification, but data.task is regression")
    root = config.output.pipeline_root or os.path.join(DEFAULT_OUTPUT_DIR, name, "pipeline")
    serving = config.output.serving_dir or os.path.join(DEFAULT_OUTPUT_DIR, name, "serving")
    return dataclasses.replace(
        config,
        name=name,
        data=dataclasses.replace(config.data, path=_absolute(config.data.path)),
        model=dataclasses.replace(config.model, name=model_name),
        output=OutputSpec(pipeline_root=_absolute(root), serving_dir=_absolute(serving)),
    )


def _pipeline_name(data_path: str) -> str:
    stem = Path(data_path.rstrip("/")).stem or "pipeline"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem)


def _absolute(path: str) -> str:
    return path if "://" in path else os.path.abspath(path)
