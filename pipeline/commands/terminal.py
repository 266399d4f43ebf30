"""What the commands print: run summaries, run tables, the compile report, the model catalogue,
predictions, errors; and how the terminal is kept readable. The CLI (pipeline/commands/cli.py) parses,
dispatches and prints these (plus one-line confirmations such as `report: PATH`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
import warnings
from typing import Any

from components.evaluator.gate import describe_difference, resolve_gates, too_small_warning
from components.settings import ConfigError, InputError
from pipeline.config.resolve import Resolved
from pipeline.runs.summary import RunSummary
from pipeline.runs.text import bound_text, bounds_text, input_text, setting_text, started_text

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_BLESSED = 0, 1, 2, 3


def run_exit_code(summary: RunSummary, require_blessed: bool) -> int:
    """0 for a completed run; with `--require-blessed`, 3 when its model was not blessed."""
    return EXIT_NOT_BLESSED if require_blessed and not summary.blessed else EXIT_OK


def run_banner(prepared: Resolved) -> str:
    config = prepared.config
    lines = [
        f"pipeline {config.name}: {config.data.task} on {config.data.path} ({prepared.description}), "
        f"model {config.model.name}, runner {config.runner.kind}",
        f"gate: {gate_text(config.data.task, config.evaluation)}",
    ]
    if prepared.positive_class:
        lines.append(f"  positive class (probability 1, precision/recall/F1): {prepared.positive_class}")
    if prepared.eval_rows is not None:
        lines.append(f"  judged on the eval split (about {prepared.eval_rows} rows), unseen in training")
        warning = too_small_warning(prepared.eval_rows)
        if warning:
            lines.append(f"  warning: {warning}")
    if prepared.computed_bound:
        lines.append("  no evaluation.max_loss set: the loss must beat a model that ignores the features")
    if prepared.computed_accuracy:
        lines.append("  no evaluation.min_accuracy set: the accuracy must beat always guessing the most frequent class")
    if prepared.beam:
        lines.append(prepared.beam.describe())
    return "\n".join(lines)


def up_to_date(summary: RunSummary) -> str:
    """A run that had nothing to do: which completed run it matches, and that run's summary."""
    lines = [
        f"pipeline {summary.pipeline}: up to date with run {summary.run_id}: the data files, config and code are "
        f"the same, and the model in production is the one it left; nothing ran (--force runs anyway)",
        format_summary(summary),
    ]
    return "\n".join(lines)


def gate_text(task: str, evaluation: Any) -> str:
    """The gate of an `EvaluationSpec`: "loss <= 0.3, accuracy >= 0.9; no regression beyond
    chance (95%) on loss, accuracy"."""
    gates = resolve_gates(task, evaluation)
    parts = []
    for gate in gates:
        parts += [f"{gate.name} >= {bound_text(gate.lower)}"] if gate.lower is not None else []
        parts += [f"{gate.name} <= {bound_text(gate.upper)}"] if gate.upper is not None else []
    compared = [gate.name for gate in gates if gate.no_regression]
    text = ", ".join(parts) or "no absolute bound"
    if compared:
        tolerance = f", tolerance {evaluation.baseline_tolerance:g}" if evaluation.baseline_tolerance else ""
        text += f"; no regression beyond chance ({evaluation.confidence:.0%}{tolerance}) on {', '.join(compared)}"
    return text


def compile_report(config: Any, job: dict[str, Any], output_file: str) -> str:
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    where = "open-source Kubeflow Pipelines" if config.kubeflow.target == "kubeflow" else "Vertex AI Pipelines"
    lines = [
        f"compiled pipeline {config.name} for {where}: {len(executors)} executors, image {config.kubeflow.image}",
        f"  pipeline root: {config.output.pipeline_root}",
        f"  data_root (runtime parameter): {job['runtimeConfig']['parameterValues']['data_root']}",
    ]
    for name, executor in sorted(executors.items()):
        resources = executor.get("container", {}).get("resources")
        if resources:
            lines.append(f"  {name.removesuffix('_executor')} requests {describe_resources(resources)}")
    lines += [f"  gate: {gate_text(config.data.task, config.evaluation)}", f"written: {output_file}"]
    return "\n".join(lines)


