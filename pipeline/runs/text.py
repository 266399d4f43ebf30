"""How a run's values are written wherever they are shown: a gate bound, a metric's bounds, how
the Trainer read its data, a setting, when a run started. The terminal (commands/terminal.py)
and the report (runs/report.py) both write them so."""

from __future__ import annotations

import json
import time
from typing import Any


def bound_text(value: float) -> str:
    """A gate bound as every command prints it (before the run, in its summary, when compiled)."""
    return f"{value:.4g}"


def bounds_text(metric: dict[str, Any], at_least: str = ">=", at_most: str = "<=") -> str:
    """A summary metric's absolute bounds, ">= 0.9", "<= 0.3", both joined by "and", or ""."""
    sides = (("lower_bound", at_least), ("upper_bound", at_most))
    return " and ".join(f"{sign} {bound_text(metric[key])}" for key, sign in sides if metric.get(key) is not None)


def input_text(given: dict[str, Any]) -> str:
    """How the Trainer read its data (components/trainer/data.py's record)."""
    if given["source"] == "memory":
        rows = given["rows"]
        return (
            f"in memory ({rows['train']:,} train + {rows['validation']:,} validation rows, "
            f"{given['megabytes']:.3g} MB), "
            f"{given['steps_per_execution']} steps per execution"
        )
    return f"read from the files every epoch ({given['reason']})"


def setting_text(value: Any) -> str:
    """A setting as a recipe writes it: [64, 32], 0.001, adam."""
    if isinstance(value, (list, dict, bool)):
        return json.dumps(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def started_text(seconds: float) -> str:
    """When a run started, in local time, as `runs` and the runs page show it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
