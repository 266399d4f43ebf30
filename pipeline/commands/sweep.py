"""A sweep: one pipeline run per row of the MLP configuration table, written as Markdown.

    python -m pipeline sweep --sweep configs/sweeps/mlp_table.yaml

Every row runs the same recipe with its own layers, regularizer and optimizer. The rows share
one pipeline name, so ExampleGen, statistics, schema and Transform run once and are cached for
the rest; the gate's bounds are lifted and the baseline check is off, because rows are compared
in the table rather than against each other.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import yaml

from components.settings import ConfigError, RunConfig, from_dict
from components.trainer.models import default_model
from pipeline.commands.running import run_locally
from pipeline.config.resolve import resolved_config
from pipeline.orchestration.progress import ProgressCallback
from pipeline.runs.summary import RunSummary

# A baseline tolerance no model can exceed: the sweep's rows are not gated against each other.
NO_BASELINE_CHECK = 1e9


@dataclass
class SweepRow:
    name: str  # how the table names the layers, e.g. "256-256-256"
    hidden_units: list[int]
    regularizer: Literal["none", "l2", "dropout"] = "none"
    optimizer: Literal["sgd", "adam", "rmsprop"] = "adam"
    learning_rate: Optional[float] = None  # default: the recipe's


@dataclass
class SweepSpec:
    recipe: str  # the run config every row starts from
    l2: float = 0.001  # the penalty of the "l2" regularizer
    dropout: float = 0.45  # the rate of the "dropout" regularizer
    rows: list[SweepRow] = field(default_factory=list)

    def validate(self) -> None:
        if not self.rows:
            raise ConfigError("rows: a sweep needs at least one row")


def load_sweep(path: str | os.PathLike) -> SweepSpec:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"sweep file {path} does not exist")
    return from_dict(SweepSpec, yaml.safe_load(path.read_text()) or {})


def row_config(sweep: SweepSpec, row: SweepRow, overrides: dict[str, Any]) -> RunConfig:
    base = resolved_config(sweep.recipe, overrides)
    model = dataclasses.replace(
        base.model,
        name=default_model(base.data.task),
        hidden_units=row.hidden_units,
        l2=sweep.l2 if row.regularizer == "l2" else 0.0,
        dropout=sweep.dropout if row.regularizer == "dropout" else 0.0,
        optimizer=row.optimizer,
        learning_rate=row.learning_rate or base.model.learning_rate,
    )
    evaluation = dataclasses.replace(
        base.evaluation, max_loss=None, min_accuracy=None, baseline_tolerance=NO_BASELINE_CHECK
    )
    root = Path(base.output.pipeline_root).parent / "sweep"
    output = dataclasses.replace(base.output, pipeline_root=str(root / "pipeline"), serving_dir=str(root / "serving"))
    return dataclasses.replace(base, name=f"{base.name}_sweep", model=model, evaluation=evaluation, output=output)


def run_sweep(
    sweep: SweepSpec,
    overrides: dict[str, Any],
    progress: ProgressCallback | None = None,
    on_row: Callable[[int, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Runs every row; returns one result per row (the table's columns plus the run summary)."""
    results = []
    for i, row in enumerate(sweep.rows):
        config = row_config(sweep, row, overrides)
        summary = run_locally(config, progress)
        result = {
            "layers": row.name,
            "topology": topology(summary, config),
            "regularizer": _regularizer_label(row, sweep),
            "optimizer": {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}[row.optimizer],
            "train_accuracy": summary.training.kept_epoch_metrics.get("accuracy") if summary.training else None,
            "test_accuracy": summary.metrics.value("accuracy"),
            "seconds": summary.wall_seconds,
            "summary_file": summary.summary_file,
        }
        results.append(result)
        if on_row:
            on_row(i, result)
    return results


def topology(summary: RunSummary, config: RunConfig) -> str:
    """inputs→hidden→outputs as the Trainer built it, e.g. 64→256→256→10."""
    model = (summary.training.model if summary.training else None) or {}
    widths = [model.get("input_width"), *config.model.hidden_units, model.get("output_width")]
    return "→".join(str(w) for w in widths if w is not None)


def markdown_table(results: list[dict[str, Any]], sweep: SweepSpec, data: str) -> str:
    shown = os.path.relpath(data) if os.path.isabs(data) else data
    lines = [
        f"MLP configurations on `{shown}` (train accuracy at the kept epoch, test accuracy from the "
        f"Evaluator on the eval split; L2 = {sweep.l2}, Dropout p = {sweep.dropout}).",
        "",
        "| Layers | Topology | Regularizer | Optimizer | Train Accuracy | Test Accuracy | Seconds |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['layers']} | {r['topology']} | {r['regularizer']} | {r['optimizer']} | "
            f"{_percent(r['train_accuracy'])} | {_percent(r['test_accuracy'])} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _regularizer_label(row: SweepRow, sweep: SweepSpec) -> str:
    return {"none": "None", "l2": f"L2({sweep.l2:g})", "dropout": f"Dropout({sweep.dropout:g})"}[row.regularizer]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
