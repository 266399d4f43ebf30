"""TFX Tuner's `tuner_fn`: a KerasTuner search over the space (space.py) in which every trial is
scored by k-fold cross-validation on the train split.

The eval split is what the Evaluator gates on, and no training decision may see it; the
validation split is what the Trainer early-stops on. Scoring trials on either would pick the
values that fit those few rows best and report an optimistic figure: cross-validation on the
train split leaves both to what they are for. The split the folds came from is recorded (`split`).
A trial trains one model per fold, each with early stopping, and scores the mean of the folds'
best validation loss (without the L2 penalty, as the Evaluator measures it) or accuracy.

The train split is held in memory once for the whole search (each fold is a view of it).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import keras_tuner
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from keras_tuner.engine import base_tuner
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from components.settings import CLASSIFICATION_TASKS, ModelSpec, TrainingError, TrainingSpec, TuningSpec, from_dict
from components.trainer.data import READ_BATCH, InMemorySplit, make_dataset, use_steps_per_execution
from components.trainer.distribution import Placement, choose_strategy
from components.trainer.hyperparameters import apply_values, choice_values, setting_value, trial_settings
from components.trainer.models import build_model
from components.trainer.models.inputs import InputSpec, TaskSpec
from components.trainer.run import input_spec, read_settings, split_of, task_spec
from components.tuner.space import Space

log = logging.getLogger(__name__)

# The objective KerasTuner ranks trials by, per `tuning.objective`.
OBJECTIVES = {
    "loss": keras_tuner.Objective("val_loss", "min"),
    "accuracy": keras_tuner.Objective("val_accuracy", "max"),
}


def tuner_settings(tuning: TuningSpec) -> dict[str, Any]:
    """The Tuner's `custom_config` beyond the Trainer's settings."""
    return {"tuning": dataclasses.asdict(tuning)}


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """Called by TFX's Tuner executor; settings arrive in `custom_config` (as for the Trainer)."""
    data, model, training = read_settings(fn_args.custom_config)
    tuning = from_dict(TuningSpec, fn_args.custom_config["tuning"], "tuning")
    placement = choose_strategy(training.strategy, training.cpu_devices)
    tf.keras.utils.set_random_seed(tuning.seed)
    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    reader = make_dataset(fn_args.train_files, fn_args.data_accessor, transform_output, READ_BATCH, None)
    task, _ = task_spec(transform_output, data, reader)
    folds = FoldData.read(reader, tuning.folds)
    search = TrialRunner(input_spec(transform_output), task, model, training, tuning, placement, folds)
    tuner = CrossValidationTuner(
        make_oracle(tuning, tuning.space), search, directory=fn_args.working_dir, split=split_of(fn_args.train_files)
    )
    # verbose 0: KerasTuner's oracle prints no trial tables; each trial is logged (run_trial).
    return TunerFnResult(tuner=tuner, fit_kwargs={"verbose": 0})


def make_oracle(tuning: TuningSpec, space: Space) -> keras_tuner.Oracle:
    """KerasTuner's oracle for `tuning.algorithm`, over a Choice per settings key.

    Failed trials (a diverged loss) do not end the search: only when every trial failed is
    there nothing to train (CrossValidationTuner.on_search_end). The TFX executor calls
    `search(**fit_kwargs)`: keras_tuner/src/engine/base_tuner.py takes `verbose` from them."""
    hyperparameters = keras_tuner.HyperParameters()
    for key, values in space.items():
        choices = choice_values(values)
        hyperparameters.Choice(key, choices, ordered=not isinstance(choices[0], str))
    common = {
        "objective": OBJECTIVES[tuning.objective],
        "hyperparameters": hyperparameters,
        "tune_new_entries": False,
        "seed": tuning.seed,
        # KerasTuner raises after this many failures in a row: never, so that the search goes on
        # and `on_search_end` names the failure when no trial completed.
        "max_consecutive_failed_trials": tuning.max_trials + 1,
    }
    if tuning.algorithm == "hyperband":
        return keras_tuner.oracles.HyperbandOracle(max_epochs=tuning.max_epochs, factor=3, **common)
    if tuning.algorithm == "random":
        return keras_tuner.oracles.RandomSearchOracle(max_trials=tuning.max_trials, **common)
    return keras_tuner.oracles.BayesianOptimizationOracle(max_trials=tuning.max_trials, **common)


