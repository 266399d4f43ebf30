"""Whole runs that must not ship a model: labels with no signal, a NaN loss, and runs killed in the
Trainer or while pushing. A model pushed earlier stays byte for byte as it was."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli, tree_digest

pytestmark = pytest.mark.e2e


def test_a_model_trained_on_shuffled_labels_is_refused_by_the_gate(tmp_path):
    with (REPO / "data" / "breast_cancer" / "breast_cancer.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    labels = [row["diagnosis"] for row in rows]
    random.Random(0).shuffle(labels)
    data = tmp_path / "shuffled.csv"
    with data.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "diagnosis": label} for row, label in zip(rows, labels))

    run = run_cli(
        tmp_path, "--config", str(REPO / "configs" / "breast_cancer.yaml"), "--data", str(data), "--epochs", "30"
    )
    serving = run.serving_dir
    assert run.exit_code == 0  # the run completed; its model was refused
    assert run.summary["blessed"] is False and run.summary["pushed_model_dir"] is None
    failed = {
        role for role, metric in run.summary["metrics"].items() if isinstance(metric, dict) and not metric["passed"]
    }
    assert "accuracy" in failed  # labels without signal: about the majority share, far below 0.9
    assert "accuracy (binary_accuracy): " in run.printed and "[bound >= 0.9] FAIL" in run.printed
    assert "pushed: nothing (not blessed)" in run.printed
    assert not serving.exists() or not any(serving.iterdir())


def test_a_model_in_production_that_does_not_load_stops_the_gate_and_stays(tmp_path, earlier_push, capsys):
    """The baseline is the newest version in the serving dir; one the gate cannot load is not
    skipped (that would let any model past the no-regression check): the run stops, naming it."""
    serving, digests = earlier_push
    run = run_cli(tmp_path, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "3")
    assert run.exit_code == 2
    err = capsys.readouterr().err
    assert f"{serving / '1700000000'}: the model in production does not load" in err
    assert "restore or remove that version" in err
    assert tree_digest(serving) == digests


def penguins_command(tmp_path: Path, *flags: str) -> list[str]:
    """`pipeline run` of the penguins recipe as its own process, under tmp_path (pipeline/, serving/)."""
    outputs = ["--pipeline-root", str(tmp_path / "pipeline"), "--serving-dir", str(tmp_path / "serving")]
    recipe = str(REPO / "configs" / "penguins.yaml")
    return [sys.executable, "-m", "pipeline", "run", "--config", recipe, *flags, *outputs]


def test_a_run_killed_in_the_trainer_finishes_from_the_cache_when_run_again(tmp_path):
    command = penguins_command(tmp_path, "--epochs", "200", "--set", "training.early_stopping.enabled=false")
    first = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    deadline = time.monotonic() + 600
    for line in first.stdout:
        if "Trainer started" in line:
            break
        assert time.monotonic() < deadline
    time.sleep(3)  # inside model.fit
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (tmp_path / "serving").exists()  # nothing was pushed

    rerun = run_cli(tmp_path, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15")
    assert rerun.exit_code == 0 and rerun.summary["blessed"], rerun.printed
    states = {node: component["state"] for node, component in rerun.summary["components"].items()}
    assert {states[node] for node in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "Transform")} == {"CACHED"}
    assert states["Trainer"] == "COMPLETE"
    assert [p.name for p in (tmp_path / "serving").iterdir()] == [os.path.basename(rerun.summary["pushed_model_dir"])]


def test_a_loss_that_turns_nan_fails_the_run_and_pushes_nothing(tmp_path, earlier_push, capsys):
    serving, digests = earlier_push
    run = run_cli(
        tmp_path,
        "--config",
        str(REPO / "configs" / "penguins.yaml"),
        "--epochs",
        "5",
        "--set",
        "model.learning_rate=1e30",
    )  # weights overflow within the first epoch
    err = capsys.readouterr().err
    assert run.exit_code == 1
    assert "error: the training loss became nan in epoch 1: training stopped and no model is exported" in err
    assert "Traceback" not in err
    assert tree_digest(serving) == digests


SLOW_COPY = """
import shutil, time
_copy = shutil.copy2
def _slow_copy(*args, **kwargs):
    time.sleep(0.5)
    return _copy(*args, **kwargs)
shutil.copy2 = _slow_copy
"""


def test_a_run_killed_while_pushing_leaves_no_partial_version_and_finishes_when_run_again(tmp_path):
    serving = tmp_path / "serving"
    serving.mkdir()
    hooks = tmp_path / "hooks"  # every file copy of the first run takes half a second
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_COPY)
    command = penguins_command(tmp_path, "--epochs", "15")
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(hooks)})
    deadline = time.monotonic() + 600
    while not any(p.name.startswith(".staging-") for p in serving.iterdir()):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert [p.name for p in serving.iterdir() if not p.name.startswith(".")] == []

    rerun = run_cli(
        tmp_path, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15", "--serving-dir", str(serving)
    )
    assert rerun.exit_code == 0 and rerun.summary["blessed"], rerun.printed
    assert rerun.summary["components"]["Trainer"]["state"] == "CACHED"
    pushed = Path(rerun.summary["pushed_model_dir"])
    assert (pushed / "saved_model.pb").is_file() and (pushed / "variables").is_dir()
    assert sorted(p.name for p in serving.iterdir()) == [pushed.name]  # staging removed
