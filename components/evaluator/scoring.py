"""Each model's scores on the eval split, example by example, for the gate's paired test.

TFMA keeps no per-example predictions, so the Evaluator runs both models here on the same raw
eval examples, as TFMA feeds them: `transform_features` for the transformed label and the
example weight, `serving_default` for the probabilities or the prediction.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from components import features
from components.evaluator.gate import Scored

BATCH = 1024


def eval_records(examples: Any, limit: int | None = None) -> list[bytes]:
    """The eval split's serialized examples (the first `limit` of them), in file order."""
    pattern = os.path.join(artifact_utils.get_split_uri([examples], features.EVAL_SPLIT), "*")
    files = sorted(fileio.glob(pattern))
    if not files:
        return []
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if limit is not None:
        records = records.take(limit)
    return [record.numpy() for record in records]


def score(model_dir: str, records: list[bytes], task: str) -> Scored:
    """Labels, example weights and scores of the SavedModel at `model_dir` on `records`."""
    model = tf.saved_model.load(model_dir)
    transform = model.signatures[features.TRANSFORM_SIGNATURE]
    serve = model.signatures[features.SERVING_EXAMPLES_SIGNATURE]
    output = features.PREDICTIONS if task == "regression" else features.PROBABILITIES
    labels, weights, scores = [], [], []
    for start in range(0, len(records), BATCH):
        batch = tf.constant(records[start : start + BATCH])
        transformed = transform(examples=batch)
        labels.append(np.reshape(transformed[features.LABEL].numpy(), [-1]))
        weights.append(np.reshape(transformed[features.LABEL_WEIGHT].numpy(), [-1]).astype(np.float64))
        scores.append(serve(examples=batch)[output].numpy().astype(np.float64))
    if not records:
        return Scored(np.zeros(0), np.zeros(0), np.zeros(0))
    found = np.concatenate(scores)
    if task != "multiclass":
        found = found.reshape(-1)  # binary: the positive class's probability; regression: the value
    return Scored(np.concatenate(labels), np.concatenate(weights), found)
