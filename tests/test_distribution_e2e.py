"""Distribution strategies end to end on CPU: MirroredStrategy over two logical CPU devices
through the whole pipeline, and MultiWorkerMirroredStrategy as two local worker processes.

Both reuse the penguins run's pipeline root or Transform output, so only training and what
follows it run again. Each runs in fresh processes: logical devices and multi-worker
collectives must be set up before TensorFlow starts, and this pytest process already runs it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from components import features
from components.pusher.predict import load_model, predict_examples
from components.trainer.run import BACKUP_DIR
from components.trainer.standalone import trainer_spec
from conftest import REPO
from pipeline.config.resolve import resolved_config

pytestmark = pytest.mark.e2e

RECIPE = REPO / "configs" / "penguins.yaml"
PENGUINS = REPO / "data" / "penguins" / "penguins.csv"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def penguin_accuracy(model_dir: str) -> float:
    with PENGUINS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    classes = [c.decode() for c in predict_examples(load_model(model_dir), rows)[features.CLASSES]]
    return float(np.mean([predicted == row["species"] for predicted, row in zip(classes, rows)]))


def test_mirrored_strategy_on_two_logical_cpus_trains_the_recipe_to_the_default_strategys_band(penguins, tmp_path):
    # A copy of the default run's pipeline root: ExampleGen to Transform come from its cache.
    shutil.copytree(Path(penguins.summary["summary_file"]).parents[2], tmp_path / "pipeline")
    summary_file = tmp_path / "summary.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--config",
            str(RECIPE),
            "--epochs",
            "15",
            "--set",
            "training.strategy=mirrored",
            "--set",
            "training.cpu_devices=2",
            "--pipeline-root",
            str(tmp_path / "pipeline"),
            "--serving-dir",
            str(tmp_path / "serving"),
            "--summary-json",
            str(summary_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    strategy = summary["training"]["strategy"]
    assert strategy["name"] == "mirrored" and strategy["class"] == "MirroredStrategy"
    assert strategy["replicas"] == 2 and len(strategy["devices"]) == 2
    assert summary["training"]["global_batch_size"] == 2 * 32
    assert summary["components"]["Transform"]["state"] == "CACHED"
    assert "MirroredStrategy (mirrored), 2 replica(s)" in result.stdout
    default_accuracy = penguins.summary["metrics"]["accuracy"]["value"]
    assert summary["blessed"] and summary["metrics"]["accuracy"]["value"] >= 0.9
    assert summary["metrics"]["accuracy"]["value"] == pytest.approx(default_accuracy, abs=0.05)
    assert penguins.summary["training"]["strategy"]["name"] == "default"


def test_multi_worker_strategy_on_two_local_processes_trains_and_only_the_chief_exports(penguins, tmp_path):
    config = resolved_config(RECIPE, {"training.epochs": 5, "training.strategy": "multi_worker"})
    ports = free_ports(2)
    workers = []
    for index in range(2):
        spec = trainer_spec(
            penguins.summary,
            config,
            str(tmp_path / f"worker{index}" / "model"),
            str(tmp_path / f"worker{index}" / "run"),
        )
        spec_file = tmp_path / f"worker{index}.json"
        spec_file.write_text(json.dumps(spec))
        tf_config = {
            "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": index},
        }
        log = (tmp_path / f"worker{index}.log").open("w")
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "components.trainer.standalone", str(spec_file)],
                cwd=REPO,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        codes = [worker.wait(timeout=600) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert codes == [0, 0], (tmp_path / "worker0.log").read_text()[-3000:]

    chief_model = tmp_path / "worker0" / "model"
    assert (chief_model / "saved_model.pb").is_file()
    assert not (tmp_path / "worker1").exists()  # the other worker kept nothing
    history = json.loads((tmp_path / "worker0" / "run" / "history.json").read_text())
    assert history["strategy"]["name"] == "multi_worker" and history["strategy"]["replicas"] == 2
    assert history["strategy"]["chief"] and history["global_batch_size"] == 64
    assert history["epochs_run"] == 5
    assert history["history"]["val_loss"][-1] < history["history"]["val_loss"][0]
    assert penguin_accuracy(str(chief_model)) > 0.85


def test_a_killed_trainer_resumes_from_its_last_finished_epoch(penguins, tmp_path):
    """A preempted Trainer pod, as a standalone trainer killed mid-fit (SIGKILL) and started again
    on the same run dir: Keras' BackupAndRestore resumes it after the last backed-up epoch."""
    config = resolved_config(RECIPE, {"training.epochs": 60, "training.early_stopping.enabled": False})
    spec = trainer_spec(penguins.summary, config, str(tmp_path / "model"), str(tmp_path / "run"))
    spec_file = tmp_path / "trainer.json"
    spec_file.write_text(json.dumps(spec))
    command = [sys.executable, "-m", "components.trainer.standalone", str(spec_file)]
    backup = tmp_path / "run" / BACKUP_DIR
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while not list(backup.rglob("checkpoint")) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first.kill()
        first.wait()
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()[-3000:]
    assert not (tmp_path / "model" / "saved_model.pb").exists()  # killed mid-fit: nothing exported

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert 1 < history["first_epoch"] <= 60 and history["epochs_run"] == 60
    assert len(history["history"]["loss"]) == 60 - history["first_epoch"] + 1  # only the epochs run again
    assert not list(backup.rglob("checkpoint"))  # Keras deletes the backup once training ends
    assert penguin_accuracy(str(tmp_path / "model")) > 0.85
