"""The gate end to end on penguins: equal re-trains are pushed, clearly worse models refused, the
eval split is one that no training decision saw, and `--require-blessed` exits 3.

bench/gate_rates.py makes the candidates, each against the same first push: ten equal re-trains
(seeds 1-10) and ten clearly worse models over seeds 1-10 (2 epochs at a tenth of the learning
rate, seeds 1-4; labels shuffled, 5-7; the column bill_length_mm dropped, 8-10). The benchmark
runs ten of every kind; docs/design.md "The gate" and bench/RESULTS.md have its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import gate_rates
from conftest import run_cli

pytestmark = pytest.mark.e2e
PLAN = {
    "equal": list(range(1, 11)),
    "two_epochs": [1, 2, 3, 4],
    "shuffled_labels": [5, 6, 7],
    "no_bill_length": [8, 9, 10],
}


@pytest.fixture(scope="module")
def rates(tmp_path_factory) -> dict[str, dict]:
    return gate_rates.gate_rates(tmp_path_factory.mktemp("gate-rates"), PLAN)


def test_equal_quality_retrains_are_pushed_at_least_nine_times_in_ten(rates):
    equal = rates["equal"]
    assert len(equal["candidates"]) == 10
    assert equal["pushed"] >= 9, json.dumps(equal["candidates"], indent=1)


def test_clearly_worse_models_are_always_refused_by_the_comparison(rates):
    worse = [candidate for kind in gate_rates.WORSE for candidate in rates[kind]["candidates"]]
    assert sorted(candidate["seed"] for candidate in worse) == list(range(1, 11))
    assert not any(candidate["pushed"] for candidate in worse), json.dumps(worse, indent=1)
    for candidate in worse:  # the absolute bounds are relaxed: the comparison with production refused them
        assert any(line.startswith("against production: ") for line in candidate["refused_by"]), candidate


def test_every_candidate_is_judged_on_the_same_eval_rows(rates):
    assert len({result["eval_rows"] for result in rates.values()}) == 1


def test_the_eval_rows_are_the_ones_tfx_puts_in_the_eval_split(rates):
    """The shuffled-labels candidate kept the true labels on exactly the eval rows: the benchmark's
    rule (TFX's partition of the split key) names the rows ExampleGen put there."""
    expected = sum(gate_rates.is_eval_row(i) for i in range(344))
    assert rates["equal"]["eval_rows"] == expected


def test_penguin_retrains_are_pushed_and_a_two_epoch_model_exits_3(tmp_path):
    """One push, re-trains with seeds 1-4 one after another (production moves with each push),
    then a 2-epoch model with relaxed bounds and --require-blessed. The 2 epochs run at a tenth of
    the recipe's learning rate: at its own 0.01, 14 steps already reach production's accuracy on
    some seeds (bench/RESULTS.md), and a gate that refused those would be refusing on noise."""
    pushed = []
    for seed in (42, 1, 2, 3, 4):
        run = run_cli(tmp_path, "--set", f"training.seed={seed}")
        assert run.exit_code == 0, run.printed
        pushed.append(bool(run.summary["pushed_model_dir"]))
    assert pushed[0] and sum(pushed[1:]) >= 3, pushed
    worse = run_cli(
        tmp_path,
        "--epochs",
        "2",
        "--set",
        "model.learning_rate=0.001",
        "--set",
        "evaluation.max_loss=2",
        "--set",
        "evaluation.min_accuracy=0.3",
        "--require-blessed",
    )
    assert worse.exit_code == 3, worse.printed
    last = worse.printed.strip().splitlines()[-1]
    assert last.startswith("not blessed: against production: loss +"), last
    assert "95% interval [+" in last and "worse beyond chance" in last
    assert not worse.summary["pushed_model_dir"]
    summary = worse.summary
    assert summary["metrics"]["split"] == "eval"
    assert summary["training"]["early_stopping_split"] == "validation"
    # The kept epoch's figure is the validation split's, the gated one the eval split's.
    kept = summary["training"]["kept_epoch_metrics"]["val_loss"]
    assert kept != pytest.approx(summary["metrics"]["loss"]["value"], abs=1e-6)
    report = Path(summary["summary_file"]).with_name("report.html").read_text()
    assert "95% interval" in report and "Early stopping watched the validation split" in report


def test_pre_split_csv_folders_keep_their_splits_and_the_gate_judges_test(tmp_path):
    """train/, validation/ and test/ folders of CSVs: ExampleGen keeps them as the three splits,
    early stopping watches validation/, and the gate judges exactly the rows of test/."""
    lines = gate_rates.PENGUINS.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    which = {0: "train", 1: "train", 2: "train", 3: "validation", 4: "test"}  # the rows are sorted by species
    folders = {name: [row for i, row in enumerate(rows) if which[i % 5] == name] for name in set(which.values())}
    for folder, part in folders.items():
        (tmp_path / "data" / folder).mkdir(parents=True)
        (tmp_path / "data" / folder / "part.csv").write_text("\n".join([header, *part]) + "\n")
    run = run_cli(
        tmp_path,
        *("--data", str(tmp_path / "data"), "--label", "species", "--task", "multiclass", "--epochs", "5"),
        *("--set", "evaluation.max_loss=2", "--set", "evaluation.min_accuracy=0.3"),
    )
    assert run.exit_code == 0, run.printed
    assert f"judged on the eval split (about {len(folders['test'])} rows)" in run.printed
    assert run.summary["metrics"]["example_count"] == len(folders["test"])
    assert run.summary["training"]["early_stopping_split"] == "validation"
    assert run.summary["training"]["input"]["rows"] == {
        "train": len(folders["train"]),
        "validation": len(folders["validation"]),
    }
