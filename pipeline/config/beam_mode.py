"""Where a local run's Beam components run: in the pipeline's process, or in worker processes.

Beam's DirectRunner runs each Beam component (ExampleGen, StatisticsGen, Transform, Evaluator)
in the pipeline's own process by default, where Python keeps it to one core. Its
multi-processing mode (apache_beam/runners/portability/fn_api_runner/fn_runner.py: a
`python -m apache_beam.runners.worker.sdk_worker_main` process per worker,
`direct_num_workers=0` meaning one per core) uses every core, but each worker imports
TensorFlow and TFX before it works, for every component. On the 2-core build machine
(bench/RESULTS.md) that made a run slower at 100,000 rows and faster at 1,000,000;
`runner.multi_process_rows` is where `auto` switches, counted on the rows preflight reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from components.settings import MULTI_PROCESS_BEAM_ARGS, RunnerSpec

# A user's own runner choice in runner.beam_args is taken as it is.
_RUNNER_FLAGS = ("--runner", "--direct_running_mode")


@dataclass(frozen=True)
class BeamChoice:
    mode: str  # "in_process", "multi_process", or "beam_args" (the user's own flags decide)
    reason: str
    args: list[str]

    def describe(self) -> str:
        where = {
            "in_process": "in this process",
            "multi_process": "in one worker process per core",
            "beam_args": "as runner.beam_args say",
        }[self.mode]
        return f"Beam components run {where} ({self.reason})"


def choose_beam(runner: RunnerSpec, rows: int | None, cores: int | None = None) -> BeamChoice:
    """The local Beam mode for data of `rows` rows (None: not known) on `cores` cores."""
    given = list(runner.beam_args)
    if any(arg.split("=")[0] in _RUNNER_FLAGS for arg in given):
        return BeamChoice("beam_args", "they name the runner or its mode", given)
    cores = cores or os.cpu_count() or 1
    threshold = f"runner.multi_process_rows ({runner.multi_process_rows:,})"
    if runner.beam_mode != "auto":
        mode, reason = runner.beam_mode, f"runner.beam_mode: {runner.beam_mode}"
    elif cores < 2:
        mode, reason = "in_process", "one core"
    elif rows is None:
        mode, reason = "in_process", "the data's rows are not counted on this machine"
    elif rows >= runner.multi_process_rows:
        mode, reason = "multi_process", f"{rows:,} rows >= {threshold}"
    else:
        mode, reason = "in_process", f"{rows:,} rows < {threshold}"
    return BeamChoice(mode, reason, given + MULTI_PROCESS_BEAM_ARGS if mode == "multi_process" else given)
