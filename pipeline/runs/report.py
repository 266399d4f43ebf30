"""The run report: one self-contained HTML page per run, next to the run's summary.json.

Everything on it is read from the run's summary and the artifacts it names: the Trainer's
history (learning curves) and model description, the Evaluator's metrics, validation and plots
(the gate decision, the confusion matrix, precision and recall), StatisticsGen's statistics and
ExampleValidator's anomalies. `python -m pipeline report` renders it again from the same files.
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Any, Iterable, Sequence

from tfx.dsl.io import fileio

from components import features
from components.evaluator.gate import describe_difference, too_small_warning
from components.trainer.models import settings_section
from pipeline.runs import charts
from pipeline.runs.comparison import MEAN_SHIFT, MISSING_SHIFT, config_changes, production_run, statistics_drift
from pipeline.runs.summary import REPORT_FILE, ComponentRecord, RunSummary, TrainingRecord
from pipeline.runs.text import bounds_text, input_text, setting_text, started_text

# The page fetches nothing and runs no script: charts are inline PNGs, the style is inline.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_TOP_VALUES = 5
_BINARY_VALUE = "__BYTES_VALUE__"  # what TFDV lists as a top value that is not valid UTF-8

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #17803d; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.chart { max-width: 100%; display: block; margin: 0.5rem 0; }
code { background: #f4f4f4; padding: 0 0.2rem; }
.samples { display: flex; flex-wrap: wrap; gap: 0.5rem; }
.sample { margin: 0; width: 8.5rem; font-size: 0.75rem; border: 2px solid #17803d; padding: 0.25rem; }
.sample.wrong { border-color: #c62828; }
.sample img { width: 100%; image-rendering: pixelated; }
.sides { display: flex; flex-wrap: wrap; gap: 1.5rem; } .side { margin: 0; } .side figcaption { font-weight: bold; }
"""


def write_report(summary: RunSummary) -> str:
    """Renders the report into the run's directory (beside summary.json) and returns its path."""
    path = os.path.join(os.path.dirname(summary.summary_file), REPORT_FILE)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(render_report(summary))
    os.replace(partial, path)
    return path


RUNS_PAGE = "runs.html"  # in a pipeline root: every run, linking to each run's report


def write_runs_page(pipeline_root: str, runs: list[dict[str, Any]]) -> str:
    """Every run of a pipeline root (`records.list_runs`) on one page: time, pipeline, data,
    model, state, gated metrics, blessed, pushed version, seconds, a link to its report, and
    each metric across the runs. Returns the page's path."""
    path = os.path.join(pipeline_root, RUNS_PAGE)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(render_runs_page(pipeline_root, runs))
    os.replace(partial, path)
    return path


def render_runs_page(pipeline_root: str, runs: list[dict[str, Any]]) -> str:
    roles = [role for role in ("loss", "accuracy") if any(role in run["metrics"] for run in runs)]
    rows = [_run_row(pipeline_root, number, run, roles) for number, run in enumerate(runs, start=1)]
    head = ["#", "started", "pipeline", "run", "data", "model", "state", *roles, "blessed", "pushed version", "seconds"]
    chart = (
        f'<img class="chart" alt="gated metrics across runs" src="{charts.metric_history(runs, roles)}">'
        if roles and runs
        else "<p>No run recorded a gated metric yet.</p>"
    )
    title = f"Runs in {pipeline_root}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{_text(title)}</h1>\n<p>{len(runs)} run(s), oldest first; each run id links to its report.</p>\n"
        + chart
        + "\n"
        + _table(head, rows, escape=False)
        + "\n</body></html>\n"
    )


def _run_row(pipeline_root: str, number: int, run: dict[str, Any], roles: list[str]) -> list[str]:
    report = run.get("report_file")
    run_id = _text(run["run_id"])
    link = f'<a href="{_text(os.path.relpath(report, pipeline_root))}">{run_id}</a>' if report else run_id
    blessed = '<span class="pass">yes</span>' if run["blessed"] else '<span class="fail">no</span>'
    metrics = [_number(run["metrics"].get(role)) for role in roles]
    return [
        str(number),
        started_text(run["started"]),
        _text(run["pipeline"]),
        link,
        _text(run.get("data") or "-"),
        _text(run.get("model") or "-"),
        _text(run["state"]),
        *metrics,
        blessed,
        _text(run["pushed_model_dir"] or "-"),
        _number(run.get("seconds"), "{:.1f}"),
    ]


