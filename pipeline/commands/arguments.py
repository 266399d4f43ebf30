"""What the command line accepts: every subcommand, its flags, help text and examples.

`commands/cli.py` dispatches the parsed arguments; nothing here runs anything. The choices are
the settings' own (components/settings.py: `TASKS`, `LOCAL_RUNNERS`, `TARGETS`).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from components.settings import LOCAL_RUNNERS, TARGETS, TASKS

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
    "tune": "tuning.enabled",
}

RUN_EXAMPLES = """examples:
  python -m pipeline run --config configs/penguins.yaml
  python -m pipeline run --config configs/penguins.yaml --force  # again, though nothing changed
  python -m pipeline run --data my.csv --label price --task regression
  python -m pipeline run --config configs/breast_cancer.yaml --epochs 20 --set evaluation.min_accuracy=0.95
  python -m pipeline run --config configs/wine_dropout_batchnorm.yaml --tune --set tuning.max_trials=20
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
  python -m pipeline report --runs --config configs/penguins.yaml   # runs.html: every run of the recipe's root
"""

RUNS_EXAMPLES = """examples:
  python -m pipeline runs                                    # every pipeline under ./output
  python -m pipeline runs --json                             # the same, as JSON for scripts
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
        formatter_class=argparse.RawDescriptionHelpFormatter,  # --version's line as written
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True)
    for name, one_line, description, epilog, add_flags in _subcommands():
        # --help ends with the examples, laid out as written.
        add_flags(
            commands.add_parser(
                name,
                help=one_line,
                description=description,
                epilog=epilog,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    return parser


def _subcommands() -> list[tuple[str, str, str, str, Any]]:
    """Each subcommand: its name, one-line help, description, examples and the function adding its flags."""
    return [
        (
            "run",
            "run the pipeline locally on a CSV file or folder, or image data",
            "Run the whole pipeline locally and print a summary.",
            RUN_EXAMPLES,
            _run_flags,
        ),
        (
            "sweep",
            "run one pipeline per row of an MLP configuration table and write it as Markdown",
            "Runs the sweep's recipe once per row (layers, regularizer, optimizer) and "
            "writes the train/test accuracy table.",
            SWEEP_EXAMPLES,
            _sweep_flags,
        ),
        (
            "compile",
            "compile the pipeline for Kubeflow Pipelines (KFP v2 spec)",
            "Compiles the same pipeline with KubeflowV2DagRunner into a KFP v2 PipelineJob JSON. "
            "Relative data paths resolve inside the image (kubeflow.image_workdir); the pipeline "
            "root must be object storage (gs://, s3://). Nothing is read or written there.",
            COMPILE_EXAMPLES,
            _compile_flags,
        ),
        (
            "submit",
            "submit a compiled pipeline to a Kubeflow Pipelines endpoint",
            "Submits a compiled pipeline (from `compile`) with kfp.Client and prints the run id and URL.",
            SUBMIT_EXAMPLES,
            _submit_flags,
        ),
        (
            "predict",
            "predict with a pushed model from image files or CSV/JSON rows",
            "Loads a pushed SavedModel and prints the predicted class and its probability (or the "
            "regression prediction) for each image file, or each row of CSV / JSON / JSON-lines files.",
            PREDICT_EXAMPLES,
            _predict_flags,
        ),
        (
            "report",
            "render a run's HTML report again (learning curves, gate, data, model)",
            "Renders report.html of a run from its summary and artifacts and prints its path. RUN is "
            "a run id, a run's directory or its summary.json; without RUN, the newest run. With --config, "
            "the recipe's newest run is read again from ML Metadata first (also a run that failed).",
            REPORT_EXAMPLES,
            _report_flags,
        ),
        (
            "runs",
            "list past runs from ML Metadata: time, metrics, blessed, pushed version",
            "Lists every run recorded in ML Metadata, oldest first, as a table.",
            RUNS_EXAMPLES,
            _runs_flags,
        ),
        (
            "models",
            "list the registered models with their parameter counts",
            "Builds every registered model for one input shape and lists its parameter count.",
            MODELS_EXAMPLES,
            _models_flags,
        ),
    ]


def _run_flags(run: argparse.ArgumentParser) -> None:
    _add_recipe_flags(
        run,
        data="the data: a CSV file or a folder of CSVs with one header; an image folder (one "
        "sub-folder per class, optionally under train/ validation/ test/); an .npz file of MNIST-style "
        "arrays; or a folder of IDX files",
        epochs="maximum epochs (early stopping may end sooner)",
        pipeline_root="TFX artifacts and ML Metadata (default output/<name>/pipeline)",
        serving_dir="where blessed models are pushed (default output/<name>/serving)",
    )
    run.add_argument("--runner", choices=LOCAL_RUNNERS, help="TFX orchestrator (default beam)")
    run.add_argument("--summary-json", help="also write the run summary to this file")
    run.add_argument(
        "--require-blessed",
        action="store_true",
        help="exit 3 when the run completes but its model is not blessed (the last line says which "
        "metric refused it and by how much); without it a refused model exits 0",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when nothing changed since the newest completed run (data files, config, "
        "code, the model in production); without it such a run answers at once with that run",
    )
    run.add_argument(
        "--spec",
        help="execute this compiled Kubeflow spec instead (from `compile`): each task "
        "in its own process, as open-source KFP runs it",
    )
    _add_parameter_flag(run, "with --spec: a pipeline parameter, e.g. data_root=s3://bucket/rows (repeatable)")
    run.add_argument(
        "--workdir",
        default=os.path.join("output", "spec-runs"),
        help="with --spec: the launcher's local copies, task logs, summaries (default output/spec-runs)",
    )
    _add_run_options(run)


def _sweep_flags(sweep: argparse.ArgumentParser) -> None:
    sweep.add_argument("--sweep", required=True, help="sweep file (see configs/sweeps/)")
    sweep.add_argument("--epochs", type=int, help="maximum epochs for every row")
    sweep.add_argument("--output", help="Markdown file to write (default: next to the sweep's runs)")
    _add_run_options(sweep)


def _compile_flags(compile_: argparse.ArgumentParser) -> None:
    compile_.add_argument(
        "--target",
        choices=TARGETS,
        help="open-source Kubeflow Pipelines v2 (default) or Vertex AI Pipelines",
    )
    compile_.add_argument("--image", help="container image with this project installed (see Dockerfile)")
    compile_.add_argument("--output", default="pipeline.json", help="where to write the spec (default pipeline.json)")
    _add_recipe_flags(
        compile_,
        data="the data as the pods see it (gs://..., or a path in the image): CSV file or folder, "
        "image folder, .npz file or IDX folder",
        epochs="maximum epochs",
        pipeline_root="artifact store: gs://bucket/path or s3://bucket/path",
        serving_dir="where blessed models are pushed (default <pipeline-root>/serving)",
    )
    _add_run_options(compile_)


def _submit_flags(submit: argparse.ArgumentParser) -> None:
    submit.add_argument("--host", required=True, help="KFP API endpoint, e.g. http://localhost:8080")
    submit.add_argument("--pipeline", default="pipeline.json", help="compiled spec (default pipeline.json)")
    submit.add_argument("--experiment", default="Default", help="KFP experiment (created if missing)")
    submit.add_argument("--run-name", help="run name (default: the pipeline's name)")
    submit.add_argument("--namespace", help="Kubernetes namespace (multi-user deployments)")
    _add_parameter_flag(submit, "runtime parameter, e.g. data_root=gs://bucket/new-rows (repeatable)")
    _add_log_flags(submit, "show library logs")


def _predict_flags(predict: argparse.ArgumentParser) -> None:
    predict.add_argument(
        "--model", required=True, help="a pushed model version dir, or the serving dir (its newest version is used)"
    )
    predict.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="image files (.png .jpg .jpeg .bmp .gif), or .csv / .json / .jsonl files of raw rows for a tabular model",
    )
    predict.add_argument(
        "--allow-missing",
        action="store_true",
        help="predict rows of a file that lacks a feature column as if every such cell were empty "
        "(imputed as in training); without it, a missing column is an error",
    )
    _add_log_flags(predict, argparse.SUPPRESS)


def _report_flags(report: argparse.ArgumentParser) -> None:
    report.add_argument("run", nargs="?", metavar="RUN", help="run id, run directory or summary.json")
    report.add_argument(
        "--runs",
        action="store_true",
        help="instead, write the runs page of each pipeline root (runs.html: every run, its metrics, "
        "links to each report, and the metrics across runs)",
    )
    _add_store_flags(report)


def _runs_flags(runs: argparse.ArgumentParser) -> None:
    _add_store_flags(runs)
    runs.add_argument(
        "--json",
        action="store_true",
        help="print the runs as a JSON list (started as seconds since the epoch and as ISO 8601 UTC)",
    )


def _models_flags(models: argparse.ArgumentParser) -> None:
    models.add_argument(
        "--input-shape",
        default="28,28,1",
        type=_shape,
        help="HEIGHT,WIDTH,CHANNELS of the input image; dense models read it flattened "
        "(default 28,28,1: MNIST's 784 inputs)",
    )
    models.add_argument("--classes", type=int, default=10, help="number of classes (default 10)")
    models.add_argument("--base-model", help="a .h5/.keras file or pushed model directory, for `transfer`")
    models.add_argument("--summary", metavar="NAME", help="print Keras' model.summary() of one model")
    _add_log_flags(models, argparse.SUPPRESS)


def version_text() -> str:
    """This project's version and the stack it runs on, read from the installed packages'
    metadata (nothing is imported: `--version` answers at once)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return (
        f"keras-tfx-pipeline {installed('keras-tfx-pipeline')} (TFX {installed('tfx')}, "
        f"TensorFlow {installed('tensorflow')}, Keras 2 through tf_keras {installed('tf-keras')}, "
        f"Apache Beam {installed('apache-beam')}, kfp {installed('kfp')})"
    )


def _add_recipe_flags(
    parser: argparse.ArgumentParser, data: str, epochs: str, pipeline_root: str, serving_dir: str
) -> None:
    """--config and the named flags of RUN_FLAGS shared by `run` and `compile` (help text per command)."""
    parser.add_argument("--config", help="YAML recipe (see configs/); flags override it")
    parser.add_argument("--data", help=data)
    parser.add_argument("--label", help="label column")
    parser.add_argument("--task", choices=TASKS)
    parser.add_argument(
        "--model",
        help="a registered model (see `models`), or your own builder as package.module:function "
        "(docs/own-model.md); default: by task",
    )
    parser.add_argument("--epochs", type=int, help=epochs)
    parser.add_argument(
        "--tune",
        action="store_const",
        const=True,
        help="search the model's hyperparameters first (TFX Tuner with KerasTuner; budget and "
        "space in the recipe's tuning section, see docs/tuning.md), then train the best",
    )
    parser.add_argument("--pipeline-root", help=pipeline_root)
    parser.add_argument("--serving-dir", help=serving_dir)


def _add_store_flags(parser: argparse.ArgumentParser) -> None:
    """Where `report` and `runs` look: a recipe's pipeline root, a given one, or every one under ./output."""
    parser.add_argument("--config", help="YAML recipe whose pipeline root to read")
    parser.add_argument("--pipeline-root", help="a pipeline root (holds metadata.sqlite and runs/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, as for run")
    _add_log_flags(parser, "show library logs")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set training.batch_size=64 (repeatable)",
    )
    _add_log_flags(parser, "show TFX and Beam logs")


def _add_log_flags(parser: argparse.ArgumentParser, verbose: str) -> None:
    parser.add_argument("--verbose", action="store_true", help=verbose)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_parameter_flag(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=help)


def _shape(text: str) -> tuple[int, int, int]:
    try:
        height, width, channels = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHT,WIDTH,CHANNELS such as 28,28,1, got {text!r}") from None
    return height, width, channels
