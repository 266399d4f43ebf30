"""The Tuner's parts without a pipeline: the search space and its checks, how a trial's values
become settings, the folds, a trial's score, and the search loop's budgets (KerasTuner's loop,
keras_tuner/src/engine/base_tuner.py `search`, with our trial)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.settings import ConfigError, ModelSpec, TrainingError, TrainingSpec, TuningSpec
from components.trainer.data import InMemorySplit
from components.trainer.distribution import Placement
from components.trainer.hyperparameters import apply_values, best_settings, choice_values, setting_value
from components.trainer.models.inputs import InputSpec, TaskSpec
from components.tuner import tuning
from components.tuner.space import SHARED_SPACE, default_space, resolve_space
from conftest import REPO
from pipeline.config.resolve import resolved_config

RECIPE = REPO / "configs" / "penguins.yaml"


def test_each_model_gets_a_default_space_of_the_settings_it_reads():
    assert set(default_space("mlp_classifier")) == {*SHARED_SPACE, "model.hidden_units", "model.dropout"}
    assert set(default_space("mlp_dropout_batchnorm")) == set(SHARED_SPACE)  # its widths are fixed
    assert "model.conv.filters" in default_space("cnn")
    assert set(default_space("linear")) == {"model.learning_rate", "training.batch_size"}
    assert set(default_space("my_package.models:build")) == {"model.learning_rate", "training.batch_size"}


def test_tuning_on_fills_the_models_space_and_off_leaves_it_empty():
    assert resolved_config(RECIPE).tuning.space == {}
    config = resolved_config(RECIPE, {"tuning.enabled": True})
    assert config.tuning.space == default_space("mlp_classifier")


def test_a_space_from_the_command_line_arrives_nested_and_is_flattened():
    config = resolved_config(RECIPE, {"tuning.enabled": True, "tuning.space.model.dropout": [0.0, 0.5]})
    assert config.tuning.space == {"model.dropout": [0.0, 0.5]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"tuning.space": {"model.dropout": [0.0, 1.5]}},
            r"tuning.space.model.dropout\[1\]: model.dropout: must be in",
        ),
        ({"tuning.space": {"model.widths": [1]}}, r"tuning.space.model.widths\[0\]: model.widths: no such setting"),
        ({"tuning.space": {"model.name": ["linear"]}}, "tuning.space.model.name: not a tunable setting"),
        ({"tuning.space": {"evaluation.max_loss": [1.0]}}, "tuning.space.evaluation.max_loss: not a tunable"),
        ({"tuning.space": {"model.dropout": []}}, "tuning.space.model.dropout: expected a non-empty list"),
        (
            {"tuning.space": {"training.batch_size": [16.5]}},
            r"batch_size\[0\]: training.batch_size: expected an integer",
        ),
        ({"tuning.folds": 1}, "tuning.folds: cross-validation needs at least 2 folds"),
        ({"tuning.max_seconds": 0}, "tuning.max_seconds: must be > 0"),
        ({"tuning.algorithm": "grid"}, "tuning.algorithm: must be one of random, bayesian, hyperband"),
    ],
)
def test_a_bad_tuning_setting_is_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolved_config(RECIPE, {"tuning.enabled": True, **overrides})


def test_accuracy_is_no_objective_for_regression():
    overrides = {"tuning.enabled": True, "tuning.objective": "accuracy"}
    with pytest.raises(ConfigError, match="tuning.objective: accuracy applies to classification"):
        resolved_config(REPO / "configs" / "penguins_body_mass.yaml", overrides)


@pytest.mark.parametrize(
    "values",
    [[16, 32, 64], [0, 0.1, 0.3], [[32], [64, 32]], ["adam", "rmsprop"], [True, False]],
)
def test_choices_stand_for_their_settings_and_back(values):
    choices = choice_values(values)
    assert len({type(choice) for choice in choices}) == 1  # KerasTuner's Choice holds one type
    assert [setting_value(choice) for choice in choices] == values


def test_best_hyperparameters_become_settings_without_kerastuners_own_keys():
    config = {"space": [], "values": {"model.hidden_units": "[128, 64]", "model.l2": 0.001, "tuner/epochs": 12}}
    settings = best_settings(config)
    assert settings == {"model.hidden_units": [128, 64], "model.l2": 0.001}
    model, training = apply_values(ModelSpec(), TrainingSpec(), {**settings, "training.batch_size": 16})
    assert model.hidden_units == [128, 64] and model.l2 == 0.001 and training.batch_size == 16
    assert best_settings(None) == {}


def test_resolve_space_checks_every_value_as_a_recipe_would():
    spec = TuningSpec(enabled=True, space={"model.conv.filters": [[32, 64], [0]]})
    with pytest.raises(ConfigError, match=r"filters\[1\]: model.conv.filters: one width > 0"):
        resolve_space(spec, ModelSpec(name="cnn"), TrainingSpec())


def fold_data(rows: int = 30, folds: int = 3) -> tuning.FoldData:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 1)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64).reshape(-1, 1)
    features = {"x_xf": x, "row": np.arange(rows, dtype=np.float32).reshape(-1, 1)}
    return tuning.FoldData(InMemorySplit(features, labels, np.ones(rows, np.float32)), folds)


def test_every_row_is_validated_in_exactly_one_fold_and_trained_on_in_the_others():
    data = fold_data()
    seen = []
    for fold in range(3):
        train, validation = data.split(fold, batch_size=4, seed=1)
        trained = {int(r) for batch, _, _ in train for r in batch["row"].numpy().ravel()}
        validated = {int(r) for batch, _, _ in validation for r in batch["row"].numpy().ravel()}
        assert not trained & validated and trained | validated == set(range(30))
        seen += sorted(validated)
    assert sorted(seen) == list(range(30))


def test_folds_need_as_many_rows_as_folds():
    one_batch = tf.data.Dataset.from_tensors(({"x_xf": np.zeros((2, 1), np.float32)}, np.zeros((2, 1)), np.ones(2)))
    with pytest.raises(TrainingError, match="3 folds need at least 3 training rows, got 2"):
        tuning.FoldData.read(one_batch, 3)


def trial_runner(data: tuning.FoldData, **spec) -> tuning.TrialRunner:
    placement = Placement(tf.distribute.get_strategy(), "default", 1)
    return tuning.TrialRunner(
        InputSpec(numeric=("x_xf",)),
        TaskSpec("binary", 2),
        ModelSpec(name="mlp_classifier", hidden_units=[4]),
        TrainingSpec(),
        TuningSpec(enabled=True, patience=2, **spec),
        placement,
        data,
    )


def test_a_trial_scores_the_folds_mean_best_loss_without_the_l2_penalty():
    data = fold_data(rows=60, folds=2)
    data.data.features.pop("row")
    runner = trial_runner(data, folds=2, seed=3)
    plain = runner.score({"model.l2": 0.0}, epochs=3)
    assert len(plain["epochs"]) == 2 and all(1 <= e <= 3 for e in plain["epochs"])
    assert 0 < plain["val_loss"] < 2 and 0 <= plain["val_accuracy"] <= 1
    penalised = runner.score({"model.l2": 10.0}, epochs=1)
    # With an L2 of 10 Keras' val_loss is dominated by the penalty; the data's loss stays near log 2.
    assert penalised["val_loss"] < 1.5


def test_data_loss_takes_the_penalty_at_the_epochs_weights_off_keras_val_loss():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, kernel_regularizer=tf.keras.regularizers.L2(1.0))])
    model.build((None, 2))
    model.set_weights([np.full((2, 1), 2.0, np.float32), np.zeros(1, np.float32)])
    callback = tuning.DataLoss()
    callback.set_model(model)
    logs = {"val_loss": 10.0}
    callback.on_epoch_end(0, logs)
    assert logs["val_data_loss"] == pytest.approx(10.0 - 8.0)  # L2: 1.0 * (2² + 2²)


class FakeRunner:
    """Stands in for TrialRunner: a score from the settings, or a failure."""

    def __init__(self, tuning_spec: TuningSpec, fail: bool = False, seconds: float = 0.0):
        self.tuning, self.fail, self.seconds = tuning_spec, fail, seconds
        self.data = fold_data()
        self.deadline = float("inf")

    def score(self, settings: dict, epochs: int, **fit_kwargs) -> dict:
        if self.fail:
            raise RuntimeError("the loss diverged")
        import time

        time.sleep(self.seconds)
        return {"val_loss": settings["model.dropout"] + 0.1, "val_accuracy": 0.9, "epochs": [epochs]}


def search(tmp_path, runner: FakeRunner, space: dict) -> tuning.CrossValidationTuner:
    tuner = tuning.CrossValidationTuner(tuning.make_oracle(runner.tuning, space), runner, str(tmp_path))
    tuner.search()
    return tuner


def test_the_search_keeps_every_trial_and_names_the_best(tmp_path):
    spec = TuningSpec(enabled=True, algorithm="random", max_trials=4, seed=1)
    tuner = search(tmp_path, FakeRunner(spec), {"model.dropout": [0.0, 0.2, 0.4, 0.6]})
    summary = tuner.summary()
    assert [t["trial"] for t in summary["trials"]] == [1, 2, 3, 4] and summary["stopped_by"] == "max_trials"
    best = min(summary["trials"], key=lambda t: t["val_loss"])
    assert summary["best_trial"] == best["trial"] and summary["best_settings"] == best["settings"]
    assert summary["best_score"] == pytest.approx(best["val_loss"])


def test_the_time_budget_ends_the_search_after_the_trial_that_used_it_up(tmp_path):
    spec = TuningSpec(enabled=True, algorithm="bayesian", max_trials=10, max_seconds=0.2, seed=1)
    tuner = search(tmp_path, FakeRunner(spec, seconds=0.3), {"model.dropout": [0.0, 0.2, 0.4]})
    summary = tuner.summary()
    assert summary["stopped_by"] == "max_seconds" and len(summary["trials"]) == 1


def test_when_every_trial_fails_the_tuner_says_why(tmp_path):
    spec = TuningSpec(enabled=True, algorithm="random", max_trials=2, seed=1)
    with pytest.raises(TrainingError, match=r"tuning: no trial completed \(the loss diverged\)"):
        search(tmp_path, FakeRunner(spec, fail=True), {"model.dropout": [0.0, 0.2]})


def test_hyperband_gives_each_trial_its_brackets_epochs(tmp_path):
    spec = TuningSpec(enabled=True, algorithm="hyperband", max_epochs=9, seed=1)
    space = {"model.dropout": [i / 10 for i in range(10)], "model.learning_rate": [0.001, 0.003, 0.01, 0.03]}
    tuner = search(tmp_path, FakeRunner(spec), space)
    epochs = {trial["max_epochs"] for trial in tuner.summary()["trials"]}
    assert epochs <= {1, 3, 9} and len(epochs) > 1  # brackets of 1, 3 and 9 epochs (factor 3)
