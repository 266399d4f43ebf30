"""The run report from hand-made artifacts: statistics, TFMA plots, history, summary -> HTML."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from tensorflow_metadata.proto.v0 import statistics_pb2
from tensorflow_model_analysis.proto import metrics_for_slice_pb2

from pipeline.runs import charts, report
from pipeline.runs.summary import RunSummary


def write_statistics(uri: Path) -> None:
    """A train split of 10 examples: a float column with 2 empty CSV cells, a string column."""
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(num_examples=10)
    weight = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.FLOAT)
    weight.path.step.append("weight_kg")
    weight.num_stats.mean, weight.num_stats.std_dev = 4.5, 1.25
    weight.num_stats.min, weight.num_stats.max = 1.0, 9.0
    weight.num_stats.common_stats.num_non_missing = 10
    weight.num_stats.common_stats.max_num_values = 1
    weight.num_stats.common_stats.tot_num_values = 8
    color = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
    color.path.step.append("<b>color</b>")
    color.string_stats.unique = 2
    color.string_stats.common_stats.num_missing = 1
    color.string_stats.common_stats.num_non_missing = 9
    color.string_stats.common_stats.max_num_values = 1
    color.string_stats.common_stats.tot_num_values = 9
    color.string_stats.top_values.add(value="red", frequency=6)
    color.string_stats.top_values.add(value="blue", frequency=3)
    image = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
    image.path.step.append("image")
    image.string_stats.unique, image.string_stats.avg_length = 10, 312.5
    image.string_stats.common_stats.num_non_missing = 10
    image.string_stats.top_values.add(value="__BYTES_VALUE__", frequency=1)
    (uri / "Split-train").mkdir(parents=True)
    (uri / "Split-train" / "FeatureStats.pb").write_bytes(statistics.SerializeToString())


def write_multiclass_plot(uri: Path, entries: list[tuple[int, int, float]]) -> None:
    import tensorflow as tf

    plots = metrics_for_slice_pb2.PlotsForSlice()
    for model_name in ("", "baseline"):
        entry = plots.plot_keys_and_values.add()
        entry.key.name = "multi_class_confusion_matrix_plot"
        entry.key.model_name = model_name
        matrix = entry.value.multi_class_confusion_matrix_at_thresholds.matrices.add(threshold=0.0)
        for actual, predicted, count in entries if model_name == "" else [(0, 0, 99.0)]:
            matrix.entries.add(actual_class_id=actual, predicted_class_id=predicted, num_weighted_examples=count)
    uri.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(uri / "plots-00000-of-00001.tfrecord")) as writer:
        writer.write(plots.SerializeToString())


def png_pixels(data_uri: str) -> Image.Image:
    assert data_uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("RGB")


def distinct_colors(image: Image.Image) -> int:
    return len(image.getcolors(maxcolors=1 << 20) or [])


def test_feature_statistics_count_empty_cells_as_missing_and_list_top_values(tmp_path):
    write_statistics(tmp_path)
    rows = {row["name"]: row for row in report.feature_statistics(str(tmp_path))["train"]}
    assert rows["weight_kg"] == {
        "name": "weight_kg",
        "type": "float",
        "count": 10,
        "missing": 2,
        "mean": 4.5,
        "std": 1.25,
        "min": 1.0,
        "max": 9.0,
    }
    assert rows["<b>color</b>"]["missing"] == 1
    assert rows["<b>color</b>"]["top"] == [("red", 6.0), ("blue", 3.0)]
    assert rows["image"]["avg_bytes"] == 312.5 and "top" not in rows["image"]  # encoded images


def test_multiclass_confusion_matrix_is_read_for_the_candidate_not_the_baseline(tmp_path):
    write_multiclass_plot(tmp_path, [(0, 0, 5.0), (0, 1, 1.0), (1, 1, 4.0), (2, 2, 3.0), (2, 0, 2.0)])
    results = report.classification_results(str(tmp_path), "multiclass")
    assert results["matrix"] == [[5.0, 1.0, 0.0], [0.0, 4.0, 0.0], [2.0, 0.0, 3.0]]


def test_binary_plot_gives_the_matrix_at_one_half_and_the_precision_recall_curve():
    plot = metrics_for_slice_pb2.ConfusionMatrixAtThresholds()
    for threshold, tp, fp, tn, fn in [(0.0, 10, 10, 0, 0), (0.49, 9, 2, 8, 1), (0.51, 8, 1, 9, 2), (1.0, 0, 0, 10, 10)]:
        plot.matrices.add(
            threshold=threshold,
            true_positives=tp,
            false_positives=fp,
            true_negatives=tn,
            false_negatives=fn,
            precision=tp / (tp + fp) if tp + fp else 1.0,
            recall=tp / 10,
        )
    results = report._binary_matrix(plot)
    assert results["matrix"] == [[8, 2], [1, 9]]  # threshold 0.49 is nearest to 0.5
    assert results["pr_curve"] == [(1.0, 0.5), (0.9, 9 / 11), (0.8, 8 / 9)]  # no point without predictions


def test_per_class_precision_and_recall():
    scores = report.per_class_scores([[5, 1, 0], [0, 4, 0], [2, 0, 3]])
    assert scores[0] == {"precision": 5 / 7, "recall": 5 / 6, "support": 6}
    assert scores[1]["precision"] == 0.8 and scores[1]["recall"] == 1.0
    assert report.per_class_scores([[0, 0], [1, 0]])[1]["precision"] is None  # class 1 never predicted


def test_learning_curves_and_confusion_matrix_are_real_pngs():
    history = {
        "loss": [1.0, 0.5, 0.4, 0.45],
        "val_loss": [1.1, 0.6, 0.5, 0.55],
        "accuracy": [0.5, 0.8, 0.9, 0.9],
        "val_accuracy": [0.4, 0.7, 0.8, 0.8],
    }
    curves = png_pixels(charts.learning_curves(history, kept_epoch=3, stopped_early=True, metric="accuracy"))
    assert curves.width > 2 * curves.height  # loss and accuracy side by side
    assert distinct_colors(curves) > 50
    matrix = png_pixels(charts.confusion_matrix([[5, 1], [0, 4]], ["cat", "dog"]))
    assert distinct_colors(matrix) > 50


def summary_for(tmp_path: Path, task: str = "multiclass", **extra) -> RunSummary:
    """A run's summary as summary.json holds it, read into the typed record the report takes."""
    run_dir = tmp_path / "pipeline" / "runs" / "20261125-120000.000001"
    run_dir.mkdir(parents=True)
    history_file = tmp_path / "history.json"
    history_file.write_text(
        json.dumps(
            {
                "history": {
                    "loss": [1.0, 0.5, 0.4, 0.45],
                    "val_loss": [1.1, 0.6, 0.5, 0.55],
                    "accuracy": [0.5, 0.8, 0.9, 0.9],
                    "val_accuracy": [0.4, 0.7, 0.8, 0.8],
                }
            }
        )
    )
    write_statistics(tmp_path / "statistics")
    write_multiclass_plot(tmp_path / "evaluation", [(0, 0, 5.0), (0, 1, 1.0), (1, 1, 4.0), (2, 2, 3.0), (2, 0, 2.0)])
    return RunSummary.from_json(
        {
            "pipeline": "animals",
            "run_id": "20261125-120000.000001",
            "task": task,
            "model": "mlp_classifier",
            "data": "/data/animals.csv",
            "classes": ["cat", "dog", "<emu>"],
            "blessed": True,
            "pushed_model_dir": "/serving/animals/1795600000",
            "metrics": {
                "loss": {
                    "metric": "sparse_categorical_crossentropy",
                    "value": 0.3125,
                    "baseline": 0.3500,
                    "upper_bound": 0.9,
                    "baseline_tolerance": 0.0,
                    "passed": True,
                },
                "accuracy": {
                    "metric": "sparse_categorical_accuracy",
                    "value": 0.75,
                    "baseline": None,
                    "lower_bound": 0.8,
                    "baseline_tolerance": 0.0,
                    "passed": False,
                },
                "example_count": 15.0,
            },
            "anomalies": {"train": ["color: Unexpected string values"], "eval": []},
            "images": None,
            "training": {
                "model": {
                    "name": "mlp_classifier",
                    "parameters": 1187,
                    "layers": [{"name": "dense_0", "type": "Dense", "parameters": 608}],
                },
                "linear": None,
                "epochs_run": 4,
                "kept_epoch": 3,
                "stopped_early": True,
                "strategy": {"class": "MirroredStrategy", "name": "mirrored", "replicas": 2},
                "global_batch_size": 64,
                "fit_seconds": 3.5,
                "history_file": str(history_file),
                "tensorboard_dir": "/logs",
            },
            "artifacts": {"statistics": str(tmp_path / "statistics"), "evaluation": str(tmp_path / "evaluation")},
            "components": {"Trainer": {"state": "COMPLETE", "seconds": 7.5}},
            "summary_file": str(run_dir / "summary.json"),
            **extra,
        }
    )


