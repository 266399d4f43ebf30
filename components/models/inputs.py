"""What a model builder is given: the transformed inputs and the task, plus shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import tensorflow as tf

from components.settings import ModelSpec

keras = tf.keras


@dataclass(frozen=True)
class InputSpec:
    """Transformed features: numeric ones are z-scored floats, categorical ones are indices."""

    numeric: tuple[str, ...] = ()
    categorical: dict[str, int] = field(default_factory=dict)  # name -> number of categories

    @property
    def width(self) -> int:
        """Width of the concatenated input vector (numeric + one-hot categorical)."""
        return len(self.numeric) + sum(self.categorical.values())


@dataclass(frozen=True)
class TaskSpec:
    task: str  # binary | multiclass | regression
    num_classes: int = 0  # 2 for binary, the vocabulary size for multiclass, 0 for regression
    # Regression: the training label's mean and standard deviation. The head learns in
    # standard units and rescales, so predictions and MAE stay in the label's own units.
    label_mean: float = 0.0
    label_std: float = 1.0

    def __post_init__(self) -> None:
        if self.task == "binary" and self.num_classes != 2:
            raise ValueError(f"task binary needs exactly 2 classes, the label has {self.num_classes}")
        if self.task == "multiclass" and self.num_classes < 2:
            raise ValueError(f"task multiclass needs at least 2 classes, the label has {self.num_classes}")


def feature_inputs(spec: InputSpec) -> tuple[dict[str, keras.Input], tf.Tensor]:
    """One `keras.Input` per transformed feature and their concatenation (one-hot for categories)."""
    inputs: dict[str, keras.Input] = {}
    columns = []
    for name in spec.numeric:
        inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.float32)
        columns.append(inputs[name])
    for name, depth in sorted(spec.categorical.items()):
        inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.int64)
        columns.append(keras.layers.CategoryEncoding(num_tokens=depth, output_mode="one_hot")(inputs[name]))
    if not columns:
        raise ValueError("the data has no feature columns besides the label")
    merged = columns[0] if len(columns) == 1 else keras.layers.Concatenate(name="features")(columns)
    return inputs, merged


def output_head(x: tf.Tensor, task: TaskSpec) -> tf.Tensor:
    """Sigmoid unit for binary, softmax over classes for multiclass, a linear unit for regression."""
    if task.task == "binary":
        return keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    if task.task == "multiclass":
        return keras.layers.Dense(task.num_classes, activation="softmax", name="probabilities")(x)
    x = keras.layers.Dense(1, name="standardized_prediction")(x)
    return keras.layers.Rescaling(scale=task.label_std, offset=task.label_mean, name="prediction")(x)


def loss_and_metrics(task: TaskSpec) -> tuple[keras.losses.Loss, list[keras.metrics.Metric]]:
    """The loss each task trains on and the metric the Evaluator gates it on."""
    if task.task == "binary":
        return keras.losses.BinaryCrossentropy(), [keras.metrics.BinaryAccuracy(name="accuracy")]
    if task.task == "multiclass":
        return keras.losses.SparseCategoricalCrossentropy(), [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        ]
    return keras.losses.MeanAbsoluteError(), [keras.metrics.MeanAbsoluteError(name="mae")]


def make_optimizer(spec: ModelSpec) -> keras.optimizers.Optimizer:
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[spec.optimizer](learning_rate=spec.learning_rate)


def compile_for(model: keras.Model, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    loss, metrics = loss_and_metrics(task)
    model.compile(optimizer=make_optimizer(spec), loss=loss, weighted_metrics=metrics)
    return model
