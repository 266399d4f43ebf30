"""Kubeflow Pipelines: compile `create_pipeline(config, kubeflow_deployment(config))` with
KubeflowV2DagRunner, and submit it.

    compile_pipeline(config, "pipeline.json")       # the KFP v2 PipelineJob (OSS KFP or Vertex AI)
    submit(host, "pipeline.json", experiment="keras-tfx")

Every executor runs our image's entrypoint (pipeline/orchestration/kfp_entrypoint.py), which takes what the
open-source KFP driver sends as well as Vertex AI's. Open-source KFP runs container and importer
executors only; `check_executors` applies that rule as its backend compiler does.

Compiling reads nothing from the pipeline root, the serving dir or the data: they are paths the
cluster resolves. The runner's output is a PipelineJob (the pipeline spec plus its runtime
config); `kfp.Client` takes the pipeline spec as a YAML package, so `submit` unwraps it and
passes the runtime config's pipeline root and parameter values along.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.data_types import RuntimeParameter
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from components.settings import ConfigError, ResourceRequest, RunConfig
from pipeline.orchestration.factory import Deployment, create_pipeline, data_folder

ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
# The folder ExampleGen reads: a run on Kubeflow may point it at other data of the same columns.
DATA_ROOT_PARAMETER = "data_root"

# The container entrypoint of our image (see Dockerfile): TFX's, made to take OSS KFP's inputs.
ENTRYPOINT = ["python", "-m", "pipeline.orchestration.kfp_entrypoint"]
# The resolved RunConfig the spec was compiled from, beside the PipelineJob's own keys (which
# Vertex AI and `submit` read; neither reads this one): `pipeline run --spec` summarizes with it.
CONFIG_KEY = "kerasTfxConfig"
# What open-source KFP's backend compiles (backend/src/v2/compiler/visitor.go refuses the rest:
# "non-container and non-importer executor not implemented").
OSS_EXECUTOR_KINDS = ("container", "importer")


class SpecError(ConfigError):
    """A compiled spec that open-source Kubeflow Pipelines would refuse."""


def check_executors(pipeline_spec: dict[str, Any]) -> None:
    """Refuses, by name, every executor that is neither a container nor an importer."""
    for label, executor in pipeline_spec.get("deploymentSpec", {}).get("executors", {}).items():
        kinds = [kind for kind in executor if kind not in OSS_EXECUTOR_KINDS]
        if kinds or not executor:
            raise SpecError(
                f"executor {label!r} is a {(kinds or ['empty'])[0]} executor: open-source Kubeflow Pipelines "
                f"runs container and importer executors only (a `resolver` runs on Vertex AI only)"
            )


def kubeflow_deployment(config: RunConfig) -> Deployment:
    """On Kubeflow the data folder is a runtime parameter, the Trainer and the Tuner (which trains
    as it does) and the Evaluator ask for their pods' resources when configured, Kubeflow keeps
    ML Metadata, and the pods get `kubeflow.beam_args`."""
    requests = {"Tuner": config.kubeflow.trainer, "Trainer": config.kubeflow.trainer}
    requests["Evaluator"] = config.kubeflow.evaluator
    return Deployment(
        input_base=RuntimeParameter(name=DATA_ROOT_PARAMETER, ptype=str, default=data_folder(config.data.path)),
        metadata_connection=None,
        beam_args=list(config.kubeflow.beam_args),
        platform_configs={
            component: resource_spec(request) for component, request in requests.items() if request != ResourceRequest()
        },
    )


def runtime_parameter_values(config: RunConfig) -> dict[str, str]:
    """The Kubeflow runtime parameters' values for this config (what a run uses unless overridden)."""
    return {DATA_ROOT_PARAMETER: data_folder(config.data.path)}


def resource_spec(request: ResourceRequest) -> ResourceSpec:
    """A pod's CPU, memory and accelerator request, as Kubeflow's pipeline spec holds it.

    Both forms are filled, as the KFP compiler does: the numeric fields older backends read,
    and the `resource_*` strings newer ones read."""
    spec = ResourceSpec()
    if request.cpu:
        spec.cpu_request = request.cpu
        spec.resource_cpu_request = f"{request.cpu:g}"
    if request.memory:
        spec.memory_request = request.memory_gb
        spec.resource_memory_request = request.memory
    if request.accelerator_count:
        spec.accelerator.type = request.accelerator_type
        spec.accelerator.count = request.accelerator_count
        spec.accelerator.resource_type = request.accelerator_type
        spec.accelerator.resource_count = str(request.accelerator_count)
    return spec


