"""The recipe of a run: a YAML file, overridden by flags, each section validated; nothing derived
yet (config/resolve.py does that, once).

The specs themselves (`RunConfig` and its sections) and their checks are in
components/settings.py; here a recipe becomes one.

    recipe = load("configs/penguins.yaml", {"training.epochs": 5})

Errors are `ConfigError`s that name the dotted key. `run` and `compile` with neither a recipe nor
`--data` use `DEFAULT_RECIPE`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from components.settings import ConfigError, RunConfig, from_dict

DEFAULT_OUTPUT_DIR = "output"
# This project's checkout: the shipped recipes and data (in the image, kubeflow.image_workdir).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECIPE = PROJECT_ROOT / "configs" / "penguins.yaml"


def recipe_or_default(path: str | os.PathLike | None, overrides: dict[str, Any]) -> str | os.PathLike | None:
    """The recipe a run or compile reads: the one given; the default recipe when neither a recipe
    nor data is named (`make run`, and `compile` as the README shows it); none for `--data` alone
    (a user's own data, with the built-in defaults)."""
    if path is not None or "data.path" in overrides:
        return path
    if not DEFAULT_RECIPE.is_file():
        raise ConfigError(f"no --config or --data given, and the default recipe {DEFAULT_RECIPE} is not here")
    return DEFAULT_RECIPE


def load(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Reads the recipe (if any), applies dotted-key overrides and validates each section."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_yaml(Path(path))
    for dotted_key, value in (overrides or {}).items():
        _set_dotted(raw, dotted_key, value)
    return from_dict(RunConfig, raw)


def parse_assignment(text: str) -> tuple[str, Any]:
    """`training.epochs=5` -> ("training.epochs", 5); the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. training.epochs=5")
    return key.strip(), yaml.safe_load(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    return raw


def _set_dotted(raw: dict[str, Any], dotted_key: str, value: Any) -> None:
    *parents, leaf = dotted_key.split(".")
    node = raw
    for i, part in enumerate(parents):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parents[: i + 1])}: is a value, cannot set {dotted_key}")
    node[leaf] = value
