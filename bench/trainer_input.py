"""The Trainer's input streamed from Transform's files vs held in memory, at 1 and 32 steps per call.

    .venv/bin/python bench/trainer_input.py                       # 100,000 rows, 5 epochs, 3 repeats
    .venv/bin/python bench/trainer_input.py --rows 300 --epochs 1 --repeats 1    # smoke

The pipeline runs once on the scaled penguins CSV (bench/scaled_data.py; the run is cached under
--cache-dir) for its Transform output; then the Trainer's `run_fn` fits the penguins recipe's
network on it in a fresh process per measurement (bench/strategies.py's `train_once`), the
variants taking turns so that drift on a noisy machine hits all of them: streamed
(`training.in_memory_mb: 0`, tfx_bsl reads the files every epoch, one step per call), and in
memory (components/trainer/data.py) at `training.steps_per_execution` 1 and 32. Early stopping
is off. Reported: `fit` seconds (median), the ratio to streamed, and each variant's validation
losses (the two in-memory variants must learn the same; streamed shuffles with another stream).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.recipe_runs import cached_run  # noqa: E402
from bench.scaled_data import scaled_penguins  # noqa: E402
from bench.strategies import train_once  # noqa: E402

VARIANTS = {
    "streamed": {"training.in_memory_mb": 0},
    "in memory, 1 step per call": {"training.steps_per_execution": 1},
    "in memory, 32 steps per call": {"training.steps_per_execution": 32},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "trainer_input")
    args = parser.parse_args(argv)

    data = scaled_penguins(args.rows, args.cache_dir / "data")
    root = args.cache_dir / f"penguins-{args.rows}"
    summary = cached_run("penguins", root / "summary.json", root, "--data", str(data), "--epochs", "1")
    print(
        f"Trainer input on {args.rows:,} rows, {args.epochs} epochs, median of {args.repeats}, {os.cpu_count()} cores"
    )
    print("| input | fit s | ratio to streamed | val_loss per epoch |")
    print("|---|---|---|---|")
    records: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            for name, variant in VARIANTS.items():
                overrides = {"training.epochs": args.epochs, "training.early_stopping.enabled": False, **variant}
                records[name].append(train_once("penguins", summary, overrides, Path(scratch)))
    baseline = statistics.median(r["fit_seconds"] for r in records["streamed"])
    for name, runs in records.items():
        seconds = statistics.median(r["fit_seconds"] for r in runs)
        losses = " ".join(f"{loss:.4f}" for loss in runs[-1]["history"]["val_loss"])
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} | {losses} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
