"""Command line: `python -m pipeline run ...` (also installed as `keras-pipeline`).

Parses the command line and dispatches: the checks before a run are commands/preflight.py's, the
run and its record commands/running.py's, what is printed commands/terminal.py's. Exit codes:
0 the run completed (blessed or not: the summary says which), 3 with `run --require-blessed` a
completed run whose model was not blessed, 2 bad configuration or input, 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from components.settings import ConfigError
from pipeline.commands import preflight, terminal
from pipeline.commands.arguments import RUN_FLAGS, build_parser
from pipeline.commands.terminal import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_NOT_BLESSED, EXIT_OK  # noqa: F401 - the exit codes, for callers
from pipeline.config.recipe import DEFAULT_OUTPUT_DIR, load, parse_assignment
from pipeline.runs.summary import RunSummary, find_summary, pipeline_roots, read_summary, write_json


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    terminal.configure_output(args.verbose)
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
        return terminal.report_error(error, args.debug)


def _overrides(args: argparse.Namespace, **fixed: Any) -> dict[str, Any]:
    """The named flags, --set, then `fixed` keys, in that order (the recipe is --config)."""
    overrides: dict[str, Any] = {
        key: getattr(args, flag) for flag, key in RUN_FLAGS.items() if getattr(args, flag, None) is not None
    }
    overrides.update(parse_assignment(text) for text in args.set)
    overrides.update(fixed)
    return overrides


def _run(args: argparse.Namespace) -> int:
    if args.spec:
        return _run_spec(args)
    from pipeline.commands.progress import component_progress

    prepared = preflight.prepare(args.config, _overrides(args), force=args.force)
    if prepared.up_to_date:
        summary = read_summary(prepared.up_to_date.summary_file)
        print(terminal.up_to_date(summary))
    else:
        print(terminal.run_banner(prepared.resolved))
        from pipeline.commands.running import run_locally  # TFX, Beam and TensorFlow: only once the input is checked

        with component_progress() as progress:
            summary = run_locally(prepared.config, progress)
        preflight.record_completed_run(prepared, summary)
        print(terminal.format_summary(summary))
    if args.summary_json:
        write_json(summary.to_json(), args.summary_json)
    return _verdict(summary, args.require_blessed)


def _verdict(summary: RunSummary, require_blessed: bool) -> int:
    code = terminal.run_exit_code(summary, require_blessed)
    if code != terminal.EXIT_OK:
        print(terminal.refusal_line(summary))
    return code


def _run_spec(args: argparse.Namespace) -> int:
    from pipeline.commands.progress import component_progress
    from pipeline.commands.running import record_spec_run
    from pipeline.orchestration.spec_runner import run_spec

    recipe_flags = [flag for flag in (*RUN_FLAGS, "config") if getattr(args, flag, None) is not None] + (
        ["set"] if args.set else []
    )
    if recipe_flags:
        raise ConfigError(
            f"--{recipe_flags[0].replace('_', '-')}: a compiled spec is run as compiled; "
            f"change the recipe and compile again, or pass pipeline parameters with --param"
        )
    parameters = {name: str(value) for name, value in map(parse_assignment, args.param)}
    print(f"executing {args.spec} task by task, as open-source Kubeflow Pipelines runs it")
    started = time.monotonic()
    with component_progress() as progress:
        run = run_spec(args.spec, args.workdir, parameters, progress)
    summary = record_spec_run(run)
    summary.wall_seconds = round(time.monotonic() - started, 2)
    if args.summary_json:
        write_json(summary.to_json(), args.summary_json)
    print(terminal.format_summary(summary))
    return _verdict(summary, args.require_blessed)


def _sweep(args: argparse.Namespace) -> int:
    from pipeline.commands.progress import component_progress
    from pipeline.commands.sweep import load_sweep, markdown_table, row_config, run_sweep

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
    return terminal.EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    fixed = {
        "runner.kind": "kubeflow",
        **({"kubeflow.image": args.image} if args.image else {}),
        **({"kubeflow.target": args.target} if args.target else {}),
    }
    config = preflight.prepare(args.config, _overrides(args, **fixed)).config
    if not config.kubeflow.image:
        raise ConfigError("kubeflow.image: give the pipeline image with --image (see the Dockerfile)")
    from pipeline.orchestration.kubeflow import compile_pipeline

    job = compile_pipeline(config, args.output)
    print(terminal.compile_report(config, job, args.output))
    return terminal.EXIT_OK


def _submit(args: argparse.Namespace) -> int:
    from pipeline.orchestration.kubeflow import submit

    if not os.path.isfile(args.pipeline):
        raise ConfigError(f"--pipeline: {args.pipeline} does not exist; compile it first (python -m pipeline compile)")
    arguments = {name: str(value) for name, value in map(parse_assignment, args.param)}
    run = submit(args.host, args.pipeline, args.experiment, args.run_name, arguments, args.namespace)
    print(f"submitted run {run['run_id']}")
    print(f"  {run['url']}")
    return terminal.EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    from components.pusher.predict import predict_files

    predictions = predict_files(args.model, args.files, args.allow_missing)
    print(f"model {predictions.model_dir}")
    print("\n".join(terminal.prediction_lines(predictions.names, predictions.outputs)))
    for warning in predictions.warnings:
        terminal.warn(warning)
    if predictions.skipped:
        return terminal.report_skipped(predictions.skipped, len(args.files))
    return terminal.EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from components.trainer.models import catalog, model_summary
    from pipeline.config.resolve import base_model_path

    base_model = base_model_path(args.base_model) if args.base_model else ""
    if args.summary:
        try:
            print(model_summary(args.summary, args.input_shape, args.classes, base_model))
        except ValueError as error:
            raise ConfigError(f"--summary: {error}") from None
        return terminal.EXIT_OK
    rows = catalog(args.input_shape, args.classes, base_model)
    print(terminal.model_catalogue(rows, args.input_shape, args.classes))
    return terminal.EXIT_OK


def _pipeline_roots(args: argparse.Namespace) -> list[str]:
    from pipeline.config.resolve import location

    recipe_root = location(load(args.config, _overrides(args)))[1].pipeline_root if args.config else None
    return pipeline_roots(args.pipeline_root, recipe_root, DEFAULT_OUTPUT_DIR)


def _report(args: argparse.Namespace) -> int:
    from pipeline.runs.metadata import list_runs
    from pipeline.runs.report import write_report, write_runs_page

    if args.runs:
        if args.run:
            raise ConfigError(f"--runs: the page lists every run; name no RUN (got {args.run})")
        for root in _pipeline_roots(args):
            print(f"runs page: {write_runs_page(root, list_runs(root))}")
        return terminal.EXIT_OK

    if args.run is None and args.config and not args.pipeline_root:
        from pipeline.config.resolve import resolved_config
        from pipeline.runs.summarize import summarize

        summary = summarize(resolved_config(args.config, _overrides(args)))
    else:
        summary = read_summary(find_summary(args.run, lambda: _pipeline_roots(args)))
    print(f"report: {write_report(summary)}")
    return terminal.EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    from pipeline.runs.metadata import list_runs

    found = [record for root in _pipeline_roots(args) for record in list_runs(root)]
    found.sort(key=lambda record: record["started"])
    print(terminal.runs_json(found) if args.json else terminal.format_runs(found))
    return terminal.EXIT_OK
