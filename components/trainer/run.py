"""TFX Trainer `run_fn`: read Transform's output, build the configured model, fit, export.

Reads as a straight line of helpers, each callable from a test: specs from the transform
output, datasets, model, fit with early stopping, history, signatures, save.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from components import features
from components.settings import (
    CLASSIFICATION_TASKS,
    DataSpec,
    EarlyStoppingSpec,
    InputError,
    ModelSpec,
    TrainingError,
    TrainingSpec,
    from_dict,
)
from components.trainer.data import trainer_input, use_steps_per_execution
from components.trainer.distribution import Placement, choose_strategy
from components.trainer.hyperparameters import apply_values, best_settings
from components.trainer.linear_weights import LINEAR_FILE, linear_weights
from components.trainer.models import build_model
from components.trainer.models.inputs import ImageInput, InputSpec, TaskSpec
from components.trainer.serving import make_signatures
from components.transform.preprocessing import NUM_OOV_BUCKETS

log = logging.getLogger(__name__)

HISTORY_FILE = "history.json"
MODEL_FILE = "model.json"
# Keras' BackupAndRestore checkpoints under the model run dir: a Trainer pod that Kubernetes
# restarts (a preempted GPU node) gets the same output URIs from the driver and resumes from its
# last finished epoch. Deleted by Keras when training ends; a new run has a new run dir.
BACKUP_DIR = "backup"


def trainer_settings(data: DataSpec, model: ModelSpec, training: TrainingSpec) -> dict[str, Any]:
    """The Trainer's `custom_config`: the three sections `run_fn` reads back (`read_settings`)."""
    return {
        "data": dataclasses.asdict(data),
        "model": dataclasses.asdict(model),
        "training": dataclasses.asdict(training),
    }


def training_splits() -> dict[str, Any]:
    """The Trainer's (and Tuner's) `train_args` and `eval_args`: fit the train split, watch the
    validation split. The eval split, which the Evaluator gates on, takes no part in training."""
    from tfx.proto import trainer_pb2

    return {
        "train_args": trainer_pb2.TrainArgs(splits=[features.TRAIN_SPLIT]),
        "eval_args": trainer_pb2.EvalArgs(splits=[features.VALIDATION_SPLIT]),
    }


def read_settings(custom_config: dict[str, Any]) -> tuple[DataSpec, ModelSpec, TrainingSpec]:
    return (
        from_dict(DataSpec, custom_config["data"], "data"),
        from_dict(ModelSpec, custom_config["model"], "model"),
        from_dict(TrainingSpec, custom_config["training"], "training"),
    )


def run_fn(fn_args: FnArgs) -> None:
    """Called by the TFX Trainer; settings arrive in `custom_config` (`trainer_settings`)."""
    data, model_spec, training = read_settings(fn_args.custom_config)
    tuned = best_settings(fn_args.hyperparameters)
    if tuned:
        model_spec, training = apply_values(model_spec, training, tuned)
        log.info("tuned settings from the Tuner: %s", tuned)
    # First, before other TensorFlow work: multi-worker collectives and logical CPU devices
    # can only be set up while TensorFlow's runtime has not started.
    placement = choose_strategy(training.strategy, training.cpu_devices)
    log.info("strategy %s with %d replicas (%s)", placement.name, placement.replicas, placement.reason)
    tf.keras.utils.set_random_seed(training.seed)

    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    global_batch = placement.global_batch_size(training.batch_size)
    given = trainer_input(
        fn_args.train_files, fn_args.eval_files, fn_args.data_accessor, transform_output, training, placement
    )
    log.info("trainer input: %s", given.record)
    task, class_names = task_spec(transform_output, data, given.train)

    inputs = input_spec(transform_output)
    with placement.strategy.scope():
        model = build_model(inputs, task, model_spec)
        use_steps_per_execution(model, given.steps_per_execution)
    model.summary(print_fn=log.info)
    # Every worker trains and saves (saving is collective), but only the chief's files are kept.
    run_dir = fn_args.model_run_dir if placement.is_chief else tempfile.mkdtemp(prefix="worker-run-")
    serving_dir = fn_args.serving_model_dir if placement.is_chief else os.path.join(run_dir, "model")
    description = describe_model(model, inputs)
    _write_json(description, os.path.join(run_dir, MODEL_FILE))
    fit_started = time.monotonic()
    history, stopper = fit(model, given.train, given.validation, training, run_dir)
    context = {
        "strategy": placement.describe(),
        "global_batch_size": global_batch,
        "input": given.record,
        "fit_seconds": round(time.monotonic() - fit_started, 3),
        "class_names": class_names or None,
        "tuned_settings": tuned or None,
        # What early stopping watched: the split of the files TFX handed over as eval_files.
        "early_stopping_split": split_of(fn_args.eval_files),
    }
    write_history(history, stopper, run_dir, context)
    line = linear_weights(model, transform_output, task, data.label)
    if line is not None:
        _write_json(line, os.path.join(run_dir, LINEAR_FILE))

    signatures = make_signatures(model, transform_output, data.label, data.task, class_names)
    model.save(serving_dir, save_format="tf", signatures=signatures, options=save_options(placement))
    if placement.is_chief:
        log.info("exported the model to %s", serving_dir)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)


