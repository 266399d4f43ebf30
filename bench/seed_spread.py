"""How far each builder's learning test is from its bound, over seeds, with oneDNN on and off.

    .venv/bin/python bench/seed_spread.py                         # every builder, seeds 0-19
    .venv/bin/python bench/seed_spread.py --names squeezenet --seeds 5

tests/test_model_zoo.py asserts, for seed 0, that a builder's loss on a tiny problem falls below
LEARNED_RATIO of its start. This runs the same `learning_losses` for many seeds and prints the
after/before ratio's min, median and max, and the seeds at or over the bound. Both of
TensorFlow's numeric paths on x86 are measured, each in a process of its own (TensorFlow reads
TF_ENABLE_ONEDNN_OPTS once; its default is on only for CPUs with AVX512_VNNI, AVX512_BF16 or
AMX, `DefaultOneDnnPolicy` in tensorflow/core/util/port.cc), so one machine shows what another
kind of CPU would compute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"


def model_zoo_tests():
    """tests/test_model_zoo.py as a module, Keras 2 selected before TensorFlow loads."""
    sys.path[:0] = [str(REPO), str(TESTS)]
    import test_model_zoo

    import components  # noqa: F401

    return test_model_zoo


def ratios(names: list[str], seeds: int) -> dict[str, list[float]]:
    """In this process: after/before for each builder and seed."""
    learning_losses = model_zoo_tests().learning_losses
    return {
        name: [after / before for _, before, after in (learning_losses(name, seed) for seed in range(seeds))]
        for name in names
    }


def measured(names: list[str], seeds: int) -> dict[str, dict[str, list[float]]]:
    """{"on": ..., "off": ...}: the two numeric paths at once, a process (and a core) each."""
    command = [sys.executable, __file__, "--worker", "--seeds", str(seeds), "--names", *names]
    workers = {
        label: subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": flag, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        for label, flag in (("on", "1"), ("off", "0"))
    }
    printed = {label: worker.communicate()[0] for label, worker in workers.items()}
    for label, worker in workers.items():
        if worker.returncode:
            raise SystemExit(f"the oneDNN-{label} worker failed with exit code {worker.returncode}")
    return {label: json.loads(text.strip().splitlines()[-1]) for label, text in printed.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", help="builders (default: every one with a learning test)")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(ratios(args.names, args.seeds)))
        return 0
    zoo = model_zoo_tests()
    bound = zoo.LEARNED_RATIO
    names = args.names or sorted(zoo.CASES)
    print(f"after/before loss of tests/test_model_zoo.py's learning test, seeds 0-{args.seeds - 1}, bound < {bound}")
    print(f"{'builder':24s} {'oneDNN':6s} {'min':>6s} {'median':>6s} {'max':>6s}  seeds at or over the bound")
    for label, spread in measured(names, args.seeds).items():
        for name, values in spread.items():
            over = [seed for seed, value in enumerate(values) if value >= bound]
            print(
                f"{name:24s} {label:6s} {min(values):6.3f} "
                f"{statistics.median(values):6.3f} {max(values):6.3f}  {over or '-'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
