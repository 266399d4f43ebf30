"""The image's entrypoint: TFX's Kubeflow v2 executor entrypoint, made to take what the
open-source KFP v2 driver and launcher hand it.

    python -m pipeline.orchestration.kfp_entrypoint --executor_class_path ... \\
        --json_serialized_invocation_args '{...}' --json_serialized_inputs_spec_args '{...}' [beam args]

TFX 1.16's `kubeflow_v2_run_executor` was written against Vertex AI Pipelines. What the OSS
backend (kubeflow/pipelines, backend/src/v2) sends differs, and each difference is handled here
before TFX's own `_run_executor` runs (tests/test_kfp_entrypoint.py feeds each shape):

1. **Untyped input artifacts.** The driver resolves an upstream artifact from ML Metadata with
   `OutputArtifact.ToRuntimeArtifact()` (backend/src/v2/metadata/client.go), whose schema is
   left empty ("TODO(Bobgy): figure out how to get schema"): the artifact arrives as
   `"type": {"instanceSchema": ""}` (or with no type), and TFX's parser fails on it
   (`yaml.safe_load("")` is None). A title TFX does not know (KFP's `system.Model`,
   `system.Dataset`...) fails its class lookup the same way. The compiled spec declares each
   input's TFX type (`--json_serialized_inputs_spec_args`): that type is taken. With the type
   back, the artifact's properties (`split_names`, `span`...) parse as properties again instead
   of being lost in a generic artifact.
2. **The launcher's log artifact.** With `publish_logs` (on by default, backend/src/v2/driver/
   driver.go `provisionOutputs`) the outputs hold an `executor-logs` artifact typed
   `system.Artifact`, which is the launcher's own and no TFX output: it is removed.
3. **Directory markers.** The launcher copies every input artifact to the pod's disk first,
   one object at a time (`objectstore.DownloadBlob`); a zero-byte `dir/` object becomes a file
   named `dir`, and the objects under it then fail (kubeflow/pipelines#13476; TFX's models
   nest a `Format-Serving/` dir). After the executor, such markers under every output artifact
   are deleted (s3:// through boto3, gs:// through google-cloud-storage).
4. **Exit.** Some C++ destructors (protobuf, MLMD, the S3 client) can abort the interpreter's
   shutdown with "pure virtual method called", failing a task whose work is done. Once TFX has
   written the executor output file, the process leaves without the teardown
   (`process_exit.exit_skipping_teardown`).

Object storage: `s3://` needs `S3_ENDPOINT` (tensorflow-io's filesystem, registered by
`components`); Beam reads and writes through boto3, which takes `AWS_ENDPOINT_URL` (set here from
`S3_ENDPOINT` when missing) and the same credentials. See docs/kubeflow.md.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable

from absl import logging
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

import components  # noqa: F401 - Keras 2 and s3:// before TensorFlow loads
from pipeline.orchestration.process_exit import exit_skipping_teardown

LAUNCHER_LOG_OUTPUT = "executor-logs"


def main(argv: list[str]) -> None:
    logging.set_verbosity(logging.INFO)  # as TFX's entrypoint does; its lines are the task's log
    args, beam_args = kubeflow_v2_run_executor._parse_flags(argv)
    executor_input = pipeline_spec_pb2.ExecutorInput()
    json_format.Parse(args.json_serialized_invocation_args, executor_input, ignore_unknown_fields=True)
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    if args.json_serialized_inputs_spec_args:
        json_format.Parse(args.json_serialized_inputs_spec_args, inputs_spec, ignore_unknown_fields=True)
    for change in normalize_executor_input(executor_input, inputs_spec):
        logging.info("executor input: %s", change)
    args.json_serialized_invocation_args = json_format.MessageToJson(executor_input)
    configure_object_storage()
    kubeflow_v2_run_executor._run_executor(args, beam_args)
    for output in executor_input.outputs.artifacts.values():
        for artifact in output.artifacts:
            remove_directory_markers(artifact.uri)
    exit_skipping_teardown(0)


def normalize_executor_input(
    executor_input: pipeline_spec_pb2.ExecutorInput, inputs_spec: pipeline_spec_pb2.ComponentInputsSpec
) -> list[str]:
    """Makes the OSS driver's executor input readable by TFX's entrypoint (quirks 1 and 2);
    returns what was changed, one line each."""
    changes = []
    for key, artifact_list in executor_input.inputs.artifacts.items():
        declared = inputs_spec.artifacts.get(key)
        for artifact in artifact_list.artifacts:
            if known_tfx_type(artifact.type):
                continue
            if declared is None:
                raise ValueError(
                    f"input artifact {key!r} has no type TFX knows ({_describe(artifact.type)}) and the "
                    f"compiled inputs spec declares none"
                )
            artifact.type.CopyFrom(declared.artifact_type)
            changes.append(f"input {key!r}: type {_describe(artifact.type)} from the compiled spec")
    if LAUNCHER_LOG_OUTPUT in executor_input.outputs.artifacts:
        del executor_input.outputs.artifacts[LAUNCHER_LOG_OUTPUT]
        changes.append(f"output {LAUNCHER_LOG_OUTPUT!r}: the launcher's own, left to it")
    return changes


def known_tfx_type(type_schema: pipeline_spec_pb2.ArtifactTypeSchema) -> bool:
    """Whether TFX's entrypoint can find the artifact class this type names."""
    title = _title(type_schema)
    if not title:
        return False
    if title in compiler_utils.TITLE_TO_CLASS_PATH:
        return True
    # A custom type's title is its class's import path; `system.*` titles are KFP's.
    return "." in title and not title.startswith("system.") and not title.startswith("tfx.")


