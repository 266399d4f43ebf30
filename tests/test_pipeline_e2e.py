"""End to end: the CLI runs whole pipelines with BeamDagRunner (and LocalDagRunner) on real data.

One penguins run is shared by the tests below; later fixtures re-run it on the same pipeline
root (cached, then with an impossible bound) and check that the first push stays intact.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components.pusher.predict import load_model, predict_examples, predict_raw, raw_input_dtypes, to_example
from conftest import CSV_PIPELINE_NODES, REPO, Run, cli_in_a_fresh_process, run_cli, tree_digest
from pipeline.commands.cli import main

pytestmark = pytest.mark.e2e

PENGUINS = REPO / "data" / "penguins" / "penguins.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def first_push(penguins) -> dict[str, str]:
    """The first pushed model's files and digests, taken before any later run."""
    return tree_digest(Path(penguins.summary["pushed_model_dir"]))


@pytest.fixture(scope="session")
def cached_rerun(penguins, first_push) -> Run:
    """The same command again, forced past the up-to-date check: TFX's cache serves it."""
    root = penguins.serving_dir.parent
    return run_cli(root, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15", "--force")


@pytest.fixture(scope="session")
def rejected_run(cached_rerun) -> tuple[Run, list[str]]:
    versions_before = sorted(p.name for p in cached_rerun.serving_dir.iterdir())
    run = run_cli(
        cached_rerun.serving_dir.parent,
        "--config",
        str(REPO / "configs" / "penguins.yaml"),
        "--epochs",
        "15",
        "--set",
        "evaluation.max_loss=0.000001",
    )
    return run, versions_before


def test_default_recipe_is_blessed_and_pushed(penguins):
    summary = penguins.summary
    assert penguins.exit_code == 0
    assert summary["blessed"] is True
    pushed = Path(summary["pushed_model_dir"])
    assert pushed.parent == penguins.serving_dir and pushed.name.isdigit()
    assert (pushed / "saved_model.pb").is_file()
    loss, accuracy = summary["metrics"]["loss"], summary["metrics"]["accuracy"]
    assert loss["metric"] == "sparse_categorical_crossentropy" and loss["value"] <= loss["upper_bound"] == 0.3
    assert accuracy["value"] >= accuracy["lower_bound"] == 0.9
    assert loss["passed"] and accuracy["passed"]
    assert 50 <= summary["metrics"]["example_count"] <= 90  # ~1/5 of 344 rows by hash split
    assert summary["metrics"]["split"] == "eval" and summary["training"]["early_stopping_split"] == "validation"
    # The gate's own figures (components/evaluator/gate.py) are TFMA's, on the same eval examples.
    from components.evaluator.evaluation import overall_metrics

    tfma_values = overall_metrics(summary["artifacts"]["evaluation"])
    assert loss["value"] == pytest.approx(tfma_values[("sparse_categorical_crossentropy", False)], abs=1e-6)
    assert accuracy["value"] == pytest.approx(tfma_values[("sparse_categorical_accuracy", False)], abs=1e-6)
    assert summary["metrics"]["example_count"] == tfma_values[("example_count", False)]


def test_every_component_ran_and_was_timed(penguins):
    components = penguins.summary["components"]
    expected = CSV_PIPELINE_NODES
    assert set(components) == expected
    assert all(c["state"] == "COMPLETE" for c in components.values())
    assert components["Trainer"]["seconds"] > 0 and components["Transform"]["seconds"] > 0
    for node in expected:  # the CLI printed a start and a finish line for each, with seconds
        assert f"] {node} started" in penguins.printed
        assert f"] {node} finished in " in penguins.printed
    assert "blessed: yes" in penguins.printed
    inside = Path(penguins.summary["summary_file"])
    assert inside.is_file() and json.loads(inside.read_text())["run_id"] == penguins.summary["run_id"]


def test_training_history_and_tensorboard_logs_are_written(penguins):
    training = penguins.summary["training"]
    history = json.loads(Path(training["history_file"]).read_text())
    assert history["epochs_run"] == training["epochs_run"] <= 15
    assert len(history["history"]["val_loss"]) == history["epochs_run"]
    kept, val_loss = history["kept_epoch"] - 1, history["history"]["val_loss"]
    min_delta = 0.001  # the recipe's early_stopping.min_delta
    # Keras keeps the last epoch that beat the best so far by more than min_delta: no later
    # epoch improves on it by that much, and no epoch is much better.
    assert all(later > val_loss[kept] - min_delta for later in val_loss[kept + 1 :])
    assert val_loss[kept] <= min(val_loss) + min_delta
    # early stopping watched the validation split, the gate the eval split: two figures
    assert training["early_stopping_split"] == "validation"
    assert penguins.summary["metrics"]["loss"]["value"] != pytest.approx(
        training["kept_epoch_metrics"]["val_loss"], rel=0.02
    )
    assert list(Path(training["tensorboard_dir"]).rglob("events.out.tfevents.*"))


def test_pushed_model_serves_raw_csv_rows_through_both_signatures(penguins):
    model = load_model(penguins.summary["pushed_model_dir"])
    rows = read_rows(PENGUINS)
    assert any(not row["sex"] for row in rows) and any(not row["bill_length_mm"] for row in rows)
    by_example = predict_examples(model, rows)
    by_tensor = predict_raw(model, rows)
    np.testing.assert_allclose(
        by_example[features.PROBABILITIES], by_tensor[features.PROBABILITIES], rtol=1e-5, atol=1e-6
    )
    classes = [c.decode() for c in by_example[features.CLASSES]]
    assert set(classes) <= {"Adelie", "Chinstrap", "Gentoo"}
    accuracy = np.mean([predicted == row["species"] for predicted, row in zip(classes, rows)])
    assert accuracy > 0.9
    assert "species" not in raw_input_dtypes(model)  # the label is not a serving input


def test_served_outputs_name_every_class_in_id_order(penguins):
    model_dir = Path(penguins.summary["pushed_model_dir"])
    names = penguins.summary["classes"]
    assert sorted(names) == ["Adelie", "Chinstrap", "Gentoo"]
    assert (model_dir / "assets" / features.CLASS_NAMES_ASSET).read_text().splitlines() == names
    outputs = predict_raw(load_model(str(model_dir)), read_rows(PENGUINS)[:5])
    assert [[name.decode() for name in row] for row in outputs[features.CLASS_NAMES]] == [names] * 5
    predicted = [names[class_id] for class_id in outputs[features.CLASS_IDS]]
    assert predicted == [name.decode() for name in outputs[features.CLASSES]]
    column_of_top = np.argmax(outputs[features.PROBABILITIES], axis=1)
    assert [names[column] for column in column_of_top] == predicted


def test_numeric_columns_take_ints_and_floats(penguins):
    """`year` is an integer column, the measurements float ones: Python numbers of either kind go
    to `serving_raw`; tensors of any int or float dtype to `serve_columns`."""
    model = load_model(penguins.summary["pushed_model_dir"])
    rows = [row for row in read_rows(PENGUINS) if all(row.values())][:4]
    dtypes = raw_input_dtypes(model)
    expected = predict_raw(model, rows)[features.PROBABILITIES]

    def column(name: str, number: type) -> list:
        return [row[name] if dtypes[name] == tf.string else number(float(row[name])) for row in rows]

    signature = model.signatures[features.SERVING_RAW_SIGNATURE]
    for number in (int, float):  # ints for every numeric column: the measurements lose their decimals
        served = signature(**{name: column(name, number) for name in dtypes})[features.PROBABILITIES]
        if number is float:
            np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)
    serve_columns = getattr(model, features.SERVE_COLUMNS_FUNCTION)
    as_python = {name: tf.constant(column(name, int if dtypes[name] == tf.float64 else float)) for name in dtypes}
    assert as_python["year"].dtype == tf.int32 and as_python["bill_length_mm"].dtype == tf.float32
    as_numpy = {
        name: tf.constant(np.array(column(name, float if dtypes[name] == tf.float32 else int))) for name in dtypes
    }
    assert as_numpy["year"].dtype == tf.int64 and as_numpy["bill_length_mm"].dtype == tf.float64
    for columns in (as_python, as_numpy):
        np.testing.assert_allclose(serve_columns(columns)[features.PROBABILITIES], expected, rtol=1e-5, atol=1e-6)


