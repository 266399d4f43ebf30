"""Command line: `python -m pipeline run ...` (also installed as `keras-pipeline`).

Parses the command line and dispatches: the checks before a run are pipeline/preflight.py's,
what is printed is pipeline/output.py's. Exit codes: 0 the run completed (blessed or not: the
summary says which), 3 with `run --require-blessed` a completed run whose model was not blessed,
2 bad configuration or input, 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from pipeline import output, preflight, records
from pipeline.arguments import RUN_FLAGS, build_parser
from pipeline.output import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_NOT_BLESSED, EXIT_OK  # noqa: F401 - the exit codes, for callers


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output.configure_output(args.verbose)
    try:
        commands = {
            "run": _run,
            "sweep": _sweep,
            "compile": _compile,
            "submit": _submit,
            "predict": _predict,
            "report": _report,
            "runs": _runs,
            "models": _models,
        }
        return commands[args.command](args)
    except Exception as error:  # noqa: BLE001 - the CLI turns every failure into a message + code
        return output.report_error(error, args.debug)


def _overrides(args: argparse.Namespace, **fixed: Any) -> dict[str, Any]:
    """The named flags, --set, then `fixed` keys, in that order (the recipe is --config)."""
    from pipeline.config import parse_assignment

    overrides: dict[str, Any] = {
        key: getattr(args, flag) for flag, key in RUN_FLAGS.items() if getattr(args, flag, None) is not None
    }
    overrides.update(parse_assignment(text) for text in args.set)
    overrides.update(fixed)
    return overrides


def _run(args: argparse.Namespace) -> int:
    if args.spec:
        return _run_spec(args)
    from pipeline.progress import component_progress

    prepared = preflight.prepare(args.config, _overrides(args), force=args.force)
    if prepared.up_to_date:
        summary = records.read_summary(prepared.up_to_date.summary_file)
        print(output.up_to_date(prepared.config, summary))
    else:
        print(output.run_banner(prepared))
        from pipeline.runner import run_pipeline  # TFX, Beam and TensorFlow: only once the input is checked

        with component_progress() as progress:
            summary = run_pipeline(prepared.config, progress)
        preflight.record_completed_run(prepared, summary)
        print(output.format_summary(summary))
    if args.summary_json:
        records.write_json(summary, args.summary_json)
    return _verdict(summary, args.require_blessed)


def _verdict(summary: dict[str, Any], require_blessed: bool) -> int:
    code = output.run_exit_code(summary, require_blessed)
    if code != output.EXIT_OK:
        print(output.refusal_line(summary))
    return code


def _run_spec(args: argparse.Namespace) -> int:
    from pipeline.config import parse_assignment
    from pipeline.progress import component_progress
    from pipeline.spec_runner import run_spec, summarize_spec_run

    recipe_flags = [flag for flag in (*RUN_FLAGS, "config") if getattr(args, flag, None) is not None] + (
        ["set"] if args.set else []
    )
    if recipe_flags:
        raise preflight.ConfigError(
            f"--{recipe_flags[0].replace('_', '-')}: a compiled spec is run as compiled; "
            f"change the recipe and compile again, or pass pipeline parameters with --param"
        )
    parameters = {name: str(value) for name, value in map(parse_assignment, args.param)}
    print(f"executing {args.spec} task by task, as open-source Kubeflow Pipelines runs it")
    started = time.monotonic()
    with component_progress() as progress:
        run = run_spec(args.spec, args.workdir, parameters, progress)
    summary = summarize_spec_run(run)
    summary["wall_seconds"] = round(time.monotonic() - started, 2)
    if args.summary_json:
        records.write_json(summary, args.summary_json)
    print(output.format_summary(summary))
    return _verdict(summary, args.require_blessed)


def _sweep(args: argparse.Namespace) -> int:
    from pipeline.config import parse_assignment
    from pipeline.progress import component_progress
    from pipeline.sweep import load_sweep, markdown_table, row_config, run_sweep

    sweep = load_sweep(args.sweep)
    overrides = dict(parse_assignment(text) for text in args.set)
    if args.epochs:
        overrides["training.epochs"] = args.epochs
    first = row_config(sweep, sweep.rows[0], overrides)
    print(f"sweep of {len(sweep.rows)} runs of {sweep.recipe} as pipeline {first.name}")

    def on_row(i: int, result: dict[str, Any]) -> None:
        print(
            f"row {i + 1}/{len(sweep.rows)}: {result['layers']} {result['regularizer']} {result['optimizer']}: "
            f"train {result['train_accuracy']}, test {result['test_accuracy']} ({result['seconds']:.0f}s)",
            flush=True,
        )

    with component_progress() as progress:
        results = run_sweep(sweep, overrides, progress, on_row)
    table = markdown_table(results, sweep, first.data.path)
    path = args.output or os.path.join(os.path.dirname(first.output.pipeline_root), "table.md")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(table)
    print(table)
    print(f"table: {path}")
    return output.EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    fixed = {
        "runner.kind": "kubeflow",
        **({"kubeflow.image": args.image} if args.image else {}),
        **({"kubeflow.target": args.target} if args.target else {}),
    }
    config = preflight.prepare(args.config, _overrides(args, **fixed)).config
    if not config.kubeflow.image:
        raise preflight.ConfigError("kubeflow.image: give the pipeline image with --image (see the Dockerfile)")
    from pipeline.kubeflow import compile_pipeline

    job = compile_pipeline(config, args.output)
    print(output.compile_report(config, job, args.output))
    return output.EXIT_OK


def _submit(args: argparse.Namespace) -> int:
    from pipeline.config import parse_assignment
    from pipeline.kubeflow import submit

    if not os.path.isfile(args.pipeline):
        raise preflight.ConfigError(
            f"--pipeline: {args.pipeline} does not exist; compile it first (python -m pipeline compile)"
        )
    arguments = {name: str(value) for name, value in map(parse_assignment, args.param)}
    run = submit(args.host, args.pipeline, args.experiment, args.run_name, arguments, args.namespace)
    print(f"submitted run {run['run_id']}")
    print(f"  {run['url']}")
    return output.EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    from components.pusher.predict import predict_files

    predictions = predict_files(args.model, args.files, args.allow_missing)
    print(f"model {predictions.model_dir}")
    print("\n".join(output.prediction_lines(predictions.names, predictions.outputs)))
    for warning in predictions.warnings:
        output.warn(warning)
    if predictions.skipped:
        return output.report_skipped(predictions.skipped, len(args.files))
    return output.EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from components.trainer.models import catalog, model_summary
    from pipeline.config import base_model_path

    base_model = base_model_path(args.base_model) if args.base_model else ""
    if args.summary:
        try:
            print(model_summary(args.summary, args.input_shape, args.classes, base_model))
        except ValueError as error:
            raise preflight.ConfigError(f"--summary: {error}") from None
        return output.EXIT_OK
    rows = catalog(args.input_shape, args.classes, base_model)
    print(output.model_catalogue(rows, args.input_shape, args.classes))
    return output.EXIT_OK


def _pipeline_roots(args: argparse.Namespace) -> list[str]:
    recipe_root = preflight.load(args.config, _overrides(args)).output.pipeline_root if args.config else None
    return records.pipeline_roots(args.pipeline_root, recipe_root)


def _report(args: argparse.Namespace) -> int:
    from pipeline.report import write_report, write_runs_page

    if args.runs:
        if args.run:
            raise preflight.ConfigError(f"--runs: the page lists every run; name no RUN (got {args.run})")
        for root in _pipeline_roots(args):
            print(f"runs page: {write_runs_page(root, records.list_runs(root))}")
        return output.EXIT_OK

    if args.run is None and args.config and not args.pipeline_root:
        from pipeline.summary import summarize

        summary = summarize(preflight.load(args.config, _overrides(args)))
    else:
        summary = records.read_summary(records.find_summary(args.run, lambda: _pipeline_roots(args)))
    print(f"report: {write_report(summary)}")
    return output.EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    found = [record for root in _pipeline_roots(args) for record in records.list_runs(root)]
    found.sort(key=lambda record: record["started"])
    print(output.runs_json(found) if args.json else output.format_runs(found))
    return output.EXIT_OK
