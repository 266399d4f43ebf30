"""Tuning through the whole pipeline, and the report's comparison with the model in production.

The `tuned` run (conftest.py): the penguins recipe as shipped (blessed and pushed: the model in
production), then the same recipe with `--tune` on data that changed (bill lengths 20% longer,
Torgersen renamed): the Tuner searches, the Trainer trains its best values, and the report puts
the candidate beside production with what changed between the two runs."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from conftest import cells, page_of, render_harnessed

pytestmark = pytest.mark.e2e


def test_the_tuner_runs_its_trials_before_the_trainer(tuned):
    assert tuned.exit_code == 0, tuned.printed
    summary = tuned.summary
    assert summary["components"]["Tuner"]["state"] == "COMPLETE"
    tuning = summary["tuning"]
    assert tuning["algorithm"] == "random" and tuning["folds"] == 2 and tuning["stopped_by"] == "max_trials"
    # The trials' folds are cut from the train split (the files TFX handed the Tuner), and the
    # Trainer's early stopping watched validation: neither read the eval split the gate judges.
    assert tuning["split"] == "train"
    assert summary["training"]["early_stopping_split"] == "validation" and summary["metrics"]["split"] == "eval"
    assert [trial["trial"] for trial in tuning["trials"]] == [1, 2]
    for trial in tuning["trials"]:
        assert trial["status"] == "completed" and set(trial["settings"]) == set(tuning["space"])
        assert len(trial["epochs"]) == 2 and all(1 <= epoch <= 8 for epoch in trial["epochs"])
        assert trial["val_loss"] > 0 and 0 <= trial["val_accuracy"] <= 1
    best = min(tuning["trials"], key=lambda trial: trial["val_loss"])
    assert tuning["best_trial"] == best["trial"] and tuning["best_settings"] == best["settings"]
    assert re.search(r"tuning: 2 trials \(random, 2-fold cross-validation on \d+ training rows\)", tuned.printed)
    assert f"best trial {best['trial']}: val_loss" in tuned.printed


def test_the_trainer_trains_the_best_values(tuned):
    summary, best = tuned.summary, tuned.summary["tuning"]["best_settings"]
    assert summary["training"]["tuned_settings"] == best
    assert summary["settings"]["tuned"] == sorted(best)
    assert summary["settings"]["model"]["hidden_units"] == best["model.hidden_units"]
    assert summary["settings"]["model"]["learning_rate"] == pytest.approx(best["model.learning_rate"])
    assert summary["training"]["global_batch_size"] == best["training.batch_size"]
    assert summary["training"]["model"]["layers"][-1]["type"] == "Dense"


def test_the_report_shows_the_trials_chart_and_table(tuned):
    page = page_of(tuned)
    tuning = page[page.index('<h2 id="tuning">') :]
    assert 'id="trial-scores"' in tuning and 'src="data:image/png;base64,' in tuning
    trials = tuning[tuning.index('<div id="trials">') : tuning.index("</div>")]
    assert trials.count("<tr>") == 3  # the header and two trials
    best = tuned.summary["tuning"]["best_trial"]
    assert cells(trials, f"&#9733; {best}")[0] == "completed"
    assert "Chosen by the Tuner: model.dropout, model.hidden_units" in page


def test_the_report_compares_the_candidate_with_production(tuned):
    page = page_of(tuned)
    assert tuned.summary["baseline_model"]
    section = page[page.index('<h2 id="comparison">') :]
    metrics = tuned.summary["metrics"]
    row = cells(section, "loss (sparse_categorical_crossentropy)")
    assert row[0] == f"{metrics['loss']['value']:.4f}" and row[1] == f"{metrics['loss']['baseline']:.4f}"
    comparison = metrics["loss"]["comparison"]
    low, high = comparison["interval"]
    assert row[2].startswith(f"loss {metrics['loss']['value'] - metrics['loss']['baseline']:+.4f}, 95% interval ")
    assert f"[{low:+.4f}, {high:+.4f}]" in row[2]
    assert 'id="matrix-candidate"' in section and 'id="matrix-production"' in section
    changes = section[section.index('<div id="config-changes">') :]
    data_row = cells(changes, "data")
    assert data_row[0].endswith("data/penguins/penguins.csv") and data_row[1] == tuned.summary["data"]
    assert cells(changes, "tuned by the Tuner")[1].startswith("model.dropout")
    drift = section[section.index('<div id="data-drift">') :]
    bill = cells(drift, "bill_length_mm")
    assert "sd)" in bill[0] and bill[-1] == "drift"
    assert float(re.search(r"\(([-+][\d.]+) sd\)", bill[0]).group(1)) > 0.25
    island = cells(drift, "island")
    assert island[3] == "Torgersen Island (gone: Torgersen)" and island[-1] == "drift"
    assert cells(drift, "body_mass_g")[-1] == ""  # unchanged: no drift


def test_both_sections_render_in_headless_chromium(tuned, chromium, tmp_path):
    """The screenshot: tmp_path/comparison.png (the same command by hand: see docs/tuning.md)."""
    console = render_harnessed(chromium, page_of(tuned), tmp_path / "report.html", tmp_path / "comparison.png")
    assert len(console) == 1  # the harness's line: no errors
    found = re.search(r"images=(\d+) broken=(\[.*?\])", console[0])
    # learning curves, trial scores, the candidate's and production's matrices, the eval matrix
    assert int(found.group(1)) >= 5 and found.group(2) == "[]"
    assert len(Image.open(tmp_path / "comparison.png").convert("RGB").getcolors(maxcolors=1 << 20)) > 200
