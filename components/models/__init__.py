"""Model registry: a name in the config maps to a builder.

A builder takes the transformed inputs (`InputSpec`), the task (`TaskSpec`) and the model's
hyperparameters (`ModelSpec`) and returns a compiled Keras model.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from components.models.inputs import InputSpec, TaskSpec
from components.models.mlp import mlp_classifier, mlp_regressor
from components.settings import ModelSpec

Builder = Callable[[InputSpec, TaskSpec, ModelSpec], tf.keras.Model]

REGISTRY: dict[str, Builder] = {
    "mlp_classifier": mlp_classifier,
    "mlp_regressor": mlp_regressor,
}


def build_model(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> tf.keras.Model:
    if spec.name not in REGISTRY:
        raise ValueError(f"model.name: unknown model {spec.name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[spec.name](inputs, task, spec)
