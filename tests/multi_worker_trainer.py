"""One worker of a multi-worker Trainer: runs `run_fn` on a finished pipeline's Transform output.

    TF_CONFIG='{"cluster": {"worker": [...]}, "task": {...}}' python tests/multi_worker_trainer.py SPEC.json

SPEC.json holds `transformed_examples` and `transform_graph` (artifact URIs), `custom_config`
(the Trainer's), `serving_model_dir` and `model_run_dir`. The FnArgs are built by TFX's own
`get_common_fn_args`, as the Trainer executor builds them; each worker is its own process,
as on a cluster, so MultiWorkerMirroredStrategy starts before any other TensorFlow work.
"""

from __future__ import annotations

import json
import sys

import components  # noqa: F401 - pins Keras 2 before TensorFlow loads
from tfx.components.trainer import fn_args_utils
from tfx.types import artifact_utils, standard_artifacts

from components.trainer import run_fn


def fn_args_from(spec: dict) -> fn_args_utils.FnArgs:
    examples = standard_artifacts.Examples()
    examples.uri = spec["transformed_examples"]
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    graph = standard_artifacts.TransformGraph()
    graph.uri = spec["transform_graph"]
    fn_args = fn_args_utils.get_common_fn_args(
        {"examples": [examples], "transform_graph": [graph]},
        {"train_args": "{}", "eval_args": "{}", "custom_config": json.dumps(spec["custom_config"])},
    )
    fn_args.serving_model_dir = spec["serving_model_dir"]
    fn_args.model_run_dir = spec["model_run_dir"]
    return fn_args


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        run_fn(fn_args_from(json.load(f)))
