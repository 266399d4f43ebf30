"""Model registry: a name in the config maps to a builder.

A builder takes the transformed inputs (`InputSpec`), the task (`TaskSpec`) and the model's
hyperparameters (`ModelSpec`) and returns a compiled Keras model.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from components.models.conv import cnn, rnn, squeezenet, vgg
from components.models.inputs import InputSpec, TaskSpec
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
from components.settings import ModelSpec

Builder = Callable[[InputSpec, TaskSpec, ModelSpec], tf.keras.Model]

REGISTRY: dict[str, Builder] = {
    builder.__name__: builder
    for builder in (
        linear,
        mlp_regressor,
        mlp_classifier,
        binary_classifier,
        mlp_dropout_batchnorm,
        mlp_batchnorm_input,
        mnist_mlp,
        cnn,
        rnn,
        vgg,
        squeezenet,
        transfer,
    )
}
IMAGE_MODELS = frozenset({"cnn", "rnn", "vgg", "squeezenet", "transfer"})


def build_model(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> tf.keras.Model:
    if spec.name not in REGISTRY:
        raise ValueError(f"model.name: unknown model {spec.name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[spec.name](inputs, task, spec)
