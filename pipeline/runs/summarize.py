"""The run summary, read back from ML Metadata and the run's artifacts after a run.

MLMD is the record of what ran: each node's execution (state, start and end time) and its
output artifacts (the Evaluator's blessing and metrics, the Pusher's destination, the
Trainer's history). Reading them there, rather than from in-process state, makes the summary
the same for every runner.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import ml_metadata as mlmd
from tfx.dsl.io import fileio

from components.evaluator.anomalies import read_anomalies
from components.evaluator.production import GATE_FILE
from components.evaluator.samples import SAMPLES_FILE
from components.example_gen.image_example_gen import BAD_IMAGE_COUNT, BAD_IMAGES, BAD_IMAGES_DIR, IMAGE_COUNT
from components.settings import RunConfig
from components.trainer.hyperparameters import apply_values
from components.trainer.linear_weights import LINEAR_FILE
from components.trainer.run import HISTORY_FILE, MODEL_FILE
from components.tuner.executor import TRIALS_FILE
from pipeline.runs.metadata import NodeRun, connection, gate_outcome, latest_run
from pipeline.runs.metadata import uri as _uri
from pipeline.runs.summary import (
    RUNS_DIR,
    SUMMARY_FILE,
    Artifacts,
    ComponentRecord,
    GateResult,
    ImagesRecord,
    RunSummary,
    TrainingRecord,
    write_summary,
)


def summarize(config: RunConfig, cpu_seconds: dict[str, float] | None = None) -> RunSummary:
    """Summary of the latest run of `config`'s pipeline, also written as JSON into the run's output.

    `cpu_seconds` per component, where the run measured them (orchestration/progress.py), go beside
    each component's seconds."""
    store = mlmd.MetadataStore(connection(config.metadata_path))
    run_id, nodes = latest_run(store, config.name)
    return summarize_run(config, run_id, nodes, os.path.join(config.output.pipeline_root, RUNS_DIR), cpu_seconds)


def summarize_run(
    config: RunConfig,
    run_id: str,
    nodes: dict[str, NodeRun],
    runs_dir: str,
    cpu_seconds: dict[str, float] | None = None,
) -> RunSummary:
    """The summary of one run from its nodes' executions and outputs, written as
    `<runs_dir>/<run id>/summary.json` (a local dir: the report goes beside it)."""
    evaluator = nodes.get("Evaluator")
    pusher = nodes.get("Pusher")
    example_gen = nodes.get("ImageExampleGen" if config.data.is_image else "CsvExampleGen")
    training = training_record(nodes.get("Trainer"))
    summary = RunSummary(
        pipeline=config.name,
        run_id=run_id,
        task=config.data.task,
        model=config.model.name,
        data=config.data.path,
        classes=config.data.classes or (training.class_names if training else None),
        **gate_outcome(evaluator, pusher),
        metrics=gate_result(evaluator.output_uri("evaluation")) if evaluator else GateResult(),
        anomalies=read_anomalies(_uri(nodes.get("ExampleValidator"), "anomalies")),
        images=image_record(example_gen) if config.data.is_image else None,
        image_samples=_existing(_uri(evaluator, "evaluation"), SAMPLES_FILE),
        training=training,
        tuning=tuning_record(nodes.get("Tuner")),
        # What the Trainer trained with (the recipe's, with the Tuner's values), for the report.
        settings=trained_settings(config, training.tuned_settings if training else None),
        artifacts=Artifacts(
            examples=_uri(example_gen, "examples"),
            statistics=_uri(nodes.get("StatisticsGen"), "statistics"),
            transform_graph=_uri(nodes.get("Transform"), "transform_graph"),
            transformed_examples=_uri(nodes.get("Transform"), "transformed_examples"),
            model=_uri(nodes.get("Trainer"), "model"),
            evaluation=_uri(evaluator, "evaluation"),
            anomalies=_uri(nodes.get("ExampleValidator"), "anomalies"),
            schema=_schema_file(nodes.get("ImportSchemaGen") or nodes.get("SchemaGen")),
        ),
        beam_args=list(config.runner.beam_args),  # as the runner gave them (config/beam_mode.py's choice)
        components={
            node_id: ComponentRecord(node.state, node.seconds, (cpu_seconds or {}).get(node_id))
            for node_id, node in nodes.items()
        },
    )
    write_summary(summary, os.path.join(runs_dir, run_id, SUMMARY_FILE))
    return summary