def test_report_holds_gate_curves_classification_model_and_data(tmp_path):
    path = report.write_report(summary_for(tmp_path))
    assert Path(path).name == "report.html" and Path(path).parent.name == "20261125-120000.000001"
    page = Path(path).read_text()
    # the gate: each metric, its threshold, value, baseline and verdict
    assert re.search(
        r"loss \(sparse_categorical_crossentropy\)</td><td[^>]*>&le; 0.9</td>"
        r"<td[^>]*>0.3125</td><td[^>]*>0.3500</td>",
        page,
    )
    assert "none yet (nothing pushed)" in page and '<span class="fail">FAIL</span>' in page
    assert "Training stopped early at epoch 4; the weights of epoch 3 were kept" in page
    # charts: learning curves and the confusion matrix, both inline PNGs
    images = re.findall(r'<img class="chart" alt="([^"]+)" src="([^"]+)"', page)
    assert [alt for alt, _ in images] == ["learning curves", "confusion matrix"]
    assert all(distinct_colors(png_pixels(uri)) > 50 for _, uri in images)
    # per-class precision/recall with the configured class names, escaped
    assert '<td>&lt;emu&gt;</td><td class="number">1.0000</td><td class="number">0.6000</td>' in page
    # model, strategy and the pushed version
    assert "MirroredStrategy (mirrored)" in page and "1,187" in page and "/serving/animals/1795600000" in page
    # data statistics and anomalies, with feature names escaped
    assert "&lt;b&gt;color&lt;/b&gt;" in page and "<b>color</b>" not in page
    assert "2 unique: red (6), blue (3)" in page
    assert "color: Unexpected string values" in page
    # self-contained: nothing is fetched from anywhere
    assert not re.search(r'(src|href)="(?!data:)', page)


