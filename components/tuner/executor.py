"""The Tuner's executor: TFX's search, then our record of every trial beside TFX's results.

TFX's executor (tfx/components/tuner/executor.py) writes best_hyperparameters.txt, which the
Trainer reads as `fn_args.hyperparameters`, and tuner_results.json with the completed trials'
scores; `trials.json` adds each trial's settings by key, status, per-fold epochs and seconds,
the budget that ended the search and its seconds, for the run summary and report."""

from __future__ import annotations

import json
import os
from typing import Any

from tfx.components.tuner import executor as tfx_tuner_executor
from tfx.components.tuner.component import Tuner
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs

TRIALS_FILE = "trials.json"


class Executor(tfx_tuner_executor.Executor):
    def Do(self, input_dict: dict[str, list], output_dict: dict[str, list], exec_properties: dict[str, Any]) -> None:
        tuner = tfx_tuner_executor.search(input_dict, exec_properties, self._get_tmp_dir(), print_tuning_summary=False)
        tfx_tuner_executor.write_best_hyperparameters(tuner, output_dict)
        results_dir = artifact_utils.get_single_uri(output_dict[standard_component_specs.TUNER_RESULTS_KEY])
        with fileio.open(os.path.join(results_dir, TRIALS_FILE), "w") as f:
            json.dump(tuner.summary(), f, indent=2)


class PipelineTuner(Tuner):
    """TFX's Tuner component with the executor above."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