def trained_settings(config: RunConfig, tuned: dict[str, Any] | None) -> dict[str, Any]:
    """The model and training settings the Trainer used, and which of them the Tuner chose."""
    model, training = apply_values(config.model, config.training, tuned) if tuned else (config.model, config.training)
    return {"model": dataclasses.asdict(model), "training": dataclasses.asdict(training), "tuned": sorted(tuned or {})}


def gate_result(evaluation_uri: str | None) -> GateResult:
    """Each metric of the task as the gate judged it on the eval split (components/evaluator/
    gate.py's record): its value, the model in production's, the bounds, the difference with its
    paired interval, whether it passed and why not; then the split, its rows and the verdict."""
    path = os.path.join(evaluation_uri, GATE_FILE) if evaluation_uri else None
    if not path or not fileio.exists(path):
        return GateResult()
    record = _read_json(path)
    return GateResult(
        metrics=record["metrics"],
        split=record["split"],
        example_count=record["rows"],
        too_small=record["too_small"],
        confidence=record["confidence"],
        resamples=record["resamples"],
        refused_by=record["refused_by"],
    )


def _existing(directory: str | None, name: str) -> str | None:
    path = os.path.join(directory, name) if directory else None
    return path if path and fileio.exists(path) else None


def training_record(trainer: NodeRun | None) -> TrainingRecord | None:
    """Epochs run, the epoch whose weights were kept, and its validation metrics."""
    run_dir = trainer.output_uri("model_run") if trainer else None
    path = os.path.join(run_dir, HISTORY_FILE) if run_dir else None
    if not path or not fileio.exists(path):
        return None
    record = _read_json(path)
    first_epoch = record.get("first_epoch", 1)  # > 1: the Trainer resumed from its backup
    kept = record["kept_epoch"] - first_epoch
    linear_path = os.path.join(run_dir, LINEAR_FILE)
    model_path = os.path.join(run_dir, MODEL_FILE)
    return TrainingRecord(
        model=_read_json(model_path) if fileio.exists(model_path) else None,
        linear=_read_json(linear_path) if fileio.exists(linear_path) else None,
        epochs_run=record["epochs_run"],
        kept_epoch=record["kept_epoch"],
        first_epoch=first_epoch,
        stopped_early=record["stopped_early"],
        strategy=record.get("strategy"),
        global_batch_size=record.get("global_batch_size"),
        input=record.get("input"),
        fit_seconds=record.get("fit_seconds"),
        class_names=record.get("class_names"),
        tuned_settings=record.get("tuned_settings"),
        kept_epoch_metrics={name: values[kept] for name, values in record["history"].items()},
        early_stopping_split=record.get("early_stopping_split"),
        history_file=path,
        tensorboard_dir=run_dir,
    )


def tuning_record(tuner: NodeRun | None) -> dict[str, Any] | None:
    """The Tuner's search (components/tuner/executor.py's trials.json); None when tuning was off."""
    results_dir = _uri(tuner, "tuner_results")
    path = os.path.join(results_dir, TRIALS_FILE) if results_dir else None
    if not path or not fileio.exists(path):
        return None
    return {**_read_json(path), "trials_file": path}


def image_record(example_gen: NodeRun | None) -> ImagesRecord | None:
    """Images read and the files ExampleGen skipped (each with its reason), from its artifact."""
    if example_gen is None:
        return None
    listed = example_gen.output_property("examples", BAD_IMAGES)
    return ImagesRecord(
        read=example_gen.output_property("examples", IMAGE_COUNT),
        skipped=example_gen.output_property("examples", BAD_IMAGE_COUNT) or 0,
        skipped_files=json.loads(listed) if listed else [],
        skipped_list=os.path.join(example_gen.output_uri("examples") or "", BAD_IMAGES_DIR),
    )


def _read_json(path: str) -> dict[str, Any]:
    with fileio.open(path, "r") as f:
        return json.load(f)


def _schema_file(node: NodeRun | None) -> str | None:
    """The run's schema.pbtxt: what `data.schema` takes to freeze it for later runs."""
    uri = _uri(node, "schema")
    return os.path.join(uri, "schema.pbtxt") if uri else None
