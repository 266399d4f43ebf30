"""Command line: `python -m pipeline run ...` (also installed as `keras-pipeline`).

The only module that prints. Exit codes: 0 the run completed (blessed or not: the summary
says which), 2 bad configuration or input, 1 anything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
import traceback
import warnings
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

# Flag -> dotted config key. Everything else is reachable with --set KEY=VALUE.
RUN_FLAGS = {
    "data": "data.path",
    "label": "data.label",
    "task": "data.task",
    "model": "model.name",
    "epochs": "training.epochs",
    "pipeline_root": "output.pipeline_root",
    "serving_dir": "output.serving_dir",
    "runner": "runner.kind",
}

RUN_EXAMPLES = """examples:
  python -m pipeline run --config configs/penguins.yaml
  python -m pipeline run --data my.csv --label price --task regression
  python -m pipeline run --config configs/breast_cancer.yaml --epochs 20 --set evaluation.min_accuracy=0.95
  python -m pipeline run --spec pipeline.json                  # a compiled spec, task by task as KFP runs it
  python -m pipeline run --spec pipeline.json --param data_root=s3://bucket/new-rows --workdir output/spec
"""


SWEEP_EXAMPLES = """examples:
  python -m pipeline sweep --sweep configs/sweeps/mlp_table.yaml
  python -m pipeline sweep --sweep configs/sweeps/mlp_table.yaml --epochs 20 --output table.md
"""

COMPILE_EXAMPLES = """examples:
  python -m pipeline compile --target kubeflow --image gcr.io/my-project/keras-tfx:0.1.0 \\
      --pipeline-root gs://my-bucket/penguins --output pipeline.json
  python -m pipeline compile --target kubeflow --image IMAGE --pipeline-root s3://bucket/root \\
      --config configs/breast_cancer.yaml --set kubeflow.trainer.accelerator_count=2
  python -m pipeline compile --target vertex --image IMAGE --pipeline-root gs://my-bucket/penguins \\
      --set kubeflow.trainer.accelerator_type=NVIDIA_L4
"""

SUBMIT_EXAMPLES = """examples:
  python -m pipeline submit --host http://localhost:8080 --pipeline pipeline.json
  python -m pipeline submit --host https://KFP_HOST --experiment penguins --param data_root=gs://my-bucket/new-rows
