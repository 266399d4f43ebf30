"""Model registry: a name in the config maps to a builder and what it can be used for.

A builder takes the transformed inputs (`InputSpec`), the task (`TaskSpec`) and the model's
hyperparameters (`ModelSpec`) and returns a compiled Keras model. Which tasks a model fits and
whether it needs images is declared here, once, and checked both when a config is loaded and
when a model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tensorflow as tf

from components.keras_setup import skip_autograph_for_keras
from components.models.conv import cnn, rnn, squeezenet, vgg
from components.models.inputs import ImageInput, InputSpec, TaskSpec
from components.models.mlp import (
    binary_classifier,
    linear,
    mlp_batchnorm_input,
    mlp_classifier,
    mlp_dropout_batchnorm,
    mlp_regressor,
    mnist_mlp,
)
from components.models.transfer import transfer
from components.settings import CLASSIFICATION_TASKS, TASKS, ModelSpec

skip_autograph_for_keras()  # every process that builds a model; see components/keras_setup.py

Builder = Callable[[InputSpec, TaskSpec, ModelSpec], tf.keras.Model]


@dataclass(frozen=True)
class ModelInfo:
    builder: Builder
    tasks: tuple[str, ...]
    needs_image: bool = False

    @property
    def description(self) -> str:
        """The first sentence of the builder's docstring."""
        paragraph = " ".join((self.builder.__doc__ or "").strip().split("\n\n")[0].split())
        return paragraph.split(". ")[0].rstrip(".")


REGISTRY: dict[str, ModelInfo] = {
    info.builder.__name__: info
    for info in (
        ModelInfo(linear, TASKS),
        ModelInfo(mlp_regressor, ("regression",)),
        ModelInfo(mlp_classifier, CLASSIFICATION_TASKS),
        ModelInfo(binary_classifier, ("binary",)),
        ModelInfo(mlp_dropout_batchnorm, TASKS),
        ModelInfo(mlp_batchnorm_input, TASKS),
        ModelInfo(mnist_mlp, ("multiclass",)),
        ModelInfo(cnn, TASKS, needs_image=True),
        ModelInfo(rnn, CLASSIFICATION_TASKS, needs_image=True),
        ModelInfo(vgg, TASKS, needs_image=True),
        ModelInfo(squeezenet, ("multiclass",), needs_image=True),
        ModelInfo(transfer, TASKS, needs_image=True),
    )
}


def check_model(name: str, task: str) -> ModelInfo:
    """The model's registry entry, or a ValueError saying why it cannot serve `task`."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    info = REGISTRY[name]
    if task not in info.tasks:
        raise ValueError(f"model {name} fits task {' or '.join(info.tasks)}, not {task}")
    return info


def build_model(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> tf.keras.Model:
    info = check_model(spec.name, task.task)
    if info.needs_image and inputs.image is None:
        raise ValueError(f"model {spec.name} needs image data; this data has only tabular features")
    return info.builder(inputs, task, spec)


@dataclass(frozen=True)
class CatalogRow:
    name: str
    tasks: tuple[str, ...]
    needs_image: bool
    parameters: int | None  # None where the model cannot be built without more settings
    description: str
    note: str = ""


def example_task(info: ModelInfo, num_classes: int) -> TaskSpec:
    """The task a catalogue entry is shown with: multiclass where it fits, else its first task."""
    if "multiclass" in info.tasks:
        return TaskSpec("multiclass", num_classes)
    return TaskSpec(info.tasks[0], 2 if info.tasks[0] == "binary" else 0)


def catalog(image_shape: tuple[int, int, int], num_classes: int, spec: ModelSpec | None = None) -> list[CatalogRow]:
    """Every registered model built for one image shape (dense models read it flattened)."""
    inputs = InputSpec(image=ImageInput("image", image_shape))
    rows = []
    for name, info in REGISTRY.items():
        model_spec = ModelSpec(**{**vars(spec or ModelSpec()), "name": name})
        try:
            parameters, note = build_model(inputs, example_task(info, num_classes), model_spec).count_params(), ""
        except ValueError as error:
            parameters, note = None, str(error)
        rows.append(CatalogRow(name, info.tasks, info.needs_image, parameters, info.description, note))
    return rows
