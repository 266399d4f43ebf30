"""The run report's charts, drawn with matplotlib and returned as PNG data URIs.

A data URI keeps `report.html` one self-contained file that opens without a network. The
figures are built with matplotlib's object API (no pyplot), so rendering touches no global
state and needs no display.
"""

from __future__ import annotations

import base64
import io
from typing import Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_TRAIN, _VALIDATION = "#1f77b4", "#ff7f0e"


def learning_curves(
    history: dict[str, list[float]], kept_epoch: int, stopped_early: bool, metric: str | None, first_epoch: int = 1
) -> str:
    """Loss (and `metric`, e.g. accuracy), train vs validation per epoch, with the epochs marked.

    The kept epoch is the one whose weights EarlyStopping restored (or the last epoch without
    early stopping); the stop epoch is the last epoch run when early stopping ended training.
    The lists start at `first_epoch` (later than 1 when the Trainer resumed from its backup)."""
    names = ["loss"] + ([metric] if metric and metric in history else [])
    figure = Figure(figsize=(5.2 * len(names), 3.6), layout="constrained")
    epochs_run = first_epoch + len(history["loss"]) - 1
    for position, name in enumerate(names, start=1):
        axes = figure.add_subplot(1, len(names), position)
        epochs = range(first_epoch, epochs_run + 1)
        axes.plot(epochs, history[name], color=_TRAIN, marker=".", label=f"train {name}")
        if f"val_{name}" in history:
            axes.plot(epochs, history[f"val_{name}"], color=_VALIDATION, marker=".", label=f"validation {name}")
        axes.axvline(kept_epoch, color="#2ca02c", linestyle="--", label=f"weights kept: epoch {kept_epoch}")
        if stopped_early:
            axes.axvline(epochs_run, color="#d62728", linestyle=":", label=f"early stop at epoch {epochs_run}")
        _label(axes, "epoch", name)
    return _data_uri(figure)


def confusion_matrix(matrix: Sequence[Sequence[float]], class_names: Sequence[str]) -> str:
    """Counts of actual (rows) vs predicted (columns) classes, each cell labelled."""
    size = max(3.6, 0.5 * len(class_names) + 2.2)
    figure = Figure(figsize=(size + 0.8, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = range(len(class_names))
    axes.set_xticks(ticks, labels=class_names, rotation=45 if len(class_names) > 4 else 0, ha="right")
    axes.set_yticks(ticks, labels=class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("actual class")
    highest = max((value for row in matrix for value in row), default=0)
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            color = "white" if highest and value > highest / 2 else "black"
            axes.text(column, row, f"{value:g}", ha="center", va="center", color=color, fontsize="small")
    return _data_uri(figure)


def precision_recall_curve(recall: Sequence[float], precision: Sequence[float], marked: tuple[float, float]) -> str:
    """Precision against recall over the decision thresholds; `marked` is (recall, precision) at 0.5."""
    figure = Figure(figsize=(4.8, 3.8), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(recall, precision, color=_TRAIN, label="thresholds 0 to 1")
    axes.plot(*marked, "o", color="#d62728", label="threshold 0.5")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="lower left")
    return _data_uri(figure)


def metric_history(runs: Sequence[dict], roles: Sequence[str]) -> str:
    """Each gated metric (`roles`, e.g. loss and accuracy) across the runs, oldest first; blessed
    runs as green dots, the others as red crosses, runs that recorded no value left out."""
    figure = Figure(figsize=(5.2 * len(roles), 3.4), layout="constrained")
    for position, role in enumerate(roles, start=1):
        axes = figure.add_subplot(1, len(roles), position)
        points = [
            (number, run["metrics"][role], run["blessed"])
            for number, run in enumerate(runs, start=1)
            if role in run["metrics"]
        ]
        axes.plot([n for n, _, _ in points], [v for _, v, _ in points], color="#999999", linewidth=1)
        for blessed, marker, color, label in (
            (True, "o", "#17803d", "blessed"),
            (False, "x", "#c62828", "not blessed"),
        ):
            chosen = [(n, v) for n, v, b in points if b == blessed]
            if chosen:
                axes.plot(*zip(*chosen), marker, color=color, label=label, linestyle="none")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        _label(axes, "run (oldest first)", role)
    return _data_uri(figure)


def trial_scores(trials: Sequence[dict], objective: str, direction: str) -> str:
    """Each completed trial's score in the order the Tuner ran them, the best so far as a step
    line, and the best trial circled."""
    figure = Figure(figsize=(6.0, 3.4), layout="constrained")
    axes = figure.add_subplot()
    points = [(trial["trial"], trial[objective]) for trial in trials if trial["status"] == "completed"]
    better = min if direction == "min" else max
    running, best_so_far = [], None
    for number, score in points:
        best_so_far = score if best_so_far is None else better(best_so_far, score)
        running.append((number, best_so_far))
    axes.plot(*zip(*points), "o", color=_TRAIN, label="trial")
    axes.step(*zip(*running), where="post", color="#17803d", label="best so far")
    best = better(points, key=lambda point: point[1])
    axes.plot(*best, "o", markersize=12, markerfacecolor="none", color="#d62728", label=f"best: trial {best[0]}")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    _label(axes, "trial (in the order run)", objective)
    return _data_uri(figure)


def _label(axes: Any, x_label: str, name: str) -> None:
    """One panel of a metric: its axes named, a light grid and the legend."""
    axes.set_xlabel(x_label)
    axes.set_ylabel(name)
    axes.set_title(name)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
