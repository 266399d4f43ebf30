"""A run's records in ML Metadata, read without TensorFlow: runs, nodes, executions, output
artifacts (the files a run leaves under `<pipeline_root>/runs/<run id>/` are runs/summary.py's).

MLMD is the record of what ran: each node's execution (state, start and end time) and its
output artifacts (the Evaluator's blessing, the Pusher's destination...). `pipeline runs` lists
runs from here alone, so it answers in a fraction of a second; the run summary
(pipeline/runs/summarize.py) reads the artifacts' contents on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from components.features import BASELINE_VERSION
from components.settings import METADATA_FILE, InputError
from pipeline.runs.summary import RUNS_DIR, SUMMARY_FILE, read_summary

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


def list_runs(pipeline_root: str) -> list[dict[str, Any]]:
    """Every recorded run of every pipeline in the root's store, oldest first: when, state, gated
    metric values, blessed, and the pushed version."""
    metadata_path = os.path.join(pipeline_root, METADATA_FILE)
    store = mlmd.MetadataStore(connection(metadata_path))
    records = []
    for pipeline in store.get_contexts_by_type("pipeline"):
        for run in pipeline_runs(store, pipeline.name):
            nodes = run_nodes(store, run, pipeline.name)
            evaluator = nodes.get("Evaluator")
            run_dir = os.path.join(pipeline_root, RUNS_DIR, run.name)
            records.append(
                {
                    "pipeline": pipeline.name,
                    "run_id": run.name,
                    "started": run.create_time_since_epoch / 1000.0,
                    "state": _run_state(nodes),
                    "seconds": _run_seconds(nodes),
                    **_recorded(run_dir),
                    **gate_outcome(evaluator, nodes.get("Pusher")),
                }
            )
    return sorted(records, key=lambda record: record["started"])


def _run_seconds(nodes: dict[str, NodeRun]) -> float | None:
    """From the first node's start to the last node's end, as ML Metadata recorded them."""
    if not nodes:
        return None
    executions = [node.execution for node in nodes.values()]
    first = min(execution.create_time_since_epoch for execution in executions)
    last = max(execution.last_update_time_since_epoch for execution in executions)
    return round((last - first) / 1000.0, 2)


def gate_outcome(evaluator: NodeRun | None, pusher: NodeRun | None) -> dict[str, Any]:
    """Whether the Evaluator blessed the model, the model in production it was compared with
    (None: none yet), and where the Pusher put it (None: not pushed)."""
    pushed = bool(pusher and pusher.output_property("pushed_model", "pushed"))
    return {
        "blessed": bool(evaluator and evaluator.output_property("blessing", "blessed")),
        "baseline_model": (evaluator.output_property("blessing", BASELINE_VERSION) or None) if evaluator else None,
        "pushed_model_dir": pusher.output_property("pushed_model", "pushed_destination") if pushed else None,
    }


def _run_state(nodes: dict[str, NodeRun]) -> str:
    states = {node.state for node in nodes.values()}
    if "FAILED" in states:
        return "failed"
    if states & {"NEW", "RUNNING"} or "Pusher" not in nodes:
        return "incomplete"
    return "complete"


def connection(metadata_path: str) -> metadata_store_pb2.ConnectionConfig:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def _node_id(store: mlmd.MetadataStore, execution_id: int, pipeline_name: str) -> str | None:
    prefix = pipeline_name + "."
    for context in store.get_contexts_by_execution(execution_id):
        if context.name.startswith(prefix) and store.get_context_types_by_id([context.type_id])[0].name == "node":
            return context.name[len(prefix) :]
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


def _recorded(run_dir: str) -> dict[str, Any]:
    """From the summary the run wrote (nothing for a run that did not finish): the candidate's
    gated metric values by name, its data and model, and its report if there is one."""
    path = os.path.join(run_dir, SUMMARY_FILE)
    try:
        summary = read_summary(path)
    except InputError:
        return {"metrics": {}, "data": None, "model": None, "report_file": None}
    return {
        "metrics": summary.metrics.values(),
        "data": summary.data,
        "model": summary.model,
        "report_file": summary.report_file,
    }


def uri(node: NodeRun | None, key: str) -> str | None:
    return node.output_uri(key) if node else None
