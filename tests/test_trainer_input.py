"""The Trainer's input (components/trainer/data.py): splits held in memory when they fit, with
every row once per epoch in a new order, else streamed from the files; and several steps per
call of Keras' train function, which must not change what is learned."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

from components.settings import EarlyStoppingSpec, ModelSpec, TrainingError, TrainingSpec
from components.trainer import data
from components.trainer.data import InMemorySplit, trainer_input, use_steps_per_execution
from components.trainer.distribution import Placement
from components.trainer.models import build_model
from components.trainer.models.inputs import InputSpec, TaskSpec
from components.trainer.run import fit

INPUTS = InputSpec(numeric=("x_xf",))


def rows_split(rows: int) -> InMemorySplit:
    """Feature `row` holds each row's index; `x_xf` a value the label depends on."""
    x = np.random.default_rng(rows).normal(size=(rows, 1)).astype(np.float32)
    features = {"x_xf": x, "row": np.arange(rows, dtype=np.float32).reshape(-1, 1)}
    return InMemorySplit(features, (x[:, 0] > 0).astype(np.int64).reshape(-1, 1), np.ones(rows, np.float32))


def batches(split: InMemorySplit, size: int) -> tf.data.Dataset:
    """As `make_dataset` gives them: (features, label, weight) batches in file order."""
    return tf.data.Dataset.from_tensor_slices((split.features, split.labels, split.weights)).batch(size)


def row_order(dataset: tf.data.Dataset) -> list[int]:
    return [int(r) for features, _, _ in dataset for r in features["row"].numpy().ravel()]


def test_a_split_is_read_in_file_order_or_given_up_past_the_limit():
    split = rows_split(100)
    read = InMemorySplit.read(batches(split, 16))
    assert read.rows == 100 and read.nbytes == split.nbytes
    assert read.features["row"].ravel().tolist() == list(range(100))
    assert InMemorySplit.read(batches(split, 16), limit_bytes=split.nbytes) is not None
    assert InMemorySplit.read(batches(split, 16), limit_bytes=split.nbytes - 1) is None


def test_every_row_comes_once_an_epoch_in_a_new_order_with_a_known_batch_count():
    dataset = rows_split(100).dataset(batch_size=16, shuffle_seed=3)
    assert int(dataset.cardinality()) == 7  # Keras can only run several steps per call with it
    first, second = row_order(dataset), row_order(dataset)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != second
    assert row_order(rows_split(100).dataset(batch_size=16)) == list(range(100))


def test_the_order_is_that_of_shuffling_the_rows_themselves():
    """The docstring's claim: gathering by shuffled index gives `from_tensor_slices`' order, so
    the Tuner's folds train on the same batches as before the index gather."""
    split = rows_split(50)
    tf.random.set_seed(7)
    gathered = row_order(split.dataset(batch_size=8, shuffle_seed=5))
    tf.random.set_seed(7)
    sliced = row_order(batches(split, 50).unbatch().shuffle(50, seed=5).batch(8))
    assert gathered == sliced


class FakeFiles:
    """Stands in for `make_dataset` over a split's files: the split's rows in batches, counted."""

    def __init__(self, splits: dict[str, InMemorySplit]) -> None:
        self.splits = splits
        self.reads: list[tuple[str, int, int | None]] = []

    def __call__(self, files, data_accessor, transform_output, batch_size, shuffle_seed):
        self.reads.append((files[0], batch_size, shuffle_seed))
        return batches(self.splits[files[0]], batch_size)


@pytest.fixture
def files(monkeypatch) -> FakeFiles:
    fake = FakeFiles({"train": rows_split(300), "validation": rows_split(100)})
    monkeypatch.setattr(data, "make_dataset", fake)
    return fake


def given(training: TrainingSpec, placement: str = "default", replicas: int = 1) -> data.TrainerInput:
    strategy = Placement(tf.distribute.get_strategy(), placement, replicas)
    return trainer_input(["train"], ["validation"], None, None, training, strategy)


