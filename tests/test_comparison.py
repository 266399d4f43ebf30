"""What the report's comparison section reads: the production run, the settings that changed,
and each feature's drift between the two runs' statistics."""

from __future__ import annotations

import math

import pytest

from pipeline.runs.comparison import config_changes, production_run, statistics_drift
from pipeline.runs.summary import SUMMARY_FILE, RunSummary, write_summary


def numeric(name: str, mean: float, std: float, missing: int = 0, count: int = 100) -> dict:
    return {"name": name, "type": "float", "count": count, "missing": missing, "mean": mean, "std": std}


def categorical(name: str, values: list[str], missing: int = 0) -> dict:
    return {"name": name, "type": "string", "count": 100, "missing": missing, "values": sorted(values)}


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def test_a_mean_that_moved_a_quarter_deviation_or_more_is_drift():
    before = [numeric("a", 10.0, 2.0), numeric("b", 10.0, 2.0), numeric("c", 5.0, 0.0)]
    after = [numeric("a", 10.4, 2.0), numeric("b", 10.5, 2.1), numeric("c", 6.0, 0.0)]
    drift = by_name(statistics_drift(after, before))
    assert drift["a"]["mean_shift"] == pytest.approx(0.2) and not drift["a"]["drifted"]
    assert drift["b"]["mean_shift"] == pytest.approx(0.25) and drift["b"]["drifted"]
    assert drift["b"]["mean"] == (10.0, 10.5) and drift["b"]["std"] == (2.0, 2.1)
    assert drift["c"]["mean_shift"] == math.inf and drift["c"]["drifted"]  # a constant that changed


def test_missing_share_and_categories_that_came_or_went_are_drift():
    before = [numeric("a", 1.0, 1.0, missing=1), categorical("island", ["Biscoe", "Dream"])]
    after = [numeric("a", 1.0, 1.0, missing=7), categorical("island", ["Biscoe", "Dream", "Anvers"])]
    drift = by_name(statistics_drift(after, before))
    assert drift["a"]["missing"] == (0.01, 0.07) and drift["a"]["drifted"]
    assert drift["island"]["new_categories"] == ["Anvers"] and drift["island"]["gone_categories"] == []
    assert drift["island"]["drifted"]
    same = by_name(statistics_drift(before, before))
    assert not any(row["drifted"] for row in same.values())


def test_a_feature_in_only_one_run_is_named_with_the_run():
    drift = by_name(statistics_drift([numeric("new", 0, 1)], [numeric("old", 0, 1)]))
    assert drift["new"]["only_in"] == "candidate" and drift["old"]["only_in"] == "production"
    assert drift["new"]["drifted"] and drift["old"]["drifted"]


def run(**fields) -> RunSummary:
    return RunSummary(
        **{"pipeline": "animals", "run_id": "1", "task": "multiclass", "model": "mlp", "data": "a.csv", **fields}
    )


def settings(dropout: float = 0.0, tuned: list[str] | None = None) -> dict:
    return {
        "model": {"dropout": dropout, "conv": {"filters": [32, 64]}},
        "training": {"batch_size": 32},
        "tuned": tuned or [],
    }


def test_only_the_settings_that_differ_are_listed_with_both_values():
    production = run(data="a.csv", model="mlp_classifier", settings=settings())
    candidate = run(data="b.csv", model="mlp_classifier", settings=settings(0.3, ["model.dropout"]))
    assert config_changes(candidate, production) == [
        ("data", "a.csv", "b.csv"),
        ("model.dropout", 0.0, 0.3),
        ("tuned by the Tuner", None, "model.dropout"),
    ]
    assert config_changes(production, production) == []


def test_the_production_run_is_the_one_that_pushed_the_baseline(tmp_path):
    runs = tmp_path / "runs"
    for run_id, pushed in (("1", "/serving/100"), ("2", None), ("3", "/serving/300")):
        write_summary(run(run_id=run_id, pushed_model_dir=pushed), str(runs / run_id / SUMMARY_FILE))
    candidate = run(run_id="4", baseline_model="/serving/100/", summary_file=str(runs / "4" / SUMMARY_FILE))
    assert production_run(candidate).run_id == "1"
    assert production_run(run(**{**vars(candidate), "baseline_model": "/serving/999"})) is None
    assert production_run(run(**{**vars(candidate), "baseline_model": None})) is None