@dataclass
class FoldData:
    """The train split in memory, cut into `folds` folds by row index (row i is in fold i mod k)."""

    data: InMemorySplit
    folds: int

    @classmethod
    def read(cls, batches: tf.data.Dataset, folds: int) -> FoldData:
        data = InMemorySplit.read(batches)
        if not data.rows:
            raise TrainingError("tuning: the train split has no rows")
        if data.rows < folds:
            raise TrainingError(f"tuning.folds: {folds} folds need at least {folds} training rows, got {data.rows}")
        return cls(data, folds)

    @property
    def rows(self) -> int:
        return self.data.rows

    def split(self, fold: int, batch_size: int, seed: int) -> tuple[tf.data.Dataset, tf.data.Dataset]:
        """(training, validation) datasets for `fold`: shuffled batches of the other folds, and its own rows."""
        held_out = np.arange(self.rows) % self.folds == fold
        train = self.data.subset(~held_out).dataset(batch_size, seed)
        return train, self.data.subset(held_out).dataset(batch_size)


class DataLoss(tf.keras.callbacks.Callback):
    """Records `val_data_loss`: Keras' val_loss less the L2 penalty at the epoch's weights (the
    loss of the predictions alone, which is what the Evaluator measures)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None and "val_loss" in logs:
            penalty = float(tf.add_n(self.model.losses)) if self.model.losses else 0.0
            logs["val_data_loss"] = logs["val_loss"] - penalty


class Deadline(tf.keras.callbacks.Callback):
    """Ends a fit after the epoch in which the search's wall-clock budget ran out."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


@dataclass
class TrialRunner:
    """Trains and scores one trial's settings over every fold."""

    inputs: InputSpec
    task: TaskSpec
    model: ModelSpec
    training: TrainingSpec
    tuning: TuningSpec
    placement: Placement
    data: FoldData
    deadline: float = math.inf

    def score(self, settings: dict[str, Any], epochs: int) -> dict[str, Any]:
        """Mean best validation metrics over the folds, and each fold's best epoch."""
        model_spec, training = apply_values(self.model, self.training, settings)
        scores = [self._fit_fold(model_spec, training, fold, epochs) for fold in range(self.data.folds)]
        result = {name: float(np.mean([s[name] for s in scores])) for name in scores[0] if name != "epoch"}
        result["epochs"] = [s["epoch"] for s in scores]
        return result

    def _fit_fold(self, model_spec: ModelSpec, training: TrainingSpec, fold: int, epochs: int) -> dict[str, float]:
        tf.keras.backend.clear_session()
        tf.keras.utils.set_random_seed(self.tuning.seed + fold)
        global_batch = self.placement.global_batch_size(training.batch_size)
        train, validation = self.data.split(fold, global_batch, self.tuning.seed + fold)
        with self.placement.strategy.scope():
            model = build_model(self.inputs, self.task, model_spec)
            use_steps_per_execution(model, training.steps_per_execution)
        stopper = tf.keras.callbacks.EarlyStopping(
            monitor="val_loss", min_delta=training.early_stopping.min_delta, patience=self.tuning.patience
        )
        # DataLoss first: the History callback, which Keras runs last, then records its figure.
        callbacks = [DataLoss(), stopper, Deadline(self.deadline), tf.keras.callbacks.TerminateOnNaN()]
        history = model.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=0)
        losses = history.history.get("val_loss", [])
        if not losses or not all(math.isfinite(v) for v in history.history.get("loss", [])):
            raise keras_tuner.errors.FailedTrialError(f"fold {fold + 1}: the loss diverged")
        best = int(np.nanargmin(losses))  # the epoch the Trainer's early stopping would keep
        result = {"val_loss": history.history["val_data_loss"][best], "epoch": best + 1}
        if self.task.task in CLASSIFICATION_TASKS:
            result["val_accuracy"] = history.history["val_accuracy"][best]
        return result


