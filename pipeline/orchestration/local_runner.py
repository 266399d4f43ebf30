"""The local runners: build the pipeline from the config and run it, one run at a time per
pipeline root. What the run leaves is read back by runs/ (the command does that, then the report)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from dataclasses import dataclass

import absl.logging
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from components.settings import ConfigError, RunConfig
from components.trainer.distribution import split_cpu
from pipeline.orchestration.factory import create_pipeline, local_deployment
from pipeline.orchestration.progress import ComponentProgress, ProgressCallback


@dataclass(frozen=True)
class LocalRun:
    """What a finished local run measured, beyond what ML Metadata records."""

    cpu_seconds: dict[str, float]  # per component, where measured (with a progress callback)
    wall_seconds: float


def run_pipeline(config: RunConfig, progress: ProgressCallback | None = None) -> LocalRun:
    """Runs the whole pipeline with the configured local runner. The caller holds the pipeline
    root (`exclusive_run`) from before the run until it has read the run back."""
    if config.runner.kind == "kubeflow":
        raise ConfigError(
            "runner.kind: kubeflow pipelines run on a cluster; compile one with "
            "`python -m pipeline compile --target kubeflow` and submit it"
        )
    # The local runners run every component in this process: logical CPU devices for
    # MirroredStrategy must exist before Transform starts TensorFlow's runtime.
    split_cpu(config.training.cpu_devices)
    runner = LocalDagRunner() if config.runner.kind == "local" else BeamDagRunner()
    absl_logger = logging.getLogger("absl")
    handler = ComponentProgress(progress) if progress else None
    previous_verbosity = absl.logging.get_verbosity()
    if handler:
        absl_logger.addHandler(handler)
        # Through absl's flag, not Logger.setLevel: TensorFlow's SavedModel writer saves and
        # restores that flag, which would reset a level set any other way to WARNING.
        absl.logging.set_verbosity(max(previous_verbosity, absl.logging.INFO))
    started = time.monotonic()
    try:
        runner.run(create_pipeline(config, local_deployment(config)))
    finally:
        if handler:
            absl_logger.removeHandler(handler)
            absl.logging.set_verbosity(previous_verbosity)
    return LocalRun(dict(handler.cpu_seconds) if handler else {}, round(time.monotonic() - started, 2))


class RunInProgress(RuntimeError):
    """Another run holds the pipeline root."""


LOCK_FILE = ".run.lock"


@contextlib.contextmanager
def exclusive_run(pipeline_root: str, pipeline_name: str):
    """One run at a time per pipeline root: a second run is refused at once, not interleaved.

    Two runs writing one ML Metadata SQLite file and one set of artifact dirs would race (TFX
    takes no lock). The lock is the OS's (flock), so a killed run releases it with its process."""
    os.makedirs(pipeline_root, exist_ok=True)
    path = os.path.join(pipeline_root, LOCK_FILE)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunInProgress(
                f"{pipeline_root}: a run of pipeline {pipeline_name} is already in progress ({holder}); "
                f"wait for it to finish, or give this run its own --pipeline-root"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
