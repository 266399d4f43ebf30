"""Smoke tests: every benchmark runs at its smallest size, so none of them rots.

They check what the benchmarks print, never how fast anything was (timings belong in bench/)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from bench import accuracy, csv_example_gen, image_decode, overhead, seed_spread, serving, strategies, trainer_input
from bench.scaled_data import scaled_penguins
from components.settings import RunnerSpec, from_dict
from pipeline.config.recipe import parse_assignment

pytestmark = pytest.mark.e2e


def printed_by(main, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def table_rows(text: str) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in row] for row in rows[1:]]


def test_scaled_data_is_reproducible_and_keeps_missing_cells(tmp_path):
    first = scaled_penguins(500, tmp_path / "a").read_text()
    assert first == scaled_penguins(500, tmp_path / "b").read_text()
    lines = first.splitlines()
    assert lines[0].startswith("species,island,bill_length_mm") and len(lines) == 501
    assert any(",," in line for line in lines[1:])  # missing cells stay missing


def test_serving_benchmark_reports_every_variant(penguins):
    text = printed_by(
        serving.main, "--model", penguins.summary["pushed_model_dir"], "--calls", "5", "--batches", "1", "4"
    )
    rows = table_rows(text)
    assert [(r[0], r[1]) for r in rows] == [
        (b, v) for b in ("1", "4") for v in ("bare Keras", "serving_raw", "serving_default")
    ]
    assert all(float(r[2]) > 0 and float(r[5]) > 0 for r in rows)


def test_accuracy_benchmark_compares_with_four_scikit_learn_models(penguins, tuned, tmp_path):
    shutil.copy(penguins.summary["summary_file"], tmp_path / "penguins.json")
    shutil.copy(tuned.summary["summary_file"], tmp_path / "penguins_tuned2.json")  # the tuned column's run
    printed = printed_by(accuracy.main, "--recipes", "penguins", "--runs-dir", str(tmp_path), "--tuned-trials", "2")
    (row,) = table_rows(printed)
    assert row[0] == "penguins" and row[1] == "accuracy"
    assert float(row[2]) == pytest.approx(penguins.summary["metrics"]["accuracy"]["value"], abs=1e-4)
    assert all(0.8 < float(cell) <= 1.0 for cell in row[3:7])  # four baselines on the same eval split
    assert float(row[9]) == pytest.approx(tuned.summary["metrics"]["accuracy"]["value"], abs=1e-4)
    assert row[10] == f"{tuned.summary['tuning']['seconds']:.0f}" and row[11].startswith(("≥ best", "below best"))


def test_overhead_benchmark_times_pipeline_plain_script_and_rerun(tmp_path):
    raw = tmp_path / "raw.json"
    text = printed_by(overhead.main, "--rows", "200", "--epochs", "1", "--cache-dir", str(tmp_path), "--json", str(raw))
    (row,) = table_rows(text.split("\n\n")[-1])
    assert row[0] == "200" and float(row[1]) > 0 and float(row[2]) > 0
    # each component: seconds and the cores it kept busy (CPU over wall seconds), e.g. "2.1 (1.04)"
    assert row[8] == "in process"  # 200 rows: below runner.multi_process_rows
    cores = [float(re.fullmatch(r"\d+\.\d \((\d+\.\d\d)\)", cell).group(1)) for cell in row[9:]]
    assert len(cores) == len(overhead.COMPONENTS) and all(0 < c < os.cpu_count() + 0.5 for c in cores)
    measured = json.loads(raw.read_text())[0]
    assert measured["pipeline"]["summary"]["pushed_model_dir"]
    assert measured["plain"]["val_accuracy"] > 0.5
    assert measured["rerun"]["summary"]["run_id"] == measured["pipeline"]["summary"]["run_id"]  # up to date
    states = {c["state"] for c in measured["forced"]["summary"]["components"].values()}
    assert "CACHED" in states


def test_growth_is_seconds_per_100k_rows_and_the_beam_mode_a_runner_setting():
    def result(rows: int, seconds: float) -> dict:
        return {"rows": rows, "pipeline": {"summary": {"components": {"CsvExampleGen": {"seconds": seconds}}}}}

    rows = table_rows(overhead.growth_table([result(1_000, 1.0), result(100_000, 9.0), result(1_000_000, 120.0)]))
    assert rows[0] == ["ExampleGen", "9.00", "12.00"]  # 1,000 rows is below the growth table's sizes
    assert overhead.beam_flags("auto") == []
    key, value = parse_assignment(overhead.beam_flags("multi_process")[1])
    assert from_dict(RunnerSpec, {"beam_mode": value}).beam_mode == "multi_process"


def test_plain_image_script_fits_the_digits_folder():
    """The baseline of `overhead.py --recipe digits_cnn` (the pipeline side is the image e2e runs)."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            str(overhead.REPO / "bench" / "plain_keras_images.py"),
            str(overhead.DIGITS_TRAIN),
            "--epochs",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["seconds"] > 0 and measured["val_accuracy"] > 0.3  # 10 classes, 2 epochs


