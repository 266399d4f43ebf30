"""A user's own model builder (`model.name: package.module:function`), built and checked.

The builder gets what ours get (`InputSpec`, `TaskSpec`, `ModelSpec`) and returns a Keras 2
model; an uncompiled one is compiled here with the config's optimizer and learning rate and
the task's loss. Whatever it returns must fit what the rest of the pipeline does with it: its
inputs are transformed features by name (Transform feeds them, `serving.py` wraps them), and
its one output is what the Evaluator gates (probabilities for classes, the label's value for
regression). Each mismatch is a `ConfigError` naming the builder and what is wrong.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from components.settings import ConfigError, ModelSpec
from components.trainer.models.inputs import InputSpec, TaskSpec, compile_for

keras = tf.keras
KERAS_2_HINT = (
    "build it with tf.keras (this pipeline runs Keras 2 through tf_keras, as TFX 1.16 needs): "
    "`import tensorflow as tf; keras = tf.keras`"
)


def build_own_model(info: Any, inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Calls the user's builder, checks what it returned, and compiles it if they did not."""
    name = info.builder_path
    try:
        builder = info.builder
    except ValueError as error:
        raise ConfigError(f"model.name: {error}") from None
    model = builder(inputs, task, spec)
    check_own_model(name, model, inputs, task)
    if not getattr(model, "_is_compiled", False):
        compile_for(model, task, spec)
    return model


def check_own_model(name: str, model: Any, inputs: InputSpec, task: TaskSpec) -> None:
    def fail(problem: str) -> None:
        raise ConfigError(f"model.name: {name} {problem}")

    if not isinstance(model, keras.Model):
        kind = f"{type(model).__module__}.{type(model).__name__}"
        hint = f"; {KERAS_2_HINT}" if kind.startswith("keras") else ""
        fail(f"returned a {kind}, not a Keras model{hint}")
    features = {*inputs.numeric, *inputs.categorical, *([inputs.image.name] if inputs.image else [])}
    unknown = [input_name for input_name in model.input_names if input_name not in features]
    if unknown:
        fail(
            f"takes input {unknown[0]!r}, which is not a transformed feature (the features are: "
            f"{', '.join(sorted(features))}; name each keras.Input after one)"
        )
    if len(model.outputs) != 1:
        fail(f"has {len(model.outputs)} outputs; the pipeline trains and gates one")
    expected = task.num_classes if task.task == "multiclass" else 1
    width = model.output_shape[-1]
    if width != expected:
        what = {"multiclass": f"{expected} classes", "binary": "binary: 1 sigmoid unit"}.get(task.task, "regression")
        fail(f"outputs {width} value(s) per example; task {task.task} needs {expected} ({what})")
    activation = getattr(model.layers[-1], "activation", None)
    if task.task != "regression" and activation is keras.activations.linear:
        head = "sigmoid" if task.task == "binary" else "softmax"
        fail(f"ends in a linear layer; the gate reads probabilities: give its last layer activation={head!r}")
