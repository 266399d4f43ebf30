"""The run report of a real run: its content read from the HTML, `report` and `runs`, and the page
rendered in headless Chromium (Debian's `chromium`, installed here when it is missing)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import HARNESS_MARK, cells, cli_in_a_fresh_process, page_of, render, render_harnessed
from pipeline.commands.cli import main
from pipeline.runs.report import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.e2e


def cli(*args: str) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(list(args))
    return code, printed.getvalue()


def test_run_ends_by_printing_the_report_path(penguins):
    report = Path(penguins.summary["report_file"])
    assert report.name == "report.html" and report.parent == Path(penguins.summary["summary_file"]).parent
    assert penguins.printed.rstrip().splitlines()[-1] == f"  report: {report}"


def test_report_shows_the_gate_decision_as_the_evaluator_made_it(penguins):
    page = page_of(penguins)
    for role in ("loss", "accuracy"):
        metric = penguins.summary["metrics"][role]
        row = cells(page, f"{role} ({metric['metric']})")
        bound = metric["upper_bound"] if role == "loss" else metric["lower_bound"]
        assert row[0] == f"{'≤' if role == 'loss' else '≥'} {bound:.4g}"
        assert row[1] == f"{metric['value']:.4f}"
        assert row[2] == "none yet (nothing pushed)"
        assert row[3] == "nothing to compare with"
        assert row[4] == "pass"
    assert "Judged on the eval split" in page and "Early stopping watched the validation split" in page


def test_report_marks_the_stop_and_kept_epochs_under_the_learning_curves(penguins):
    training = penguins.summary["training"]
    page = page_of(penguins)
    stop = (
        f"stopped early at epoch {training['epochs_run']}"
        if training["stopped_early"]
        else f"ran all {training['epochs_run']} epochs"
    )
    assert f"Training {stop}; the weights of epoch {training['kept_epoch']} were kept" in page
    assert re.search(r'<img class="chart" alt="learning curves" src="data:image/png;base64,', page)


def test_report_has_the_confusion_matrix_and_per_class_scores_of_the_eval_split(penguins):
    page = page_of(penguins)
    assert re.search(r'<img class="chart" alt="confusion matrix" src="data:image/png;base64,', page)
    rows = {species: cells(page, species) for species in ("Adelie", "Chinstrap", "Gentoo")}
    support = sum(float(row[2]) for row in rows.values())
    assert support == penguins.summary["metrics"]["example_count"]
    # recall weighted by support is the accuracy the gate read
    correct = sum(float(row[1]) * float(row[2]) for row in rows.values())
    assert correct / support == pytest.approx(penguins.summary["metrics"]["accuracy"]["value"], abs=1e-3)


def test_report_lists_statistics_per_feature_and_split_and_the_model(penguins):
    page = page_of(penguins)
    assert "train split: " in page and "eval split: " in page and "Anomalies (ExampleValidator): none." in page
    body_mass = cells(page, "body_mass_g")  # type, missing, mean, std, min, max, top
    assert body_mass[0] == "int" and 2000 < float(body_mass[2]) < 6500
    species = cells(page, "species")
    assert species[0] == "string" and re.match(r"3 unique: (Adelie|Gentoo|Chinstrap) \(\d+\)", species[-1])
    model = penguins.summary["training"]["model"]
    assert cells(page, "parameters") == [f"{model['parameters']:,}"]
    assert cells(page, "strategy") == ["DefaultDistributionStrategy (default)"]
    assert cells(page, "replicas") == ["1"]
    assert cells(page, "pushed version") == [penguins.summary["pushed_model_dir"]]


def test_report_command_renders_the_same_page_again(penguins):
    report = Path(penguins.summary["report_file"])
    before = report.read_bytes()
    report.unlink()
    code, printed = cli("report", penguins.summary["run_id"], "--pipeline-root", str(report.parents[2]))
    assert code == 0 and printed.strip() == f"report: {report}"
    assert report.read_bytes() == before


def test_runs_lists_the_run_from_ml_metadata(penguins):
    code, printed = cli("runs", "--pipeline-root", str(Path(penguins.summary["summary_file"]).parents[2]))
    assert code == 0
    head, rule, *rows = printed.splitlines()
    assert head.split() == [
        *("started", "pipeline", "run", "state", "loss", "accuracy", "blessed", "pushed", "version", "other", "metrics")
    ]
    first = next(row for row in rows if penguins.summary["run_id"] in row)
    metrics = penguins.summary["metrics"]
    assert f"{metrics['loss']['value']:.4f}" in first and f"{metrics['accuracy']['value']:.4f}" in first
    assert " complete " in first and " yes " in first
    assert penguins.summary["pushed_model_dir"] in first
    assert first.endswith(f"macro_f1 {metrics['macro_f1']['value']:.4f}")


def test_runs_json_lists_the_run_for_scripts(penguins):
    code, printed = cli("runs", "--json", "--pipeline-root", str(Path(penguins.summary["summary_file"]).parents[2]))
    assert code == 0
    record = next(run for run in json.loads(printed) if run["run_id"] == penguins.summary["run_id"])
    assert record["state"] == "complete" and record["blessed"] is True
    assert record["pushed_model_dir"] == penguins.summary["pushed_model_dir"]
    assert record["metrics"]["loss"] == pytest.approx(penguins.summary["metrics"]["loss"]["value"])
    assert record["started_iso"].endswith("Z")


def test_runs_reads_no_tensorflow(penguins):
    """`runs` answers from ML Metadata and the runs' summary files alone (bench/fast_answers.py
    times it): a fresh process imports neither TensorFlow, TFX, Beam nor TFMA."""
    root = str(Path(penguins.summary["summary_file"]).parents[2])
    done, result = cli_in_a_fresh_process("runs", "--pipeline-root", root)
    assert penguins.summary["run_id"] in done.stdout
    assert result == "RESULT 0 []", done.stdout + done.stderr


def test_report_and_runs_name_a_pipeline_root_without_runs(tmp_path, capsys):
    assert main(["runs", "--pipeline-root", str(tmp_path)]) == 2
    assert f"--pipeline-root: {tmp_path} holds no ML Metadata (metadata.sqlite); has it run?" in capsys.readouterr().err


def test_report_renders_in_headless_chromium_with_its_charts_and_no_console_errors(penguins, chromium, tmp_path):
    page = page_of(penguins)
    assert not re.search(r'(src|href)=["\'](?!data:)', page)  # self-contained: nothing to fetch
    console = render_harnessed(chromium, page, tmp_path / "report.html", tmp_path / "report.png")
    harness = [line for line in console if HARNESS_MARK in line]
    assert len(harness) == 1
    assert [line for line in console if HARNESS_MARK not in line] == []  # no errors, no blocked fetches
    found = re.search(r"images=(\d+) broken=(\[.*?\]) height=(\d+)", harness[0])
    assert int(found.group(1)) >= 2 and found.group(2) == "[]"  # learning curves + confusion matrix decoded
    assert int(found.group(3)) > 2000  # every section laid out

    screenshot = Image.open(tmp_path / "report.png").convert("RGB")
    assert screenshot.size == (1280, 2400)
    colors = screenshot.getcolors(maxcolors=1 << 20)
    assert len(colors) > 200  # text, tables and the charts' lines and fills, not a blank page
    # the learning curves' blue and orange lines are on screen
    pixels = set(screenshot.getdata())
    near = lambda rgb: any(sum(abs(a - b) for a, b in zip(rgb, pixel)) < 30 for pixel in pixels)  # noqa: E731
    assert near((31, 119, 180)) and near((255, 127, 14))


def test_the_runs_page_lists_each_run_links_its_report_and_charts_the_metrics(penguins, chromium, tmp_path):
    root = Path(penguins.summary["summary_file"]).parents[2]
    code, printed = cli("report", "--runs", "--pipeline-root", str(root))
    assert code == 0 and printed.strip() == f"runs page: {root / 'runs.html'}"
    page = (root / "runs.html").read_text()
    assert CONTENT_SECURITY_POLICY in page
    run_id = penguins.summary["run_id"]
    assert f'<a href="runs/{run_id}/report.html">{run_id}</a>' in page
    links = re.findall(r'href="([^"]+)"', page)
    assert links and all((root / link).is_file() for link in links)  # every link opens a report
    assert not re.search(r'src="(?!data:)', page)  # the chart is inline
    row = page[page.index(f">{run_id}</a>") :].split("</tr>")[0]
    metrics = penguins.summary["metrics"]
    assert f"{metrics['loss']['value']:.4f}" in row and f"{metrics['accuracy']['value']:.4f}" in row
    assert penguins.summary["pushed_model_dir"] in row and "data/penguins/penguins.csv" in row

    copy = root / "runs-harnessed.html"  # beside the page, so its links resolve as they do there
    console = render_harnessed(chromium, page, copy, tmp_path / "runs.png")
    copy.unlink()
    assert len(console) == 1
    assert re.search(r"images=1 broken=\[\]", console[0])  # the metrics chart decoded
    assert main(["report", run_id, "--runs", "--pipeline-root", str(root)]) == 2


def test_the_report_itself_loads_without_console_messages(penguins, chromium, tmp_path):
    logged = render(chromium, Path(penguins.summary["report_file"]), tmp_path / "plain.png")
    assert [line for line in logged.splitlines() if ":CONSOLE" in line] == []


def test_a_summary_read_again_from_metadata_keeps_the_bounds_the_run_was_gated_with(penguins, tmp_path):
    """`report --config` re-reads the run from ML Metadata with the recipe as it is now. The
    bounds it reports are the ones the Evaluator used (its eval_config.json), not the recipe's:
    here the re-read recipe has no max_loss (as a recipe whose bound was computed from the data)."""
    root = tmp_path / "pipeline"
    shutil.copytree(Path(penguins.summary["summary_file"]).parents[2], root)  # a copy: the shared run stays
    code, printed = cli(
        "report",
        "--config",
        str(Path(__file__).parent.parent / "configs" / "penguins.yaml"),
        "--set",
        f"output.pipeline_root={root}",
        "--set",
        "evaluation.max_loss=null",
        "--set",
        "evaluation.min_accuracy=0.5",
    )
    assert code == 0, printed
    rewritten = json.loads((root / "runs" / penguins.summary["run_id"] / "summary.json").read_text())
    assert rewritten["metrics"]["loss"]["upper_bound"] == penguins.summary["metrics"]["loss"]["upper_bound"] == 0.3
    assert rewritten["metrics"]["accuracy"]["lower_bound"] == 0.9
    assert rewritten["metrics"] == penguins.summary["metrics"]
