"""Where a local run's Beam components run (pipeline/config/beam_mode.py): in process on small data, one
worker process per core on large data, as the user says when they say; and in worker processes
every row arrives (users have reported lost rows in this mode, tensorflow/data-validation#247)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from components.settings import MULTI_PROCESS_BEAM_ARGS, RunnerSpec
from conftest import REPO, run_cli
from pipeline.commands.preflight import prepare
from pipeline.config.beam_mode import choose_beam

SHIPPED_PENGUINS = str(REPO / "data" / "penguins" / "penguins.csv")


@pytest.mark.parametrize(
    "runner, rows, cores, mode, reason",
    [
        (RunnerSpec(), 1_000, 2, "in_process", "1,000 rows < runner.multi_process_rows (500,000)"),
        (RunnerSpec(), 500_000, 2, "multi_process", "500,000 rows >= runner.multi_process_rows (500,000)"),
        (RunnerSpec(), 1_000_000, 1, "in_process", "one core"),
        (RunnerSpec(), None, 8, "in_process", "the data's rows are not counted on this machine"),
        (RunnerSpec(beam_mode="multi_process"), 10, 2, "multi_process", "runner.beam_mode: multi_process"),
        (RunnerSpec(beam_mode="in_process"), 10**7, 8, "in_process", "runner.beam_mode: in_process"),
        (RunnerSpec(multi_process_rows=100), 344, 2, "multi_process", "344 rows >= runner.multi_process_rows (100)"),
    ],
)
def test_the_mode_follows_the_rows_unless_told(runner, rows, cores, mode, reason):
    choice = choose_beam(runner, rows, cores)
    assert (choice.mode, choice.reason) == (mode, reason)
    assert choice.args == (MULTI_PROCESS_BEAM_ARGS if mode == "multi_process" else [])


def test_beam_args_that_name_a_runner_are_taken_as_they_are():
    flink = ["--runner=FlinkRunner", "--flink_master=localhost:8081"]
    choice = choose_beam(RunnerSpec(beam_args=flink, beam_mode="multi_process"), 10**7, 8)
    assert (choice.mode, choice.args) == ("beam_args", flink)
    mine = ["--direct_running_mode=multi_threading", "--direct_num_workers=4"]
    assert choose_beam(RunnerSpec(beam_args=mine), 10, 2).args == mine
    extra = ["--direct_runner_bundle_repeat=0"]  # other flags are kept, and the mode added
    assert choose_beam(RunnerSpec(beam_args=extra), 10**6, 2).args == extra + MULTI_PROCESS_BEAM_ARGS


def test_preflight_counts_the_csv_rows_and_sets_the_beam_args_the_pipeline_gets(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    prepared = prepare(None, {"data.path": SHIPPED_PENGUINS})
    assert prepared.resolved.beam.reason == "344 rows < runner.multi_process_rows (500,000)"
    assert prepared.config.runner.beam_args == []
    small_threshold = prepare(None, {"data.path": SHIPPED_PENGUINS, "runner.multi_process_rows": 300})
    assert small_threshold.config.runner.beam_args == MULTI_PROCESS_BEAM_ARGS
    assert small_threshold.recipe.runner.beam_args == []  # what the up-to-date check fingerprints
    on_kubeflow = {"runner.kind": "kubeflow", "output.pipeline_root": "gs://b/p", "evaluation.max_loss": 1.0}
    compiled = prepare(None, {"data.path": SHIPPED_PENGUINS, **on_kubeflow})
    assert compiled.resolved.beam is None  # pods take kubeflow.beam_args


def example_digests(run_summary: dict) -> dict[str, list[str]]:
    """Each split's examples, as sorted digests of the serialized records ExampleGen wrote."""
    import tensorflow as tf

    digests = {}
    for split in sorted(Path(run_summary["artifacts"]["examples"]).glob("Split-*")):
        files = [str(path) for path in sorted(split.glob("*.gz"))]
        records = tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator()
        digests[split.name] = sorted(hashlib.sha256(record).hexdigest() for record in records)
    return digests


def statistics_leaves(run_summary: dict) -> dict[tuple, object]:
    """StatisticsGen's figures per split and feature (count, missing, mean, std, min, max, unique,
    top values), as the report reads them: a flat map from (split, feature, figure) to value."""
    from pipeline.runs.report import feature_statistics

    leaves = {}
    for split, rows in feature_statistics(run_summary["artifacts"]["statistics"]).items():
        for row in rows:
            leaves.update({(split, row["name"], key): value for key, value in row.items()})
    return leaves


@pytest.mark.e2e
def test_worker_processes_lose_no_row_and_compute_the_same_statistics(penguins, tmp_path):
    """The shipped penguins recipe, run in one worker process per core, against the in-process
    `penguins` run: the same examples in each split, the same statistics, the same rows evaluated."""
    forced = run_cli(
        tmp_path,
        "--config",
        str(REPO / "configs" / "penguins.yaml"),
        "--epochs",
        "15",
        "--set",
        "runner.beam_mode=multi_process",
    )
    assert forced.exit_code == 0, forced.printed
    assert "Beam components run in one worker process per core (runner.beam_mode: multi_process)" in forced.printed
    assert example_digests(forced.summary) == example_digests(penguins.summary)
    assert sum(map(len, example_digests(forced.summary).values())) == 344
    in_workers, in_process = statistics_leaves(forced.summary), statistics_leaves(penguins.summary)
    assert in_workers.keys() == in_process.keys() and len(in_process) > 50
    for key, value in in_process.items():  # sums combined in another order may differ in the last bits
        assert in_workers[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value), key
    assert forced.summary["metrics"]["example_count"] == penguins.summary["metrics"]["example_count"]
