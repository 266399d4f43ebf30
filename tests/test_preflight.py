"""Preflight: the recipe a command reads, where it reads the data, and the gate's default bounds."""

from __future__ import annotations

import os

import pytest

from components.evaluator.trivial_model import default_min_accuracy
from conftest import REPO, write_csv
from pipeline.commands import preflight, terminal
from pipeline.commands.preflight import UpToDate, inputs_fingerprint, prepare, record_completed_run
from pipeline.config.recipe import DEFAULT_RECIPE, load
from pipeline.config.resolve import positive_class, resolved_config
from pipeline.runs.summary import RunSummary

SHIPPED_PENGUINS = str(REPO / "data" / "penguins" / "penguins.csv")


def test_the_default_accuracy_bar_beats_the_majority_class_by_a_tenth_of_its_errors():
    assert default_min_accuracy({"a": 3, "b": 1}) == pytest.approx(0.75 + 0.1 * 0.25)
    assert default_min_accuracy({"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}) == pytest.approx(0.4977, abs=1e-4)


def test_a_users_classification_csv_gets_a_default_accuracy_bar_and_it_is_printed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "mine.csv", ["x", "y"], [[i, "a" if i % 4 else "b"] for i in range(40)])
    prepared = prepare(None, {"data.path": str(data), "data.label": "y", "data.task": "binary"}).resolved
    assert prepared.computed_bound and prepared.computed_accuracy
    assert prepared.config.evaluation.min_accuracy == pytest.approx(0.75 + 0.1 * 0.25)
    banner = terminal.run_banner(prepared)
    assert "gate: loss <= 0.5623, accuracy >= 0.775" in banner
    assert "no evaluation.min_accuracy set: the accuracy must beat always guessing the most frequent class" in banner


def test_a_set_accuracy_bound_is_kept_and_regression_gets_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "mine.csv", ["x", "y"], [[i, "a" if i % 4 else "b"] for i in range(40)])
    kept = prepare(None, {"data.path": str(data), "data.label": "y", "evaluation.min_accuracy": 0.6}).resolved
    assert kept.config.evaluation.min_accuracy == 0.6 and not kept.computed_accuracy
    regression = prepare(None, {"data.path": str(data), "data.label": "x", "data.task": "regression"}).resolved
    assert regression.config.evaluation.min_accuracy is None and not regression.computed_accuracy


def test_bounds_print_alike_before_the_run_in_its_summary_and_when_compiled():
    bound = 1.049234567
    assert terminal.bound_text(bound) == "1.049"
    summary_line = terminal.format_summary(
        RunSummary.from_json(
            {
                "pipeline": "p",
                "run_id": "r",
                "task": "multiclass",
                "model": "mlp_classifier",
                "data": "d.csv",
                "wall_seconds": 1.0,
                "metrics": {"loss": {"metric": "m", "value": 0.5, "upper_bound": bound, "passed": True}},
                "blessed": True,
                "pushed_model_dir": "/x",
                "summary_file": "/s",
            }
        )
    )
    assert "[bound <= 1.049]" in summary_line
    config = resolved_config(DEFAULT_RECIPE, {"evaluation.max_loss": bound})
    assert terminal.gate_text(config.data.task, config.evaluation) == (
        "loss <= 1.049, accuracy >= 0.9; no regression beyond chance (95%) on loss, accuracy"
    )


@pytest.mark.parametrize("command", ["run", "compile"])
def test_without_a_recipe_or_data_run_and_compile_read_the_default_recipe_from_any_directory(
    command, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # outside the checkout: the shipped data is found in it
    overrides = {"runner.kind": "kubeflow", "output.pipeline_root": "gs://b/p"} if command == "compile" else {}
    prepared = prepare(None, overrides)
    config = prepared.config
    assert (config.name, config.model.hidden_units) == ("penguins", [32, 16])
    assert (config.evaluation.max_loss, config.evaluation.min_accuracy) == (0.3, 0.9)
    expected = "/pipeline/data/penguins/penguins.csv" if command == "compile" else SHIPPED_PENGUINS
    assert config.data.path == expected
    assert prepared.resolved.local_data == SHIPPED_PENGUINS  # read here, from this checkout


def test_data_given_alone_uses_the_built_in_defaults_not_the_default_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = prepare(None, {"data.path": SHIPPED_PENGUINS}).config
    assert config.model.name == "mlp_classifier" and config.model.hidden_units == [64, 32]
    assert config.evaluation.max_loss == pytest.approx(1.0492, abs=1e-4)  # the class frequencies' entropy


def test_the_inputs_fingerprint_sees_data_config_code_and_production_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "mine.csv", ["x", "y"], [[i, "a" if i % 4 else "b"] for i in range(40)])
    overrides = {"data.path": str(data), "data.label": "y"}
    recipe = load(None, overrides)
    first = inputs_fingerprint(recipe)
    assert first == inputs_fingerprint(load(None, overrides))  # the same inputs again
    assert inputs_fingerprint(load(None, {**overrides, "training.epochs": 5})) != first
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))  # a new modification
    assert inputs_fingerprint(recipe) != first
    touched = inputs_fingerprint(recipe)
    (tmp_path / "output" / "mine" / "serving" / "1795000000").mkdir(parents=True)  # a push since
    assert inputs_fingerprint(recipe) != touched
    on_s3 = load(None, {**overrides, "output.pipeline_root": "s3://bucket/root"})
    assert inputs_fingerprint(on_s3) is None


def test_a_completed_runs_inputs_make_the_same_command_up_to_date_unless_forced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "mine.csv", ["x", "y"], [[i, "a" if i % 4 else "b"] for i in range(40)])
    overrides = {"data.path": str(data), "data.label": "y"}
    prepared = prepare(None, overrides)
    assert prepared.up_to_date is None
    summary_file = tmp_path / "output" / "mine" / "pipeline" / "runs" / "r1" / "summary.json"
    summary_file.parent.mkdir(parents=True)
    summary_file.write_text("{}")
    summary = RunSummary("mine", "r1", "binary", "binary_classifier", str(data), summary_file=str(summary_file))
    record_completed_run(prepared, summary)
    again = prepare(None, overrides)
    assert again.up_to_date == UpToDate("r1", str(summary_file)) and again.resolved is None  # the data was not read
    assert prepare(None, overrides, force=True).up_to_date is None
    assert prepare(None, {**overrides, "training.epochs": 5}).up_to_date is None


def test_the_positive_class_is_the_second_listed_or_the_less_frequent_label():
    from collections import Counter

    assert positive_class(["benign", "malignant"], None) == "malignant"
    assert positive_class([], Counter({"B": 357, "M": 212})) == "M"
    assert "equally frequent: set data.classes" in positive_class([], Counter({"x": 3, "y": 3}))
    banner = terminal.run_banner(
        preflight.prepare(str(REPO / "configs" / "breast_cancer.yaml"), {}, force=True).resolved
    )
    assert "  positive class (probability 1, precision/recall/F1): malignant" in banner
    assert "  judged on the eval split (about 114 rows), unseen in training" in banner
