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

from components.features import IMAGE_LABEL
from components.settings import (
    ConfigError,
    DataSpec,
    EvaluationSpec,
    ModelSpec,
    TrainingSpec,
    TransferSpec,
    from_dict,
)

AUTO_MODEL = "auto"
DEFAULT_OUTPUT_DIR = "output"
METADATA_FILE = "metadata.sqlite"  # ML Metadata's SQLite store, in the pipeline root
# None: Beam's defaults, the in-memory DirectRunner with one worker (on small data a multi-process
# runner spends more on start-up than on work). Empty on purpose: given any Beam args, each TFX
# Beam component first builds an sdist of TFX itself for remote workers (about 2.5 s apiece,
# four components a run), which a local DirectRunner never reads.
DEFAULT_BEAM_ARGS: list[str] = []
KUBEFLOW_BEAM_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=0"]


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
    """`beam`/`local` run here; `kubeflow` is set by `compile` (the pipeline runs on a cluster).

    `beam_args` reach every Beam-based component (ExampleGen, StatisticsGen, Transform,
    Evaluator) in local runs; `kubeflow.beam_args` in Kubeflow pods. docs/kubeflow.md has
    DirectRunner multi-processing and Dataflow/Flink/Spark examples."""

    kind: Literal["beam", "local", "kubeflow"] = "beam"
    beam_args: list[str] = field(default_factory=lambda: list(DEFAULT_BEAM_ARGS))


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(K|M|G|T|Ki|Mi|Gi|Ti)$")
_TO_GB = {
    "K": 1e-6,
    "M": 1e-3,
    "G": 1.0,
    "T": 1e3,
    "Ki": 1024 / 1e9,
    "Mi": 1024**2 / 1e9,
    "Gi": 1024**3 / 1e9,
    "Ti": 1024**4 / 1e9,
}


@dataclass
class ResourceRequest:
    """What one component's pod asks Kubernetes for on Kubeflow.

    `accelerator_type` is the Kubernetes resource on open-source Kubeflow Pipelines
    (`nvidia.com/gpu`) or the machine accelerator on Vertex AI Pipelines (`NVIDIA_TESLA_T4`,
    `NVIDIA_TESLA_A100`, `TPU_V3`...)."""

    cpu: float = 0.0  # cores requested (0: the cluster's default)
    memory: str = ""  # e.g. "16G" or "15Gi" ("": the cluster's default)
    accelerator_type: str = ""
    accelerator_count: int = 0

    def validate(self, key: str) -> None:
        if self.cpu < 0:
            raise ConfigError(f"{key}.cpu: must be >= 0, got {self.cpu}")
        if self.memory and not _QUANTITY.match(self.memory):
            raise ConfigError(f"{key}.memory: expected a quantity such as 16G or 15Gi, got {self.memory!r}")
        if self.accelerator_count < 0:
            raise ConfigError(f"{key}.accelerator_count: must be >= 0, got {self.accelerator_count}")
        if bool(self.accelerator_type) != bool(self.accelerator_count):
            raise ConfigError(
                f"{key}.accelerator_type and accelerator_count: set both (e.g. nvidia.com/gpu and 1) or neither"
            )

    @property
    def memory_gb(self) -> float:
        number, unit = _QUANTITY.match(self.memory).groups()
        return float(number) * _TO_GB[unit]


# Where a compiled pipeline runs: open-source Kubeflow Pipelines v2, or Vertex AI Pipelines.
TARGETS = ("kubeflow", "vertex")
# `accelerator_type: gpu` is each target's usual GPU: a Kubernetes resource on open-source KFP,
# a machine accelerator on Vertex AI.
GPU = "gpu"
TARGET_GPU = {"kubeflow": "nvidia.com/gpu", "vertex": "NVIDIA_TESLA_T4"}
# The artifact stores each target's pods can use. On open-source KFP the launcher maps only
# gs://, s3:// and minio:// to the pod's disk (LocalPathForURI in backend/src/v2/component/
# launcher_v2.go), and TFX's executors open the `uri` itself with tf.io.gfile, which knows gs://
# and (tensorflow-io) s3:// but no minio://: MinIO is reached as s3:// with S3_ENDPOINT.
TARGET_STORES = {"kubeflow": ("gs://", "s3://"), "vertex": ("gs://",)}


