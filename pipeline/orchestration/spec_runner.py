"""Executes a compiled Kubeflow spec on this machine the way open-source Kubeflow Pipelines runs it.

    python -m pipeline run --spec pipeline.json [--param data_root=...] [--workdir DIR]

What KFP's backend does per task, and what is done here instead:
- The driver (kubeflow/pipelines backend/src/v2/driver/driver.go `provisionOutputs`, resolve.go)
  builds the executor input: parameters from constants and the run's parameters; input artifacts
  as `OutputArtifact.ToRuntimeArtifact()` makes them from ML Metadata (backend/src/v2/metadata/
  client.go): named by their id, metadata = the producer's properties plus `display_name` and
  `store_session_info`, and a type whose schema is EMPTY; output artifacts at
  `<root>/<pipeline>/<run id>/<task>/<execution id>/<output>` with the spec's type, plus the
  launcher's `executor-logs`; the output file under the task root's local path. `executor_input`
  below builds the same message.
- The launcher (backend/src/v2/component/launcher_v2.go) copies each input artifact to the pod's
  disk (`/s3/<bucket>/<key>`, `/gcs/...`: here under the work dir), object by object as
  `objectstore.DownloadBlob` does, runs the executor's command with `{{$}}` replaced by the
  executor input (kfp.local's placeholder code), and reads back the output file (kfp.local's
  `load_executor_output`), merging it into the output artifacts (`mergeRuntimeArtifacts`).
- Each task is its own process, as each is its own pod; `python` in a command is this
  interpreter, and this checkout stands in for the image (compile with
  `--set kubeflow.image_workdir=$PWD` so that the shipped data's paths resolve here).
Not done: caching (every task runs, as with caching off), retries, and the upload of local output
files (TFX's executors write to the artifact URIs themselves). Executors other than containers
are refused by name, as KFP's backend compiler refuses them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any, Iterator

from google.protobuf import json_format, struct_pb2
from kfp.local import executor_output_utils, graph_utils, placeholder_utils
from kfp.pipeline_spec import pipeline_spec_pb2

from components.settings import ConfigError, RunConfig, from_dict
from pipeline.orchestration.kfp_entrypoint import LAUNCHER_LOG_OUTPUT, configure_object_storage, s3_objects, split_uri
from pipeline.orchestration.kubeflow import CONFIG_KEY, DATA_ROOT_PARAMETER, check_executors, read_job
from pipeline.orchestration.progress import ProgressCallback
from pipeline.runs.metadata import NodeRun


class TaskFailed(RuntimeError):
    """A task's process exited with an error; its log names the cause."""


@dataclasses.dataclass
class RecordedArtifact:
    """An output artifact as ML Metadata holds it after the launcher recorded it."""

    id: int
    name: str
    runtime: pipeline_spec_pb2.RuntimeArtifact


@dataclasses.dataclass
class TaskRun:
    name: str
    seconds: float
    started: float
    outputs: dict[str, RecordedArtifact]
    output_parameters: dict[str, struct_pb2.Value]
    log_file: str


@dataclasses.dataclass
class SpecRun:
    run_id: str
    pipeline_name: str
    pipeline_root: str
    config: RunConfig | None
    tasks: dict[str, TaskRun]
    workdir: str
    # ML Metadata ids of the run's output artifacts, as the launcher records them, in order.
    artifact_ids: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))


