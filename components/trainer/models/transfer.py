"""Transfer learning: a frozen pretrained convolutional base under a new classifier head.

Nothing can be downloaded here, so the base comes from a local Keras file (`.h5`/`.keras`,
e.g. VGG16 ImageNet weights saved elsewhere) or from a model this pipeline pushed earlier,
whose layers up to its last convolution/pooling layer are reused.
"""

from __future__ import annotations

import os

import tensorflow as tf

from components.settings import ModelSpec, TransferSpec
from components.trainer.models.inputs import InputSpec, TaskSpec, finish, image_input

keras = tf.keras

_BASE_LAYER_TYPES = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


def load_base(spec: TransferSpec, input_shape: tuple[int, int, int]) -> keras.Model:
    """The base model: the source's layers up to `base_output_layer` (default: last conv/pool)."""
    if not spec.base_model:
        raise ValueError("model.transfer.base_model: name a .h5/.keras file or a pushed model directory")
    if not os.path.exists(spec.base_model):
        raise ValueError(f"model.transfer.base_model: {spec.base_model} does not exist")
    source = keras.models.load_model(spec.base_model, compile=False)
    if len(source.inputs) != 1:
        raise ValueError(
            f"model.transfer.base_model: {spec.base_model} takes {len(source.inputs)} inputs, not one image"
        )
    base_shape = tuple(source.inputs[0].shape[1:])
    if base_shape != tuple(input_shape):
        raise ValueError(
            f"model.transfer.base_model: {spec.base_model} takes images of shape {base_shape}, "
            f"the data's images are {tuple(input_shape)}"
        )
    output_layer = source.get_layer(spec.base_output_layer) if spec.base_output_layer else _last_base_layer(source)
    base = keras.Model(source.inputs, output_layer.output, name="pretrained_base")
    base.trainable = False
    if spec.fine_tune_layers:
        for layer in base.layers[-spec.fine_tune_layers :]:
            layer.trainable = True
    return base


def transfer(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Frozen base -> Flatten -> Dense(head_units, ReLU) -> task head (RMSprop 2e-5 in the recipe)."""
    image_inputs, image = image_input(inputs, spec)
    base = load_base(spec.transfer, inputs.image.shape)
    x = base(image, training=False)  # BatchNorm layers of the base stay in inference mode
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(spec.transfer.head_units, activation="relu", name="head_dense")(x)
    if spec.dropout:
        x = keras.layers.Dropout(spec.dropout, name="head_dropout")(x)
    return finish(image_inputs, x, task, spec, "transfer")


def _last_base_layer(model: keras.Model) -> keras.layers.Layer:
    candidates = [layer for layer in model.layers if isinstance(layer, _BASE_LAYER_TYPES)]
    if not candidates:
        raise ValueError(f"model.transfer.base_model: {model.name} has no convolution or pooling layer to reuse")
    return candidates[-1]
