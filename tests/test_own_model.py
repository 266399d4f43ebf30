"""A user's own builder, `model.name: package.module:function`: found, checked, built, compiled.

The end-to-end run with a builder in a file outside this package is in test_own_model_e2e.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from components.code_version import model_code_fingerprint
from components.settings import ConfigError, ModelSpec
from components.trainer.models import build_model, check_model
from components.trainer.models.inputs import InputSpec, TaskSpec
from pipeline.config.resolve import resolved_config

INPUTS = InputSpec(numeric=("a_xf", "b_xf"), categorical={"c_xf": 4})
THREE_CLASSES = TaskSpec("multiclass", 3)

BUILDERS = """
import tensorflow as tf
from components.trainer.models.inputs import feature_inputs, output_head

keras = tf.keras


def uncompiled(inputs, task, spec):
    tensors, x = feature_inputs(inputs)
    x = keras.layers.Dense(8, activation="relu")(x)
    return keras.Model(tensors, output_head(x, task), name="mine")


def compiled(inputs, task, spec):
    model = uncompiled(inputs, task, spec)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    return model


def not_a_model(inputs, task, spec):
    return "a model"


def two_classes(inputs, task, spec):
    tensors, x = feature_inputs(inputs)
    return keras.Model(tensors, keras.layers.Dense(2, activation="softmax")(x))


def logits(inputs, task, spec):
    tensors, x = feature_inputs(inputs)
    return keras.Model(tensors, keras.layers.Dense(task.num_classes)(x))


def wrong_input(inputs, task, spec):
    age = keras.Input(shape=(1,), name="age")
    return keras.Model(age, keras.layers.Dense(task.num_classes, activation="softmax")(age))


def two_outputs(inputs, task, spec):
    tensors, x = feature_inputs(inputs)
    head = keras.layers.Dense(task.num_classes, activation="softmax")
    return keras.Model(tensors, [head(x), keras.layers.Dense(1)(x)])


def raises(inputs, task, spec):
    raise RuntimeError("my bug")
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A builder module in a folder of the user's, which is the working directory."""
    name = f"user_models_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(BUILDERS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != ""])
    yield name
    sys.modules.pop(name, None)


def build(module: str, function: str, task: TaskSpec = THREE_CLASSES, **settings):
    return build_model(INPUTS, task, ModelSpec(name=f"{module}:{function}", **settings))


def test_an_uncompiled_model_is_compiled_with_the_configs_optimizer_and_the_tasks_loss(user_module):
    model = build(user_module, "uncompiled", optimizer="rmsprop", learning_rate=0.003)
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.003)
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"
    x = {"a_xf": np.zeros((4, 1), "float32"), "b_xf": np.ones((4, 1), "float32"), "c_xf": np.zeros((4, 1), "int64")}
    assert model.predict(x, verbose=0).shape == (4, 3)


def test_a_compiled_model_keeps_its_own_compile(user_module):
    model = build(user_module, "compiled", optimizer="rmsprop")
    assert type(model.optimizer).__name__ == "SGD"
    assert model.loss == "sparse_categorical_crossentropy"


@pytest.mark.parametrize(
    "function, task, message",
    [
        ("not_a_model", THREE_CLASSES, "returned a builtins.str, not a Keras model"),
        ("two_classes", THREE_CLASSES, "outputs 2 value(s) per example; task multiclass needs 3 (3 classes)"),
        ("uncompiled", TaskSpec("binary", 2), None),
        ("logits", THREE_CLASSES, "ends in a linear layer; the gate reads probabilities"),
        ("wrong_input", THREE_CLASSES, "takes input 'age', which is not a transformed feature (the features are: a_xf"),
        ("two_outputs", THREE_CLASSES, "has 2 outputs"),
    ],
)
def test_what_a_builder_returns_is_checked_and_named(user_module, function, task, message):
    if message is None:  # the head that output_head gives fits every task
        assert build(user_module, function, task).output_shape == (None, 1)
        return
    with pytest.raises(ConfigError) as error:
        build(user_module, function, task)
    assert str(error.value).startswith(f"model.name: {user_module}:{function} ")
    assert message in str(error.value)


def test_a_builders_own_error_reaches_the_user_unchanged(user_module):
    with pytest.raises(RuntimeError, match="my bug"):
        build(user_module, "raises")


@pytest.mark.parametrize(
    "name, message",
    [
        ("my models:build", "name a model of your own as package.module:function"),
        ("no_such_module_here:build", "cannot find module no_such_module_here"),
        ("{module}:no_such_function", "defines no function no_such_function"),
    ],
)
def test_a_builder_that_cannot_be_found_is_named_before_tensorflow_starts(user_module, name, message):
    with pytest.raises(ValueError, match=message):
        check_model(name.format(module=user_module), "multiclass")


def test_a_builder_file_that_does_not_parse_is_named_with_its_line(tmp_path, monkeypatch):
    (tmp_path / "broken_models_mod.py").write_text("def build(inputs, task, spec)\n    return None\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"broken_models_mod:build: .*broken_models_mod.py line 1: expected ':'"):
        check_model("broken_models_mod:build", "binary")


def test_a_config_naming_an_own_builder_loads_and_a_wrong_one_names_the_key(user_module, tiny_csv):
    config = resolved_config(
        None, {"data.path": str(tiny_csv), "data.label": "label", "model.name": f"{user_module}:compiled"}
    )
    assert config.model.name == f"{user_module}:compiled"
    with pytest.raises(ConfigError, match=r"^model.name: .*defines no function nope"):
        resolved_config(None, {"data.path": str(tiny_csv), "data.label": "label", "model.name": f"{user_module}:nope"})


def test_a_change_to_the_builders_file_changes_the_trainers_fingerprint(user_module, tmp_path):
    name = f"{user_module}:uncompiled"
    before = model_code_fingerprint(name)
    (tmp_path / f"{user_module}.py").write_text(BUILDERS + "\n# tuned\n")
    assert model_code_fingerprint(name) != before
    assert model_code_fingerprint("mlp_classifier") == ""


def test_a_builder_in_a_package_is_fingerprinted_with_its_whole_package(tmp_path, monkeypatch):
    package = tmp_path / "my_zoo_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("def build(inputs, task, spec):\n    return None\n")
    (package / "layers.py").write_text("WIDTH = 8\n")
    monkeypatch.chdir(tmp_path)
    before = model_code_fingerprint("my_zoo_pkg.models:build")
    (package / "layers.py").write_text("WIDTH = 16\n")
    assert model_code_fingerprint("my_zoo_pkg.models:build") != before
    sys.modules.pop("my_zoo_pkg", None)
