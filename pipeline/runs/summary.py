"""The run summary: one typed record per run, and the files it lives in.

`RunSummary` is what a run leaves in `<pipeline_root>/runs/<run id>/summary.json` (and
`run --summary-json FILE`): this module is the one place that lists its keys. Sub-records another
module writes keep that module's format: each gated metric is components/evaluator/gate.py's
record, `tuning` is components/tuner/executor.py's trials.json, `training.model` and
`training.linear` are components/trainer/run.py's and linear_weights.py's files.

Nothing here imports TensorFlow or TFX: `runs` and `report` read summaries in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from components.settings import METADATA_FILE, ConfigError, InputError

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"  # beside summary.json (runs/report.py writes it)
RUNS_DIR = "runs"  # <pipeline_root>/runs/<run id>/: summary.json and report.html


@dataclass
class GateResult:
    """summary.json's `metrics`: each metric of the task by name (gate.py's record: metric,
    value, baseline, lower_bound, upper_bound, passed, comparison...), beside the eval split's
    name and rows, whether that is too few, the interval's confidence and resamples, and what
    refused the model."""

    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: str | None = None
    example_count: int | None = None
    too_small: bool = False
    confidence: float | None = None
    resamples: int | None = None
    refused_by: list[str] = field(default_factory=list)

    def value(self, name: str) -> float | None:
        return (self.metrics.get(name) or {}).get("value")

    def values(self) -> dict[str, float]:
        """Each metric's value, where it has one: what `runs` lists."""
        return {name: metric["value"] for name, metric in self.metrics.items() if metric.get("value") is not None}

    def to_json(self) -> dict[str, Any]:
        verdict = dataclasses.asdict(self)
        return {**verdict.pop("metrics"), **verdict}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> GateResult:
        metrics = {name: value for name, value in raw.items() if isinstance(value, dict)}
        return cls(metrics=metrics, **_known(cls, raw, skip=("metrics",)))


@dataclass
class TrainingRecord:
    """What the Trainer's history.json (components/trainer/run.py) says of the fit."""

    epochs_run: int
    kept_epoch: int  # 1-based, counted from the first epoch this fit ran (`first_epoch`)
    stopped_early: bool
    kept_epoch_metrics: dict[str, float] = field(default_factory=dict)
    first_epoch: int = 1  # > 1: the Trainer resumed from its backup
    early_stopping_split: str | None = None
    model: dict[str, Any] | None = None  # model.json: name, parameters, layers, input and output widths
    linear: dict[str, Any] | None = None  # linear.json: the linear unit's weights, in CSV units
    strategy: dict[str, Any] | None = None
    global_batch_size: int | None = None
    input: dict[str, Any] | None = None  # how the Trainer read its data (trainer/data.py)
    fit_seconds: float | None = None
    class_names: list[str] | None = None
    tuned_settings: dict[str, Any] | None = None
    history_file: str | None = None
    tensorboard_dir: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TrainingRecord | None:
        return cls(**_known(cls, raw)) if raw else None


@dataclass
class ImagesRecord:
    """Images ExampleGen read, and the files it skipped with why."""

    read: int | None
    skipped: int = 0
    skipped_files: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    skipped_list: str | None = None  # where all of them are listed

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ImagesRecord | None:
        return cls(**_known(cls, raw)) if raw else None


@dataclass
class Artifacts:
    """Each output artifact's URI (None: its component did not run)."""

    examples: str | None = None
    statistics: str | None = None
    transform_graph: str | None = None
    transformed_examples: str | None = None
    model: str | None = None
    evaluation: str | None = None
    anomalies: str | None = None
    schema: str | None = None  # the schema.pbtxt file itself: what `data.schema` takes


@dataclass
class ComponentRecord:
    state: str
    seconds: float
    cpu_seconds: float | None = None  # where the run measured them (orchestration/progress.py)


