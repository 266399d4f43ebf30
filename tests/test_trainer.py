"""The Trainer's fit: early stopping restores the best epoch; a NaN loss or NaN weights stop
training and fail the run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.settings import EarlyStoppingSpec, ModelSpec, TrainingError, TrainingSpec
from components.trainer.models import build_model
from components.trainer.models.inputs import InputSpec, TaskSpec
from components.trainer.run import fit

INPUTS = InputSpec(numeric=("a_xf", "b_xf"))


def dataset(values: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    features = {"a_xf": values[:, :1], "b_xf": values[:, 1:]}
    return tf.data.Dataset.from_tensor_slices((features, labels, np.ones(len(labels), "float32"))).batch(16)


def test_a_nan_loss_stops_training_at_once_and_fails(tmp_path):
    """The NaN is in a target, after the model: it reaches the loss on every kernel path."""
    tf.keras.utils.set_random_seed(0)
    values = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    targets = values.sum(axis=1)
    targets[40] = np.nan  # one corrupt target, in the third batch of 16
    model = build_model(INPUTS, TaskSpec("regression"), ModelSpec(name="mlp_regressor"))
    training = TrainingSpec(epochs=50, early_stopping=EarlyStoppingSpec(patience=50))
    with pytest.raises(TrainingError, match=r"the training loss became nan in epoch 1: training stopped"):
        fit(model, dataset(values, targets), dataset(values[:16], targets[:16]), training, str(tmp_path))


# One extreme value in the features makes the weights NaN after its batch. Run in a process of
# its own: TensorFlow reads TF_ENABLE_ONEDNN_OPTS once per process (tensorflow/core/util/port.cc).
DIVERGING_CLASSIFIER = """
import sys
sys.path[:0] = [{tests!r}]
import components  # first: it selects Keras 2 before TensorFlow is imported
import numpy as np
from test_trainer import INPUTS, dataset
import tensorflow as tf
from components.trainer.models import build_model
from components.trainer.models.inputs import TaskSpec
from components.settings import EarlyStoppingSpec, ModelSpec, TrainingError, TrainingSpec
from components.trainer.run import fit
tf.keras.utils.set_random_seed(0)
values = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
values[40, 0] = np.inf
labels = (values[:, 1] > 0).astype("int64")
model = build_model(INPUTS, TaskSpec("multiclass", 2), ModelSpec(name="mlp_classifier"))
training = TrainingSpec(epochs=50, early_stopping=EarlyStoppingSpec(patience=50))
try:
    history, _ = fit(model, dataset(values, labels), dataset(values[:16], labels[:16]), training, {log_dir!r})
    print("no error after", len(history.epoch), "epochs")
except TrainingError as error:
    print(error)
"""


@pytest.mark.parametrize(
    "onednn, message",
    [
        # oneDNN's fused Dense+ReLU maps NaN to 0: the loss stays finite, the weights check stops it
        ("1", r"^the weight dense_0/kernel:0 became NaN or infinite in epoch 1 with a finite loss: training stopped"),
        # Eigen's kernels carry the NaN into the loss, and TerminateOnNaN stops it in that batch
        ("0", r"^the training loss became nan in epoch 1: training stopped"),
    ],
)
def test_nan_weights_fail_training_with_onednn_on_or_off(tmp_path, onednn, message):
    code = DIVERGING_CLASSIFIER.format(tests=str(Path(__file__).parent), log_dir=str(tmp_path))
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(message, done.stdout.strip().splitlines()[-1]), done.stdout[-2000:]


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
