"""The run summary, read back from ML Metadata and the run's artifacts after a run.

MLMD is the record of what ran: each node's execution (state, start and end time) and its
output artifacts (the Evaluator's blessing and metrics, the Pusher's destination, the
Trainer's history). Reading them there, rather than from in-process state, makes the summary
the same for every runner.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.io import fileio

from components.anomalies import read_anomalies
from components.evaluation import failed_metric_names, gate_bounds, gated_metrics, overall_metrics
from components.evaluator import BASELINE_VERSION_KEY
from components.image_example_gen import BAD_IMAGE_COUNT, BAD_IMAGES, BAD_IMAGES_DIR, IMAGE_COUNT
from components.linear_weights import LINEAR_FILE
from components.settings import TASKS
from components.trainer import HISTORY_FILE, MODEL_FILE
from pipeline.config import RunConfig

SUMMARY_FILE = "summary.json"
RUNS_DIR = "runs"  # <pipeline_root>/runs/<run id>/: summary.json and report.html
_STATES = {value: name for name, value in metadata_store_pb2.Execution.State.items()}


@dataclass
class NodeRun:
    execution: metadata_store_pb2.Execution
    outputs: dict[str, list[metadata_store_pb2.Artifact]]

    @property
    def state(self) -> str:
        return _STATES.get(self.execution.last_known_state, "UNKNOWN")

    @property
    def seconds(self) -> float:
        ms = self.execution.last_update_time_since_epoch - self.execution.create_time_since_epoch
        return round(ms / 1000.0, 2)

    def output_uri(self, key: str) -> str | None:
        artifacts = self.outputs.get(key) or []
        return artifacts[0].uri if artifacts else None

    def output_property(self, key: str, name: str) -> Any:
        artifacts = self.outputs.get(key) or []
        if not artifacts or name not in artifacts[0].custom_properties:
            return None
        value = artifacts[0].custom_properties[name]
        return getattr(value, value.WhichOneof("value"))


def summarize(config: RunConfig) -> dict[str, Any]:
    """Summary of the latest run of `config`'s pipeline, also written as JSON into the run's output."""
    store = mlmd.MetadataStore(_connection(config.metadata_path))
    run_id, nodes = latest_run(store, config.name)
    return summarize_run(config, run_id, nodes, os.path.join(config.output.pipeline_root, RUNS_DIR))


def summarize_run(config: RunConfig, run_id: str, nodes: dict[str, NodeRun], runs_dir: str) -> dict[str, Any]:
    """The summary of one run from its nodes' executions and outputs, written as
    `<runs_dir>/<run id>/summary.json` (a local dir: the report goes beside it)."""
    evaluator = nodes.get("Evaluator")
    pusher = nodes.get("Pusher")
    example_gen = nodes.get("ImageExampleGen" if config.data.is_image else "CsvExampleGen")
    summary = {
        "pipeline": config.name,
        "run_id": run_id,
        "task": config.data.task,
        "model": config.model.name,
        "data": config.data.path,
        "classes": config.data.classes or None,
        **gate_outcome(evaluator, pusher),
        "metrics": gate_metrics(evaluator.output_uri("evaluation"), config) if evaluator else {},
        "anomalies": read_anomalies(_uri(nodes.get("ExampleValidator"), "anomalies")),
        "images": image_record(example_gen) if config.data.is_image else None,
        "training": training_record(nodes.get("Trainer")),
        "artifacts": {
            "examples": _uri(example_gen, "examples"),
            "statistics": _uri(nodes.get("StatisticsGen"), "statistics"),
            "transform_graph": _uri(nodes.get("Transform"), "transform_graph"),
            "transformed_examples": _uri(nodes.get("Transform"), "transformed_examples"),
            "model": _uri(nodes.get("Trainer"), "model"),
            "evaluation": _uri(evaluator, "evaluation"),
            "anomalies": _uri(nodes.get("ExampleValidator"), "anomalies"),
            "schema": _schema_file(nodes.get("ImportSchemaGen") or nodes.get("SchemaGen")),
        },
        "components": {
            node_id: {"state": node.state, "seconds": node.seconds} for node_id, node in nodes.items()
        },
    }
    path = os.path.join(runs_dir, run_id, SUMMARY_FILE)
    write_json(summary, path)
    summary["summary_file"] = path
    return summary


def latest_run(store: mlmd.MetadataStore, pipeline_name: str) -> tuple[str, dict[str, NodeRun]]:
    """The newest pipeline_run context of the pipeline and its executions by node id."""
    runs = pipeline_runs(store, pipeline_name)
    if not runs:
        raise RuntimeError(f"no run of pipeline {pipeline_name!r} is recorded in ML Metadata")
    return runs[-1].name, run_nodes(store, runs[-1], pipeline_name)


def pipeline_runs(store: mlmd.MetadataStore, pipeline_name: str) -> list[metadata_store_pb2.Context]:
    """The pipeline's pipeline_run contexts, oldest first."""
    runs = [
        context
        for context in store.get_contexts_by_type("pipeline_run")
        if any(parent.name == pipeline_name for parent in store.get_parent_contexts_by_context(context.id))
    ]
    return sorted(runs, key=lambda context: context.create_time_since_epoch)


