"""The tuned settings the Trainer takes: a trial's KerasTuner values read back as recipe keys
(`model.learning_rate`...) and set on the ModelSpec and TrainingSpec it builds with. The Tuner
(components/tuner/) writes them; the Trainer, the Tuner's trials and the run summary read them."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from components.settings import ConfigError, ModelSpec, TrainingSpec, from_dict


def apply_values(model: ModelSpec, training: TrainingSpec, values: dict[str, Any]) -> tuple[ModelSpec, TrainingSpec]:
    """`model` and `training` with each dotted key of `values` set (checked as a recipe is)."""
    raw = {"model": dataclasses.asdict(model), "training": dataclasses.asdict(training)}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = raw
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"{key}: no such setting")
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"{key}: no such setting")
        node[leaf] = copy.deepcopy(value)
    return from_dict(ModelSpec, raw["model"], "model"), from_dict(TrainingSpec, raw["training"], "training")


def choice_values(values: list[Any]) -> list[Any]:
    """KerasTuner's Choice holds one type of int, float, str or bool: numbers stay numbers (so
    Bayesian optimization sees their order), anything else (lists such as layer widths) is JSON."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return list(values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return [json.dumps(v) for v in values]


def setting_value(choice: Any) -> Any:
    """The setting a Choice value stands for (the inverse of `choice_values`)."""
    return json.loads(choice) if isinstance(choice, str) else choice


def trial_settings(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """A trial's values by settings key: every Choice of the space (`tune_new_entries` is off, so
    there are no others), decoded; KerasTuner's own `tuner/...` bookkeeping (Hyperband) dropped."""
    return {key: setting_value(value) for key, value in hyperparameters.items() if not key.startswith("tuner/")}


def best_settings(hyperparameters: dict[str, Any] | None) -> dict[str, Any]:
    """The settings in the Tuner's best_hyperparameters.txt (a KerasTuner HyperParameters config,
    which the Trainer gets as `fn_args.hyperparameters`); {} without a Tuner."""
    return trial_settings(hyperparameters.get("values", {})) if hyperparameters else {}
