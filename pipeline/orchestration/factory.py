"""Wiring only: one `create_pipeline(config, deployment)` connecting the TFX components.

CsvExampleGen (ImageExampleGen for image data) -> StatisticsGen -> SchemaGen -> ExampleValidator
-> Transform -> (Tuner, when `tuning.enabled`) -> Trainer -> Evaluator (against the model in production) -> Pusher.

No Resolver node: it compiles to a `resolver` executor that open-source Kubeflow Pipelines
refuses, so the Evaluator finds its baseline itself (components/evaluator/production.py), on every runner.

What differs between where the pipeline runs is a `Deployment`, made by the runner's module: the
local runners' (`local_deployment`, here) or Kubeflow's (orchestration/kubeflow.py).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Callable

# TFX's classes by their modules, not through `tfx.v1`: importing `tfx.v1` also imports its
# Google Cloud extensions (Vertex AI's SDK), several seconds of every run's start-up.
from tfx.components import (
    ExampleValidator,
    Pusher,
    SchemaGen,
    StatisticsGen,
    Trainer,
    Transform,
)
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import metadata
from tfx.orchestration.data_types import RuntimeParameter
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, pusher_pb2

from components.code_version import code_fingerprint, model_code_fingerprint
from components.evaluator.anomalies import AnomaliesGate
from components.evaluator.evaluation import eval_config
from components.evaluator.production import ProductionEvaluator, gate_settings
from components.example_gen import csv_examples, is_folder
from components.example_gen.csv_input import stored_splits
from components.example_gen.image_example_gen import ImageExampleGen
from components.pusher.push import Executor as StagingPusherExecutor
from components.settings import RunConfig
from components.trainer.run import run_fn, trainer_settings, training_splits
from components.transform.preprocessing import preprocessing_fn
from components.tuner.executor import PipelineTuner
from components.tuner.tuning import tuner_fn, tuner_settings


@dataclass(frozen=True)
class Deployment:
    """Where the pipeline runs, as far as its wiring differs there."""

    input_base: str | RuntimeParameter  # the folder ExampleGen reads (Kubeflow: a runtime parameter)
    metadata_connection: Any | None  # ML Metadata's connection; None where the orchestrator keeps its own
    beam_args: list[str]  # for every Beam-based component
    # Component id -> its platform config (Kubeflow: the pod's resource request).
    platform_configs: dict[str, Any] = field(default_factory=dict)


def local_deployment(config: RunConfig) -> Deployment:
    """The local runners': the data where it is, ML Metadata in a SQLite file in the pipeline root."""
    return Deployment(
        data_folder(config.data.path),
        metadata.sqlite_metadata_connection_config(config.metadata_path),
        list(config.runner.beam_args),
    )


def create_pipeline(config: RunConfig, deployment: Deployment) -> Pipeline:
    """The TFX pipeline of `config`, for the place `deployment` describes."""
    example_gen = _example_gen(config, deployment.input_base)
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    if config.data.schema:
        schema_gen = ImportSchemaGen(schema_file=config.data.schema)
    else:
        # Unfixed feature shapes: every feature may be missing, in training and at serving.
        schema_gen = SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    # A frozen schema is a contract: data that breaks it stops the run before Transform.
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"]) if config.data.schema else None
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=_import_path(preprocessing_fn),
        custom_config={"data": dataclasses.asdict(config.data), "code": code_fingerprint()},
        # StatisticsGen already describes the raw data; Transform's own pre- and post-transform
        # statistics would be a second and third pass over it.
        disable_statistics=True,
        # The analyzer cache serves incremental runs over new spans of the same data; a run here
        # analyzes its data whole, so writing the cache is work nobody reads.
        disable_analyzer_cache=True,
        # One graph trace of preprocessing_fn instead of TF2's several tf.function traces:
        # Transform took 24.3 s -> 15.8 s on the penguins data, with the same outputs.
        force_tf_compat_v1=True,
    )
    if anomalies_gate:
        transform.add_upstream_node(anomalies_gate)
    settings = {
        **trainer_settings(config.data, config.model, config.training),
        "code": code_fingerprint(),
        "model_code": model_code_fingerprint(config.model.name),
    }
    # Off by default: the Trainer then trains the recipe's settings as they are.
    tuner = (
        PipelineTuner(
            tuner_fn=_import_path(tuner_fn),
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            schema=schema_gen.outputs["schema"],
            custom_config={**settings, **tuner_settings(config.tuning)},
            **training_splits(),
        ).with_id("Tuner")
        if config.tuning.enabled
        else None
    )
    trainer = Trainer(
        run_fn=_import_path(run_fn),
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        custom_config=settings,
        **training_splits(),
    )
    evaluator = ProductionEvaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        eval_config=eval_config(config.data.task, config.evaluation),
        serving_dir=config.output.serving_dir,
        gate=gate_settings(config.data.task, config.evaluation),
    ).with_id("Evaluator")
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=config.output.serving_dir)
        ),
        # Stages each version and renames it into place: never a half-written version.
        custom_executor_spec=executor_spec.ExecutorClassSpec(StagingPusherExecutor),
    )
    for component in (tuner, trainer, evaluator):
        if component is not None and component.id in deployment.platform_configs:
            component.with_platform_config(deployment.platform_configs[component.id])
    return Pipeline(
        pipeline_name=config.name,
        pipeline_root=config.output.pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            *([anomalies_gate] if anomalies_gate else []),
            transform,
            *([tuner] if tuner else []),
            trainer,
            evaluator,
            pusher,
        ],
        enable_cache=True,
        metadata_connection_config=deployment.metadata_connection,
        beam_pipeline_args=deployment.beam_args,
    )


def _example_gen(config: RunConfig, input_base: str | RuntimeParameter):
    """CsvExampleGen for CSV data (one input split, hash-split 3:1:1 into train, validation and
    eval, by the whole row or by `data.split_key`; or a folder's stored train/, validation/ and
    test/ splits kept; our columnar reader, the same examples as TFX's); ImageExampleGen for images."""
    if config.data.is_image:
        return ImageExampleGen(input_base, config.data, config.split.buckets)
    stored = stored_splits(config.data.path) if "://" not in config.data.path else None
    if stored:  # pre-split: each stored split is an output split, as it is
        return csv_examples.CsvExampleGen(
            input_base=input_base,
            input_config=example_gen_pb2.Input(
                splits=[
                    example_gen_pb2.Input.Split(name=name, pattern=f"{folder}/*.csv") for name, folder in stored.items()
                ]
            ),
        )
    return csv_examples.CsvExampleGen(
        input_base=input_base,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=_input_pattern(config.data.path))]
        ),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                    for name, buckets in config.split.buckets.items()
                ],
                partition_feature_name=config.data.split_key or None,
            )
        ),
    )


def _import_path(fn: Callable) -> str:
    """`module.function`, which TFX imports in the executor (our package is installed there)."""
    return f"{fn.__module__}.{fn.__name__}"


def data_folder(data_path: str) -> str:
    """ExampleGen reads a folder; a single file (CSV, .npz) is read through a pattern on its folder."""
    return data_path if is_folder(data_path) else os.path.dirname(data_path)


def _input_pattern(data_path: str) -> str:
    return "*.csv" if is_folder(data_path) else os.path.basename(data_path)