class CrossValidationTuner(base_tuner.BaseTuner):
    """KerasTuner's search loop with our trial (`TrialRunner.score`) and a wall-clock budget.

    `records` keeps every trial: its settings, score, per-fold best epochs and seconds, for the
    run summary (TFX's own tuner_results.json keeps only completed trials' scores)."""

    def __init__(
        self, oracle: keras_tuner.Oracle, runner: TrialRunner, directory: str, split: str | None = None
    ) -> None:
        super().__init__(oracle, directory=directory, project_name="search", overwrite=True)
        self.runner = runner
        self.split = split  # the split the folds are cut from
        self.space = {hp.name: hp.values for hp in oracle.hyperparameters.space}
        self.records: list[dict[str, Any]] = []
        self.stopped_by = "max_trials"
        self.started = time.monotonic()

    def on_search_begin(self) -> None:
        self.started = time.monotonic()
        self.runner.deadline = self.started + self.runner.tuning.max_seconds

    def pre_create_trial(self) -> None:
        """Past the budget, the oracle's next trial is STOPPED (it stops at `max_trials`)."""
        if time.monotonic() >= self.runner.deadline and self.stopped_by != "max_seconds":
            self.stopped_by = "max_seconds"
            self.oracle.max_trials = max(len(self.oracle.trials), 1)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        values = trial.hyperparameters.values
        settings = trial_settings(values)
        epochs = int(values.get("tuner/epochs", self.runner.tuning.max_epochs))
        started = time.monotonic()
        # Numbered from 1 in the order run; KerasTuner's own id kept beside it.
        record = {
            "trial": len(self.records) + 1,
            "trial_id": trial.trial_id,
            "settings": settings,
            "max_epochs": epochs,
        }
        try:
            result = self.runner.score(settings, epochs)
        except Exception as error:
            self.records.append({**record, "status": "failed", "error": str(error), "seconds": _since(started)})
            raise
        log.info("trial %s %s: %s", trial.trial_id, settings, result)
        self.records.append({**record, "status": "completed", **result, "seconds": _since(started)})
        return {name: value for name, value in result.items() if name != "epochs"}

    def on_search_end(self) -> None:
        if not any(record["status"] == "completed" for record in self.records):
            errors = "; ".join(sorted({record.get("error", "") for record in self.records}))
            raise TrainingError(
                f"tuning: no trial completed ({errors}); lower model.learning_rate or narrow tuning.space"
            )

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No trial model is kept: the Trainer trains the best values on the whole train split."""

    def summary(self) -> dict[str, Any]:
        """What the search did, for trials.json beside TFX's tuner results."""
        best_ids = [trial.trial_id for trial in self.oracle.get_best_trials(1)]
        best = next((record for record in self.records if record["trial_id"] in best_ids), None)
        objective = self.oracle.objective
        return {
            "algorithm": self.runner.tuning.algorithm,
            "objective": objective.name,
            "direction": objective.direction,
            "folds": self.runner.tuning.folds,
            "split": self.split,
            "rows": self.runner.data.rows,
            "seconds": _since(self.started),
            "stopped_by": self.stopped_by,
            "space": {key: [setting_value(v) for v in values] for key, values in self.space.items()},
            "best_trial": best["trial"] if best else None,
            "best_settings": best["settings"] if best else {},
            "best_score": best[objective.name] if best else None,
            "trials": self.records,
        }


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
