"""A user's own builder in a folder of theirs, outside this package: run, gated, pushed, served,
re-trained when its file changes, and compiled for Kubeflow (docs/own-model.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from components import features
from components.pusher.predict import load_model, predict_raw, read_rows
from conftest import REPO, run_cli

pytestmark = pytest.mark.e2e

EXAMPLE = REPO / "docs" / "examples" / "own_model" / "wide_and_deep.py"
PENGUINS = REPO / "data" / "penguins" / "penguins.csv"
MODULE = "my_wide_and_deep"  # a name no other test module uses: the e2e runs import it in-process


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "my_project"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / f"{MODULE}.py")
    monkeypatch.chdir(folder)
    yield folder
    sys.modules.pop(MODULE, None)


def test_a_builder_in_a_users_folder_trains_gates_pushes_and_retrains_when_changed(user_folder, tmp_path):
    args = ("--data", str(PENGUINS), "--label", "species", "--model", f"{MODULE}:build", "--epochs", "40")
    run = run_cli(tmp_path, *args)
    assert run.exit_code == 0, run.printed
    summary = run.summary
    assert summary["model"] == f"{MODULE}:build" and summary["training"]["model"]["name"] == "wide_and_deep"
    layers = {layer["type"] for layer in summary["training"]["model"]["layers"]}
    assert "Concatenate" in layers  # the user's wide & deep graph, not one of ours
    assert summary["blessed"] is True, run.printed
    outputs = predict_raw(load_model(summary["pushed_model_dir"]), read_rows(str(PENGUINS))[:20])
    assert outputs[features.PROBABILITIES].shape == (20, 3)

    (user_folder / f"{MODULE}.py").write_text(EXAMPLE.read_text() + "\n# a change to the model's code\n")
    rerun = run_cli(tmp_path, *args)
    states = {node: record["state"] for node, record in rerun.summary["components"].items()}
    assert states["Transform"] == "CACHED" and states["Trainer"] == "COMPLETE", states


def test_compile_from_a_users_folder_takes_the_default_recipe_or_their_model(user_folder):
    """The README's compile command, run outside the checkout as a new user runs it."""

    def compile_(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "compile", "--image", "I", "--pipeline-root", "gs://b/p", *args],
            cwd=user_folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads((user_folder / "pipeline.json").read_text()), done.stdout

    job, printed = compile_("--target", "kubeflow")
    assert "gate: loss <= 0.3, accuracy >= 0.9" in printed  # configs/penguins.yaml's bounds
    assert job["runtimeConfig"]["parameterValues"]["data_root"] == "/pipeline/data/penguins"
    job, printed = compile_("--model", f"{MODULE}:build")
    assert f'\\"name\\": \\"{MODULE}:build\\"' in json.dumps(job)
