"""`pipeline run --spec`: the executor input is built as open-source KFP's driver builds it, and
what KFP would refuse is refused by name. The whole execution is tests/test_spec_e2e.py."""

from __future__ import annotations

import json
import time

import pytest
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from components.settings import ConfigError
from conftest import REPO
from pipeline.commands.cli import main
from pipeline.orchestration.kubeflow import SpecError
from pipeline.orchestration.spec_runner import (
    RecordedArtifact,
    TaskRun,
    executor_input,
    local_path,
    root_parameters,
    run_spec,
    task_order,
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "pipeline.json"
    assert (
        main(
            [
                "compile",
                "--image",
                "img",
                "--config",
                str(REPO / "configs" / "penguins.yaml"),
                "--pipeline-root",
                "s3://bucket/root",
                "--output",
                str(path),
            ]
        )
        == 0
    )
    job = json.loads(path.read_text())
    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
    return path, job, spec


def upstream_run(name: str, key: str, uri: str, metadata: dict) -> TaskRun:
    artifact = pipeline_spec_pb2.RuntimeArtifact(name=key, uri=uri)
    json_format.ParseDict(metadata, artifact.metadata)
    return TaskRun(name, 1.0, time.time(), {key: RecordedArtifact(17, key, artifact)}, {}, "")


def test_tasks_run_after_the_tasks_they_depend_on(compiled):
    _, _, spec = compiled
    order = task_order(spec)
    for task_name in order:
        for dependency in spec.root.dag.tasks[task_name].dependent_tasks:
            assert order.index(dependency) < order.index(task_name), (dependency, task_name)
    assert order[0] == "CsvExampleGen" and order[-1] == "Pusher"


def test_the_executor_input_is_shaped_as_the_oss_driver_shapes_it(compiled, tmp_path):
    """Shapes from kubeflow/pipelines backend/src/v2: driver/driver.go provisionOutputs (output
    URIs under the task root, executor-logs, output file under the task root's local path) and
    metadata/client.go ToRuntimeArtifact (inputs named by MLMD id, schema left empty)."""
    _, job, spec = compiled
    values = root_parameters(spec, job["runtimeConfig"]["parameterValues"], {})
    upstream = {
        "CsvExampleGen": upstream_run(
            "CsvExampleGen",
            "examples",
            "s3://bucket/root/p/r/CsvExampleGen/1/examples",
            {"split_names": '["train", "eval"]', "span": 0},
        )
    }
    task_root = "s3://bucket/root/penguins/run-1/StatisticsGen/2"
    message = executor_input(spec, spec.root.dag.tasks["StatisticsGen"], task_root, values, upstream, str(tmp_path))
    shaped = json.loads(json_format.MessageToJson(message))
    [examples] = shaped["inputs"]["artifacts"]["examples"]["artifacts"]
    assert examples["name"] == "17" and examples["type"] == {"instanceSchema": ""}
    assert (
        examples["metadata"]["split_names"] == '["train", "eval"]'
        and examples["metadata"]["display_name"] == "examples"
    )
    assert "store_session_info" in examples["metadata"]
    outputs = shaped["outputs"]["artifacts"]
    assert outputs["statistics"]["artifacts"][0]["uri"] == f"{task_root}/statistics"
    assert outputs["statistics"]["artifacts"][0]["type"]["instanceSchema"].startswith("title: tfx.ExampleStatistics")
    assert outputs["executor-logs"]["artifacts"][0]["type"] == {"schemaTitle": "system.Artifact"}
    assert shaped["outputs"]["outputFile"] == str(
        tmp_path / "s3/bucket/root/penguins/run-1/StatisticsGen/2/output_metadata.json"
    )
    assert shaped["inputs"]["parameterValues"]["exclude_splits"] == "[]"


def test_the_data_root_parameter_comes_from_the_run(compiled, tmp_path):
    _, job, spec = compiled
    values = root_parameters(spec, job["runtimeConfig"]["parameterValues"], {"data_root": "s3://bucket/rows"})
    message = executor_input(spec, spec.root.dag.tasks["CsvExampleGen"], "s3://b/r/t/1", values, {}, str(tmp_path))
    assert message.inputs.parameter_values["input_base"] == struct_pb2.Value(string_value="s3://bucket/rows")
    with pytest.raises(ConfigError, match="--param data_rot: the pipeline has no such parameter .it has data_root"):
        root_parameters(spec, {}, {"data_rot": "x"})


def test_local_paths_follow_the_launchers_mounts(tmp_path):
    assert local_path("s3://b/k/x", "/w") == "/w/s3/b/k/x"
    assert local_path("gs://b/k", "/w") == "/w/gcs/b/k"
    with pytest.raises(ConfigError, match="gs://, s3:// or minio:// only"):
        local_path("/tmp/root", "/w")


def test_a_spec_with_a_resolver_is_refused_before_anything_runs(compiled, tmp_path, capsys):
    path, job, _ = compiled
    job["pipelineSpec"]["deploymentSpec"]["executors"]["latest_blessed_model_resolver-model-resolver_executor"] = {
        "resolver": {"outputArtifactQueries": {"model": {"filter": "artifact_type='tfx.Model'"}}}
    }
    broken = tmp_path / "resolver.json"
    broken.write_text(json.dumps(job))
    with pytest.raises(
        SpecError, match="'latest_blessed_model_resolver-model-resolver_executor' is a resolver executor"
    ):
        run_spec(str(broken), str(tmp_path / "work"))
    assert main(["run", "--spec", str(broken), "--workdir", str(tmp_path / "work")]) == 2
    assert (
        "is a resolver executor: open-source Kubeflow Pipelines runs container and importer" in capsys.readouterr().err
    )
    assert not (tmp_path / "work").exists()


def test_data_inside_the_image_is_named_before_any_task_runs(compiled, tmp_path, capsys):
    path, _, _ = compiled  # compiled with the default image_workdir, /pipeline
    assert main(["run", "--spec", str(path), "--workdir", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert "--param data_root: /pipeline/data/penguins does not exist here" in err
    assert "--set kubeflow.image_workdir=$PWD" in err and not (tmp_path / "work").exists()


def test_a_spec_runs_as_compiled_so_recipe_flags_are_refused(compiled, capsys):
    path, _, _ = compiled
    assert main(["run", "--spec", str(path), "--epochs", "3"]) == 2
    assert "--epochs: a compiled spec is run as compiled" in capsys.readouterr().err