def render_report(summary: RunSummary) -> str:
    artifacts = summary.artifacts
    names = class_names(summary)
    sections = [
        _header(summary),
        _gate_section(summary),
        _comparison_section(summary, names),
        _tuning_section(summary.tuning),
        _training_section(summary.training, summary.task),
        _classification_section(artifacts.evaluation, summary.task, names),
        _samples_section(summary.image_samples),
        _linear_section(summary.training.linear if summary.training else None),
        _model_section(summary.training),
        _settings_section(summary.settings, summary.model),
        _data_section(summary, artifacts.statistics),
        _components_section(summary.components),
    ]
    title = f"Run {summary.run_id} of {summary.pipeline}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(section for section in sections if section)
        + "\n</body></html>\n"
    )


# --- what the report reads --------------------------------------------------------------------


def class_names(summary: RunSummary) -> list[str] | None:
    """Class names in class-id order: the configured classes, else Transform's label vocabulary."""
    if summary.classes:
        return list(summary.classes)
    graph = summary.artifacts.transform_graph
    path = os.path.join(graph or "", "transform_fn", "assets", features.LABEL_VOCABULARY)
    if graph and fileio.exists(path):
        with fileio.open(path, "r") as f:
            return [line.rstrip("\n") for line in f]
    return None


def feature_statistics(statistics_uri: str | None) -> dict[str, list[dict[str, Any]]]:
    """Per split, one row per feature from StatisticsGen: count, missing, mean/std or top values."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    result: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(fileio.glob(os.path.join(statistics_uri or "", "Split-*", "FeatureStats.pb"))):
        with fileio.open(path, "rb") as f:
            statistics = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
        split = os.path.basename(os.path.dirname(path))[len("Split-") :]
        dataset = statistics.datasets[0]
        result[split] = [_feature_row(feature, dataset.num_examples) for feature in dataset.features]
    return result


def _feature_row(feature: Any, num_examples: int) -> dict[str, Any]:
    kind = feature.WhichOneof("stats")
    stats = getattr(feature, kind)
    common = stats.common_stats
    # A CSV cell left empty is an example with zero values, which TFDV counts as present.
    empty = common.num_non_missing - common.tot_num_values if common.max_num_values <= 1 else 0
    row = {
        "name": ".".join(feature.path.step) or feature.name,
        "type": {0: "int", 1: "float", 2: "string", 3: "bytes", 4: "struct"}.get(feature.type, "?"),
        "count": num_examples,
        "missing": int(common.num_missing + max(empty, 0)),
    }
    if kind == "num_stats":
        row.update(mean=stats.mean, std=stats.std_dev, min=stats.min, max=stats.max)
    elif kind == "string_stats" and any(v.value == _BINARY_VALUE for v in stats.top_values):
        row.update(unique=stats.unique, avg_bytes=stats.avg_length)  # encoded images: no readable values
    elif kind == "string_stats":
        row.update(
            unique=stats.unique,
            top=[(v.value, v.frequency) for v in stats.top_values[:_TOP_VALUES]],
            values=sorted(v.value for v in stats.top_values),
        )
    elif kind == "bytes_stats":
        row.update(unique=stats.unique, avg_bytes=stats.avg_num_bytes)
    return row


def classification_results(evaluation_uri: str | None, task: str, baseline: bool = False) -> dict[str, Any] | None:
    """The confusion matrix (actual x predicted counts) on the eval split, and for binary tasks
    the precision/recall pairs over the thresholds, from the Evaluator's plots (the candidate's,
    or with `baseline` the model in production's)."""
    if not evaluation_uri or task not in ("binary", "multiclass"):
        return None
    from components.evaluator.evaluation import candidate_plots

    for plot in candidate_plots(evaluation_uri, baseline):
        if plot.HasField("multi_class_confusion_matrix_at_thresholds"):
            return _multiclass_matrix(plot.multi_class_confusion_matrix_at_thresholds)
        if plot.HasField("confusion_matrix_at_thresholds"):
            return _binary_matrix(plot.confusion_matrix_at_thresholds)
    return None


