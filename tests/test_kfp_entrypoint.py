"""The image's entrypoint takes executor inputs shaped as open-source KFP's driver sends them.

Each shape is copied from kubeflow/pipelines (backend/src/v2, read at commit 7b70c7b of
2026-08-21): an upstream artifact is rebuilt from ML Metadata by `toRuntimeArtifact`
(metadata/converter.go: name = the MLMD id, uri, metadata = properties + custom properties) and
`OutputArtifact.ToRuntimeArtifact` (metadata/client.go: type = instanceSchema of `Schema`,
which `GetOutputArtifactsByExecutionId` leaves "" with "TODO(Bobgy): figure out how to get
schema"); the launcher records `display_name` and `store_session_info` as custom properties
(`RecordArtifact`); `provisionOutputs` (driver/driver.go) adds an `executor-logs` output typed
`system.Artifact` when publish_logs is on (its default). TFX's own parser is run on each shape
first, to pin that it fails without the fix."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import standard_artifacts

from pipeline.orchestration.kfp_entrypoint import normalize_executor_input, remove_directory_markers
from pipeline.orchestration.spec_runner import download_blob

EXAMPLES_SCHEMA = (
    "title: tfx.Examples\ntype: object\nproperties:\n  span:\n    type: integer\n  split_names:\n    type: string\n"
)
INPUTS_SPEC = {
    "artifacts": {
        "examples": {"artifactType": {"instanceSchema": EXAMPLES_SCHEMA}},
        "model": {"artifactType": {"instanceSchema": "title: tfx.Model\ntype: object\n"}},
    }
}


def oss_input(artifact_type: dict | None) -> dict:
    """An upstream Examples artifact as the OSS driver hands it on."""
    artifact = {
        "name": "42",
        "uri": "s3://mlpipeline/v2/artifacts/penguins/run-1/CsvExampleGen/7/examples",
        "metadata": {
            "split_names": '["train", "eval"]',
            "span": 0.0,
            "version": 0.0,
            "file_format": "tfrecords_gzip",
            "payload_format": "FORMAT_TF_EXAMPLE",
            "display_name": "examples",
            "store_session_info": '{"Provider":"minio","Params":{"region":"minio"}}',
        },
    }
    if artifact_type is not None:
        artifact["type"] = artifact_type
    return {
        "inputs": {"artifacts": {"examples": {"artifacts": [artifact]}}},
        "outputs": {
            "artifacts": {
                "statistics": {
                    "artifacts": [
                        {
                            "name": "statistics",
                            "uri": "s3://b/r/StatisticsGen/8/statistics",
                            "type": {"instanceSchema": "title: tfx.ExampleStatistics\n"},
                        }
                    ]
                },
                "executor-logs": {
                    "artifacts": [
                        {
                            "name": "executor-logs",
                            "uri": "s3://b/r/StatisticsGen/8/executor-logs",
                            "type": {"schemaTitle": "system.Artifact"},
                        }
                    ]
                },
            },
            "outputFile": "/s3/b/r/StatisticsGen/8/output_metadata.json",
        },
    }


def parse(message: dict) -> pipeline_spec_pb2.ExecutorInput:
    return json_format.ParseDict(message, pipeline_spec_pb2.ExecutorInput())


def inputs_spec() -> pipeline_spec_pb2.ComponentInputsSpec:
    return json_format.ParseDict(INPUTS_SPEC, pipeline_spec_pb2.ComponentInputsSpec())


@pytest.mark.parametrize(
    "artifact_type",
    [{"instanceSchema": ""}, None, {"schemaTitle": "system.Dataset"}],
    ids=["empty-schema", "no-type", "kfp-system-title"],
)
def test_an_untyped_input_gets_its_declared_type_and_keeps_its_properties(artifact_type):
    raw = parse(oss_input(artifact_type))
    with pytest.raises((AttributeError, ImportError, UnboundLocalError, ValueError)):
        kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(raw.inputs.artifacts, {})
    changes = normalize_executor_input(raw, inputs_spec())
    assert "input 'examples': type 'tfx.Examples' from the compiled spec" in changes
    [examples] = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(raw.inputs.artifacts, {})["examples"]
    assert isinstance(examples, standard_artifacts.Examples)
    assert examples.split_names == '["train", "eval"]' and examples.span == 0
    assert examples.uri.endswith("CsvExampleGen/7/examples")


def test_the_launchers_log_output_is_left_to_the_launcher():
    raw = parse(oss_input({"instanceSchema": ""}))
    with pytest.raises(ImportError):
        kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(raw.outputs.artifacts, {})
    normalize_executor_input(raw, inputs_spec())
    outputs = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(raw.outputs.artifacts, {})
    assert set(outputs) == {"statistics"}


def test_a_typed_input_is_left_as_it_is():
    raw = parse(oss_input({"instanceSchema": EXAMPLES_SCHEMA}))
    before = raw.SerializeToString()
    assert normalize_executor_input(raw, inputs_spec()) == ["output 'executor-logs': the launcher's own, left to it"]
    assert (
        raw.inputs.SerializeToString()
        == parse(oss_input({"instanceSchema": EXAMPLES_SCHEMA})).inputs.SerializeToString()
    )
    assert before != raw.SerializeToString()


def test_an_input_without_a_declared_type_is_named():
    raw = parse(oss_input({"instanceSchema": ""}))
    with pytest.raises(ValueError, match="input artifact 'examples' has no type TFX knows"):
        normalize_executor_input(raw, pipeline_spec_pb2.ComponentInputsSpec())


def test_directory_markers_break_the_launchers_download_until_removed(s3_server, tmp_path, monkeypatch):
    """kubeflow/pipelines#13476: objectstore.DownloadBlob writes the zero-byte `Format-Serving/`
    object as a file, so the SavedModel under it cannot be written."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    client = s3_server.client()
    bucket = s3_server.bucket("markers")
    client.put_object(Bucket=bucket, Key="run/Trainer/5/model/Format-Serving/", Body=b"")
    client.put_object(Bucket=bucket, Key="run/Trainer/5/model/Format-Serving/saved_model.pb", Body=b"pb")
    uri = f"s3://{bucket}/run/Trainer/5/model"
    with pytest.raises(OSError):
        download_blob(uri, str(tmp_path / "first"))
    assert remove_directory_markers(uri) == ["run/Trainer/5/model/Format-Serving/"]
    download_blob(uri, str(tmp_path / "second"))
    assert (tmp_path / "second" / "Format-Serving" / "saved_model.pb").read_bytes() == b"pb"
    assert remove_directory_markers(uri) == []
