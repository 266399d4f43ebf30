"""The Evaluator that gates a model against the model in production: the newest version under
the serving dir.

TFX's usual wiring finds the baseline with a `Resolver` (latest blessed model in ML Metadata).
That node compiles to a `resolver` executor, which only Vertex AI Pipelines runs: open-source
Kubeflow Pipelines accepts container and importer executors only
(kubeflow/pipelines backend/src/v2/compiler/visitor.go). So the baseline lookup is part of the
Evaluator's own container, the same on every runner: local, Kubeflow and Vertex AI.

The baseline is the model being served, not the last model some run blessed: a version removed
from the serving dir by hand (a rollback) is no longer the bar. With nothing pushed yet there is
no baseline: the first model is gated on the absolute bounds only.

The verdict: TFMA gates the absolute bounds of loss and accuracy (its validation, as TFX's
Evaluator writes it), and then both models are scored on the same eval examples
(components/evaluator/scoring.py) and the gate (components/evaluator/gate.py) checks every
configured metric's bounds and the paired no-regression test. The model is blessed only when
both pass; the gate's record (`GATE_FILE`) goes beside TFMA's results.

The Evaluator runs after the Trainer, so the lookup sees a push made while this run trained.
Its cache key is its inputs: a run whose Trainer output is cached reuses
the cached verdict (and pushes nothing new) even if production changed meanwhile.
"""

from __future__ import annotations

import dataclasses
import json
import logging as pylogging
import os
from typing import Any

from absl import logging
from tfx import types
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import io_utils, path_utils

from components import features
from components.evaluator import gate
from components.serving_dir import latest_version
from components.settings import EvaluationSpec, InputError, from_dict
from components.tfx_types import ArtifactDict, ExecProperties

log = pylogging.getLogger(__name__)
SERVING_DIR_KEY = "serving_dir"
GATE_KEY = "gate"  # the task and the EvaluationSpec, as JSON (`gate_settings`)
GATE_FILE = "gate.json"  # in the evaluation's dir: the gate's record (gate.judge)
_TFX = standard_component_specs.EvaluatorSpec


class ProductionEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        **{
            key: _TFX.PARAMETERS[key]
            for key in (standard_component_specs.EVAL_CONFIG_KEY, standard_component_specs.EXAMPLE_SPLITS_KEY)
        },
        SERVING_DIR_KEY: ExecutionParameter(type=str),
        GATE_KEY: ExecutionParameter(type=str),
    }
    INPUTS = {
        standard_component_specs.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        standard_component_specs.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
    }
    OUTPUTS = dict(_TFX.OUTPUTS)


class Executor(tfx_evaluator.Executor):
    """TFX's Evaluator, with the newest pushed version as the baseline model (if there is one)."""

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: ExecProperties) -> None:
        exec_properties = dict(exec_properties)
        serving_dir = exec_properties.pop(SERVING_DIR_KEY)
        task, spec = read_gate_settings(exec_properties.pop(GATE_KEY))
        production = latest_version(serving_dir)
        input_dict = dict(input_dict)
        baseline = None
        if production:
            logging.info("baseline: the model in production, %s", production)
            baseline = self._as_model_artifact(production)
            input_dict[standard_component_specs.BASELINE_MODEL_KEY] = [baseline]
        else:
            logging.info("no model under %s yet: gating on the absolute bounds only", serving_dir)
        super().Do(input_dict, output_dict, exec_properties)
        single = artifact_utils.get_single_instance
        blessing = single(output_dict[standard_component_specs.BLESSING_KEY])
        evaluation_uri = single(output_dict[standard_component_specs.EVALUATION_KEY]).uri
        record = judge_models(
            task,
            spec,
            single(input_dict[standard_component_specs.EXAMPLES_KEY]),
            path_utils.serving_model_path(single(input_dict[standard_component_specs.MODEL_KEY]).uri),
            path_utils.serving_model_dir(baseline.uri) if baseline else None,
        )
        # TFMA validates only when a threshold is set (no absolute bound: it writes no verdict).
        key = constants.ARTIFACT_PROPERTY_BLESSED_KEY
        tfma_blessed = blessing.get_int_custom_property(key) == 1 if blessing.has_custom_property(key) else True
        record["tfma_blessed"] = tfma_blessed
        _write_json(record, os.path.join(evaluation_uri, GATE_FILE))
        set_blessed(blessing, tfma_blessed and record["passed"])
        _record_baseline(blessing, production)
        _write_samples(input_dict, output_dict)

    def _as_model_artifact(self, version_dir: str) -> standard_artifacts.Model:
        """A Model artifact holding a copy of the pushed version, laid out as the Trainer's
        (`<uri>/Format-Serving/`), which is where TFX's Evaluator looks for the SavedModel."""
        model = standard_artifacts.Model()
        model.uri = f"{self._get_tmp_dir().rstrip('/')}/production_model"
        copy = path_utils.serving_model_dir(model.uri)
        io_utils.copy_dir(version_dir, copy)
        check_baseline(version_dir, copy)
        return model


