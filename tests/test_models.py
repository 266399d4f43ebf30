import numpy as np
import pytest
import tensorflow as tf

from components.settings import ModelSpec
from components.trainer.models import REGISTRY, build_model
from components.trainer.models.inputs import InputSpec, TaskSpec

INPUTS = InputSpec(numeric=("a_xf", "b_xf"), categorical={"c_xf": 4})


def batch(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a_xf": rng.normal(size=(n, 1)).astype("float32"),
        "b_xf": rng.normal(size=(n, 1)).astype("float32"),
        "c_xf": rng.integers(0, 4, size=(n, 1)),
    }


@pytest.mark.parametrize(
    "name, task, output_shape, loss",
    [
        ("mlp_classifier", TaskSpec("binary", 2), (5, 1), "BinaryCrossentropy"),
        ("mlp_classifier", TaskSpec("multiclass", 3), (5, 3), "SparseCategoricalCrossentropy"),
        ("mlp_regressor", TaskSpec("regression"), (5, 1), "MeanAbsoluteError"),
    ],
)
def test_builders_give_the_task_its_head_and_loss(name, task, output_shape, loss):
    model = build_model(INPUTS, task, ModelSpec(name=name, hidden_units=[8, 4]))
    predictions = model.predict(batch(5), verbose=0)
    assert predictions.shape == output_shape
    assert type(model.loss).__name__ == loss
    if task.task == "multiclass":
        np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    if task.task == "binary":
        assert ((predictions >= 0) & (predictions <= 1)).all()


def test_mlp_has_the_configured_layers_and_dropout():
    model = build_model(
        INPUTS, TaskSpec("multiclass", 3), ModelSpec(name="mlp_classifier", hidden_units=[16, 8], dropout=0.25)
    )
    dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert [layer.units for layer in dense] == [16, 8, 3]
    dropout = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dropout)]
    assert [layer.rate for layer in dropout] == [0.25, 0.25]
    # inputs: 2 numeric + 4-way one-hot = 6 wide
    assert model.count_params() == (6 * 16 + 16) + (16 * 8 + 8) + (8 * 3 + 3)


def test_classifier_learns_a_separable_problem():
    tf.keras.utils.set_random_seed(1)
    x = batch(256, seed=1)
    y = (x["a_xf"][:, 0] + x["b_xf"][:, 0] > 0).astype("int64")
    model = build_model(
        INPUTS, TaskSpec("binary", 2), ModelSpec(name="mlp_classifier", hidden_units=[8], learning_rate=0.05)
    )
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


@pytest.mark.parametrize(
    "name, task, message",
    [
        ("mlp_regressor", TaskSpec("binary", 2), "model mlp_regressor fits task regression, not binary"),
        (
            "mlp_classifier",
            TaskSpec("regression"),
            "model mlp_classifier fits task binary or multiclass, not regression",
        ),
        ("squeezenet", TaskSpec("binary", 2), "model squeezenet fits task multiclass, not binary"),
        ("nope", TaskSpec("regression"), "unknown model 'nope'"),
    ],
)
def test_builders_refuse_the_wrong_task(name, task, message):
    with pytest.raises(ValueError, match=message):
        build_model(INPUTS, task, ModelSpec(name=name))


def test_binary_task_needs_two_classes():
    with pytest.raises(ValueError, match="task binary needs exactly 2 classes, the label has 3"):
        TaskSpec("binary", 3)


def test_every_registered_builder_is_named_after_itself_and_documented():
    assert set(REGISTRY) >= {"mlp_classifier", "mlp_regressor"}
    assert all(info.builder.__name__ == name and info.description for name, info in REGISTRY.items())


def test_regression_head_predicts_in_the_labels_units():
    task = TaskSpec("regression", label_mean=4200.0, label_std=800.0)
    tf.keras.utils.set_random_seed(0)
    model = build_model(INPUTS, task, ModelSpec(name="mlp_regressor", hidden_units=[4]))
    rescale = model.get_layer("prediction")
    assert (rescale.scale, rescale.offset) == (800.0, 4200.0)
    x = batch(256, seed=2)
    y = 4200.0 + 800.0 * x["a_xf"][:, 0]
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][0] < 1500  # starts near the mean, not 4200 g away
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_autograph_leaves_keras_2_alone_but_still_converts_user_code():
    from tensorflow.python.autograph.impl import conversion
    from tf_keras.src.engine import training

    assert conversion.is_allowlisted(training.Model.train_step)  # Keras' own code: graph tracing only
    assert not conversion.is_allowlisted(batch)  # our code (a plain function in this module) is converted