def test_predict_command_reads_csv_and_json_rows(penguins, tmp_path):
    rows = read_rows(PENGUINS)[:2]
    (tmp_path / "rows.csv").write_text(
        PENGUINS.read_text().splitlines()[0] + "\n" + "\n".join(PENGUINS.read_text().splitlines()[1:3]) + "\n"
    )
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(row) for row in rows))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "predict",
                "--model",
                penguins.summary["pushed_model_dir"],
                str(tmp_path / "rows.csv"),
                str(tmp_path / "rows.jsonl"),
            ]
        )
    assert code == 0
    lines = printed.getvalue().splitlines()[1:]
    expected = predict_raw(load_model(penguins.summary["pushed_model_dir"]), rows)[features.CLASSES]
    assert [line.split(": ")[0] for line in lines] == [
        f"{tmp_path / 'rows.csv'}:1",
        f"{tmp_path / 'rows.csv'}:2",
        f"{tmp_path / 'rows.jsonl'}:1",
        f"{tmp_path / 'rows.jsonl'}:2",
    ]
    assert [line.split(": ")[1].split(" (")[0] for line in lines] == [c.decode() for c in expected] * 2
    assert all("(probability " in line for line in lines)


def test_saved_model_cli_runs_both_signatures_as_documented(penguins):
    """The `saved_model_cli run` commands of docs/serving.md, verbatim, on the pushed model."""
    text = (REPO / "docs" / "serving.md").read_text().replace("\\\n", " ")
    commands = [shlex.split(line) for line in text.splitlines() if line.startswith("saved_model_cli run")]
    assert len(commands) == 2
    tool = str(Path(sys.executable).parent / "saved_model_cli")
    for command in commands:
        command = [tool] + [penguins.summary["pushed_model_dir"] if arg == "$MODEL" else arg for arg in command[1:]]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Result for output key classes:\n[b'Adelie']" in done.stdout
        assert "Result for output key class_names:\n[[b'" in done.stdout


