"""The Trainer's `run_fn` outside TFX, on a finished pipeline's Transform output.

    python -m components.trainer.standalone SPEC.json
    TF_CONFIG='{"cluster": {"worker": [...]}, "task": {...}}' python -m components.trainer.standalone SPEC.json

For what the TFX Trainer component cannot do in one process: one process per worker of a
MultiWorkerMirroredStrategy cluster (each started with its TF_CONFIG; MultiWorkerMirroredStrategy
must start before any other TensorFlow work, so it cannot share a process with Transform), and
side-by-side timings of strategies (bench/strategies.py).

SPEC.json holds `transformed_examples` and `transform_graph` (artifact URIs, e.g. from a run
summary's `artifacts`), `custom_config` (the Trainer's: `data`, `model`, `training`),
`serving_model_dir` and `model_run_dir`. The FnArgs are built by TFX's own
`get_common_fn_args`, as the Trainer executor builds them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from google.protobuf import json_format
from tfx.components.trainer import fn_args_utils
from tfx.types import artifact_utils, standard_artifacts

from components import features
from components.trainer.run import run_fn, trainer_settings, training_splits


def trainer_spec(
    run_summary: dict[str, Any], config: Any, serving_model_dir: str, model_run_dir: str
) -> dict[str, Any]:
    """A SPEC for `config` (a RunConfig) on the Transform output of the run that `run_summary` describes."""
    return {
        "transformed_examples": run_summary["artifacts"]["transformed_examples"],
        "transform_graph": run_summary["artifacts"]["transform_graph"],
        "custom_config": trainer_settings(config.data, config.model, config.training),
        "serving_model_dir": serving_model_dir,
        "model_run_dir": model_run_dir,
    }


def fn_args_from(spec: dict[str, Any]) -> fn_args_utils.FnArgs:
    examples = standard_artifacts.Examples()
    examples.uri = spec["transformed_examples"]
    examples.split_names = artifact_utils.encode_split_names(list(features.SPLITS))
    graph = standard_artifacts.TransformGraph()
    graph.uri = spec["transform_graph"]
    splits = {key: json_format.MessageToJson(value) for key, value in training_splits().items()}
    fn_args = fn_args_utils.get_common_fn_args(
        {"examples": [examples], "transform_graph": [graph]},
        {**splits, "custom_config": json.dumps(spec["custom_config"])},
    )
    fn_args.serving_model_dir = spec["serving_model_dir"]
    fn_args.model_run_dir = spec["model_run_dir"]
    return fn_args


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        run_fn(fn_args_from(json.load(f)))
