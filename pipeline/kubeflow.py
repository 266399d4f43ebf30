"""Kubeflow Pipelines: compile `create_pipeline(config)` with KubeflowV2DagRunner, and submit it.

    compile_pipeline(config, "pipeline.json")       # the KFP v2 PipelineJob (also for Vertex AI)
    submit(host, "pipeline.json", experiment="keras-tfx")

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
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from pipeline.config import RunConfig
from pipeline.pipeline import create_pipeline, runtime_parameter_values

# The container entrypoint of every TFX image, ours included (see Dockerfile).
TFX_ENTRYPOINT = ["python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]


def compile_pipeline(config: RunConfig, output_file: str) -> dict[str, Any]:
    """Writes the PipelineJob JSON to `output_file` and returns it."""
    if config.runner.kind != "kubeflow":
        config = dataclasses.replace(config, runner=dataclasses.replace(config.runner, kind="kubeflow"))
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=config.kubeflow.image,
            default_commands=TFX_ENTRYPOINT,
            use_pipeline_spec_2_1=True,
        ),
        output_dir=os.path.dirname(os.path.abspath(output_file)),
        output_filename=os.path.basename(output_file),
    )
    return runner.run(create_pipeline(config), runtime_parameter_values(config), write_out=True)


def submit(
    host: str,
    pipeline_file: str,
    experiment: str = "Default",
    run_name: str | None = None,
    arguments: dict[str, Any] | None = None,
    namespace: str | None = None,
) -> dict[str, str]:
    """Submits a compiled pipeline to the KFP API at `host`; returns the run id and its URL."""
    import kfp

    with open(pipeline_file) as f:
        job = json.load(f)
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