def test_splits_that_fit_are_held_in_memory(files):
    result = given(TrainingSpec(batch_size=10, steps_per_execution=8), replicas=2)
    assert result.record["source"] == "memory"
    assert result.record["rows"] == {"train": 300, "validation": 100}
    assert result.steps_per_execution == 8
    assert int(result.train.cardinality()) == 15  # global batch: 10 per replica, 2 replicas
    assert sorted(row_order(result.validation)) == list(range(100))


@pytest.mark.parametrize(
    "training, placement, reason",
    [
        (TrainingSpec(in_memory_mb=0), "default", r"training.in_memory_mb is 0"),
        (TrainingSpec(in_memory_mb=1), "multi_worker", r"^multi-worker: each worker keeps its share"),
    ],
)
def test_streamed_when_told_or_on_a_cluster(files, training, placement, reason):
    result = given(training, placement)
    assert result.record["source"] == "files" and result.steps_per_execution == 1
    assert re.search(reason, result.record["reason"])
    assert files.reads == [("train", 32, 42), ("validation", 32, None)]  # shuffled with the recipe's seed


def test_streamed_when_the_splits_pass_the_limit(files, monkeypatch):
    monkeypatch.setattr(data, "MEGABYTE", 1000)  # a limit of 10 "MB" = 10,000 bytes: train is 3,600 + eval
    assert given(TrainingSpec(in_memory_mb=10)).record["source"] == "memory"
    monkeypatch.setattr(data, "MEGABYTE", 400)  # 4,000 bytes: train fits, train + eval do not
    result = given(TrainingSpec(in_memory_mb=10))
    assert result.record == {
        "source": "files",
        "reason": "train and validation are over training.in_memory_mb (10 MB)",
        "steps_per_execution": 1,
    }


def compiled(steps: int | None = None) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    model = build_model(INPUTS, TaskSpec("binary", 2), ModelSpec(name="mlp_classifier", hidden_units=[8]))
    if steps is not None:
        use_steps_per_execution(model, steps)
    return model


def test_several_steps_per_call_learn_exactly_what_one_step_does(tmp_path):
    split = rows_split(200)
    split.features.pop("row")
    training = TrainingSpec(epochs=4, early_stopping=EarlyStoppingSpec(enabled=False))
    losses = {}
    for steps in (1, 32):
        model = compiled(steps)
        assert int(model.steps_per_execution.numpy()) == steps
        history, _ = fit(model, split.dataset(16, 1), split.dataset(16), training, str(tmp_path / str(steps)))
        losses[steps] = history.history["val_loss"]
    np.testing.assert_allclose(losses[32], losses[1], rtol=1e-6)


def test_a_builders_own_steps_per_execution_is_kept():
    model = compiled()
    model.steps_per_execution = 4
    use_steps_per_execution(model, 32)
    assert int(model.steps_per_execution.numpy()) == 4


def test_a_nan_loss_still_fails_in_its_epoch_with_several_steps_per_call(tmp_path):
    split = rows_split(64)
    split.features.pop("row")
    split.weights[40] = np.nan
    training = TrainingSpec(epochs=20, early_stopping=EarlyStoppingSpec(patience=20))
    with pytest.raises(TrainingError, match=r"the training loss became nan in epoch 1: training stopped"):
        fit(compiled(32), split.dataset(16), split.dataset(16), training, str(tmp_path))


def test_the_run_summary_says_how_the_trainer_read_its_data(files):
    from pipeline.commands.terminal import input_text

    in_memory = given(TrainingSpec()).record
    assert input_text(in_memory) == "in memory (300 train + 100 validation rows, 0.008 MB), 32 steps per execution"
    streamed = given(TrainingSpec(in_memory_mb=0)).record
    assert input_text(streamed) == "read from the files every epoch (training.in_memory_mb is 0)"