def _multiclass_matrix(plot: Any) -> dict[str, Any]:
    matrix = plot.matrices[0]  # the only threshold, 0.0: the top class is the prediction
    size = 1 + max((max(e.actual_class_id, e.predicted_class_id) for e in matrix.entries), default=-1)
    counts = [[0.0] * size for _ in range(size)]
    for entry in matrix.entries:
        if entry.predicted_class_id >= 0:
            counts[entry.actual_class_id][entry.predicted_class_id] += entry.num_weighted_examples
    return {"matrix": counts}


def _binary_matrix(plot: Any) -> dict[str, Any]:
    at_half = min(plot.matrices, key=lambda m: abs(m.threshold - 0.5))
    points = [(m.recall, m.precision) for m in plot.matrices if m.true_positives + m.false_positives > 0]
    return {
        "matrix": [
            [at_half.true_negatives, at_half.false_positives],
            [at_half.false_negatives, at_half.true_positives],
        ],
        "pr_curve": points,
        "at_half": (at_half.recall, at_half.precision),
    }


def per_class_scores(matrix: Sequence[Sequence[float]]) -> list[dict[str, float | None]]:
    """Precision (of the predictions of a class) and recall (of its examples) per class."""
    scores = []
    for k in range(len(matrix)):
        predicted = sum(row[k] for row in matrix)
        actual = sum(matrix[k])
        scores.append(
            {
                "precision": matrix[k][k] / predicted if predicted else None,
                "recall": matrix[k][k] / actual if actual else None,
                "support": actual,
            }
        )
    return scores


# --- sections ---------------------------------------------------------------------------------


def _header(summary: RunSummary) -> str:
    verdict = '<span class="pass">blessed</span>' if summary.blessed else '<span class="fail">not blessed</span>'
    rows = [
        ("pipeline", summary.pipeline),
        ("run", summary.run_id),
        ("task", summary.task),
        ("data", summary.data),
        ("model", summary.model),
        ("pushed version", summary.pushed_model_dir or "nothing pushed (the model was not blessed)"),
    ]
    return f"<h1>{_text(summary.pipeline)}: run {_text(summary.run_id)} &mdash; {verdict}</h1>\n" + _key_value_table(
        rows
    )


def _gate_section(summary: RunSummary) -> str:
    metrics = summary.metrics.metrics
    if not metrics:
        return "<h2>Gate decision</h2><p>The Evaluator did not run.</p>"
    rows = []
    for role, metric in metrics.items():
        baseline = metric.get("baseline")
        rows.append(
            [
                _text(f"{role} ({metric['metric']})"),
                bounds_text(metric, "&ge;", "&le;") or "none",
                _number(metric["value"]),
                _number(baseline) if baseline is not None else "none yet (nothing pushed)",
                _difference_cell(role, metric),
                _verdict(metric["passed"]),
            ]
        )
    return (
        "<h2>Gate decision</h2>\n"
        + _table(
            ["metric", "threshold", "value", "model in production", "difference from production", "result"],
            rows,
            escape=False,
        )
        + _gate_note(summary)
    )


def _difference_cell(role: str, metric: dict[str, Any]) -> str:
    """The paired difference with its interval, or why there is none."""
    comparison = metric.get("comparison")
    if comparison:
        return _text(describe_difference(role, comparison))
    if metric.get("no_regression") is False:
        return "not compared (no_regression off)"
    return "nothing to compare with"


def _gate_note(summary: RunSummary) -> str:
    """Which split the gate judged and which early stopping watched, with the kept epoch's own
    figure: the two come from different splits, so they differ."""
    gate = summary.metrics
    training = summary.training
    parts = [
        f"Judged on the {_text(gate.split or 'eval')} split, {gate.example_count or 0:g} examples, "
        "which no training decision saw."
    ]
    watched = training.early_stopping_split if training else None
    kept_loss = training.kept_epoch_metrics.get("val_loss") if training else None
    if watched and kept_loss is not None:
        parts.append(
            f"Early stopping watched the {_text(watched)} split, where the kept epoch's loss was {kept_loss:.4f}."
        )
    if gate.confidence:
        parts.append(
            f"Differences are candidate minus production on the same examples, with a {gate.confidence:.0%} "
            f"paired bootstrap interval ({gate.resamples} resamples); a metric refuses the model only when "
            "its whole interval is on the worse side."
        )
    if gate.too_small:
        parts.append(_text(too_small_warning(gate.example_count) or ""))
    return f'<p id="gate-note">{" ".join(parts)}</p>'


