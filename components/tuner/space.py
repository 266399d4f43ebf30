"""The search space: which `model`/`training` settings a tuning run tries, and how a trial's
values become settings (components/trainer/hyperparameters.py sets them on the specs).

No TensorFlow or KerasTuner here: a config is checked against its space when it is loaded.
The space is a mapping from a dotted settings key to the values to try (`tuning.space`);
a recipe that names none gets its model's default space below.
"""

from __future__ import annotations

from typing import Any

from components.settings import ConfigError, ModelSpec, TrainingSpec, TuningSpec
from components.trainer.hyperparameters import apply_values

Space = dict[str, list[Any]]

# What every model reads: the optimizer's step, the L2 penalty on Dense kernels and the batch.
SHARED_SPACE: Space = {
    "model.learning_rate": [0.0003, 0.001, 0.003, 0.01],
    "model.l2": [0.0, 0.0001, 0.001, 0.01],
    "training.batch_size": [16, 32, 64],
}
# The dense models whose widths and dropout come from the recipe (the wine and MNIST networks
# fix theirs, as their tutorials do).
_DENSE_SPACE: Space = {
    "model.hidden_units": [[32], [64, 32], [128, 64], [256, 128]],
    "model.dropout": [0.0, 0.1, 0.3],
}
MODEL_SPACES: dict[str, Space] = {
    "linear": {key: SHARED_SPACE[key] for key in ("model.learning_rate", "training.batch_size")},
    "mlp_classifier": _DENSE_SPACE,
    "mlp_regressor": _DENSE_SPACE,
    "binary_classifier": _DENSE_SPACE,
    "cnn": {"model.conv.filters": [[32, 64], [64, 128]], "model.dropout": [0.25, 0.5]},
    "rnn": {"model.rnn.units": [64, 128]},
    "vgg": {"model.dropout": [0.0, 0.5]},
}
SECTIONS = ("model", "training")
# Not tuned: it picks the model, and the strategy and seed are not hyperparameters.
FIXED_KEYS = ("model.name", "training.strategy", "training.cpu_devices", "training.seed")


# A user's own builder reads the learning rate only when it leaves compiling to us, and no L2.
OWN_MODEL_SPACE: Space = {key: SHARED_SPACE[key] for key in ("model.learning_rate", "training.batch_size")}


def default_space(model_name: str) -> Space:
    from components.trainer.models import is_own_model

    if is_own_model(model_name):
        return dict(OWN_MODEL_SPACE)
    if model_name == "linear":
        return dict(MODEL_SPACES["linear"])
    return {**SHARED_SPACE, **MODEL_SPACES.get(model_name, {})}


def resolve_space(tuning: TuningSpec, model: ModelSpec, training: TrainingSpec) -> Space:
    """The recipe's space (or the model's default), each value checked as the setting it sets."""
    space = dict(tuning.space) or default_space(model.name)
    for key, values in space.items():
        if key in FIXED_KEYS or key.partition(".")[0] not in SECTIONS:
            raise ConfigError(
                f"tuning.space.{key}: not a tunable setting (a key of model or training, other than "
                f"{', '.join(FIXED_KEYS)})"
            )
        for index, value in enumerate(values):
            try:
                apply_values(model, training, {key: value})
            except ConfigError as error:
                raise ConfigError(f"tuning.space.{key}[{index}]: {error}") from None
    return space
