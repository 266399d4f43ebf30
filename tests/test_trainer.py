"""The Trainer's fit: early stopping restores the best epoch; a NaN loss stops training and fails the run."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.models import build_model
from components.models.inputs import InputSpec, TaskSpec
from components.settings import EarlyStoppingSpec, ModelSpec, TrainingError, TrainingSpec
from components.trainer import fit

INPUTS = InputSpec(numeric=("a_xf", "b_xf"))


def dataset(values: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    features = {"a_xf": values[:, :1], "b_xf": values[:, 1:]}
    return tf.data.Dataset.from_tensor_slices((features, labels, np.ones(len(labels), "float32"))).batch(16)


def test_a_nan_loss_stops_training_at_once_and_fails(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(64, 2)).astype("float32")
    values[40, 0] = np.inf  # one extreme value in the data
    labels = (values[:, 1] > 0).astype("int64")
    model = build_model(INPUTS, TaskSpec("multiclass", 2), ModelSpec(name="mlp_classifier"))
    training = TrainingSpec(epochs=50, early_stopping=EarlyStoppingSpec(patience=50))
    with pytest.raises(TrainingError, match=r"the training loss became nan in epoch 1: training stopped"):
        fit(model, dataset(values, labels), dataset(values[:16], labels[:16]), training, str(tmp_path))


def test_early_stopping_ends_training_with_the_best_epochs_weights(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(128, 2)).astype("float32")
    labels = (values[:, 0] + values[:, 1] > 0).astype("int64")
    model = build_model(INPUTS, TaskSpec("multiclass", 2), ModelSpec(name="mlp_classifier", learning_rate=0.01))
    training = TrainingSpec(epochs=500, early_stopping=EarlyStoppingSpec(patience=3))
    validation = dataset(values[:32], labels[:32])
    history, stopper = fit(model, dataset(values, labels), validation, training, str(tmp_path))
    assert stopper.stopped_epoch > 0 and len(history.epoch) == stopper.best_epoch + 1 + 3
    restored = model.evaluate(validation, verbose=0, return_dict=True)["loss"]
    assert restored == pytest.approx(history.history["val_loss"][stopper.best_epoch], rel=1e-5)