def run_spec(
    pipeline_file: str,
    workdir: str,
    parameters: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> SpecRun:
    """Runs every task of the compiled pipeline in dependency order; stops at the first failure."""
    job = read_job(pipeline_file)
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(job["pipelineSpec"], spec, ignore_unknown_fields=True)
    check_executors(job["pipelineSpec"])
    configure_object_storage()  # for the launcher's downloads here, and inherited by every task
    pipeline_root = job.get("runtimeConfig", {}).get("gcsOutputDirectory") or spec.default_pipeline_root
    if not pipeline_root:
        raise ConfigError(f"{pipeline_file}: the spec names no pipeline root")
    run_id = str(uuid.uuid4())
    run = SpecRun(run_id, spec.pipeline_info.name, pipeline_root, _config(job), {}, os.path.abspath(workdir))
    values = root_parameters(spec, job.get("runtimeConfig", {}).get("parameterValues", {}), parameters or {})
    check_local_data(values)
    run_root = f"{pipeline_root.rstrip('/')}/{run.pipeline_name}/{run_id}"
    for number, task_name in enumerate(task_order(spec), start=1):
        task = spec.root.dag.tasks[task_name]
        if progress:
            progress(task_name, "started", 0.0)
        result = _run_task(spec, task_name, task, f"{run_root}/{task_name}/{number}", values, run)
        run.tasks[task_name] = result
        if progress:
            progress(task_name, "finished", result.seconds)
    return run


def task_order(spec: pipeline_spec_pb2.PipelineSpec) -> list[str]:
    """The root DAG's tasks, each after the tasks it depends on (kfp.local's sort)."""
    for name, task in spec.root.dag.tasks.items():
        component = spec.components[task.component_ref.name]
        if (
            component.WhichOneof("implementation") == "dag"
            or task.HasField("trigger_policy")
            and task.trigger_policy.condition
        ):
            raise ConfigError(f"task {name!r}: nested pipelines and conditions are not executed here")
    return list(reversed(graph_utils.topological_sort_tasks(dict(spec.root.dag.tasks))))


def root_parameters(
    spec: pipeline_spec_pb2.PipelineSpec, compiled: dict[str, Any], given: dict[str, Any]
) -> dict[str, struct_pb2.Value]:
    """The run's parameters: the spec's defaults, the compiled runtime values, then `given`."""
    declared = spec.root.input_definitions.parameters
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ConfigError(
            f"--param {unknown[0]}: the pipeline has no such parameter (it has {', '.join(sorted(declared)) or 'none'})"
        )
    values = {
        name: definition.default_value for name, definition in declared.items() if definition.HasField("default_value")
    }
    for name, value in {**compiled, **given}.items():
        values[name] = json_format.ParseDict(value, struct_pb2.Value())
    missing = sorted(set(declared) - set(values))
    if missing:
        raise ConfigError(f"--param {missing[0]}: the pipeline needs a value for it")
    return values


def check_local_data(values: dict[str, struct_pb2.Value]) -> None:
    """A data folder in the image (`/pipeline/data/...` by default) is not on this machine:
    say so before any task starts, rather than deep in ExampleGen's log."""
    data_root = values.get(DATA_ROOT_PARAMETER)
    path = data_root.string_value if data_root is not None else ""
    if path and "://" not in path and not os.path.exists(path):
        raise ConfigError(
            f"--param {DATA_ROOT_PARAMETER}: {path} does not exist here (a path inside the image); compile with "
            f"--set kubeflow.image_workdir=$PWD so this checkout stands in for the image, or pass "
            f"--param {DATA_ROOT_PARAMETER}=<folder>"
        )


def executor_input(
    spec: pipeline_spec_pb2.PipelineSpec,
    task: pipeline_spec_pb2.PipelineTaskSpec,
    task_root: str,
    root_values: dict[str, struct_pb2.Value],
    upstream: dict[str, TaskRun],
    local_root: str,
) -> pipeline_spec_pb2.ExecutorInput:
    """The executor input the OSS driver builds for `task` (see the module docstring)."""
    component = spec.components[task.component_ref.name]
    message = pipeline_spec_pb2.ExecutorInput()
    for name, source in task.inputs.parameters.items():
        value = message.inputs.parameter_values[name]
        if source.HasField("runtime_value"):
            value.CopyFrom(source.runtime_value.constant)
        elif source.component_input_parameter:
            value.CopyFrom(root_values[source.component_input_parameter])
        else:
            producer = source.task_output_parameter
            value.CopyFrom(upstream[producer.producer_task].output_parameters[producer.output_parameter_key])
    for name, source in task.inputs.artifacts.items():
        producer = source.task_output_artifact
        recorded = upstream[producer.producer_task].outputs[producer.output_artifact_key]
        message.inputs.artifacts[name].artifacts.append(as_resolved_input(recorded))
    outputs = dict(component.output_definitions.artifacts)
    log_spec = pipeline_spec_pb2.ComponentOutputsSpec.ArtifactSpec()
    log_spec.artifact_type.schema_title = "system.Artifact"
    outputs[LAUNCHER_LOG_OUTPUT] = log_spec
    for name, definition in outputs.items():
        artifact = message.outputs.artifacts[name].artifacts.add(name=name, uri=f"{task_root}/{name}")
        artifact.type.CopyFrom(definition.artifact_type)
        artifact.metadata.CopyFrom(definition.metadata)
    message.outputs.output_file = os.path.join(local_path(task_root, local_root), "output_metadata.json")
    return message


def as_resolved_input(recorded: RecordedArtifact) -> pipeline_spec_pb2.RuntimeArtifact:
    """An upstream output as the OSS driver hands it on: MLMD id as name, untyped."""
    artifact = pipeline_spec_pb2.RuntimeArtifact(name=str(recorded.id), uri=recorded.runtime.uri)
    artifact.metadata.CopyFrom(recorded.runtime.metadata)
    artifact.metadata.fields["display_name"].string_value = recorded.name
    artifact.metadata.fields["store_session_info"].string_value = json.dumps(
        {"Provider": _scheme(recorded.runtime.uri)}
    )
    artifact.type.instance_schema = ""
    return artifact


def local_path(uri: str, local_root: str) -> str:
    """Where the launcher puts `uri` on the pod's disk (LocalPathForURI), under `local_root`."""
    for scheme, mount in (("gs://", "gcs"), ("s3://", "s3"), ("minio://", "minio")):
        if uri.startswith(scheme):
            return os.path.join(local_root, mount, uri[len(scheme) :])
    raise ConfigError(f"{uri}: open-source Kubeflow Pipelines stores artifacts under gs://, s3:// or minio:// only")


def download_inputs(message: pipeline_spec_pb2.ExecutorInput, local_root: str) -> None:
    """The launcher's copy of every input artifact to the pod's disk, object by object."""
    for name, artifact_list in message.inputs.artifacts.items():
        for artifact in artifact_list.artifacts:
            if artifact.uri.startswith("s3://"):
                try:
                    download_blob(artifact.uri, local_path(artifact.uri, local_root))
                except OSError as error:
                    raise TaskFailed(
                        f"failed to download input artifact {name!r} from remote storage URI {artifact.uri!r}: {error}"
                    ) from error


def download_blob(uri: str, local_dir: str) -> None:
    """objectstore.DownloadBlob: each object under the prefix to `local_dir` + its relative key.
    A zero-byte `dir/` object becomes a file named `dir`, as in KFP (kubeflow/pipelines#13476)."""
    import boto3

    bucket, prefix = split_uri(uri)
    client = boto3.client("s3")
    for item in s3_objects(client, uri):
        relative = item["Key"][len(prefix) :].strip("/")
        target = os.path.join(local_dir, relative) if relative else local_dir
        os.makedirs(os.path.dirname(target), exist_ok=True)
        client.download_file(bucket, item["Key"], target)


def _run_task(spec, task_name, task, task_root, values, run: SpecRun) -> TaskRun:
    local_root = os.path.join(run.workdir, "launcher")
    message = executor_input(spec, task, task_root, values, run.tasks, local_root)
    download_inputs(message, local_root)
    for artifact_list in message.outputs.artifacts.values():  # prepareOutputFolders
        for artifact in artifact_list.artifacts:
            os.makedirs(os.path.dirname(local_path(artifact.uri, local_root)), exist_ok=True)
    os.makedirs(os.path.dirname(message.outputs.output_file), exist_ok=True)
    container = spec_container(spec, task)
    command = placeholder_utils.replace_placeholders(
        full_command=[*container.command, *container.args],
        executor_input_dict=json_format.MessageToDict(message),
        pipeline_resource_name=run.run_id,
        task_resource_name=task_name,
        pipeline_root=run.pipeline_root,
        unique_pipeline_id=run.run_id,
    )
    if command and command[0] == "python":
        command[0] = sys.executable  # the image's python: this interpreter
    env = {**os.environ, **{variable.name: variable.value for variable in container.env}}
    log_file = os.path.join(run.workdir, "logs", run.run_id, f"{task_name}.log")
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    started = time.time()
    with open(log_file, "w") as log:
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd()).returncode
    seconds = round(time.time() - started, 2)
    if code != 0:
        raise TaskFailed(f"task {task_name} failed (exit code {code}); its log {log_file} ends:\n{_tail(log_file)}")
    output = executor_output_utils.load_executor_output(message.outputs.output_file)
    return TaskRun(
        task_name,
        seconds,
        started,
        _record_outputs(message, output, run.artifact_ids),
        dict(output.parameter_values),
        log_file,
    )