def _training_section(training: TrainingRecord | None, task: str) -> str:
    if not training:
        return "<h2>Training</h2><p>No training record: the Trainer did not finish.</p>"
    with fileio.open(training.history_file, "r") as f:
        history = json.load(f)["history"]
    metric = (
        "accuracy"
        if task != "regression"
        else next((name for name in history if not name.startswith("val_") and name != "loss"), None)
    )
    epochs_run, kept = training.epochs_run, training.kept_epoch
    stop = f"stopped early at epoch {epochs_run}" if training.stopped_early else f"ran all {epochs_run} epochs"
    why = "the best validation loss" if kept != epochs_run else "the last epoch"
    first_epoch = training.first_epoch
    resumed = f" It resumed at epoch {first_epoch} from its backup." if first_epoch > 1 else ""
    chart = charts.learning_curves(history, kept, training.stopped_early, metric, first_epoch)
    return (
        "<h2>Learning curves</h2>\n"
        f"<p>Training {stop}; the weights of epoch {kept} were kept ({why}).{resumed}</p>\n"
        f'<img class="chart" alt="learning curves" src="{chart}">'
    )


def _classification_section(evaluation_uri: str | None, task: str, names: list[str] | None) -> str:
    results = classification_results(evaluation_uri, task)
    if not results:
        return ""
    matrix = results["matrix"]
    labels = [names[k] if names and k < len(names) else str(k) for k in range(len(matrix))]
    parts = [
        "<h2>Classification on the eval split</h2>",
        f'<img class="chart" alt="confusion matrix" src="{charts.confusion_matrix(matrix, labels)}">',
    ]
    rows = [
        [_text(label), _number(score["precision"]), _number(score["recall"]), _number(score["support"], "{:g}")]
        for label, score in zip(labels, per_class_scores(matrix))
    ]
    parts.append(_table(["class", "precision", "recall", "examples"], rows, escape=False))
    if results.get("pr_curve"):
        recall, precision = zip(*results["pr_curve"])
        curve = charts.precision_recall_curve(recall, precision, results["at_half"])
        parts.append(f'<img class="chart" alt="precision-recall curve" src="{curve}">')
    return "\n".join(parts)


def _linear_section(linear: dict[str, Any] | None) -> str:
    if not linear:
        return ""
    output = "y" if linear["output"] == "prediction" else "logit"
    rows = [
        [_text(column), _number(weight, "{:.6g}"), _number(linear["standardized"]["weights"][column], "{:.6g}")]
        for column, weight in linear["raw"]["weights"].items()
    ]
    rows.append(["bias", _number(linear["raw"]["bias"], "{:.6g}"), _number(linear["standardized"]["bias"], "{:.6g}")])
    return (
        "<h2>Linear unit</h2>\n"
        f"<p>{output} = bias + &Sigma; weight &times; feature. Raw weights apply to the CSV's own units; "
        "standardized weights to the z-scored features the model sees.</p>\n"
        + _table(["feature", "weight (CSV units)", "weight (standardized)"], rows, escape=False)
    )


def _model_section(training: TrainingRecord | None) -> str:
    model = training.model if training else None
    if not model:
        return ""
    strategy = training.strategy or {}
    rows = [
        ("model", model["name"]),
        ("parameters", f"{model['parameters']:,}"),
        ("strategy", f"{strategy.get('class', '?')} ({strategy.get('name', '?')})"),
        ("replicas", strategy.get("replicas")),
        ("global batch", training.global_batch_size),
        ("input", input_text(training.input) if training.input else None),
        ("fit seconds", training.fit_seconds),
    ]
    layers = [[layer["name"], layer["type"], f"{layer['parameters']:,}"] for layer in model["layers"]]
    logs = training.tensorboard_dir
    tensorboard = f"<p>Training logs: <code>tensorboard --logdir {_text(logs)}</code></p>\n" if logs else ""
    return "<h2>Model</h2>\n" + _key_value_table(rows) + tensorboard + _table(["layer", "type", "parameters"], layers)