def model_catalogue(rows: list[Any], input_shape: tuple[int, int, int], classes: int) -> str:
    shape = "x".join(map(str, input_shape))
    lines = [
        f"models for {shape} inputs and {classes} classes (dense models read the image flattened):",
        f"{'model':22} {'tasks':40} {'parameters':>11}  description",
    ]
    for row in rows:
        count = f"{row.parameters:,}" if row.parameters is not None else "-"
        tasks = ", ".join(row.tasks) + (" (images)" if row.needs_image else "")
        lines.append(f"{row.name:22} {tasks:40} {count:>11}  {row.description}")
        if row.note:
            lines.append(f"{'':22} {'':40} {'':>11}  ({row.note})")
    return "\n".join(lines)


def prediction_lines(names: list[str], outputs: dict[str, Any]) -> list[str]:
    from components import features
    from components.pusher.predict import class_probability

    lines = []
    for i, name in enumerate(names):
        if features.PREDICTIONS in outputs:
            lines.append(f"{name}: {float(outputs[features.PREDICTIONS][i][0]):.6g}")
            continue
        class_id = int(outputs[features.CLASS_IDS][i])
        probability = class_probability(outputs[features.PROBABILITIES][i], class_id)
        lines.append(f"{name}: {outputs[features.CLASSES][i].decode()} (probability {probability:.4f})")
    return lines


def format_summary(summary: RunSummary) -> str:
    took = f" finished in {summary.wall_seconds:.1f}s" if summary.wall_seconds is not None else ""
    lines = ["", f"run {summary.run_id}{took}"]
    if summary.tuning:
        lines += tuning_lines(summary.tuning)
    training = summary.training
    if training:
        stop = "early stopping" if training.stopped_early else "all epochs"
        lines.append(f"  training: {training.epochs_run} epochs ({stop}), kept epoch {training.kept_epoch}")
        if training.strategy:
            strategy = training.strategy
            lines.append(
                f"  strategy: {strategy['class']} ({strategy['name']}), {strategy['replicas']} replica(s), "
                f"global batch {training.global_batch_size}"
            )
        if training.input:
            lines.append(f"  input: {input_text(training.input)}")
        if training.linear:
            raw, output = training.linear["raw"], "y" if training.linear["output"] == "prediction" else "logit"
            terms = " ".join(f"{weight:+.4g}·{column}" for column, weight in raw["weights"].items())
            lines.append(f"  linear unit (CSV units): {output} = {terms} {raw['bias']:+.4g}")
    lines += gate_lines(summary)
    images = summary.images
    if images:
        lines.append(f"  images: {images.read} read, {images.skipped} skipped")
        for record in images.skipped_files[:20]:
            lines.append(f"    skipped {record['path']}: {record['reason']}")
        if images.skipped > 20:
            lines.append(f"    ... all {images.skipped} listed in {images.skipped_list}")
    for split, found in summary.anomalies.items():
        for anomaly in found:
            lines.append(f"  anomaly in {split} data: {anomaly}")
    lines.append(f"  compared with: {summary.baseline_model or 'no model in production yet'}")
    lines.append(f"  blessed: {'yes' if summary.blessed else 'NO'}")
    lines.append(f"  pushed: {summary.pushed_model_dir or 'nothing (not blessed)'}")
    lines.append(f"  summary: {summary.summary_file}")
    if summary.report_file:
        lines.append(f"  report: {summary.report_file}")
    return "\n".join(lines)


def gate_lines(summary: RunSummary) -> list[str]:
    """The gate's split and each metric: value, bounds, production's value, the paired difference."""
    gate = summary.metrics
    if not gate.metrics:
        return []
    watched = summary.training.early_stopping_split if summary.training else None
    lines = []
    if gate.split:
        watched_text = f"; early stopping watched the {watched} split" if watched else ""
        lines.append(f"  gate on the {gate.split} split ({gate.example_count} rows{watched_text})")
    if gate.too_small:
        lines.append(f"  warning: {too_small_warning(gate.example_count)}")
    for name, metric in gate.metrics.items():
        lines.append(f"  {name} ({metric['metric']}): {metric_text(name, metric)}")
    return lines


def metric_text(name: str, metric: dict[str, Any]) -> str:
    """ "0.0325 [bound <= 0.3, in production 0.0301; loss +0.0024, 95% interval [...]: not worse] pass"."""
    bounds = bounds_text(metric)
    parts = [f"bound {bounds}" if bounds else "no bound"]
    if metric.get("baseline") is not None:
        parts.append(f"in production {metric['baseline']:.4f}")
    comparison = metric.get("comparison")
    value = "n/a" if metric["value"] is None else f"{metric['value']:.4f}"
    text = f"{value} [{', '.join(parts)}"
    if comparison:
        text += f"; {describe_difference(name, comparison)}"
    verdict = "pass" if metric["passed"] else "FAIL"
    return f"{text}] {verdict}"