def run_nodes(store: mlmd.MetadataStore, run: metadata_store_pb2.Context, pipeline_name: str) -> dict[str, NodeRun]:
    nodes: dict[str, NodeRun] = {}
    for execution in sorted(store.get_executions_by_context(run.id), key=lambda e: e.id):
        node_id = _node_id(store, execution.id, pipeline_name)
        if node_id:
            nodes[node_id] = NodeRun(execution, _outputs(store, execution.id))
    return nodes


def list_runs(metadata_path: str) -> list[dict[str, Any]]:
    """Every recorded run of every pipeline in the store, oldest first: when, state, gated metric
    values, blessed, and the pushed version."""
    store = mlmd.MetadataStore(_connection(metadata_path))
    records = []
    for pipeline in store.get_contexts_by_type("pipeline"):
        for run in pipeline_runs(store, pipeline.name):
            nodes = run_nodes(store, run, pipeline.name)
            evaluator = nodes.get("Evaluator")
            records.append({
                "pipeline": pipeline.name,
                "run_id": run.name,
                "started": run.create_time_since_epoch / 1000.0,
                "state": _run_state(nodes),
                "metrics": _candidate_metrics(_uri(evaluator, "evaluation")),
                **gate_outcome(evaluator, nodes.get("Pusher")),
            })
    return sorted(records, key=lambda record: record["started"])


def gate_outcome(evaluator: NodeRun | None, pusher: NodeRun | None) -> dict[str, Any]:
    """Whether the Evaluator blessed the model, the model in production it was compared with
    (None: none yet), and where the Pusher put it (None: not pushed)."""
    pushed = bool(pusher and pusher.output_property("pushed_model", "pushed"))
    return {
        "blessed": bool(evaluator and evaluator.output_property("blessing", "blessed")),
        "baseline_model": (evaluator.output_property("blessing", BASELINE_VERSION_KEY) or None) if evaluator else None,
        "pushed_model_dir": pusher.output_property("pushed_model", "pushed_destination") if pushed else None,
    }


def _run_state(nodes: dict[str, NodeRun]) -> str:
    states = {node.state for node in nodes.values()}
    if "FAILED" in states:
        return "failed"
    if states & {"NEW", "RUNNING"} or "Pusher" not in nodes:
        return "incomplete"
    return "complete"


def _candidate_metrics(evaluation_uri: str | None) -> dict[str, float]:
    """The candidate model's gated metrics by role ("loss", "accuracy")."""
    if not evaluation_uri:
        return {}
    roles = {metric.tfma_name: metric.role for task in TASKS for metric in gated_metrics(task)}
    return {roles[name]: value for (name, is_baseline), value in overall_metrics(evaluation_uri).items()
            if not is_baseline and name in roles}


