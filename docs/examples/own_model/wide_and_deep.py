"""A model of your own for the pipeline: wide & deep on tabular data (docs/own-model.md).

    python -m pipeline run --data penguins.csv --label species --model wide_and_deep:build

The pipeline calls `build(inputs, task, spec)` inside the distribution strategy's scope:
- `inputs` (InputSpec): the transformed features by name: `numeric` (z-scored floats),
  `categorical` (name -> number of categories, the values are vocabulary ids) and `image`;
- `task` (TaskSpec): `task` ("binary", "multiclass" or "regression"), `num_classes`, and for
  regression the label's training mean and std;
- `spec` (ModelSpec): the config's `model` section (`hidden_units`, `dropout`, `l2`, ...).
It returns a Keras 2 model (`tf.keras`). Left uncompiled, the pipeline compiles it with the
config's `model.optimizer` and `model.learning_rate` and the task's loss.
"""

import tensorflow as tf

from components.trainer.models.inputs import feature_inputs, output_head

keras = tf.keras


def build(inputs, task, spec):
    # One keras.Input per transformed feature, named after it, and their concatenation
    # (categories one-hot encoded): the same start as the pipeline's own MLPs.
    feature_tensors, features = feature_inputs(inputs)
    deep = features
    for units in spec.hidden_units:
        deep = keras.layers.Dense(units, activation="relu")(deep)
        deep = keras.layers.Dropout(spec.dropout)(deep) if spec.dropout else deep
    wide_and_deep = keras.layers.Concatenate()([features, deep])
    # The task's head: sigmoid for binary, softmax for multiclass, a unit in the label's units
    # for regression (what the Evaluator gates and the serving signatures return).
    return keras.Model(feature_tensors, output_head(wide_and_deep, task), name="wide_and_deep")