def test_report_of_a_linear_unit_lists_its_weights_and_bias(tmp_path):
    summary = summary_for(tmp_path, task="regression", classes=None)
    summary.training.linear = {
        "output": "prediction",
        "raw": {"weights": {"flipper_length_mm": 52.38}, "bias": -6333.0},
        "standardized": {"weights": {"flipper_length_mm": 736.1}, "bias": 4200.5},
    }
    page = report.render_report(summary)
    assert '<td>flipper_length_mm</td><td class="number">52.38</td><td class="number">736.1</td>' in page
    assert '<td>bias</td><td class="number">-6333</td><td class="number">4200.5</td>' in page
    assert "confusion matrix" not in page  # regression: no classification section


def test_report_of_a_run_whose_trainer_failed_still_renders(tmp_path):
    summary = summary_for(tmp_path, blessed=False, pushed_model_dir=None, training={}, metrics={})
    page = report.render_report(summary)
    assert "No training record: the Trainer did not finish." in page
    assert "The Evaluator did not run." in page
    assert "nothing pushed (the model was not blessed)" in page


@pytest.mark.parametrize("value, expected", [(None, "&ndash;"), (0.5, "0.5000")])
def test_missing_numbers_show_as_a_dash(value, expected):
    assert report._number(value) == expected


