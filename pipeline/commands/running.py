"""A run and its record: the runner runs (orchestration/), then the command reads the run back
into its summary and writes the report (runs/). The runners never write either."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from components.settings import ConfigError, RunConfig
from pipeline.orchestration.local_runner import exclusive_run, run_pipeline
from pipeline.orchestration.progress import ProgressCallback
from pipeline.runs.report import write_report
from pipeline.runs.summarize import summarize, summarize_run
from pipeline.runs.summary import RUNS_DIR, RunSummary

if TYPE_CHECKING:  # a local run does not import the spec runner (kfp.local and its kin)
    from pipeline.orchestration.spec_runner import SpecRun


def run_locally(config: RunConfig, progress: ProgressCallback | None = None) -> RunSummary:
    """Runs the pipeline with its local runner, then summarizes and reports that run, holding the
    pipeline root throughout so that the run read back is this one."""
    with exclusive_run(config.output.pipeline_root, config.name):
        run = run_pipeline(config, progress)
        summary = summarize(config, run.cpu_seconds)
        summary.report_file = write_report(summary)
    summary.wall_seconds = run.wall_seconds
    return summary


def record_spec_run(run: SpecRun) -> RunSummary:
    """The same summary (and report) as a local run's, from the tasks' recorded outputs; written
    under the work dir. Needs the RunConfig that `compile` stores in the spec."""
    from pipeline.orchestration.spec_runner import spec_nodes

    if run.config is None:
        raise ConfigError(
            "the spec holds no run config (not compiled by `python -m pipeline compile`): "
            "every task ran, but there is no summary to give"
        )
    summary = summarize_run(run.config, run.run_id, spec_nodes(run), os.path.join(run.workdir, RUNS_DIR))
    summary.report_file = write_report(summary)
    return summary