def split_of(files: list[str]) -> str | None:
    """The split name of TFX's split dirs (`.../Split-validation/*`), or None when they differ."""
    names = {match.group(1) for match in (re.search(r"Split-([^/\\]+)", file) for file in files) if match}
    return names.pop() if len(names) == 1 else None


def save_options(placement: Placement) -> tf.saved_model.SaveOptions:
    """On a TPU the variables live on the TPU host; the files are written from this host."""
    if placement.name == "tpu":
        return tf.saved_model.SaveOptions(experimental_io_device="/job:localhost")
    return tf.saved_model.SaveOptions()


def task_spec(
    transform_output: tft.TFTransformOutput, data: DataSpec, train: tf.data.Dataset
) -> tuple[TaskSpec, list[str]]:
    """The task with its number of classes (or label statistics), and the class names by id."""
    task = data.task
    if task not in CLASSIFICATION_TASKS:
        mean, std = label_statistics(train)
        return TaskSpec(task, label_mean=mean, label_std=std), []
    class_names = list(data.classes) or [
        name.decode() if isinstance(name, bytes) else str(name)
        for name in transform_output.vocabulary_by_name(features.LABEL_VOCABULARY)
    ]
    if task == "binary" and len(class_names) != 2:
        raise InputError(
            f"task binary needs a label with exactly 2 classes; the training data has "
            f"{len(class_names)}: {', '.join(class_names[:10])}"
        )
    return TaskSpec(task, len(class_names)), class_names


def label_statistics(dataset: tf.data.Dataset) -> tuple[float, float]:
    """Weighted mean and standard deviation of the label over one pass of `dataset`."""
    total = weighted_sum = weighted_squares = 0.0
    for _, label, weight in dataset:
        label = tf.reshape(tf.cast(label, tf.float64), [-1])
        weight = tf.cast(weight, tf.float64)
        total += float(tf.reduce_sum(weight))
        weighted_sum += float(tf.reduce_sum(weight * label))
        weighted_squares += float(tf.reduce_sum(weight * label * label))
    if total == 0:
        raise InputError("the training split has no rows with a label value")
    mean = weighted_sum / total
    std = max(weighted_squares / total - mean * mean, 0.0) ** 0.5
    return mean, std if std > 0 else 1.0


def input_spec(transform_output: tft.TFTransformOutput) -> InputSpec:
    """Numeric vs categorical transformed features, with each category count, and the image."""
    numeric, categorical, image = [], {}, None
    for name, spec in sorted(transform_output.transformed_feature_spec().items()):
        if name in (features.LABEL, features.LABEL_WEIGHT):
            continue
        if len(getattr(spec, "shape", ())) == 3:
            image = ImageInput(name, tuple(int(size) for size in spec.shape))
        elif spec.dtype == tf.int64:
            raw_key = name[: -len(features.TRANSFORMED_SUFFIX)]
            vocabulary = features.categorical_vocabulary(raw_key)
            categorical[name] = transform_output.vocabulary_size_by_name(vocabulary) + NUM_OOV_BUCKETS
        else:
            numeric.append(name)
    return InputSpec(numeric=tuple(numeric), categorical=categorical, image=image)


def describe_model(model: tf.keras.Model, inputs: InputSpec) -> dict[str, Any]:
    """Name, size and layers of the model, for the run summary and reports."""
    return {
        "name": model.name,
        "parameters": int(model.count_params()),
        "input_width": inputs.width,
        "output_width": int(model.output_shape[-1]),
        "layers": [
            {"name": layer.name, "type": type(layer).__name__, "parameters": int(layer.count_params())}
            for layer in model.layers
        ],
    }