def test_report_shows_the_settings_the_run_used_and_the_tensorboard_command(tmp_path):
    from components.settings import ModelSpec, TrainingSpec

    model, training = ModelSpec(name="mlp_classifier", optimizer="rmsprop", learning_rate=0.003), TrainingSpec()
    settings = {"model": dataclasses.asdict(model), "training": dataclasses.asdict(training)}
    page = report.render_report(summary_for(tmp_path, settings=settings))
    section = page[page.index("<h2>Settings</h2>") :]
    for label, value in [
        ("hidden units", "64, 32"),
        ("optimizer", "rmsprop"),
        ("learning rate", "0.003"),
        ("batch size (per replica)", "32"),
        ("early stopping", "on val_loss, min_delta 0.001, patience 20, best weights restored"),
        ("strategy (configured)", "auto"),
    ]:
        assert f"<th>{label}</th><td>{value}</td>" in section, label
    assert "<code>tensorboard --logdir /logs</code>" in page
    cnn = report.render_report(summary_for(tmp_path / "cnn", settings=settings, model="cnn"))
    assert "<th>conv.filters</th>" in cnn and "<th>augmentation</th><td>none</td>" in cnn
    assert "<th>hidden units</th>" not in cnn  # the conv family's own section instead


def test_image_samples_are_shown_misclassified_first_and_image_bytes_are_no_statistics_rows(tmp_path):
    samples = {
        "scanned": 30,
        "samples": [
            {
                "path": "test/3/a.png",
                "true": "3",
                "predicted": "5",
                "probability": 0.61,
                "correct": False,
                "image": "data:image/png;base64,iVBORw0KGgo=",
            },
            {
                "path": "test/7/b.png",
                "true": "7",
                "predicted": "7",
                "probability": 0.99,
                "correct": True,
                "image": "data:image/png;base64,iVBORw0KGgo=",
            },
        ],
    }
    samples_file = tmp_path / "image_samples.json"
    samples_file.write_text(json.dumps(samples))
    images = {"read": 30, "skipped": 0, "skipped_files": []}
    page = report.render_report(summary_for(tmp_path, image_samples=str(samples_file), images=images))
    figures = re.findall(r'<figure class="sample (right|wrong)">.*?<figcaption>(.*?)</figcaption>', page)
    assert figures == [
        ("wrong", "test/3/a.png<br>true 3, predicted 5 (0.61)"),
        ("right", "test/7/b.png<br>true 7, predicted 7 (0.99)"),
    ]
    assert "2 of the first 30 eval images, the misclassified ones first (1 shown)" in page
    assert "<td>image</td>" not in page and "<td>weight_kg</td>" in page  # image data: no row for the bytes


def test_the_runs_page_has_a_row_per_run_and_a_chart_of_the_gated_metrics(tmp_path):
    report_file = tmp_path / "runs" / "r1" / "report.html"
    report_file.parent.mkdir(parents=True)
    report_file.write_text("<html></html>")
    common = {"pipeline": "animals", "data": "/data/<a>.csv", "model": "mlp_classifier", "baseline_model": None}
    runs = [
        {
            **common,
            "run_id": "r1",
            "started": 0.0,
            "state": "complete",
            "seconds": 21.5,
            "blessed": True,
            "metrics": {"loss": 0.31, "accuracy": 0.9},
            "pushed_model_dir": "/s/1",
            "report_file": str(report_file),
        },
        {
            **common,
            "run_id": "r2",
            "started": 60.0,
            "state": "failed",
            "seconds": 3.0,
            "blessed": False,
            "metrics": {},
            "pushed_model_dir": None,
            "report_file": None,
        },
    ]
    page = report.render_runs_page(str(tmp_path), runs)
    head = re.findall(r"<th>([^<]*)</th>", page)
    assert head[:7] == ["#", "started", "pipeline", "run", "data", "model", "state"]
    assert head[7:] == ["loss", "accuracy", "blessed", "pushed version", "seconds"]
    assert '<a href="runs/r1/report.html">r1</a>' in page and ">r2</td>" in page  # no report: no link
    assert "/data/&lt;a&gt;.csv" in page and "&ndash;" in page  # escaped; a failed run shows dashes
    (chart,) = re.findall(r'<img class="chart" alt="gated metrics across runs" src="([^"]+)"', page)
    assert distinct_colors(png_pixels(chart)) > 20
