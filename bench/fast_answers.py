"""How fast the CLI answers what it can judge without TensorFlow: each mistake below, and `runs`.

    .venv/bin/python bench/fast_answers.py [--pipeline-root ROOT]    # ROOT: a pipeline root for `runs`

Each command is a new process, timed from start to exit (best of 3), beside two baselines timed
the same way: a bare `python -c pass`, and `python -c "import tensorflow"` (what every answer
used to wait for). The targets (issue 16): each mistake ≤ 1.5 s, `runs` ≤ 2 s; and (issue 17)
`make run` again with nothing changed ≤ 2 s (timed when the newest `make run` is up to date).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "missing data file": ["run", "--data", "/nope.csv", "--label", "x", "--task", "binary"],
    "wrong label name": ["run", "--data", "data/penguins/penguins.csv", "--label", "nope", "--task", "multiclass"],
    "unknown model": ["run", "--config", "configs/penguins.yaml", "--model", "nope"],
}


def best_of(command: list[str], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run(command, cwd=REPO, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        times.append(time.monotonic() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline-root", default=str(REPO / "output" / "penguins" / "pipeline"))
    args = parser.parse_args()
    commands = {**COMMANDS, "runs": ["runs", "--pipeline-root", args.pipeline_root]}
    python = best_of([sys.executable, "-c", "pass"])
    tensorflow = best_of([sys.executable, "-c", "import tensorflow"])
    print("| command | seconds | × bare python | × importing TensorFlow |")
    print("|---|---:|---:|---:|")
    print(f"| python -c pass | {python:.2f} | 1.0 | {python / tensorflow:.2f} |")
    print(f"| python -c 'import tensorflow' | {tensorflow:.2f} | {tensorflow / python:.1f} | 1.00 |")
    if _make_run_is_up_to_date():
        commands["make run again (up to date)"] = MAKE_RUN
    else:
        print("(make run again: not timed, run `make run` first: its output is not up to date)", file=sys.stderr)
    for name, arguments in commands.items():
        seconds = best_of([sys.executable, "-m", "pipeline", *arguments])
        print(f"| {name} | {seconds:.2f} | {seconds / python:.1f} | {seconds / tensorflow:.2f} |")


MAKE_RUN = ["run", "--config", "configs/penguins.yaml"]  # the Makefile's `run`


def _make_run_is_up_to_date() -> bool:
    """Whether `make run` would answer from its newest run (else timing it would run the pipeline)."""
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    from pipeline.commands import preflight

    return preflight.prepare("configs/penguins.yaml", {}).up_to_date is not None


if __name__ == "__main__":
    main()