def _settings_section(settings: dict[str, Any] | None, model_name: str | None) -> str:
    """What the Trainer was configured with: the model's hyperparameters, the optimizer and the
    training loop (the strategy it resolved to is in the model section)."""
    if not settings:
        return ""
    model, training = settings["model"], settings["training"]
    stopping = training["early_stopping"]
    section = settings_section(model_name or "")
    if section:  # a model family with its own section (conv, rnn, vgg, squeezenet, transfer)
        rows = [(f"{section}.{key}", _setting(value)) for key, value in model[section].items()]
        augmentation = {key: value for key, value in model["augmentation"].items() if value not in ("none", 0, 0.0)}
        rows.append(("augmentation", ", ".join(f"{key} {value}" for key, value in augmentation.items()) or "none"))
    else:
        rows = [
            ("hidden units", _setting(model["hidden_units"])),
            ("dropout", model["dropout"]),
            ("batch normalization", "yes" if model["batch_norm"] else "no"),
            ("L2", model["l2"]),
        ]
    rows += [
        ("optimizer", model["optimizer"]),
        ("learning rate", model["learning_rate"]),
        ("batch size (per replica)", training["batch_size"]),
        ("epochs (at most)", training["epochs"]),
        (
            "early stopping",
            f"on val_loss, min_delta {stopping['min_delta']:g}, patience {stopping['patience']}, best weights restored"
            if stopping["enabled"]
            else "off",
        ),
        ("strategy (configured)", training["strategy"]),
        ("seed", training["seed"]),
    ]
    tuned = settings.get("tuned") or []
    note = f"<p>Chosen by the Tuner: {_text(', '.join(tuned))}.</p>" if tuned else ""
    return "<h2>Settings</h2>\n" + note + _key_value_table(rows)


def _comparison_section(summary: RunSummary, names: list[str] | None) -> str:
    """The candidate beside the model in production (when there was one): each gated metric on
    the same eval split, both confusion matrices with per-class scores, and what changed between
    the run that pushed production's model and this one (settings, data statistics)."""
    if not summary.baseline_model:
        return ""
    production = production_run(summary)
    metric_rows = []
    for role, metric in summary.metrics.metrics.items():
        metric_rows.append(
            [
                _text(f"{role} ({metric['metric']})"),
                _number(metric.get("value")),
                _number(metric.get("baseline")),
                _difference_cell(role, metric),
                _verdict(metric["passed"]),
            ]
        )
    parts = [
        '<h2 id="comparison">Candidate vs production</h2>',
        f"<p>The model in production, {_text(summary.baseline_model)}"
        + (f" (run {_text(production.run_id)})" if production else " (its run is not in this pipeline root)")
        + ", was scored by the Evaluator on this run's eval split beside the candidate.</p>",
        '<div id="comparison-metrics">',
        _table(["metric", "candidate", "production", "difference from production", "gate"], metric_rows, escape=False),
        "</div>",
        _matrices_side_by_side(summary, names),
    ]
    if production:
        parts.append(_changes(summary, production))
    return "\n".join(parts)


def _verdict(passed: bool) -> str:
    return '<span class="pass">pass</span>' if passed else '<span class="fail">FAIL</span>'


def _matrices_side_by_side(summary: RunSummary, names: list[str] | None) -> str:
    figures = []
    for label, baseline in (("candidate", False), ("production", True)):
        results = classification_results(summary.artifacts.evaluation, summary.task, baseline)
        if not results:
            continue
        matrix = results["matrix"]
        labels = [names[k] if names and k < len(names) else str(k) for k in range(len(matrix))]
        rows = [
            [_text(name), _number(score["precision"]), _number(score["recall"])]
            for name, score in zip(labels, per_class_scores(matrix))
        ]
        figures.append(
            f'<figure class="side" id="matrix-{label}"><figcaption>{label}</figcaption>'
            f'<img class="chart" alt="{label} confusion matrix" src="{charts.confusion_matrix(matrix, labels)}">'
            + _table(["class", "precision", "recall"], rows, escape=False)
            + "</figure>"
        )
    return f'<div class="sides">{"".join(figures)}</div>' if figures else ""


