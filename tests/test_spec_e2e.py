"""The penguins recipe compiled for open-source Kubeflow Pipelines with `--tune` (the Tuner is one
more task), executed task by task as KFP runs it (pipeline/orchestration/spec_runner.py), on an s3:// pipeline
root served by an S3-compatible server on 127.0.0.1: blessed and pushed to S3, the pushed model
serves raw rows, and a second execution gates against the first push (the Evaluator's own
baseline lookup, no Resolver)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from components.pusher.predict import load_model, predict_raw, read_rows
from conftest import BUDGET, CSV_PIPELINE_NODES, REPO
from pipeline.commands.cli import main
from pipeline.orchestration.spec_runner import download_blob

pytestmark = pytest.mark.e2e


def execute(spec: Path, workdir: Path, s3_env: dict[str, str], name: str) -> dict:
    summary_file = workdir / f"{name}.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--spec",
            str(spec),
            "--workdir",
            str(workdir),
            "--summary-json",
            str(summary_file),
        ],
        cwd=REPO,
        env={**os.environ, **s3_env},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "pure virtual method called" not in done.stderr or done.returncode == 0
    return json.loads(summary_file.read_text())


@pytest.fixture(scope="module")
def two_executions(s3_server, tmp_path_factory):
    bucket = s3_server.bucket("pipelines")
    workdir = tmp_path_factory.mktemp("spec")
    spec = workdir / "pipeline.json"
    code = main(
        [
            "compile",
            "--target",
            "kubeflow",
            "--image",
            "keras-tfx:test",
            "--config",
            str(REPO / "configs" / "penguins.yaml"),
            "--pipeline-root",
            f"s3://{bucket}/penguins",
            "--set",
            f"kubeflow.image_workdir={REPO}",
            # The Tuner is one more container task; a small budget keeps it quick.
            "--tune",
            *BUDGET,
            "--output",
            str(spec),
        ]
    )
    assert code == 0
    first = execute(spec, workdir, s3_server.env, "first")
    second = execute(spec, workdir, s3_server.env, "second")
    return first, second, workdir, s3_server, bucket


def test_the_first_execution_is_blessed_and_pushed_to_s3(two_executions):
    first, _, _, _, bucket = two_executions
    assert set(first["components"]) == CSV_PIPELINE_NODES | {"Tuner"}
    assert all(component["state"] == "COMPLETE" for component in first["components"].values())
    assert first["blessed"] and first["baseline_model"] is None
    assert first["pushed_model_dir"].startswith(f"s3://{bucket}/penguins/serving/")
    assert first["metrics"]["accuracy"]["value"] >= 0.9 and first["metrics"]["accuracy"]["baseline"] is None
    assert first["training"]["epochs_run"] >= 1  # the Trainer's record, read from S3


def test_the_tuner_task_writes_its_trials_to_s3_and_the_trainer_trains_the_best(two_executions):
    """Executed in its own process with its executor input, as every task: the Tuner's trials go
    to the s3:// root and the Trainer gets its best_hyperparameters."""
    first, _, _, _, bucket = two_executions
    assert first["tuning"]["trials_file"].startswith(f"s3://{bucket}/penguins/")
    assert len(first["tuning"]["trials"]) == 2
    assert first["training"]["tuned_settings"] == first["tuning"]["best_settings"]


def test_the_pushed_model_serves_raw_rows(two_executions, tmp_path, monkeypatch):
    first, _, _, s3_server, _ = two_executions
    for name, value in s3_server.env.items():  # for boto3 in download_blob; not left to later tests:
        monkeypatch.setenv(name, value)  # S3_ENDPOINT makes `components` load tensorflow-io at import
    local = tmp_path / "model"
    download_blob(first["pushed_model_dir"], str(local))
    model = load_model(str(local))
    rows = read_rows(str(REPO / "data" / "penguins" / "penguins.csv"))[:6]
    for row in rows:
        row.pop("species")
    probabilities = predict_raw(model, rows)["probabilities"]
    assert probabilities.shape == (6, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_the_second_execution_is_gated_against_the_first_push(two_executions):
    first, second, workdir, s3_server, bucket = two_executions
    assert second["run_id"] != first["run_id"]
    assert second["baseline_model"] == first["pushed_model_dir"]
    for role in ("loss", "accuracy"):
        assert second["metrics"][role]["baseline"] == pytest.approx(first["metrics"][role]["value"], rel=1e-6)
    versions = {
        item["Key"].split("/")[2]
        for item in s3_server.client().list_objects_v2(Bucket=bucket, Prefix="penguins/serving/")["Contents"]
    }
    if second["blessed"]:
        assert second["pushed_model_dir"] not in (None, first["pushed_model_dir"]) and len(versions) == 2
    else:
        assert second["pushed_model_dir"] is None and len(versions) == 1
    evaluator_log = (workdir / "logs" / second["run_id"] / "Evaluator.log").read_text()
    assert f"baseline: the model in production, {first['pushed_model_dir']}" in evaluator_log
    assert "input 'examples': type 'tfx.Examples' from the compiled spec" in evaluator_log