def test_predict_refuses_a_missing_column_unless_allowed_and_names_a_bad_cell(penguins, tmp_path, capsys):
    lines = PENGUINS.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("island")
    without_island = tmp_path / "no_island.csv"
    without_island.write_text(
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines[:4])
    )
    model = penguins.summary["pushed_model_dir"]
    assert main(["predict", "--model", model, str(without_island)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"input error: {without_island}: no column 'island', which the model takes; add it, or pass")
    assert main(["predict", "--model", model, "--allow-missing", str(without_island)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 + 3
    assert f"warning: {without_island}: no column 'island': predicted as missing in every row" in err
    bad_cell = tmp_path / "bad_cell.csv"
    rows = lines[:4]
    cells = rows[2].split(",")
    cells[header.index("bill_length_mm")] = "forty"
    bad_cell.write_text("\n".join([*rows[:2], ",".join(cells), rows[3]]))
    assert main(["predict", "--model", model, str(bad_cell)]) == 2
    err = capsys.readouterr().err
    assert f"input error: {bad_cell} line 3, column 'bill_length_mm': 'forty' is not a number" in err


def test_pushed_model_agrees_with_the_trainers_keras_model(penguins):
    artifacts = penguins.summary["artifacts"]
    transform_output = tft.TFTransformOutput(artifacts["transform_graph"])
    keras_model = tf.keras.models.load_model(str(Path(artifacts["model"]) / "Format-Serving"))
    rows = read_rows(PENGUINS)[:40]
    serving = load_model(penguins.summary["pushed_model_dir"])
    raw_spec = {k: v for k, v in transform_output.raw_feature_spec().items() if k != "species"}
    dtypes = raw_input_dtypes(serving)
    examples = tf.constant([to_example(row, dtypes).SerializeToString() for row in rows])
    transformed = transform_output.transform_features_layer()(tf.io.parse_example(examples, raw_spec))
    expected = keras_model({name: transformed[name] for name in keras_model.input_names}).numpy()
    np.testing.assert_allclose(predict_examples(serving, rows)[features.PROBABILITIES], expected, rtol=1e-5, atol=1e-6)


def test_a_second_identical_run_is_served_from_cache(cached_rerun, first_push, penguins):
    components = cached_rerun.summary["components"]
    assert cached_rerun.exit_code == 0
    for node in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer"):
        assert components[node]["state"] == "CACHED", node
    assert cached_rerun.summary["blessed"] is True  # the same model is no worse than itself
    assert tree_digest(Path(penguins.summary["pushed_model_dir"])) == first_push


def test_the_same_command_again_is_up_to_date_at_once_and_pushes_nothing(penguins, first_push, tmp_path):
    """The penguins run's command in a fresh process: it names the run it matches, imports no
    TensorFlow, TFX or Beam (so it answers in a fraction of a second: bench/fast_answers.py), and
    the serving dir is as it was."""
    root = penguins.serving_dir.parent
    versions = sorted(p.name for p in penguins.serving_dir.iterdir())
    summary_file = tmp_path / "again.json"
    done, result = cli_in_a_fresh_process(
        *("run", "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15"),
        *("--pipeline-root", str(root / "pipeline"), "--serving-dir", str(penguins.serving_dir)),
        *("--summary-json", str(summary_file)),
    )
    assert result == "RESULT 0 []", done.stdout + done.stderr
    matched = json.loads(summary_file.read_text())
    assert f"pipeline penguins: up to date with run {matched['run_id']}: " in done.stdout
    assert matched["run_id"] in {penguins.summary["run_id"]} | {p.name for p in (root / "pipeline" / "runs").iterdir()}
    assert Path(matched["pushed_model_dir"]).parent == penguins.serving_dir
    assert f"  blessed: yes\n  pushed: {matched['pushed_model_dir']}" in done.stdout
    assert f"  report: {Path(matched['summary_file']).parent / 'report.html'}" in done.stdout
    assert sorted(p.name for p in penguins.serving_dir.iterdir()) == versions


def test_an_impossible_bound_blesses_nothing_and_pushes_nothing(rejected_run, first_push, penguins):
    run, versions_before = rejected_run
    assert run.exit_code == 0  # the run completed; the summary says the model was refused
    assert run.summary["blessed"] is False
    assert run.summary["pushed_model_dir"] is None
    assert run.summary["metrics"]["loss"]["passed"] is False
    assert run.summary["metrics"]["loss"]["upper_bound"] == 0.000001
    assert sorted(p.name for p in run.serving_dir.iterdir()) == versions_before
    assert tree_digest(Path(penguins.summary["pushed_model_dir"])) == first_push


def test_binary_recipe_with_the_local_runner(tmp_path):
    run = run_cli(
        tmp_path, "--config", str(REPO / "configs" / "breast_cancer.yaml"), "--epochs", "30", "--runner", "local"
    )
    assert run.exit_code == 0
    assert run.summary["blessed"] is True, run.summary["metrics"]
    assert run.summary["metrics"]["accuracy"]["metric"] == "binary_accuracy"
    assert run.summary["metrics"]["accuracy"]["value"] >= 0.9
    model = load_model(run.summary["pushed_model_dir"])
    rows = read_rows(REPO / "data" / "breast_cancer" / "breast_cancer.csv")[:50]
    outputs = predict_raw(model, rows)
    assert outputs[features.PROBABILITIES].shape == (50, 1)
    predicted = [c.decode() for c in outputs[features.CLASSES]]
    assert np.mean([p == row["diagnosis"] for p, row in zip(predicted, rows)]) > 0.85
    # the report's binary section: the 2x2 matrix at threshold 0.5 and the precision-recall curve
    page = Path(run.summary["report_file"]).read_text()
    assert re.findall(r'<img class="chart" alt="([^"]+)"', page) == [
        "learning curves",
        "confusion matrix",
        "precision-recall curve",
    ]
    support = [
        float(x)
        for x in re.findall(
            r"<tr><td>(?:benign|malignant)</td>(?:<td[^>]*>[^<]*</td>){2}<td[^>]*>([\d.]+)</td></tr>", page
        )
    ]
    assert sum(support) == run.summary["metrics"]["example_count"]


def test_regression_recipe_reports_mae_in_grams(tmp_path):
    run = run_cli(tmp_path, "--config", str(REPO / "configs" / "penguins_body_mass.yaml"), "--epochs", "60")
    assert run.exit_code == 0
    loss = run.summary["metrics"]["loss"]
    assert loss["metric"] == "mean_absolute_error"
    assert loss["value"] < 400, loss  # grams; predicting the mean gives ~650
    assert run.summary["blessed"] is True
    model = load_model(run.summary["pushed_model_dir"])
    rows = [row for row in read_rows(PENGUINS) if row["body_mass_g"]][:30]
    predictions = predict_examples(model, rows)[features.PREDICTIONS][:, 0]
    errors = np.abs(predictions - np.array([float(row["body_mass_g"]) for row in rows]))
    assert errors.mean() < 500


def test_example_validator_findings_are_in_the_summary(penguins):
    # the shipped penguins data matches the schema inferred from it: no anomalies, both splits read
    assert penguins.summary["anomalies"] == {"train": [], "validation": [], "eval": []}


# Recipes not run above: each must run end to end and push. Two epochs cannot reach the
# recipes' bounds, so the bounds are lifted here (a loss bound no model misses).
SMOKE_RECIPES = [
    "linear_flipper",
    "linear_measurements",
    "wine_dropout_batchnorm",
    "wine_batchnorm_input",
    "digits_mlp",
]


@pytest.mark.parametrize("recipe", SMOKE_RECIPES)
def test_tabular_recipe_runs_end_to_end_and_pushes(recipe, tmp_path):
    config = REPO / "configs" / f"{recipe}.yaml"
    run = run_cli(
        tmp_path,
        "--config",
        str(config),
        "--epochs",
        "2",
        "--set",
        "evaluation.max_loss=1000000000.0",
        "--set",
        "evaluation.min_accuracy=null",
    )
    assert run.exit_code == 0
    assert run.summary["blessed"] is True and run.summary["pushed_model_dir"]
    assert run.summary["training"]["epochs_run"] <= 2
    model = load_model(run.summary["pushed_model_dir"])
    rows = read_rows(Path(run.summary["data"]))[:5]
    outputs = predict_raw(model, rows)
    key = features.PREDICTIONS if run.summary["task"] == "regression" else features.PROBABILITIES
    assert outputs[key].shape[0] == 5 and np.isfinite(outputs[key]).all()
    if recipe.startswith("linear"):
        line = run.summary["training"]["linear"]
        assert (
            set(line["raw"]["weights"]) == set(line["standardized"]["weights"])
            and "flipper_length_mm" in line["raw"]["weights"]
        )
        assert "linear unit (CSV units): y = " in run.printed
        page = Path(run.summary["report_file"]).read_text()
        assert "<h2>Linear unit</h2>" in page and f"{line['raw']['bias']:.6g}" in page
        # the reported CSV-unit line is exactly what the served model computes
        complete = [row for row in read_rows(PENGUINS) if all(row[c] for c in line["raw"]["weights"])][:10]
        served = predict_raw(model, complete)[features.PREDICTIONS][:, 0]
        by_line = [
            line["raw"]["bias"] + sum(w * float(row[c]) for c, w in line["raw"]["weights"].items()) for row in complete
        ]
        np.testing.assert_allclose(served, by_line, rtol=1e-4)


def test_a_one_row_sweep_writes_the_markdown_table(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"recipe: {REPO / 'configs' / 'digits_mlp.yaml'}\n"
        "rows:\n  - {name: 32-32-32, hidden_units: [32, 32], regularizer: dropout, optimizer: rmsprop}\n"
    )
    table = tmp_path / "table.md"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "sweep",
                "--sweep",
                str(sweep),
                "--epochs",
                "2",
                "--output",
                str(table),
                "--set",
                f"output.pipeline_root={tmp_path / 'digits' / 'pipeline'}",
            ]
        )
    assert code == 0
    text = table.read_text()
    assert "| Layers | Topology | Regularizer | Optimizer | Train Accuracy | Test Accuracy | Seconds |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 32-32-32 "))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1:4] == ["64→32→32→10", "Dropout(0.45)", "RMSprop"]
    assert all(cell.endswith("%") and 0 < float(cell[:-1]) <= 100 for cell in cells[4:6])
    assert (tmp_path / "digits" / "sweep" / "pipeline" / "metadata.sqlite").is_file()