"""

PREDICT_EXAMPLES = """examples:
  python -m pipeline predict --model output/digits_cnn/serving data/digits_images/test/3/*.png
  python -m pipeline predict --model output/penguins/serving new_penguins.csv
  python -m pipeline predict --model output/penguins/serving/1732550000 rows.jsonl
"""

REPORT_EXAMPLES = """examples:
  python -m pipeline report                                  # the newest run under ./output
  python -m pipeline report 20261125-194122.902724           # one run, by its id
  python -m pipeline report output/penguins/pipeline/runs/20261125-194122.902724
  python -m pipeline report --config configs/penguins.yaml   # re-read the recipe's newest run from ML Metadata
"""

RUNS_EXAMPLES = """examples:
  python -m pipeline runs                                    # every pipeline under ./output
  python -m pipeline runs --config configs/digits_cnn.yaml
  python -m pipeline runs --pipeline-root /tmp/my-run/pipeline
"""

MODELS_EXAMPLES = """examples:
  python -m pipeline models
  python -m pipeline models --input-shape 224,224,3 --classes 1000
  python -m pipeline models --summary mnist_mlp
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="TFX pipeline for Keras models: ingest, check, standardize, train, gate, push.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = _add_command(
        commands,
        "run",
        help="run the pipeline locally on a CSV file or folder",
        description="Run the whole pipeline locally and print a summary.",
        epilog=RUN_EXAMPLES,
    )
    _add_recipe_flags(
        run,
        data="CSV file, or a folder of CSV files with one header",
        epochs="maximum epochs (early stopping may end sooner)",
        pipeline_root="TFX artifacts and ML Metadata (default output/<name>/pipeline)",
        serving_dir="where blessed models are pushed (default output/<name>/serving)",
    )
    run.add_argument("--runner", choices=["beam", "local"], help="TFX orchestrator (default beam)")
    run.add_argument("--summary-json", help="also write the run summary to this file")
    run.add_argument("--spec", help="execute this compiled Kubeflow spec instead (from `compile`): each task "
                                    "in its own process, as open-source KFP runs it")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="with --spec: a pipeline parameter, e.g. data_root=s3://bucket/rows (repeatable)")
    run.add_argument("--workdir", default=os.path.join("output", "spec-runs"),
                     help="with --spec: the launcher's local copies, task logs, summaries (default output/spec-runs)")
    _add_run_options(run)

    sweep = _add_command(
        commands,
        "sweep",
        help="run one pipeline per row of an MLP configuration table and write it as Markdown",
        description="Runs the sweep's recipe once per row (layers, regularizer, optimizer) and "
                    "writes the train/test accuracy table.",
        epilog=SWEEP_EXAMPLES,
    )
    sweep.add_argument("--sweep", required=True, help="sweep file (see configs/sweeps/)")
    sweep.add_argument("--epochs", type=int, help="maximum epochs for every row")
    sweep.add_argument("--output", help="Markdown file to write (default: next to the sweep's runs)")
    _add_run_options(sweep)

    compile_ = _add_command(
        commands,
        "compile",
        help="compile the pipeline for Kubeflow Pipelines (KFP v2 spec)",
        description="Compiles the same pipeline with KubeflowV2DagRunner into a KFP v2 PipelineJob JSON. "
                    "Relative data paths resolve inside the image (kubeflow.image_workdir); the pipeline "
                    "root must be object storage (gs://, s3://). Nothing is read or written there.",
        epilog=COMPILE_EXAMPLES,
    )
    compile_.add_argument("--target", choices=["kubeflow", "vertex"],
                          help="open-source Kubeflow Pipelines v2 (default) or Vertex AI Pipelines")
    compile_.add_argument("--image", help="container image with this project installed (see Dockerfile)")
    compile_.add_argument("--output", default="pipeline.json", help="where to write the spec (default pipeline.json)")
    _add_recipe_flags(
        compile_,
        data="CSV file or folder as the pods see it (gs://..., or a path in the image)",
        epochs="maximum epochs",
        pipeline_root="artifact store: gs://bucket/path or s3://bucket/path",
        serving_dir="where blessed models are pushed (default <pipeline-root>/serving)",
    )
    _add_run_options(compile_)

    submit = _add_command(
        commands,
        "submit",
        help="submit a compiled pipeline to a Kubeflow Pipelines endpoint",
        description="Submits a compiled pipeline (from `compile`) with kfp.Client and prints the run id and URL.",
        epilog=SUBMIT_EXAMPLES,
    )
    submit.add_argument("--host", required=True, help="KFP API endpoint, e.g. http://localhost:8080")
    submit.add_argument("--pipeline", default="pipeline.json", help="compiled spec (default pipeline.json)")
    submit.add_argument("--experiment", default="Default", help="KFP experiment (created if missing)")
    submit.add_argument("--run-name", help="run name (default: the pipeline's name)")
    submit.add_argument("--namespace", help="Kubernetes namespace (multi-user deployments)")
    submit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="runtime parameter, e.g. data_root=gs://bucket/new-rows (repeatable)")
    submit.add_argument("--verbose", action="store_true", help="show library logs")
    submit.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    predict = _add_command(
        commands,
        "predict",
        help="predict with a pushed model from image files or CSV/JSON rows",
        description="Loads a pushed SavedModel and prints the predicted class and its probability (or the "
                    "regression prediction) for each image file, or each row of CSV / JSON / JSON-lines files.",
        epilog=PREDICT_EXAMPLES,
    )
    predict.add_argument("--model", required=True,
                         help="a pushed model version dir, or the serving dir (its newest version is used)")
    predict.add_argument("files", nargs="+", metavar="FILE", help="image files (.png .jpg .jpeg .bmp .gif), or "
                         ".csv / .json / .jsonl files of raw rows for a tabular model")
    predict.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
    predict.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    report = _add_command(
        commands,
        "report",
        help="render a run's HTML report again (learning curves, gate, data, model)",
        description="Renders report.html of a run from its summary and artifacts and prints its path. RUN is "
                    "a run id, a run's directory or its summary.json; without RUN, the newest run. With --config, "
                    "the recipe's newest run is read again from ML Metadata first (also a run that failed).",
        epilog=REPORT_EXAMPLES,
    )
    report.add_argument("run", nargs="?", metavar="RUN", help="run id, run directory or summary.json")
    _add_store_flags(report)

    runs = _add_command(
        commands,
        "runs",
        help="list past runs from ML Metadata: time, metrics, blessed, pushed version",
        description="Lists every run recorded in ML Metadata, oldest first, as a table.",
        epilog=RUNS_EXAMPLES,
    )
    _add_store_flags(runs)

    models = _add_command(
        commands,
        "models",
        help="list the registered models with their parameter counts",
        description="Builds every registered model for one input shape and lists its parameter count.",
        epilog=MODELS_EXAMPLES,
    )
    models.add_argument("--input-shape", default="28,28,1", type=_shape,
                        help="HEIGHT,WIDTH,CHANNELS of the input image; dense models read it flattened "
                             "(default 28,28,1: MNIST's 784 inputs)")
    models.add_argument("--classes", type=int, default=10, help="number of classes (default 10)")
    models.add_argument("--base-model", help="a .h5/.keras file or pushed model directory, for `transfer`")
    models.add_argument("--summary", metavar="NAME", help="print Keras' model.summary() of one model")
    models.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
    models.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def _add_command(commands: Any, name: str, help: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with its examples, laid out as written."""
    return commands.add_parser(name, help=help, description=description, epilog=epilog,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_recipe_flags(
    parser: argparse.ArgumentParser, data: str, epochs: str, pipeline_root: str, serving_dir: str
) -> None:
    """--config and the named flags of RUN_FLAGS shared by `run` and `compile` (help text per command)."""
    parser.add_argument("--config", help="YAML recipe (see configs/); flags override it")
    parser.add_argument("--data", help=data)
    parser.add_argument("--label", help="label column")
    parser.add_argument("--task", choices=["binary", "multiclass", "regression"])
    parser.add_argument("--model", help="registered model name (default: by task)")
    parser.add_argument("--epochs", type=int, help=epochs)
    parser.add_argument("--pipeline-root", help=pipeline_root)
    parser.add_argument("--serving-dir", help=serving_dir)


def _add_store_flags(parser: argparse.ArgumentParser) -> None:
    """Where `report` and `runs` look: a recipe's pipeline root, a given one, or every one under ./output."""
    parser.add_argument("--config", help="YAML recipe whose pipeline root to read")
    parser.add_argument("--pipeline-root", help="a pipeline root (holds metadata.sqlite and runs/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, as for run")
    parser.add_argument("--verbose", action="store_true", help="show library logs")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override any config key, e.g. --set training.batch_size=64 (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="show TFX and Beam logs")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_output(args.verbose)
    try:
        commands = {"run": _run, "sweep": _sweep, "compile": _compile, "submit": _submit, "predict": _predict,
                    "report": _report, "runs": _runs, "models": _models}
        return commands[args.command](args)
    except Exception as error:  # noqa: BLE001 - the CLI turns every failure into a message + code
        return _report_error(error, args.debug)


def _load_config(args: argparse.Namespace, **fixed: Any) -> Any:
    """The config from --config, the named flags, --set, then `fixed` keys, in that order."""
    from pipeline.config import load_config, parse_assignment

    overrides: dict[str, Any] = {
        key: getattr(args, flag)
        for flag, key in RUN_FLAGS.items()
        if getattr(args, flag, None) is not None
    }
    overrides.update(parse_assignment(text) for text in args.set)
    overrides.update(fixed)
    return load_config(args.config, overrides)


def _run(args: argparse.Namespace) -> int:
    if args.spec:
        return _run_spec(args)
    from components.csv_input import check_csv, check_rows
    from pipeline.config import check_files
    from pipeline.progress import component_progress

    config = _load_config(args)
    check_files(config)
    if config.data.is_image:
        what = f"{config.data.format} images, {len(config.data.classes)} classes"
    else:
        check_csv(config.data.path, config.data.label, config.data.features + config.data.exclude)
        check_rows(config.data.path, config.data.label, config.data.task)
        what = f"label {config.data.label!r}"
    print(f"pipeline {config.name}: {config.data.task} on {config.data.path} ({what}), "
          f"model {config.model.name}, runner {config.runner.kind}")
    if config.evaluation.max_loss is None:
        config = with_trivial_loss_bound(config)
        print(f"gate: no evaluation.max_loss set, so the loss must beat a model that ignores the features: "
              f"< {config.evaluation.max_loss:.4f}")
    from pipeline.runner import run_pipeline  # TFX, Beam and TensorFlow: only once the input is checked
    from pipeline.summary import write_json

    with component_progress() as progress:
        summary = run_pipeline(config, progress)
    if args.summary_json:
        write_json(summary, args.summary_json)
    print(format_summary(summary))
    return EXIT_OK


def _run_spec(args: argparse.Namespace) -> int:
    from components.settings import ConfigError
    from pipeline.config import parse_assignment
    from pipeline.progress import component_progress
    from pipeline.spec_runner import run_spec, summarize_spec_run
    from pipeline.summary import write_json

    recipe_flags = [flag for flag in (*RUN_FLAGS, "config") if getattr(args, flag, None) is not None] + (
        ["set"] if args.set else [])
    if recipe_flags:
        raise ConfigError(f"--{recipe_flags[0].replace('_', '-')}: a compiled spec is run as compiled; "
                          f"change the recipe and compile again, or pass pipeline parameters with --param")
    parameters = dict(parse_assignment(text) for text in args.param)
    print(f"executing {args.spec} task by task, as open-source Kubeflow Pipelines runs it")
    started = time.monotonic()
    with component_progress() as progress:
        run = run_spec(args.spec, args.workdir, {name: str(value) for name, value in parameters.items()}, progress)
    summary = summarize_spec_run(run)
    summary["wall_seconds"] = round(time.monotonic() - started, 2)
    if args.summary_json:
        write_json(summary, args.summary_json)
    print(format_summary(summary))
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from pipeline.progress import component_progress
    from pipeline.sweep import load_sweep, markdown_table, row_config, run_sweep

    from pipeline.config import parse_assignment

    sweep = load_sweep(args.sweep)
    overrides = dict(parse_assignment(text) for text in args.set)
    if args.epochs:
        overrides["training.epochs"] = args.epochs
    first = row_config(sweep, sweep.rows[0], overrides)
    print(f"sweep of {len(sweep.rows)} runs of {sweep.recipe} as pipeline {first.name}")

    def on_row(i: int, result: dict[str, Any]) -> None:
        print(f"row {i + 1}/{len(sweep.rows)}: {result['layers']} {result['regularizer']} {result['optimizer']}: "
              f"train {result['train_accuracy']}, test {result['test_accuracy']} ({result['seconds']:.0f}s)", flush=True)

    with component_progress() as progress:
        results = run_sweep(sweep, overrides, progress, on_row)
    table = markdown_table(results, sweep, first.data.path)
    output = args.output or os.path.join(os.path.dirname(first.output.pipeline_root), "table.md")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        f.write(table)
    print(table)
    print(f"table: {output}")
    return EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    from components.settings import ConfigError
    from pipeline.kubeflow import compile_pipeline

    fixed = {"runner.kind": "kubeflow", **({"kubeflow.image": args.image} if args.image else {}),
             **({"kubeflow.target": args.target} if args.target else {})}
    config = _load_config(args, **fixed)
    if not config.kubeflow.image:
        raise ConfigError("kubeflow.image: give the pipeline image with --image (see the Dockerfile)")
    if config.evaluation.max_loss is None:
        config = _kubeflow_loss_bound(config)
    job = compile_pipeline(config, args.output)
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    where = "open-source Kubeflow Pipelines" if config.kubeflow.target == "kubeflow" else "Vertex AI Pipelines"
    print(f"compiled pipeline {config.name} for {where}: {len(executors)} executors, image {config.kubeflow.image}")
    print(f"  pipeline root: {config.output.pipeline_root}")
    print(f"  data_root (runtime parameter): {job['runtimeConfig']['parameterValues']['data_root']}")
    for name, executor in sorted(executors.items()):
        resources = executor.get("container", {}).get("resources")
        if resources:
            print(f"  {name.removesuffix('_executor')} requests {_describe_resources(resources)}")
    print(f"  gate: loss <= {config.evaluation.max_loss:.4f}")
    print(f"written: {args.output}")
    return EXIT_OK


def _kubeflow_loss_bound(config: Any) -> Any:
    """The default gate bar needs the data; on Kubeflow it is read only if this checkout has it."""
    from components.settings import ConfigError

    local = os.path.relpath(config.data.path, config.kubeflow.image_workdir)
    if "://" in config.data.path or local.startswith("..") or not os.path.exists(local):
        raise ConfigError(
            f"evaluation.max_loss: the default bound is computed from the data, and {config.data.path} "
            f"cannot be read here; set --set evaluation.max_loss=VALUE"
        )
    local_config = dataclasses.replace(config, data=dataclasses.replace(config.data, path=local))
    bound = with_trivial_loss_bound(local_config).evaluation.max_loss
    return dataclasses.replace(config, evaluation=dataclasses.replace(config.evaluation, max_loss=bound))


def _describe_resources(resources: dict[str, Any]) -> str:
    parts = []
    if resources.get("resourceCpuRequest"):
        parts.append(f"{resources['resourceCpuRequest']} CPU")
    if resources.get("resourceMemoryRequest"):
        parts.append(f"{resources['resourceMemoryRequest']} memory")
    accelerator = resources.get("accelerator")
    if accelerator:
        parts.append(f"{accelerator['count']} x {accelerator['type']}")
    return ", ".join(parts)


def _submit(args: argparse.Namespace) -> int:
    from components.settings import ConfigError
    from pipeline.config import parse_assignment
    from pipeline.kubeflow import submit

    if not os.path.isfile(args.pipeline):
        raise ConfigError(f"--pipeline: {args.pipeline} does not exist; compile it first (python -m pipeline compile)")
    arguments = {}
    for text in args.param:
        name, value = parse_assignment(text)
        arguments[name] = str(value)
    run = submit(args.host, args.pipeline, args.experiment, args.run_name, arguments, args.namespace)
    print(f"submitted run {run['run_id']}")
    print(f"  {run['url']}")
    return EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    from components import features
    from components.predict import (
        is_image_file, load_model, model_version_dir, predict_images, predict_raw, read_rows, takes_images,
    )
    from components.settings import InputError

    model_dir = model_version_dir(args.model)
    model = load_model(model_dir)
    print(f"model {model_dir}")
    if takes_images(model):
        not_images = [path for path in args.files if not is_image_file(path)]
        if not_images:
            raise InputError(f"{not_images[0]}: this model takes image files (.png .jpg .jpeg .bmp .gif)")
        names = args.files
        outputs = predict_images(model, [_read_bytes(path) for path in names])
    else:
        rows, names = [], []
        for path in args.files:
            if is_image_file(path):
                raise InputError(f"{path}: this model takes CSV or JSON rows, not images")
            file_rows = read_rows(path)
            rows += file_rows
            names += [f"{path}:{i + 1}" for i in range(len(file_rows))]
        outputs = predict_raw(model, rows)
    for i, name in enumerate(names):
        if features.PREDICTIONS in outputs:
            print(f"{name}: {float(outputs[features.PREDICTIONS][i][0]):.6g}")
            continue
        class_id = int(outputs[features.CLASS_IDS][i])
        probability = _class_probability(outputs[features.PROBABILITIES][i], class_id)
        print(f"{name}: {outputs[features.CLASSES][i].decode()} (probability {probability:.4f})")
    return EXIT_OK


def _class_probability(probabilities: Any, class_id: int) -> float:
    """The predicted class's probability; a binary model outputs the positive class's alone."""
    if len(probabilities) == 1:
        return float(probabilities[0] if class_id == 1 else 1 - probabilities[0])
    return float(probabilities[class_id])


def _read_bytes(path: str) -> bytes:
    from components.settings import InputError

    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def _models(args: argparse.Namespace) -> int:
    from components.models import REGISTRY, build_model, catalog, example_task
    from components.models.inputs import ImageInput, InputSpec
    from components.settings import ConfigError, ModelSpec, TransferSpec

    spec = ModelSpec(transfer=TransferSpec(base_model=args.base_model or ""))
    if args.summary:
        if args.summary not in REGISTRY:
            raise ConfigError(f"--summary: unknown model {args.summary!r} (known: {', '.join(sorted(REGISTRY))})")
        inputs = InputSpec(image=ImageInput("image", args.input_shape))
        task = example_task(REGISTRY[args.summary], args.classes)
        model = build_model(inputs, task, ModelSpec(**{**vars(spec), "name": args.summary}))
        model.summary(print_fn=print)
        return EXIT_OK
    shape = "x".join(map(str, args.input_shape))
    print(f"models for {shape} inputs and {args.classes} classes (dense models read the image flattened):")
    print(f"{'model':22} {'tasks':40} {'parameters':>11}  description")
    for row in catalog(args.input_shape, args.classes, spec):
        count = f"{row.parameters:,}" if row.parameters is not None else "-"
        tasks = ", ".join(row.tasks) + (" (images)" if row.needs_image else "")
        print(f"{row.name:22} {tasks:40} {count:>11}  {row.description}")
        if row.note:
            print(f"{'':22} {'':40} {'':>11}  ({row.note})")
    return EXIT_OK


def _shape(text: str) -> tuple[int, int, int]:
    try:
        height, width, channels = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHT,WIDTH,CHANNELS such as 28,28,1, got {text!r}") from None
    return height, width, channels


def _pipeline_roots(args: argparse.Namespace) -> list[str]:
    """--pipeline-root, else the recipe's root (--config), else every pipeline root under ./output."""
    import glob

    from components.settings import ConfigError
    from pipeline.config import DEFAULT_OUTPUT_DIR, METADATA_FILE

    if args.pipeline_root:
        roots = [args.pipeline_root]
    elif args.config:
        roots = [_load_config(args).output.pipeline_root]
    else:
        roots = sorted(os.path.dirname(path) for path in glob.glob(os.path.join(DEFAULT_OUTPUT_DIR, "*", "*", METADATA_FILE)))
        if not roots:
            raise ConfigError(f"no runs under ./{DEFAULT_OUTPUT_DIR}; give --config or --pipeline-root")
    missing = [root for root in roots if not os.path.exists(os.path.join(root, METADATA_FILE))]
    if missing:
        raise ConfigError(f"--pipeline-root: {missing[0]} holds no ML Metadata ({METADATA_FILE}); has it run?")
    return roots


def _report(args: argparse.Namespace) -> int:
    from pipeline.report import write_report
    from pipeline.summary import summarize

    if args.run is None and args.config and not args.pipeline_root:
        summary = summarize(_load_config(args))
    else:
        summary = _read_summary(_summary_file(args))
    print(f"report: {write_report(summary)}")
    return EXIT_OK


def _summary_file(args: argparse.Namespace) -> str:
    """The summary.json that RUN names, or the newest one under the pipeline roots."""
    import glob

    from components.settings import ConfigError
    from pipeline.records import RUNS_DIR, SUMMARY_FILE

    if args.run and os.path.isfile(args.run):
        return args.run
    if args.run and os.path.isdir(args.run):
        path = os.path.join(args.run, SUMMARY_FILE)
        if not os.path.isfile(path):
            raise ConfigError(f"RUN: {args.run} holds no {SUMMARY_FILE}")
        return path
    runs = [path for root in _pipeline_roots(args) for path in glob.glob(os.path.join(root, RUNS_DIR, "*", SUMMARY_FILE))]
    if args.run:
        runs = [path for path in runs if os.path.basename(os.path.dirname(path)) == args.run]
        if not runs:
            raise ConfigError(f"RUN: no run {args.run} with a {SUMMARY_FILE} (see python -m pipeline runs)")
    if not runs:
        raise ConfigError("no run with a summary; run the pipeline first, or give --config to read ML Metadata")
    return max(runs, key=lambda path: os.path.basename(os.path.dirname(path)))


def _read_summary(path: str) -> dict[str, Any]:
    import json

    from components.settings import InputError

    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable run summary ({error})") from None
    summary["summary_file"] = path
    return summary


def _runs(args: argparse.Namespace) -> int:
    from pipeline.config import METADATA_FILE
    from pipeline.records import list_runs

    records = [record for root in _pipeline_roots(args) for record in list_runs(os.path.join(root, METADATA_FILE))]
    print(format_runs(sorted(records, key=lambda record: record["started"])))
    return EXIT_OK


def format_runs(records: list[dict[str, Any]]) -> str:
    head = ["started", "pipeline", "run", "state", "loss", "accuracy", "blessed", "pushed version"]
    rows = []
    for record in records:
        metrics = record["metrics"]
        rows.append([
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["started"])),
            record["pipeline"],
            record["run_id"],
            record["state"],
            f"{metrics['loss']:.4f}" if "loss" in metrics else "-",
            f"{metrics['accuracy']:.4f}" if "accuracy" in metrics else "-",
            "yes" if record["blessed"] else "no",
            record["pushed_model_dir"] or "-",
        ])
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines + [f"{len(records)} run(s)"])


def with_trivial_loss_bound(config: Any) -> Any:
    """TFX blesses no model without an absolute bound; the default bound is the trivial predictor's loss."""
    from components.csv_input import trivial_loss
    from components.image_data import describe_image_data, trivial_image_loss

    if config.data.is_image:
        bound = trivial_image_loss(describe_image_data(config.data.path, config.data.format, config.data.classes))
    else:
        bound = trivial_loss(config.data.path, config.data.label, config.data.task)
    return dataclasses.replace(config, evaluation=dataclasses.replace(config.evaluation, max_loss=bound))


def format_summary(summary: dict[str, Any]) -> str:
    lines = ["", f"run {summary['run_id']} finished in {summary['wall_seconds']:.1f}s"]
    training = summary.get("training") or {}
    if training:
        stop = "early stopping" if training["stopped_early"] else "all epochs"
        lines.append(f"  training: {training['epochs_run']} epochs ({stop}), kept epoch {training['kept_epoch']}")
        if training.get("strategy"):
            strategy = training["strategy"]
            lines.append(f"  strategy: {strategy['class']} ({strategy['name']}), {strategy['replicas']} replica(s), "
                         f"global batch {training['global_batch_size']}")
    if training.get("linear"):
        raw, output = training["linear"]["raw"], "y" if training["linear"]["output"] == "prediction" else "logit"
        terms = " ".join(f"{weight:+.4g}·{column}" for column, weight in raw["weights"].items())
        lines.append(f"  linear unit (CSV units): {output} = {terms} {raw['bias']:+.4g}")
    for role, metric in summary["metrics"].items():
        if not isinstance(metric, dict):
            continue
        bound = (f" >= {metric['lower_bound']}" if metric.get("lower_bound") is not None
                 else f" <= {metric['upper_bound']}" if metric.get("upper_bound") is not None else "")
        baseline = f", in production {metric['baseline']:.4f}" if metric.get("baseline") is not None else ""
        value = "n/a" if metric["value"] is None else f"{metric['value']:.4f}"
        verdict = "pass" if metric["passed"] else "FAIL"
        lines.append(f"  {role} ({metric['metric']}): {value} [bound{bound or ' none'}{baseline}] {verdict}")
    images = summary.get("images")
    if images:
        lines.append(f"  images: {images['read']} read, {images['skipped']} skipped")
        for record in images["skipped_files"][:20]:
            lines.append(f"    skipped {record['path']}: {record['reason']}")
        if images["skipped"] > 20:
            lines.append(f"    ... all {images['skipped']} listed in {images['skipped_list']}")
    for split, found in summary.get("anomalies", {}).items():
        for anomaly in found:
            lines.append(f"  anomaly in {split} data: {anomaly}")
    if "baseline_model" in summary:
        lines.append(f"  compared with: {summary['baseline_model'] or 'no model in production yet'}")
    lines.append(f"  blessed: {'yes' if summary['blessed'] else 'NO'}")
    lines.append(f"  pushed: {summary['pushed_model_dir'] or 'nothing (not blessed)'}")
    lines.append(f"  summary: {summary['summary_file']}")
    if summary.get("report_file"):
        lines.append(f"  report: {summary['report_file']}")
    return "\n".join(lines)


def _report_error(error: Exception, debug: bool) -> int:
    from components.settings import ConfigError, InputError

    bad_input = isinstance(error, (ConfigError, InputError))
    if debug:
        traceback.print_exc()
    kind = "configuration error" if isinstance(error, ConfigError) else "input error" if bad_input else "error"
    print(f"{kind}: {error}", file=sys.stderr)
    if not debug and not bad_input:
        print("(run again with --debug for the traceback)", file=sys.stderr)
    return EXIT_BAD_INPUT if bad_input else EXIT_FAILED


def _configure_output(verbose: bool) -> None:
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