def fit(
    model: tf.keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    training: TrainingSpec,
    log_dir: str,
) -> tuple[tf.keras.callbacks.History, tf.keras.callbacks.EarlyStopping | None]:
    """Fit with TensorBoard logs and, when enabled, early stopping that restores the best epoch.

    Each finished epoch is backed up (`BACKUP_DIR`): a fit that is killed and started again on
    the same `log_dir` resumes after the last finished epoch. EarlyStopping starts afresh then
    (Keras backs up the model and optimizer, not the callbacks): patience counts again and the
    kept weights are the best since the resume.

    A loss that turns NaN or infinite stops training at that batch (TerminateOnNaN), and weights
    that do stop it at the end of that epoch (`FiniteWeights`); either fails the run with
    `TrainingError`, so no such model is exported, evaluated or pushed."""
    weights_check = FiniteWeights()
    callbacks: list[tf.keras.callbacks.Callback] = [
        tf.keras.callbacks.BackupAndRestore(os.path.join(log_dir, BACKUP_DIR)),
        tf.keras.callbacks.TensorBoard(log_dir=log_dir),
        tf.keras.callbacks.TerminateOnNaN(),
        weights_check,
    ]
    stopper = early_stopping(training.early_stopping) if training.early_stopping.enabled else None
    if stopper:
        callbacks.append(stopper)
    history = model.fit(train, validation_data=validation, epochs=training.epochs, callbacks=callbacks, verbose=2)
    check_finite_losses(history)
    weights_check.raise_if_found()
    return history, stopper


DIVERGED_ADVICE = (
    "training stopped and no model is exported; lower model.learning_rate or look for extreme values in the data"
)


def check_finite_losses(history: tf.keras.callbacks.History) -> None:
    for name in ("loss", "val_loss"):
        for epoch, value in enumerate(history.history.get(name, []), start=1):
            if not math.isfinite(value):
                raise TrainingError(
                    f"the {'training' if name == 'loss' else 'validation'} loss became {value} in epoch {epoch}: "
                    f"{DIVERGED_ADVICE}"
                )


class FiniteWeights(tf.keras.callbacks.Callback):
    """Stops training at the end of an epoch whose weights are no longer all finite.

    The loss alone can hide a model that diverged. With oneDNN on (TensorFlow's default on CPUs
    with AVX512_VNNI, AVX512_BF16 or AMX: `DefaultOneDnnPolicy` in tensorflow/core/util/port.cc),
    grappler fuses MatMul+BiasAdd+Relu into one oneDNN kernel whose ReLU turns NaN into 0, and a
    two-class softmax model whose every weight was NaN kept a loss of 0.693 (log 2) for 50
    epochs, so TerminateOnNaN never fired. Without oneDNN the same NaN reaches the loss.
    Checked once per epoch: one read of every weight, not one per batch."""

    def __init__(self) -> None:
        super().__init__()
        self.found: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        name = first_non_finite_weight(self.model)
        if name is not None:
            self.found = f"the weight {name} became NaN or infinite in epoch {epoch + 1} with a finite loss"
            self.model.stop_training = True

    def raise_if_found(self) -> None:
        if self.found:
            raise TrainingError(f"{self.found}: {DIVERGED_ADVICE}")


def first_non_finite_weight(model: tf.keras.Model) -> str | None:
    for weight in model.weights:
        if weight.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(weight))):
            return weight.name
    return None


def early_stopping(spec: EarlyStoppingSpec) -> tf.keras.callbacks.EarlyStopping:
    return tf.keras.callbacks.EarlyStopping(
        monitor="val_loss",
        min_delta=spec.min_delta,
        patience=spec.patience,
        restore_best_weights=True,
    )


def write_history(
    history: tf.keras.callbacks.History,
    stopper: tf.keras.callbacks.EarlyStopping | None,
    output_dir: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Per-epoch metrics plus the (1-based) epoch whose weights were kept, as JSON in the run dir.

    The per-epoch lists start at `first_epoch`: 1, or the epoch a fit resumed at from its backup.
    `context` (the strategy, the global batch size, the seconds `fit` took) is recorded alongside."""
    per_epoch = {name: [float(v) for v in values] for name, values in history.history.items()}
    first_epoch = history.epoch[0] + 1 if history.epoch else 1
    epochs_run = history.epoch[-1] + 1 if history.epoch else 0
    restored = stopper is not None and stopper.best_weights is not None
    record = {
        "epochs_run": epochs_run,
        "first_epoch": first_epoch,
        "kept_epoch": stopper.best_epoch + 1 if restored else epochs_run,
        "stopped_early": bool(stopper is not None and stopper.stopped_epoch > 0),
        "history": per_epoch,
        **(context or {}),
    }
    _write_json(record, os.path.join(output_dir, HISTORY_FILE))
    return record


def _write_json(data: dict[str, Any], path: str) -> None:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(data, f, indent=2)