def spec_container(spec: pipeline_spec_pb2.PipelineSpec, task: pipeline_spec_pb2.PipelineTaskSpec):
    label = spec.components[task.component_ref.name].executor_label
    executor = spec.deployment_spec["executors"][label]
    if "container" not in executor:
        raise ConfigError(f"executor {label!r}: only container executors are executed here")
    container = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec()
    json_format.ParseDict(json_format.MessageToDict(executor["container"]), container, ignore_unknown_fields=True)
    return container


def _record_outputs(
    message: pipeline_spec_pb2.ExecutorInput, output: pipeline_spec_pb2.ExecutorOutput, ids: Iterator[int]
) -> dict[str, RecordedArtifact]:
    """The launcher's mergeRuntimeArtifacts, then an ML Metadata id per artifact."""
    recorded = {}
    for name, artifact_list in message.outputs.artifacts.items():
        artifact = pipeline_spec_pb2.RuntimeArtifact()
        artifact.CopyFrom(artifact_list.artifacts[0])
        produced = output.artifacts.get(name)
        if produced and produced.artifacts:
            if produced.artifacts[0].uri:
                artifact.uri = produced.artifacts[0].uri
            for key, value in produced.artifacts[0].metadata.fields.items():
                artifact.metadata.fields[key].CopyFrom(value)
        recorded[name] = RecordedArtifact(next(ids), name, artifact)
    return recorded