def gate_settings(task: str, spec: EvaluationSpec) -> str:
    """The Evaluator's `gate` parameter: what `read_gate_settings` reads back in the executor."""
    return json.dumps({"task": task, "evaluation": dataclasses.asdict(spec)}, sort_keys=True)


def read_gate_settings(text: str) -> tuple[str, EvaluationSpec]:
    settings = json.loads(text)
    return settings["task"], from_dict(EvaluationSpec, settings["evaluation"], "evaluation")


def judge_models(
    task: str, spec: EvaluationSpec, examples: types.Artifact, candidate_dir: str, production_dir: str | None
) -> dict[str, Any]:
    """The gate's record for the candidate (and the model in production, if any) on the eval split."""
    from components.evaluator.scoring import eval_records, score

    records = eval_records(examples)
    candidate = score(candidate_dir, records, task)
    production = score(production_dir, records, task) if production_dir else None
    record = gate.judge(
        task,
        gate.resolve_gates(task, spec),
        candidate,
        production,
        spec.baseline_tolerance,
        spec.bootstrap_samples,
        spec.confidence,
    )
    record["split"] = features.EVAL_SPLIT
    logging.info("gate on %d eval rows: %s", record["rows"], "; ".join(record["refused_by"]) or "passed")
    return record


def set_blessed(blessing: types.Artifact, blessed: bool) -> None:
    """The blessing as TFX's Evaluator writes it (executor.py): a BLESSED or NOT_BLESSED file in
    its dir and the `blessed` property, which TFX's Pusher reads."""
    from tfx.dsl.io import fileio

    for name in (constants.BLESSED_FILE_NAME, constants.NOT_BLESSED_FILE_NAME):
        path = os.path.join(blessing.uri, name)
        if fileio.exists(path):
            fileio.remove(path)
    name = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, name), "")
    value = constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, value)


def _write_json(data: dict[str, Any], path: str) -> None:
    from tfx.dsl.io import fileio

    with fileio.open(path, "w") as f:
        json.dump(data, f, indent=2)


def check_baseline(version_dir: str, saved_model_dir: str) -> None:
    """The model in production must load with the signatures TFMA evaluates through; if it does
    not, the gate cannot compare, and nothing is pushed over it."""
    import tensorflow as tf

    try:
        signatures = set(tf.saved_model.load(saved_model_dir).signatures)
    except Exception as error:  # noqa: BLE001 - any load failure means the same to the user
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(
            f"{version_dir}: the model in production does not load ({reason}), so the gate "
            f"cannot compare against it; restore or remove that version"
        ) from None
    missing = {features.SERVING_EXAMPLES_SIGNATURE, features.TRANSFORM_SIGNATURE} - signatures
    if missing:
        raise InputError(
            f"{version_dir}: the model in production has no {', '.join(sorted(missing))} signature, "
            f"so the gate cannot compare against it; restore or remove that version"
        )


def _write_samples(input_dict: ArtifactDict, output_dict: ArtifactDict) -> None:
    """The report's image samples (components/evaluator/samples.py). The verdict is already
    recorded: a failure here is logged and leaves the report without samples, not the run failed."""
    from components.evaluator.samples import write_image_samples

    single = artifact_utils.get_single_instance
    try:
        write_image_samples(
            single(input_dict[standard_component_specs.EXAMPLES_KEY]),
            single(input_dict[standard_component_specs.MODEL_KEY]),
            single(output_dict[standard_component_specs.EVALUATION_KEY]).uri,
        )
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.warning("no image samples for the report: %s: %s", type(error).__name__, error)


def _record_baseline(blessing: types.Artifact, production: str | None) -> None:
    """The blessing names the pushed version it was compared with. TFX would record the staged
    copy's path and an artifact id that exists in no metadata store; KFP's entrypoint turns that
    id into a run-scoped name and fails on an unknown one, so it is dropped."""
    blessing.mlmd_artifact.custom_properties.pop(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, None)
    blessing.set_string_custom_property(features.BASELINE_VERSION, production or "")
    if production:
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, production)


class ProductionEvaluator(base_beam_component.BaseBeamComponent):
    """Evaluates `model` on the eval split of `examples` with `eval_config`, then judges it with
    `gate` (`gate_settings`); the baseline is the newest version under `serving_dir`. Outputs
    `evaluation` and `blessing`, as TFX's Evaluator does."""

    SPEC_CLASS = ProductionEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self, examples: types.BaseChannel, model: types.BaseChannel, eval_config: Any, serving_dir: str, gate: str
    ):
        spec = ProductionEvaluatorSpec(
            examples=examples,
            model=model,
            eval_config=eval_config,
            example_splits=json.dumps([features.EVAL_SPLIT]),
            serving_dir=serving_dir,
            gate=gate,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
        )
        super().__init__(spec=spec)