def _changes(summary: RunSummary, production: RunSummary) -> str:
    """Settings that differ, and per feature of the train split how its statistics moved."""
    changes = config_changes(summary, production)
    settings = (
        _table(
            ["setting", "production", "candidate"], [[key, setting_text(a), setting_text(b)] for key, a, b in changes]
        )
        if changes
        else "<p>Same settings and data files.</p>"
    )
    before = feature_statistics(production.artifacts.statistics).get("train", [])
    after = feature_statistics(summary.artifacts.statistics).get("train", [])
    drift_rows = []
    for row in statistics_drift(after, before):
        if row["only_in"]:
            drift_rows.append([row["name"], f"only in {row['only_in']}", "", "", "", "drift"])
            continue
        mean = row.get("mean")
        drift_rows.append(
            [
                row["name"],
                f"{mean[0]:.4g} → {mean[1]:.4g} ({row['mean_shift']:+.2f} sd)" if mean else "",
                f"{row['std'][0]:.4g} → {row['std'][1]:.4g}" if mean else "",
                f"{row['missing'][0]:.1%} → {row['missing'][1]:.1%}",
                ", ".join(row.get("new_categories") or [])
                + (f" (gone: {', '.join(row['gone_categories'])})" if row.get("gone_categories") else ""),
                "drift" if row["drifted"] else "",
            ]
        )
    return (
        '<h3>What changed</h3><div id="config-changes">'
        + settings
        + '</div><div id="data-drift"><p>Train split statistics, production run → this run (drift: the mean '
        + f"moved ≥ {MEAN_SHIFT} sd, the missing share ≥ {MISSING_SHIFT:.0%} points, or categories came or went).</p>"
        + _table(["feature", "mean", "std", "missing", "new categories", ""], drift_rows)
        + "</div>"
    )


def _tuning_section(tuning: dict[str, Any] | None) -> str:
    """The Tuner's search: how it scored trials, each trial's settings and score, the best one."""
    if not tuning:
        return ""
    objective, keys = tuning["objective"], list(tuning["space"])
    budget = "time budget" if tuning["stopped_by"] == "max_seconds" else "trial budget"
    intro = (
        f"<p>{len(tuning['trials'])} trials of a {_text(tuning['algorithm'])} search in "
        f"{tuning['seconds']:.1f} s, ended by the {budget}. Each trial trained one model per fold of a "
        f"{tuning['folds']}-fold cross-validation on the {tuning['rows']} training rows (the eval split "
        f"was not used) and scored the folds' mean best {_text(objective)} "
        f"({'lower' if tuning['direction'] == 'min' else 'higher'} is better). "
        f"The Trainer trained trial {_text(tuning['best_trial'])}'s values on the whole train split.</p>"
    )
    completed = [trial for trial in tuning["trials"] if trial["status"] == "completed"]
    chart = (
        f'<img class="chart" id="trial-scores" alt="{_text(objective)} per trial" '
        f'src="{charts.trial_scores(tuning["trials"], objective, tuning["direction"])}">'
        if completed
        else ""
    )
    rows = [
        [
            ("&#9733; " if trial["trial"] == tuning["best_trial"] else "") + _text(trial["trial"]),
            _text(
                trial["status"] if trial["status"] == "completed" else f"{trial['status']}: {trial.get('error', '')}"
            ),
            _number(trial.get("val_loss")),
            _number(trial.get("val_accuracy")),
            _text(", ".join(map(str, trial.get("epochs", [])))),
            _number(trial["seconds"], "{:.1f}"),
            *(_text(setting_text(trial["settings"].get(key))) for key in keys),
        ]
        for trial in tuning["trials"]
    ]
    head = ["trial", "status", "val loss", "val accuracy", "best epoch per fold", "seconds", *keys]
    space = _key_value_table(
        (key, ", ".join(setting_text(v) for v in values)) for key, values in tuning["space"].items()
    )
    return (
        '<h2 id="tuning">Tuning</h2>\n'
        + intro
        + chart
        + '<div id="trials">'
        + _table(head, rows, escape=False)
        + "</div><h3>Search space</h3>\n"
        + space
    )