@dataclass
class KubeflowSpec:
    """How `compile` builds the Kubeflow Pipelines spec, for `target` kubeflow (open-source KFP
    v2) or vertex (Vertex AI Pipelines).

    Only the Trainer asks for an accelerator by default; the Evaluator gets one when its
    section sets it. `image_workdir` is where the image holds this project: relative paths in
    a recipe (the shipped data) are resolved there, not on the machine that compiles."""

    target: Literal["kubeflow", "vertex"] = "kubeflow"
    image: str = ""
    image_workdir: str = "/pipeline"
    # Beam in each pod: DirectRunner over all the pod's cores (see docs/kubeflow.md for Dataflow).
    beam_args: list[str] = field(default_factory=lambda: list(KUBEFLOW_BEAM_ARGS))
    trainer: ResourceRequest = field(
        default_factory=lambda: ResourceRequest(cpu=4, memory="16G", accelerator_type=GPU, accelerator_count=1)
    )
    evaluator: ResourceRequest = field(default_factory=ResourceRequest)

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"kubeflow.target: one of {', '.join(TARGETS)}, got {self.target!r}")
        for key in ("trainer", "evaluator"):  # each request validated itself when loaded
            request = getattr(self, key)
            _check_accelerator_name(f"kubeflow.{key}.accelerator_type", request.accelerator_type, self.target)
        if not self.image_workdir.startswith("/"):
            raise ConfigError(f"kubeflow.image_workdir: must be an absolute path, got {self.image_workdir!r}")

    def for_target(self) -> "KubeflowSpec":
        """`gpu` replaced by the target's GPU name."""

        def named(request: ResourceRequest) -> ResourceRequest:
            if request.accelerator_type != GPU:
                return request
            return dataclasses.replace(request, accelerator_type=TARGET_GPU[self.target])

        return dataclasses.replace(self, trainer=named(self.trainer), evaluator=named(self.evaluator))


def _check_accelerator_name(key: str, name: str, target: str) -> None:
    """Open-source KFP asks Kubernetes for a resource (`nvidia.com/gpu`, `google.com/tpu`);
    Vertex AI for a machine accelerator (`NVIDIA_TESLA_T4`, `TPU_V3`). The other kind of name
    compiles but never schedules."""
    if not name or name == GPU:
        return
    if target == "kubeflow" and "/" not in name:
        raise ConfigError(
            f"{key}: open-source Kubeflow asks Kubernetes for a resource such as "
            f"nvidia.com/gpu or google.com/tpu, got {name!r} (a Vertex AI name: use --target vertex)"
        )
    if target == "vertex" and "/" in name:
        raise ConfigError(
            f"{key}: Vertex AI takes a machine accelerator such as NVIDIA_TESLA_T4 or TPU_V3, "
            f"got the Kubernetes resource {name!r}"
        )


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
    kubeflow: KubeflowSpec = field(default_factory=KubeflowSpec)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output.pipeline_root, METADATA_FILE)


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
    base = config.kubeflow.image_workdir if config.runner.kind == "kubeflow" else os.getcwd()
    data = _resolve_data(config.data, base)
    if info.needs_image and not data.is_image:
        raise ConfigError(f"model.name: {model_name} needs image data; CSV data has tabular features only")
    if data.is_image and task == "regression":
        raise ConfigError("data.task: image data is classified by its class folders or labels, not regressed")
    if task == "regression" and config.evaluation.min_accuracy is not None:
        raise ConfigError("evaluation.min_accuracy: applies to classification, but data.task is regression")
    output = _kubeflow_output(config, name) if config.runner.kind == "kubeflow" else _local_output(config, name)
    kubeflow = config.kubeflow.for_target()
    model = dataclasses.replace(config.model, name=model_name)
    if model_name == "transfer" and config.runner.kind != "kubeflow":
        model = dataclasses.replace(model, transfer=_resolve_base_model(model.transfer))
    return dataclasses.replace(config, name=name, data=data, model=model, output=output, kubeflow=kubeflow)


def _resolve_base_model(transfer: TransferSpec) -> TransferSpec:
    """A pushed serving dir becomes its newest model version, so the run records which model
    its base came from (and a newer push re-runs the Trainer instead of hitting the cache)."""
    from components.pusher.predict import model_version_dir

    if not transfer.base_model:
        raise ConfigError("model.transfer.base_model: name a .h5/.keras file or a pushed model directory")
    path = _absolute(transfer.base_model, os.getcwd())
    if os.path.isdir(path):  # a missing base is reported by `run` (a recipe may load before its base exists)
        path = model_version_dir(path)
    return dataclasses.replace(transfer, base_model=path)


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


def _resolve_data(data: DataSpec, base: str) -> DataSpec:
    """The data's format and, for image data, its classes and stored splits.

    The data is read where this runs: a relative path (the shipped data) in this checkout,
    even when `base` is the Kubeflow image's work dir, where the same files live."""
    from components.example_gen.image_data import describe_image_data, detect_format

    readable = _absolute(data.path, os.getcwd())
    data_format = detect_format(readable) if data.format == "auto" else data.format
    resolved = dataclasses.replace(
        data,
        path=_absolute(data.path, base),
        format=data_format,
        schema=_absolute(data.schema, base) if data.schema else "",
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
