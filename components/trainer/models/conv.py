"""Convolutional image classifiers: CNN, VGG and SqueezeNet (the RNN is in rnn.py)."""

from __future__ import annotations

import tensorflow as tf

from components.settings import ModelSpec, SqueezeNetSpec, VggSpec
from components.trainer.models.inputs import InputSpec, TaskSpec, compile_for, finish, image_input

keras = tf.keras

# SqueezeNet v1.0's fire modules as (squeeze, expand) widths; max-pools follow these indices.
SQUEEZENET_FIRES = ((16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256))
SQUEEZENET_POOL_AFTER = (2, 6)  # after fire4 and fire8 (0-based fire index)


def cnn(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Conv2D/ReLU/MaxPool blocks, then Flatten and a Dense head."""
    image_inputs, x = image_input(inputs, spec)
    conv = spec.conv
    for i, filters in enumerate(conv.filters):
        x = keras.layers.Conv2D(
            filters,
            conv.kernel_size,
            strides=conv.strides,
            padding=conv.padding,
            activation="relu",
            name=f"conv_{i}",
        )(x)
        x = keras.layers.MaxPooling2D(conv.pool_size, padding="same", name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(spec.hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        if spec.dropout:
            x = keras.layers.Dropout(spec.dropout, name=f"dropout_{i}")(x)
    return finish(image_inputs, x, task, spec, "cnn")


def vgg_blocks(x: tf.Tensor, vgg: VggSpec) -> tf.Tensor:
    """VGG's convolutional base: 3x3 same-padded ReLU convolutions, a 2x2/2 max-pool per block."""
    for block, (width, convs) in enumerate(zip(vgg.widths, vgg.convs), start=1):
        for conv in range(1, convs + 1):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"block{block}_conv{conv}")(x)
        x = keras.layers.MaxPooling2D(2, strides=2, padding="same", name=f"block{block}_pool")(x)
    return x


def vgg_base(input_shape: tuple[int, int, int], vgg: VggSpec) -> keras.Model:
    """The conv base alone ("without top"); with VGG16's defaults at 224x224x3: 14,714,688 weights."""
    image = keras.Input(shape=input_shape, name="image")
    return keras.Model(image, vgg_blocks(image, vgg), name="vgg_base")


def vgg(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """VGG-style conv base (block widths and depths from `model.vgg`), then a Dense head."""
    image_inputs, x = image_input(inputs, spec)
    x = keras.layers.Flatten(name="flatten")(vgg_blocks(x, spec.vgg))
    for i, units in enumerate(spec.hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"fc{i + 1}")(x)
        if spec.dropout:
            x = keras.layers.Dropout(spec.dropout, name=f"fc{i + 1}_dropout")(x)
    return finish(image_inputs, x, task, spec, "vgg")


# SqueezeNet's convolutions start from He initialization: it keeps the scale of a ReLU signal
# through SqueezeNet's 18 convolutions in a row without batch normalization, where Keras' default
# (Glorot) halves its variance at each and the class scores start out flat.
RELU_INIT = "he_uniform"


def fire_module(x: tf.Tensor, squeeze: int, expand: int, name: str) -> tf.Tensor:
    """Squeeze with 1x1 convolutions, expand with 1x1 and 3x3 in parallel, concatenate."""

    def relu_conv(filters: int, size: int, part: str) -> keras.layers.Layer:
        return keras.layers.Conv2D(
            filters, size, padding="same", activation="relu", kernel_initializer=RELU_INIT, name=f"{name}_{part}"
        )

    x = relu_conv(squeeze, 1, "squeeze1x1")(x)
    return keras.layers.Concatenate(name=f"{name}_concat")(
        [relu_conv(expand, 1, "expand1x1")(x), relu_conv(expand, 3, "expand3x3")(x)]
    )


def squeezenet_features(x: tf.Tensor, squeeze: SqueezeNetSpec) -> tf.Tensor:
    """SqueezeNet v1.0 up to (not including) its classifier convolution."""

    def width(n: int) -> int:
        return max(1, round(n * squeeze.scale))

    if squeeze.stem == "imagenet":
        x = keras.layers.Conv2D(width(96), 7, strides=2, activation="relu", kernel_initializer=RELU_INIT, name="conv1")(
            x
        )
        x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    else:
        x = keras.layers.Conv2D(
            width(96), 3, padding="same", activation="relu", kernel_initializer=RELU_INIT, name="conv1"
        )(x)
    for i, (s, e) in enumerate(SQUEEZENET_FIRES):
        x = fire_module(x, width(s), width(e), name=f"fire{i + 2}")
        if i in SQUEEZENET_POOL_AFTER:
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_after_fire{i + 2}")(x)
    return x


def squeezenet(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """SqueezeNet v1.0 (functional API): fire modules, Dropout(0.5), a 1x1 classifier
    convolution with one channel per class, global average pooling, softmax. With the published
    configuration (1000 classes, 224x224x3) it has 1,248,424 parameters.

    Two changes from the paper, so that training starts at every seed: the ReLU convolutions
    start from He initialization (RELU_INIT), and the classifier convolution is linear. With its
    published ReLU every class map can fall below zero at once, the logits are all 0 and no
    gradient reaches the network again. Without both, the digits recipe stayed at its starting
    loss in 6 of 9 runs (bench/RESULTS.md)."""
    image_inputs, x = image_input(inputs, spec)
    x = squeezenet_features(x, spec.squeezenet)
    x = keras.layers.Dropout(0.5, name="drop9")(x)
    x = keras.layers.Conv2D(task.num_classes, 1, name="conv10")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avgpool10")(x)
    probabilities = keras.layers.Softmax(name="probabilities")(x)
    return compile_for(keras.Model(image_inputs, probabilities, name="squeezenet"), task, spec)