def _setting(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _samples_section(samples_file: str | None) -> str:
    """Eval images with their true and predicted class, misclassified first (the Evaluator's)."""
    if not samples_file or not fileio.exists(samples_file):
        return ""
    with fileio.open(samples_file, "r") as f:
        record = json.load(f)
    cells = []
    for sample in record["samples"]:
        mark = "right" if sample["correct"] else "wrong"
        cells.append(
            f'<figure class="sample {mark}"><img alt="{_text(sample["path"])}" src="{sample["image"]}">'
            f"<figcaption>{_text(sample['path'])}<br>true {_text(sample['true'])}, predicted "
            f"{_text(sample['predicted'])} ({sample['probability']:.2f})</figcaption></figure>"
        )
    wrong = sum(not sample["correct"] for sample in record["samples"])
    return (
        "<h2>Image samples</h2>\n"
        f"<p>{len(cells)} of the first {record['scanned']:,} eval images, the misclassified ones first "
        f"({wrong} shown).</p>\n" + '<div class="samples">' + "".join(cells) + "</div>"
    )


def _data_section(summary: RunSummary, statistics_uri: str | None) -> str:
    parts = ["<h2>Data</h2>"]
    images = summary.images
    if images:
        parts.append(f"<p>Images: {images.read} read, {images.skipped} skipped.</p>")
        skipped = [[record["path"], record["reason"]] for record in images.skipped_files]
        if skipped:
            parts.append(_table(["skipped file", "reason"], skipped))
    for split, rows in feature_statistics(statistics_uri).items():
        count = rows[0]["count"] if rows else 0
        if images:  # the encoded image bytes and the files' paths are bookkeeping, not features to read
            rows = [row for row in rows if row["name"] not in (features.IMAGE, features.IMAGE_PATH)]
        parts.append(f"<h3>{_text(split)} split: {count:,} examples (StatisticsGen)</h3>")
        parts.append(
            _table(
                ["feature", "type", "missing", "mean", "std", "min", "max", "top values / bytes"],
                [_statistics_cells(row) for row in rows],
                escape=False,
            )
        )
    anomalies = [(split, anomaly) for split, found in summary.anomalies.items() for anomaly in found]
    if anomalies:
        parts.append("<h3>Anomalies (ExampleValidator)</h3>")
        parts.append(_table(["split", "anomaly"], [list(pair) for pair in anomalies]))
    else:
        parts.append("<p>Anomalies (ExampleValidator): none.</p>")
    return "\n".join(parts)


def _statistics_cells(row: dict[str, Any]) -> list[str]:
    numeric = [_number(row.get(key)) if key in row else "" for key in ("mean", "std", "min", "max")]
    if "top" in row:
        detail = ", ".join(f"{_text(value)} ({frequency:g})" for value, frequency in row["top"])
        detail = f"{row['unique']} unique: {detail}"
    elif "avg_bytes" in row:
        detail = f"{row['unique']} unique, {row['avg_bytes']:.0f} bytes on average"
    else:
        detail = ""
    return [_text(row["name"]), row["type"], _number(row["missing"], "{:,}"), *numeric, detail]


def _components_section(components: dict[str, ComponentRecord]) -> str:
    rows = [[name, record.state, _number(record.seconds, "{:.1f}")] for name, record in components.items()]
    return "<h2>Components</h2>\n" + _table(["component", "state", "seconds"], rows, escape=False)


# --- HTML helpers -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    return html.escape(str(value))


def _number(value: Any, template: str = "{:.4f}") -> str:
    return "&ndash;" if value is None else template.format(value)


_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?|&ndash;")


def _table(head: Sequence[str] | None, rows: Iterable[Sequence[Any]], escape: bool = True) -> str:
    """An HTML table; cells holding a number are right-aligned. `escape=False`: cells are HTML."""

    def cell(value: Any) -> str:
        text = _text(value) if escape else str(value)
        numeric = isinstance(value, (int, float)) or _NUMBER.fullmatch(text)
        return f'<td class="number">{text}</td>' if numeric else f"<td>{text}</td>"

    header = "<thead><tr>" + "".join(f"<th>{_text(name)}</th>" for name in head) + "</tr></thead>" if head else ""
    body = "\n".join("<tr>" + "".join(cell(value) for value in row) + "</tr>" for row in rows)
    return f"<table>{header}<tbody>\n{body}\n</tbody></table>"


def _key_value_table(rows: Iterable[tuple[str, Any]]) -> str:
    body = "\n".join(
        f"<tr><th>{_text(key)}</th><td>{_text('' if value is None else value)}</td></tr>" for key, value in rows
    )
    return f"<table><tbody>\n{body}\n</tbody></table>"
