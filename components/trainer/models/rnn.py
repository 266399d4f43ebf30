"""A recurrent network over images: the image read row by row, as keras-io's MNIST RNN does."""

from __future__ import annotations

import tensorflow as tf

from components.settings import ModelSpec
from components.trainer.models.inputs import InputSpec, TaskSpec, finish, image_input

keras = tf.keras


def rnn(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Reads the image row by row: each row is a time step of width x channels features."""
    image_inputs, x = image_input(inputs, spec)
    height, width, channels = inputs.image.shape
    x = keras.layers.Reshape((height, width * channels), name="rows_as_steps")(x)
    cell = keras.layers.LSTM if spec.rnn.cell == "lstm" else keras.layers.SimpleRNN
    x = cell(spec.rnn.units, name=spec.rnn.cell)(x)
    if spec.dropout:
        x = keras.layers.Dropout(spec.dropout, name="dropout")(x)
    return finish(image_inputs, x, task, spec, "rnn")