def test_bad_input_found_inside_a_component_exits_2_with_one_message(tmp_path, capsys):
    # Only the Trainer can see that the label has three classes: it fails, nothing is pushed.
    run = run_cli(
        tmp_path,
        "--config",
        str(REPO / "configs" / "penguins.yaml"),
        "--task",
        "binary",
        "--set",
        "evaluation.min_accuracy=null",
    )
    err = capsys.readouterr().err
    assert run.exit_code == 2
    assert "input error: task binary needs a label with exactly 2 classes; the training data has 3" in err
    assert "Traceback" not in err and err.count("\n") <= 2
    assert not (tmp_path / "serving").exists()


def test_a_users_own_csv_runs_with_only_data_label_and_task(tmp_path):
    """No recipe: columns are inferred (numbers, text, an integer column, missing cells)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(240):
        x1, x2 = rng.normal(10, 3), rng.normal(-5, 2)
        color = ["red", "green", "blue"][i % 3]
        price = 3 * x1 - 2 * x2 + (8 if color == "red" else 0) + rng.normal(0, 0.5)
        rows.append([f"{x1:.3f}" if i % 17 else "", f"{x2:.3f}", color if i % 23 else "", i % 5, f"{price:.2f}"])
    data = tmp_path / "my_shop.csv"
    with data.open("w", newline="") as f:
        csv.writer(f).writerows([["size", "weight", "color", "shelf", "price"], *rows])
    run = run_cli(tmp_path, "--data", str(data), "--label", "price", "--task", "regression", "--epochs", "40")
    assert run.exit_code == 0
    summary = run.summary
    assert (summary["pipeline"], summary["model"], summary["task"]) == ("my_shop", "mlp_regressor", "regression")
    # no bound configured: the gate's default bar is the loss of predicting the median price
    prices = sorted(float(row[-1]) for row in rows)
    median_error = np.mean(np.abs(np.array(prices) - prices[len(prices) // 2]))
    assert summary["metrics"]["loss"]["upper_bound"] == pytest.approx(median_error)
    assert "no evaluation.max_loss set: the loss must beat a model that ignores the features" in run.printed
    assert summary["blessed"] is True and summary["pushed_model_dir"]
    model = load_model(summary["pushed_model_dir"])
    assert raw_input_dtypes(model) == {
        "size": tf.float32,
        "weight": tf.float32,
        "color": tf.string,
        "shelf": tf.float64,
    }
    served = predict_examples(model, read_rows(data)[:40])[features.PREDICTIONS][:, 0]
    truth = np.array([float(row["price"]) for row in read_rows(data)[:40]])
    assert np.mean(np.abs(served - truth)) < 0.5 * np.mean(np.abs(truth - truth.mean()))  # beats the mean


def penguins_with(tmp_path: Path, name: str, change) -> Path:
    """The penguins CSV with `change(header, rows)` applied."""
    with PENGUINS.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    header, rows = change(header, rows)
    path = tmp_path / name
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def test_a_frozen_schema_passes_matching_data_and_stops_a_changed_column(penguins, tmp_path, capsys, earlier_push):
    schema = penguins.summary["artifacts"]["schema"]
    assert Path(schema).name == "schema.pbtxt" and Path(schema).is_file()
    frozen = ("--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15", "--set", f"data.schema={schema}")

    same = run_cli(tmp_path / "same", *frozen)
    assert same.exit_code == 0 and same.summary["blessed"], same.printed
    assert "AnomaliesGate" in same.summary["components"] and "SchemaGen" not in same.summary["components"]

    added = penguins_with(tmp_path, "added.csv", lambda h, rows: (h + ["tag"], [r + ["x"] for r in rows]))
    dropped = penguins_with(tmp_path, "dropped.csv", lambda h, rows: (h[:-1], [r[:-1] for r in rows]))
    for data, finding in ((added, "tag: New column"), (dropped, "year: Column dropped")):
        serving, digests = earlier_push
        shutil.copytree(serving, tmp_path / data.stem / "serving")
        capsys.readouterr()
        run = run_cli(tmp_path / data.stem, *frozen, "--data", str(data))
        err = capsys.readouterr().err
        assert run.exit_code == 2, err
        assert "input error: the data does not match the frozen schema (data.schema):" in err
        assert f"train data: {finding}" in err
        assert tree_digest(run.serving_dir) == digests  # stopped before Transform: the earlier model as it was
