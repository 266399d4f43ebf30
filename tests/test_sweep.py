import pytest

from components.settings import ConfigError
from conftest import REPO
from pipeline.commands.sweep import NO_BASELINE_CHECK, SweepRow, SweepSpec, load_sweep, markdown_table, row_config

TABLE = REPO / "configs" / "sweeps" / "mlp_table.yaml"


def test_the_shipped_table_sweep_loads():
    sweep = load_sweep(TABLE)
    assert len(sweep.rows) >= 9
    assert {row.optimizer for row in sweep.rows} == {"sgd", "adam", "rmsprop"}
    assert {row.regularizer for row in sweep.rows} == {"none", "l2", "dropout"}


def test_a_row_sets_layers_regularizer_and_optimizer_and_lifts_the_gate():
    sweep = SweepSpec(recipe=str(REPO / "configs" / "digits_mlp.yaml"), l2=0.001, dropout=0.45)
    l2_row = row_config(sweep, SweepRow("256-256-256", [256, 256], "l2", "sgd", 0.05), {"training.epochs": 3})
    assert l2_row.model.name == "mlp_classifier"
    assert (l2_row.model.hidden_units, l2_row.model.l2, l2_row.model.dropout) == ([256, 256], 0.001, 0.0)
    assert (l2_row.model.optimizer, l2_row.model.learning_rate, l2_row.training.epochs) == ("sgd", 0.05, 3)
    assert l2_row.evaluation.max_loss is None and l2_row.evaluation.min_accuracy is None
    assert l2_row.evaluation.baseline_tolerance == NO_BASELINE_CHECK
    assert l2_row.name == "digits_mlp_sweep" and l2_row.output.pipeline_root.endswith("digits_mlp/sweep/pipeline")
    dropout_row = row_config(sweep, SweepRow("x", [8], "dropout", "adam"), {})
    assert (dropout_row.model.dropout, dropout_row.model.l2) == (0.45, 0.0)
    assert dropout_row.model.learning_rate == 0.001  # the recipe's


def test_the_table_has_the_tutorials_columns():
    sweep = SweepSpec(recipe="r.yaml")
    results = [
        {
            "layers": "256-256-256",
            "topology": "64→256→256→10",
            "regularizer": "Dropout(0.45)",
            "optimizer": "Adam",
            "train_accuracy": 0.9931,
            "test_accuracy": 0.98,
            "seconds": 41.2,
        }
    ]
    table = markdown_table(results, sweep, "data/digits/digits.csv")
    assert "| Layers | Topology | Regularizer | Optimizer | Train Accuracy | Test Accuracy | Seconds |" in table
    assert "| 256-256-256 | 64→256→256→10 | Dropout(0.45) | Adam | 99.3% | 98.0% | 41 |" in table


def test_bad_sweep_files_are_refused_by_key(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("recipe: configs/digits_mlp.yaml\nrows: []\n")
    with pytest.raises(ConfigError, match="rows: a sweep needs at least one row"):
        load_sweep(empty)
    typo = tmp_path / "typo.yaml"
    typo.write_text("recipe: x.yaml\nrows:\n  - {name: a, hidden_units: [4], optimiser: sgd}\n")
    with pytest.raises(ConfigError, match=r"rows\[0\].optimiser: unknown key"):
        load_sweep(typo)
