"""What a model builder is given: the transformed inputs and the task, plus shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import tensorflow as tf

from components.settings import AugmentationSpec, ModelSpec
from components.trainer.keras_setup import skip_autograph_for_keras

skip_autograph_for_keras()  # every process that builds a model imports this; see components/trainer/keras_setup.py

keras = tf.keras


@dataclass(frozen=True)
class ImageInput:
    name: str
    shape: tuple[int, int, int]  # height, width, channels


@dataclass(frozen=True)
class InputSpec:
    """Transformed features: numeric ones are standardized floats, categorical ones are
    vocabulary indices, and an image is a float [height, width, channels] tensor."""

    numeric: tuple[str, ...] = ()
    categorical: dict[str, int] = field(default_factory=dict)  # name -> number of categories
    image: ImageInput | None = None

    @property
    def width(self) -> int:
        """Width of the flat input vector (numeric + one-hot categorical + flattened image)."""
        pixels = self.image.shape[0] * self.image.shape[1] * self.image.shape[2] if self.image else 0
        return len(self.numeric) + sum(self.categorical.values()) + pixels


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
    """One `keras.Input` per transformed feature and their concatenation as one flat vector
    (one-hot for categories, an image flattened as the MNIST MLP reads its 784 pixels)."""
    inputs: dict[str, keras.Input] = {}
    columns = []
    if spec.image:
        inputs[spec.image.name] = keras.Input(shape=spec.image.shape, name=spec.image.name)
        columns.append(keras.layers.Flatten(name="flatten_image")(inputs[spec.image.name]))
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


def image_input(spec: InputSpec, model: ModelSpec) -> tuple[dict[str, keras.Input], tf.Tensor]:
    """The single image input of a convolutional or recurrent model, augmented as configured."""
    if spec.image is None:
        raise ValueError(f"model {model.name} needs image data; this data has only tabular features")
    image = keras.Input(shape=spec.image.shape, name=spec.image.name)
    return {spec.image.name: image}, augment(image, model.augmentation)


def augment(image: tf.Tensor, spec: AugmentationSpec) -> tf.Tensor:
    """Random flips, rotations, shifts and zooms of each training batch, as Keras' preprocessing
    layers do them: they are part of the model but pass images through unchanged at inference,
    so evaluation and serving see the images as they are. Uncovered pixels are 0."""
    x = image
    if spec.flip != "none":
        x = keras.layers.RandomFlip(spec.flip, name="random_flip")(x)
    if spec.rotate:
        x = keras.layers.RandomRotation(spec.rotate, fill_mode="constant", name="random_rotation")(x)
    if spec.translate:
        x = keras.layers.RandomTranslation(
            spec.translate, spec.translate, fill_mode="constant", name="random_translation"
        )(x)
    if spec.zoom:
        x = keras.layers.RandomZoom(spec.zoom, fill_mode="constant", name="random_zoom")(x)
    return x


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
        return keras.losses.SparseCategoricalCrossentropy(), [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
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


def finish(inputs: dict[str, keras.Input], x: tf.Tensor, task: TaskSpec, spec: ModelSpec, name: str) -> keras.Model:
    """Adds the task's output head to `x` and compiles the model."""
    return compile_for(keras.Model(inputs, output_head(x, task), name=name), task, spec)


def dense_regularizer(spec: ModelSpec) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L2(spec.l2) if spec.l2 else None
