"""The Trainer's input: Transform's examples streamed from their files, or read once and held in memory.

Held in memory (the default when train and eval fit in `training.in_memory_mb`), each epoch
gathers shuffled batches from arrays read once, as Keras does with numpy input, and the number of
batches is known. Keras then runs `training.steps_per_execution` steps per call of its train
function; on the small networks of tabular recipes the per-step round trip through Python is
most of a step (bench/trainer_input.py: 5 epochs over 66,586 rows took 24.8 s streamed, 23.3 s
in memory at 1 step per call and 9.0 s at 32, with identical losses at 1 and 32 steps per call).

Streamed (data over the limit, or a multi-worker cluster, whose workers each keep a share of the
batches and so could not be given a batch count), tfx_bsl reads the files every epoch and Keras
runs one step per call: it cannot be given more without a batch count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import DataAccessor
from tfx_bsl.public import tfxio

from components import features
from components.settings import TrainingSpec
from components.trainer.distribution import Placement

READ_BATCH = 4096
MEGABYTE = 2**20


def make_dataset(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    transform_output: tft.TFTransformOutput,
    batch_size: int,
    shuffle_seed: int | None,
) -> tf.data.Dataset:
    """(features, label, weight) batches of the global batch size, one pass over the files per epoch.

    Shuffled when a seed is given. Under a multi-worker strategy every worker reads the files
    and keeps its share of the batches (DATA sharding: TFX often writes a single file per split,
    which FILE sharding could not divide)."""
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size,
        label_key=features.LABEL,
        num_epochs=1,
        shuffle=shuffle_seed is not None,
        shuffle_seed=shuffle_seed,
    )
    dataset = data_accessor.tf_dataset_factory(file_pattern, options, transform_output.transformed_metadata.schema)
    sharding = tf.data.Options()
    sharding.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(sharding)
    return dataset.map(_split_weight, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _split_weight(batch: dict[str, tf.Tensor], label: tf.Tensor) -> tuple[Any, tf.Tensor, tf.Tensor]:
    batch = dict(batch)
    weight = tf.reshape(batch.pop(features.LABEL_WEIGHT), [-1])
    return batch, label, weight


@dataclass
class InMemorySplit:
    """One split's transformed features, labels and weights as arrays, row i at index i."""

    features: dict[str, np.ndarray]
    labels: np.ndarray
    weights: np.ndarray

    @classmethod
    def read(cls, batches: tf.data.Dataset, limit_bytes: float = float("inf")) -> InMemorySplit | None:
        """All of `batches` ((features, label, weight) as `make_dataset` gives them) in memory,
        or None as soon as they pass `limit_bytes`."""
        columns: dict[str, list[np.ndarray]] = {}
        labels, weights = [], []
        size = 0
        for batch, label, weight in batches.as_numpy_iterator():
            for name, values in batch.items():
                columns.setdefault(name, []).append(values)
            labels.append(label)
            weights.append(weight)
            size += label.nbytes + weight.nbytes + sum(values.nbytes for values in batch.values())
            if size > limit_bytes:
                return None
        if not labels:
            return cls({}, np.zeros((0, 1), np.int64), np.zeros(0, np.float32))
        return cls({n: np.concatenate(v) for n, v in columns.items()}, np.concatenate(labels), np.concatenate(weights))

    @property
    def rows(self) -> int:
        return len(self.labels)

    @property
    def nbytes(self) -> int:
        return self.labels.nbytes + self.weights.nbytes + sum(values.nbytes for values in self.features.values())

    def subset(self, rows: np.ndarray) -> InMemorySplit:
        """The rows that `rows` (a boolean mask or indices) selects."""
        return InMemorySplit({n: v[rows] for n, v in self.features.items()}, self.labels[rows], self.weights[rows])

    def dataset(self, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
        """Batches of (features, label, weight), reshuffled every epoch when a seed is given.

        Batches are gathered by index from tensors made once, rather than sliced row by row:
        the order is the same as `from_tensor_slices(...).shuffle(rows, seed).batch(...)`
        (a shuffle permutes positions, whatever they hold), without a per-row step each epoch."""
        tensors = (
            {n: tf.constant(v) for n, v in self.features.items()},
            tf.constant(self.labels),
            tf.constant(self.weights),
        )
        indices = tf.data.Dataset.range(self.rows)
        if shuffle_seed is not None:
            indices = indices.shuffle(max(self.rows, 1), seed=shuffle_seed, reshuffle_each_iteration=True)
        batches = indices.batch(batch_size).map(
            lambda rows: tf.nest.map_structure(lambda values: tf.gather(values, rows), tensors),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return batches.prefetch(tf.data.AUTOTUNE)


@dataclass
class TrainerInput:
    """The datasets `fit` takes, and how they were made (for the run summary)."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    record: dict[str, Any]

    @property
    def steps_per_execution(self) -> int:
        return int(self.record.get("steps_per_execution", 1))


def trainer_input(
    train_files: list[str],
    eval_files: list[str],
    data_accessor: DataAccessor,
    transform_output: tft.TFTransformOutput,
    training: TrainingSpec,
    placement: Placement,
) -> TrainerInput:
    """Train and validation in memory when they fit in `training.in_memory_mb`, else streamed from
    the files (`eval_files` are the validation split's: TFX's name for what the Trainer watches).

    The train split is read first; a split that passes the limit stops being read there, so a
    too-large input costs one read of `in_memory_mb`, not of the whole split."""
    global_batch = placement.global_batch_size(training.batch_size)

    def streamed(reason: str) -> TrainerInput:
        return TrainerInput(
            make_dataset(train_files, data_accessor, transform_output, global_batch, training.seed),
            make_dataset(eval_files, data_accessor, transform_output, global_batch, None),
            {"source": "files", "reason": reason, "steps_per_execution": 1},
        )

    if placement.name == "multi_worker":
        return streamed("multi-worker: each worker keeps its share of the batches read from the files")
    if training.in_memory_mb == 0:
        return streamed("training.in_memory_mb is 0")
    limit = training.in_memory_mb * MEGABYTE
    train = InMemorySplit.read(make_dataset(train_files, data_accessor, transform_output, READ_BATCH, None), limit)
    validation = None
    if train is not None:
        reader = make_dataset(eval_files, data_accessor, transform_output, READ_BATCH, None)
        validation = InMemorySplit.read(reader, limit - train.nbytes)
    if train is None or validation is None:
        return streamed(f"train and validation are over training.in_memory_mb ({training.in_memory_mb} MB)")
    if not (train.rows and validation.rows):
        return streamed("a split has no rows")
    return TrainerInput(
        train.dataset(global_batch, training.seed),
        validation.dataset(global_batch),
        {
            "source": "memory",
            "rows": {"train": train.rows, "validation": validation.rows},
            "megabytes": round((train.nbytes + validation.nbytes) / MEGABYTE, 3),
            "steps_per_execution": training.steps_per_execution,
        },
    )


def use_steps_per_execution(model: tf.keras.Model, steps: int) -> None:
    """Sets Keras' steps per execution on a compiled model, unless its builder chose its own."""
    current = model.steps_per_execution
    if steps > 1 and (current is None or int(current.numpy()) == 1):
        model.steps_per_execution = steps