def _config(job: dict[str, Any]) -> RunConfig | None:
    raw = job.get(CONFIG_KEY)
    return from_dict(RunConfig, raw) if raw else None


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0] if "://" in uri else "file"


def _tail(path: str, lines: int = 20) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def spec_nodes(run: SpecRun) -> dict[str, NodeRun]:
    """Each task as the summary reads a node from ML Metadata (runs/metadata.py): its execution
    and output artifacts. A summary of the run needs the RunConfig `compile` stores in the spec."""
    from ml_metadata.proto import metadata_store_pb2

    nodes = {}
    for name, task in run.tasks.items():
        execution = metadata_store_pb2.Execution(
            last_known_state=metadata_store_pb2.Execution.COMPLETE,
            create_time_since_epoch=int(task.started * 1000),
            last_update_time_since_epoch=int((task.started + task.seconds) * 1000),
        )
        outputs = {key: [_mlmd_artifact(recorded)] for key, recorded in task.outputs.items()}
        nodes[name] = NodeRun(execution, outputs)
    return nodes


def _mlmd_artifact(recorded: RecordedArtifact):
    """The launcher's toMLMDArtifact: the runtime metadata as custom properties."""
    from ml_metadata.proto import metadata_store_pb2

    artifact = metadata_store_pb2.Artifact(id=recorded.id, uri=recorded.runtime.uri)
    for key, value in recorded.runtime.metadata.fields.items():
        kind = value.WhichOneof("kind")
        target = artifact.custom_properties[key]
        if kind == "string_value":
            target.string_value = value.string_value
        elif kind == "number_value":
            number = value.number_value
            if number.is_integer():
                target.int_value = int(number)
            else:
                target.double_value = number
        elif kind == "bool_value":
            target.int_value = int(value.bool_value)
        elif kind == "struct_value":
            target.struct_value.CopyFrom(value.struct_value)
    return artifact