def test_strategies_benchmark_runs_default_and_mirrored(penguins, tmp_path):
    cache = tmp_path / "cache" / "penguins"
    cache.mkdir(parents=True)
    shutil.copy(penguins.summary["summary_file"], cache / "summary.json")
    rows = table_rows(
        printed_by(
            strategies.main,
            "--recipes",
            "penguins",
            "--epochs",
            "1",
            "--repeats",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
        )
    )
    assert [(r[1], r[2], r[3]) for r in rows] == [("default", "1", "32"), ("mirrored", "2", "64")]
    assert Path(penguins.summary["pushed_model_dir"]).is_dir()


def test_trainer_input_benchmark_fits_streamed_and_in_memory_and_steps_per_call_change_nothing(penguins, tmp_path):
    cache = tmp_path / "penguins-300"
    cache.mkdir()
    shutil.copy(penguins.summary["summary_file"], cache / "summary.json")  # the Transform output it trains on
    text = printed_by(
        trainer_input.main, "--rows", "300", "--epochs", "2", "--repeats", "1", "--cache-dir", str(tmp_path)
    )
    rows = table_rows(text)
    assert [r[0] for r in rows] == list(trainer_input.VARIANTS) and rows[0][2] == "1.00"
    assert rows[1][3] == rows[2][3] and len(rows[1][3].split()) == 2  # the same val_loss, epoch by epoch


def test_csv_example_gen_benchmark_times_both_executors_and_finds_the_same_examples(tmp_path):
    text = printed_by(csv_example_gen.main, "--rows", "300", "--repeats", "1", "--cache-dir", str(tmp_path))
    rows = table_rows(text)
    assert [(r[0], r[1]) for r in rows] == [
        ("ExampleGen `Do`", "TFX's CSV executor"),
        ("ExampleGen `Do`", "columnar executor"),
        ("preflight row checks", "row by row"),
        ("preflight row checks", "columnar"),
    ]
    assert rows[0][3] == "1.00" and rows[1][4] == "yes" and float(rows[1][2]) > 0


def test_seed_spread_runs_the_learning_test_with_onednn_on_and_off():
    text = printed_by(seed_spread.main, "--names", "linear", "--seeds", "2")
    rows = [line.split() for line in text.splitlines() if line.startswith("linear")]
    assert [row[1] for row in rows] == ["on", "off"]
    for _, _, low, median, high, over in rows:
        assert 0 < float(low) <= float(median) <= float(high) < 0.7 and over == "-"


def test_image_decode_benchmark_times_each_variant_against_decoding_alone():
    rows = table_rows(printed_by(image_decode.main, "--batch", "4", "--calls", "2"))
    assert [row[0] for row in rows][:2] == ["decode only", "Transform's decode_images"]
    assert len(rows) == 3 and rows[0][2] == "1.00" and all(float(row[1]) > 0 for row in rows)