def refusal_line(summary: RunSummary) -> str:
    """The last line of a `--require-blessed` run that was not blessed: what refused it."""
    reasons = summary.metrics.refused_by
    return "not blessed: " + ("; ".join(reasons) if reasons else "the Evaluator did not bless the model")


def tuning_lines(tuning: dict[str, Any]) -> list[str]:
    completed = [trial for trial in tuning["trials"] if trial["status"] == "completed"]
    budget = "the time budget" if tuning["stopped_by"] == "max_seconds" else "the trial budget"
    lines = [
        f"  tuning: {len(tuning['trials'])} trials ({tuning['algorithm']}, {tuning['folds']}-fold cross-validation "
        f"on {tuning['rows']} training rows) in {tuning['seconds']:.1f}s, ended by {budget}; "
        f"{len(completed)} completed"
    ]
    if tuning.get("best_score") is not None:
        values = ", ".join(f"{key}={setting_text(value)}" for key, value in tuning["best_settings"].items())
        score = f"{tuning['objective']} {tuning['best_score']:.4f}"
        lines.append(f"  best trial {tuning['best_trial']}: {score}, trained with {values}")
    return lines


def runs_json(records: list[dict[str, Any]]) -> str:
    """`runs --json`: every record as `list_runs` gives it, plus its start as ISO 8601 UTC."""
    stamped = [
        {**record, "started_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record["started"]))}
        for record in records
    ]
    return json.dumps(stamped, indent=2)


def format_runs(records: list[dict[str, Any]]) -> str:
    head = ["started", "pipeline", "run", "state", "loss", "accuracy", "blessed", "pushed version", "other metrics"]
    rows = []
    for record in records:
        metrics = record["metrics"]
        rows.append(
            [
                started_text(record["started"]),
                record["pipeline"],
                record["run_id"],
                record["state"],
                f"{metrics['loss']:.4f}" if "loss" in metrics else "-",
                f"{metrics['accuracy']:.4f}" if "accuracy" in metrics else "-",
                "yes" if record["blessed"] else "no",
                record["pushed_model_dir"] or "-",
                " ".join(f"{name} {value:.4f}" for name, value in metrics.items() if name not in ("loss", "accuracy"))
                or "-",
            ]
        )
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines + [f"{len(records)} run(s)"])


def describe_resources(resources: dict[str, Any]) -> str:
    parts = []
    if resources.get("resourceCpuRequest"):
        parts.append(f"{resources['resourceCpuRequest']} CPU")
    if resources.get("resourceMemoryRequest"):
        parts.append(f"{resources['resourceMemoryRequest']} memory")
    accelerator = resources.get("accelerator")
    if accelerator:
        parts.append(f"{accelerator['count']} x {accelerator['type']}")
    return ", ".join(parts)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def report_skipped(skipped: list[tuple[str, str]], total: int) -> int:
    """Input files a command left out, each with why (an image that does not decode): bad input."""
    listed = "".join(f"\n  {path}: {reason}" for path, reason in skipped)
    print(f"input error: skipped {len(skipped)} of {total} files, the others predicted:{listed}", file=sys.stderr)
    return EXIT_BAD_INPUT


def report_error(error: Exception, debug: bool) -> int:
    bad_input = isinstance(error, (ConfigError, InputError))
    if debug:
        traceback.print_exc()
    kind = "configuration error" if isinstance(error, ConfigError) else "input error" if bad_input else "error"
    print(f"{kind}: {error}", file=sys.stderr)
    if not debug and not bad_input:
        print("(run again with --debug for the traceback)", file=sys.stderr)
    return EXIT_BAD_INPUT if bad_input else EXIT_FAILED


def configure_output(verbose: bool) -> None:
    """Keeps the terminal readable: TFX, Beam and TensorFlow are chatty at every level.

    Unless --verbose, only our own warnings reach stderr: a library's failure reaches the user
    as the one error message the CLI prints for the exception it raised (tracebacks with
    --debug, every log line with --verbose). The root logger stays at INFO so the runners'
    per-component records reach the progress handler.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        handler.addFilter(_own_warnings)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _own_warnings(record: logging.LogRecord) -> bool:
    return record.name.split(".")[0] in ("pipeline", "components") and record.levelno >= logging.WARNING
