"""Thin local runners: build the pipeline from the config, run it, summarize it from ML Metadata."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from typing import Any

import absl.logging
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from components.settings import ConfigError, RunConfig
from components.trainer.distribution import split_cpu
from pipeline.pipeline import create_pipeline
from pipeline.progress import ComponentProgress, ProgressCallback
from pipeline.report import write_report
from pipeline.summary import summarize


def run_pipeline(config: RunConfig, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Runs the whole pipeline with the configured local runner and returns the run summary."""
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
        with exclusive_run(config.output.pipeline_root, config.name):
            runner.run(create_pipeline(config))
            summary = summarize(config, handler.cpu_seconds if handler else None)
            summary["report_file"] = write_report(summary)
    finally:
        if handler:
            absl_logger.removeHandler(handler)
            absl.logging.set_verbosity(previous_verbosity)
    summary["wall_seconds"] = round(time.monotonic() - started, 2)
    return summary


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