def _title(type_schema: pipeline_spec_pb2.ArtifactTypeSchema) -> str:
    import yaml

    kind = type_schema.WhichOneof("kind")
    if kind == "schema_title":
        return type_schema.schema_title
    if kind == "instance_schema":
        loaded = yaml.safe_load(type_schema.instance_schema) if type_schema.instance_schema else None
        return str(loaded.get("title", "")) if isinstance(loaded, dict) else ""
    return ""


def _describe(type_schema: pipeline_spec_pb2.ArtifactTypeSchema) -> str:
    return repr(_title(type_schema)) if _title(type_schema) else "no type"


def configure_object_storage() -> None:
    """Beam's S3 filesystem (boto3) finds the endpoint in AWS_ENDPOINT_URL; tensorflow-io's in
    S3_ENDPOINT. One setting serves both."""
    endpoint = os.environ.get("S3_ENDPOINT")
    if endpoint and not os.environ.get("AWS_ENDPOINT_URL"):
        scheme = "https" if os.environ.get("S3_USE_HTTPS", "1") != "0" else "http"
        os.environ["AWS_ENDPOINT_URL"] = endpoint if "://" in endpoint else f"{scheme}://{endpoint}"


def remove_directory_markers(uri: str) -> list[str]:
    """Deletes the zero-byte `…/` objects under `uri` (quirk 3); returns their keys."""
    if uri.startswith("s3://"):
        return _remove_s3_markers(uri)
    if uri.startswith("gs://"):
        return _remove_gcs_markers(uri)
    return []


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ("bucket", "a/b/"): the bucket and the key prefix of everything under it."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key.rstrip("/") + "/" if key else ""


def s3_objects(client, uri: str) -> Iterable[dict]:
    """Every object under `uri` (boto3's listing: Key, Size...)."""
    bucket, prefix = split_uri(uri)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _remove_s3_markers(uri: str) -> list[str]:
    import boto3

    client = boto3.client("s3")
    markers = [item["Key"] for item in s3_objects(client, uri) if item["Key"].endswith("/") and item["Size"] == 0]
    for key in markers:
        client.delete_object(Bucket=split_uri(uri)[0], Key=key)
    return markers


def _remove_gcs_markers(uri: str) -> list[str]:
    from google.cloud import storage

    bucket_name, prefix = split_uri(uri)
    bucket = storage.Client().bucket(bucket_name)
    markers = [blob for blob in bucket.list_blobs(prefix=prefix) if blob.name.endswith("/") and blob.size == 0]
    for blob in markers:
        blob.delete()
    return [blob.name for blob in markers]


if __name__ == "__main__":
    main(sys.argv[1:])