def compile_pipeline(config: RunConfig, output_file: str) -> dict[str, Any]:
    """Writes the PipelineJob JSON to `output_file` and returns it."""
    if config.runner.kind != "kubeflow":
        config = dataclasses.replace(config, runner=dataclasses.replace(config.runner, kind="kubeflow"))
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=config.kubeflow.image,
            default_commands=ENTRYPOINT,
            use_pipeline_spec_2_1=True,
        ),
        output_dir=os.path.dirname(os.path.abspath(output_file)),
        output_filename=os.path.basename(output_file),
    )
    job = runner.run(
        create_pipeline(config, kubeflow_deployment(config)), runtime_parameter_values(config), write_out=False
    )
    if config.kubeflow.target == "kubeflow":
        check_executors(job["pipelineSpec"])
    job[CONFIG_KEY] = dataclasses.asdict(config)
    with open(output_file, "w") as f:
        json.dump(job, f, indent=2, sort_keys=True)
    return job


def read_job(pipeline_file: str) -> dict[str, Any]:
    """A compiled PipelineJob, or a bare pipeline spec (as KFP's own compiler writes one)."""
    if not os.path.isfile(pipeline_file):
        raise ConfigError(f"{pipeline_file}: no such compiled pipeline; compile one with `python -m pipeline compile`")
    with open(pipeline_file) as f:
        text = f.read()
    try:
        job = json.loads(text) if pipeline_file.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"{pipeline_file}: not a compiled pipeline ({error})") from None
    if not isinstance(job, dict) or not ("pipelineSpec" in job or "deploymentSpec" in job):
        raise ConfigError(f"{pipeline_file}: not a compiled pipeline (no pipelineSpec)")
    return job if "pipelineSpec" in job else {"pipelineSpec": job, "runtimeConfig": {}}


def submit(
    host: str,
    pipeline_file: str,
    experiment: str = "Default",
    run_name: str | None = None,
    arguments: dict[str, Any] | None = None,
    namespace: str | None = None,
) -> dict[str, str]:
    """Submits a compiled pipeline to the KFP API at `host`; returns the run id and its URL."""
    import urllib3

    job = read_job(pipeline_file)
    check_executors(job["pipelineSpec"])
    try:
        return _create_run(host, job, experiment, run_name, arguments, namespace)
    except urllib3.exceptions.MaxRetryError as error:
        reason = error.reason
        if isinstance(reason, urllib3.exceptions.NewConnectionError):  # its text repeats host and port
            reason = str(reason).split("): ", 1)[-1]
        raise ConfigError(
            f"--host: cannot reach the Kubeflow Pipelines API at {host} ({reason}); for a cluster's KFP, "
            f"forward its port first: kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80, "
            f"then --host http://localhost:8080"
        ) from None


def _create_run(
    host: str,
    job: dict[str, Any],
    experiment: str,
    run_name: str | None,
    arguments: dict[str, Any] | None,
    namespace: str | None,
) -> dict[str, str]:
    import kfp

    runtime = job.get("runtimeConfig", {})
    values = {**runtime.get("parameterValues", {}), **(arguments or {})}
    client = kfp.Client(host=host, namespace=namespace)
    with tempfile.TemporaryDirectory() as scratch:
        package = os.path.join(scratch, "pipeline.yaml")
        with open(package, "w") as f:
            yaml.safe_dump(job["pipelineSpec"], f, sort_keys=False)
        result = client.create_run_from_pipeline_package(
            package,
            arguments=values,
            run_name=run_name or job.get("displayName"),
            experiment_name=experiment,
            namespace=namespace,
            pipeline_root=runtime.get("gcsOutputDirectory"),
        )
    return {"run_id": result.run_id, "url": f"{host.rstrip('/')}/#/runs/details/{result.run_id}"}