@dataclass
class RunSummary:
    """A run's record. Its fields are summary.json's keys, in this order; the last three say where
    the summary is and how long the run took, and are not written into summary.json."""

    pipeline: str
    run_id: str
    task: str
    model: str
    data: str
    classes: list[str] | None = None
    blessed: bool = False
    baseline_model: str | None = None  # the model in production it was compared with; None: none yet
    pushed_model_dir: str | None = None  # None: not pushed
    metrics: GateResult = field(default_factory=GateResult)
    anomalies: dict[str, list[str]] = field(default_factory=dict)  # per split
    images: ImagesRecord | None = None
    image_samples: str | None = None  # the Evaluator's sample predictions (image data)
    training: TrainingRecord | None = None
    tuning: dict[str, Any] | None = None  # trials.json and its path; None: tuning was off
    settings: dict[str, Any] = field(default_factory=dict)  # model and training as trained, and which were tuned
    artifacts: Artifacts = field(default_factory=Artifacts)
    beam_args: list[str] = field(default_factory=list)
    components: dict[str, ComponentRecord] = field(default_factory=dict)
    summary_file: str | None = None
    report_file: str | None = None
    wall_seconds: float | None = None

    def to_json(self, where: bool = True) -> dict[str, Any]:
        """summary.json's content; with `where`, also summary_file, report_file and wall_seconds."""
        record = dataclasses.asdict(self)
        record["metrics"] = self.metrics.to_json() if self.metrics.metrics else {}
        record["training"] = record["training"] or {}
        if not where:
            for key in _WHERE:
                record.pop(key)
        return record

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RunSummary:
        known = _known(cls, raw)
        known.update(
            metrics=GateResult.from_json(raw.get("metrics") or {}),
            images=ImagesRecord.from_json(raw.get("images")),
            training=TrainingRecord.from_json(raw.get("training") or {}),
            artifacts=Artifacts(**_known(Artifacts, raw.get("artifacts") or {})),
            components={
                node: ComponentRecord(**_known(ComponentRecord, record))
                for node, record in (raw.get("components") or {}).items()
            },
        )
        return cls(**known)


_WHERE = ("summary_file", "report_file", "wall_seconds")


def _known(cls: type, raw: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keys of `raw` that are fields of `cls` (a summary written by an older version lacks
    some, and may have others)."""
    names = {f.name for f in dataclasses.fields(cls)} - set(skip)
    return {key: value for key, value in raw.items() if key in names}


def write_summary(summary: RunSummary, path: str) -> None:
    """summary.json (without where it is), and the summary's `summary_file` set to `path`."""
    write_json(summary.to_json(where=False), path)
    summary.summary_file = path


def read_summary(path: str) -> RunSummary:
    try:
        with open(path, encoding="utf-8") as f:
            summary = RunSummary.from_json(json.load(f))
    except (OSError, ValueError, TypeError) as error:
        raise InputError(f"{path}: not a readable run summary ({error})") from None
    summary.summary_file = path
    report = os.path.join(os.path.dirname(path), REPORT_FILE)
    summary.report_file = report if os.path.isfile(report) else None
    return summary


def write_json(data: dict[str, Any], path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)


def pipeline_roots(given: str | None, recipe_root: str | None, output_dir: str) -> list[str]:
    """The given pipeline root, else the recipe's, else every pipeline root under `output_dir`."""
    if given:
        roots = [given]
    elif recipe_root:
        roots = [recipe_root]
    else:
        roots = sorted(os.path.dirname(path) for path in glob.glob(os.path.join(output_dir, "*", "*", METADATA_FILE)))
        if not roots:
            raise ConfigError(f"no runs under ./{output_dir}; give --config or --pipeline-root")
    missing = [root for root in roots if not os.path.exists(os.path.join(root, METADATA_FILE))]
    if missing:
        raise ConfigError(f"--pipeline-root: {missing[0]} holds no ML Metadata ({METADATA_FILE}); has it run?")
    return roots


def find_summary(run: str | None, roots: Callable[[], list[str]]) -> str:
    """The summary.json that `run` names (a file, a run dir or a run id), or the newest one under
    the pipeline roots."""
    if run and os.path.isfile(run):
        return run
    if run and os.path.isdir(run):
        path = os.path.join(run, SUMMARY_FILE)
        if not os.path.isfile(path):
            raise ConfigError(f"RUN: {run} holds no {SUMMARY_FILE}")
        return path
    runs = [path for root in roots() for path in glob.glob(os.path.join(root, RUNS_DIR, "*", SUMMARY_FILE))]
    if run:
        runs = [path for path in runs if os.path.basename(os.path.dirname(path)) == run]
        if not runs:
            raise ConfigError(f"RUN: no run {run} with a {SUMMARY_FILE} (see python -m pipeline runs)")
    if not runs:
        raise ConfigError("no run with a summary; run the pipeline first, or give --config to read ML Metadata")
    return max(runs, key=lambda path: os.path.basename(os.path.dirname(path)))
