"""The candidate against the model in production: what the report's comparison section shows.

The Evaluator scored both models on the candidate's eval split (the gated metrics and TFMA's
plots for each). What changed between the two is read from the run that pushed the model in
production: its summary (settings, data) and its StatisticsGen output, found in the same
pipeline root's runs/ folder.
"""

from __future__ import annotations

import glob
import math
import os
from typing import Any

from components.settings import flat_keys
from pipeline.runs.summary import SUMMARY_FILE, RunSummary, read_summary

# A numeric feature has drifted when its mean moved this many of the production run's standard
# deviations, or its missing share moved this many points (TFDV's drift checks, simplified).
MEAN_SHIFT = 0.25
MISSING_SHIFT = 0.05


def production_run(summary: RunSummary) -> RunSummary | None:
    """The summary of the run that pushed the model this run was compared with, if it is here."""
    baseline = summary.baseline_model
    summary_file = summary.summary_file
    if not baseline or not summary_file:
        return None
    runs_dir = os.path.dirname(os.path.dirname(summary_file))
    for path in sorted(glob.glob(os.path.join(runs_dir, "*", SUMMARY_FILE)), reverse=True):
        if os.path.abspath(path) == os.path.abspath(summary_file):
            continue
        other = read_summary(path)
        if other.pushed_model_dir and os.path.normpath(other.pushed_model_dir) == os.path.normpath(baseline):
            return other
    return None


def config_changes(candidate: RunSummary, production: RunSummary) -> list[tuple[str, Any, Any]]:
    """(key, in production, in the candidate) for every setting and input that differs."""
    before, after = _run_inputs(production), _run_inputs(candidate)
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _run_inputs(summary: RunSummary) -> dict[str, Any]:
    settings = summary.settings
    flat = {"data": summary.data, "model.name": summary.model}
    for section in ("model", "training"):
        flat.update(flat_keys(settings.get(section) or {}, f"{section}."))
    flat["tuned by the Tuner"] = ", ".join(settings.get("tuned") or []) or None
    return flat


def statistics_drift(
    candidate_rows: list[dict[str, Any]], production_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per feature of one split (rows as report.feature_statistics gives them): mean, standard
    deviation and missing share in production's run and the candidate's, categories that are
    new or gone, and whether that counts as drift."""
    before = {row["name"]: row for row in production_rows}
    after = {row["name"]: row for row in candidate_rows}
    drift = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        row: dict[str, Any] = {"name": name, "only_in": None if old and new else ("production" if old else "candidate")}
        if old and new:
            row["missing"] = (_share(old), _share(new))
            if "mean" in old and "mean" in new:
                row["mean"], row["std"] = (old["mean"], new["mean"]), (old["std"], new["std"])
                row["mean_shift"] = _shift(old["mean"], new["mean"], old["std"])
            if "values" in old and "values" in new:
                row["new_categories"] = sorted(set(new["values"]) - set(old["values"]))
                row["gone_categories"] = sorted(set(old["values"]) - set(new["values"]))
        row["drifted"] = _drifted(row)
        drift.append(row)
    return drift


def _shift(before: float, after: float, std: float) -> float:
    """How far the mean moved, in the production run's standard deviations."""
    if std:
        return (after - before) / std
    return 0.0 if after == before else math.copysign(math.inf, after - before)


def _share(row: dict[str, Any]) -> float:
    return row["missing"] / row["count"] if row["count"] else 0.0


def _drifted(row: dict[str, Any]) -> bool:
    if row["only_in"]:
        return True
    missing_before, missing_after = row["missing"]
    return bool(
        abs(row.get("mean_shift") or 0.0) >= MEAN_SHIFT
        or abs(missing_after - missing_before) >= MISSING_SHIFT
        or row.get("new_categories")
        or row.get("gone_categories")
    )
