"""Image samples for the run report: eval images with their true and predicted class,
misclassified first, written by the Evaluator beside its evaluation.

The Evaluator is where the raw eval examples (the encoded image, its class and its path) and
the candidate model meet; TFMA keeps no per-example predictions, so the candidate's
`serving_default` is run here on the first `MAX_SCANNED` eval images, once per run.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.utils import path_utils

from components import features
from components.evaluator.scoring import eval_records
from components.pusher.predict import class_probability

SAMPLES_FILE = "image_samples.json"
MAX_SAMPLES = 24
MAX_SCANNED = 2000
_BATCH = 256
_MIME = {b"\x89PNG": "image/png", b"\xff\xd8": "image/jpeg", b"GIF8": "image/gif", b"BM": "image/bmp"}


def eval_images(examples: Any, limit: int = MAX_SCANNED) -> list[tf.train.Example]:
    """The first `limit` eval examples if they hold images; [] for tabular data."""
    parsed = [tf.train.Example.FromString(record) for record in eval_records(examples, limit)]
    return parsed if parsed and features.IMAGE in parsed[0].features.feature else []


def image_samples(examples: list[tf.train.Example], model_dir: str) -> list[dict[str, Any]]:
    """Each example with its true and predicted class and the predicted class's probability;
    the misclassified ones first, then the others class by class, `MAX_SAMPLES` in all."""
    model = tf.saved_model.load(model_dir)
    serve = model.signatures[features.SERVING_EXAMPLES_SIGNATURE]
    rows = []
    for start in range(0, len(examples), _BATCH):
        batch = examples[start : start + _BATCH]
        outputs = serve(examples=tf.constant([example.SerializeToString() for example in batch]))
        names = outputs[features.CLASS_NAMES].numpy()
        for example, class_id, probabilities, class_names in zip(
            batch, outputs[features.CLASS_IDS].numpy(), outputs[features.PROBABILITIES].numpy(), names
        ):
            feature = example.features.feature
            true_id = feature[features.IMAGE_LABEL].int64_list.value[0]
            content = feature[features.IMAGE].bytes_list.value[0]
            rows.append(
                {
                    "path": feature[features.IMAGE_PATH].bytes_list.value[0].decode(),
                    "true": class_names[true_id].decode(),
                    "predicted": class_names[class_id].decode(),
                    "probability": round(class_probability(probabilities, class_id), 4),
                    "correct": bool(class_id == true_id),
                    "image": f"data:{_mime(content)};base64,{base64.b64encode(content).decode()}",
                }
            )
    wrong = [row for row in rows if not row["correct"]]
    return (wrong + _class_by_class([row for row in rows if row["correct"]]))[:MAX_SAMPLES]


def _class_by_class(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows one true class after another, round-robin, so a few samples show every class
    (eval files come sorted by class folder)."""
    by_class: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_class.setdefault(row["true"], []).append(row)
    ordered = []
    for rank in range(max(map(len, by_class.values()), default=0)):
        ordered += [group[rank] for group in by_class.values() if rank < len(group)]
    return ordered


def write_image_samples(examples: Any, model: Any, evaluation_uri: str) -> str | None:
    """`image_samples` of the candidate on the eval split, as JSON in the evaluation's dir."""
    found = eval_images(examples)
    if not found:
        return None
    samples = image_samples(found, path_utils.serving_model_path(model.uri))
    path = os.path.join(evaluation_uri, SAMPLES_FILE)
    with fileio.open(path, "w") as f:
        json.dump({"scanned": len(found), "samples": samples}, f)
    return path


def _mime(content: bytes) -> str:
    return next((mime for magic, mime in _MIME.items() if content.startswith(magic)), "application/octet-stream")