def gate_metrics(evaluation_uri: str | None, config: RunConfig) -> dict[str, Any]:
    """Each gated metric: its value, the baseline's, the bound and tolerance the Evaluator gated
    with, and whether it passed. (With no baseline TFMA drops the change threshold from what it
    records; the tolerance shown is then the recipe's.)"""
    if not evaluation_uri:
        return {}
    values = overall_metrics(evaluation_uri)
    failed = failed_metric_names(evaluation_uri)
    bounds = gate_bounds(evaluation_uri, config.data.task)
    result = {}
    for metric in gated_metrics(config.data.task):
        gate = bounds.get(metric.role, {})
        result[metric.role] = {
            "metric": metric.tfma_name,
            "value": values.get((metric.tfma_name, False)),
            "baseline": values.get((metric.tfma_name, True)),
            "lower_bound" if metric.higher_is_better else "upper_bound": gate.get("bound"),
            "baseline_tolerance": gate["tolerance"] if gate.get("tolerance") is not None
            else config.evaluation.baseline_tolerance,
            "passed": metric.tfma_name not in failed,
        }
    result["example_count"] = values.get(("example_count", False))
    return result


def training_record(trainer: NodeRun | None) -> dict[str, Any]:
    """Epochs run, the epoch whose weights were kept, and its validation metrics."""
    run_dir = trainer.output_uri("model_run") if trainer else None
    path = os.path.join(run_dir, HISTORY_FILE) if run_dir else None
    if not path or not fileio.exists(path):
        return {}
    record = _read_json(path)
    kept = record["kept_epoch"] - 1
    linear_path = os.path.join(run_dir, LINEAR_FILE)
    model_path = os.path.join(run_dir, MODEL_FILE)
    return {
        "model": _read_json(model_path) if fileio.exists(model_path) else None,
        "linear": _read_json(linear_path) if fileio.exists(linear_path) else None,
        "epochs_run": record["epochs_run"],
        "kept_epoch": record["kept_epoch"],
        "stopped_early": record["stopped_early"],
        "strategy": record.get("strategy"),
        "global_batch_size": record.get("global_batch_size"),
        "fit_seconds": record.get("fit_seconds"),
        "kept_epoch_metrics": {name: values[kept] for name, values in record["history"].items()},
        "history_file": path,
        "tensorboard_dir": run_dir,
    }


def image_record(example_gen: NodeRun | None) -> dict[str, Any] | None:
    """Images read and the files ExampleGen skipped (each with its reason), from its artifact."""
    if example_gen is None:
        return None
    listed = example_gen.output_property("examples", BAD_IMAGES)
    return {
        "read": example_gen.output_property("examples", IMAGE_COUNT),
        "skipped": example_gen.output_property("examples", BAD_IMAGE_COUNT) or 0,
        "skipped_files": json.loads(listed) if listed else [],
        "skipped_list": os.path.join(example_gen.output_uri("examples") or "", BAD_IMAGES_DIR),
    }


def _read_json(path: str) -> dict[str, Any]:
    with fileio.open(path, "r") as f:
        return json.load(f)


def write_json(data: dict[str, Any], path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)


def _schema_file(node: NodeRun | None) -> str | None:
    """The run's schema.pbtxt: what `data.schema` takes to freeze it for later runs."""
    uri = _uri(node, "schema")
    return os.path.join(uri, "schema.pbtxt") if uri else None


def _uri(node: NodeRun | None, key: str) -> str | None:
    return node.output_uri(key) if node else None


def _connection(metadata_path: str) -> metadata_store_pb2.ConnectionConfig:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def _node_id(store: mlmd.MetadataStore, execution_id: int, pipeline_name: str) -> str | None:
    prefix = pipeline_name + "."
    for context in store.get_contexts_by_execution(execution_id):
        if context.name.startswith(prefix) and store.get_context_types_by_id([context.type_id])[0].name == "node":
            return context.name[len(prefix):]
    return None


def _outputs(store: mlmd.MetadataStore, execution_id: int) -> dict[str, list[metadata_store_pb2.Artifact]]:
    output_types = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
    events = [e for e in store.get_events_by_execution_ids([execution_id]) if e.type in output_types]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    outputs: dict[str, list[metadata_store_pb2.Artifact]] = {}
    for event in events:
        key = event.path.steps[0].key if event.path.steps else ""
        outputs.setdefault(key, []).append(artifacts[event.artifact_id])
    return outputs
