"""MirroredStrategy over 2 logical CPU devices vs the default strategy: the same Trainer, side by side.

    .venv/bin/python bench/strategies.py                      # penguins and digits, 20 epochs, 3 repeats
    .venv/bin/python bench/strategies.py --recipes penguins --epochs 1 --repeats 1   # smoke

Each recipe's pipeline runs once (cached under --cache-dir) for its Transform output; then the
Trainer's `run_fn` runs in a fresh process per measurement (logical devices must be set before
TensorFlow starts), alternating default and mirrored so drift on a noisy machine hits both.
Early stopping is off so both fit the same number of epochs; the batch is per replica, so
mirrored takes global batches twice as large. Reported: `fit` seconds (median), the ratio to the
default strategy, and the final validation loss. On one machine both "devices" share the same
cores, so this measures the strategy's overhead, not a speed-up; GPUs are where it pays.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.recipe_runs import cached_run  # noqa: E402
from components.trainer.standalone import trainer_spec  # noqa: E402
from pipeline.config.resolve import resolved_config  # noqa: E402

STRATEGIES = {
    "default": {"training.strategy": "default"},
    "mirrored": {"training.strategy": "mirrored", "training.cpu_devices": 2},
}


def prepared_run(recipe: str, cache_dir: Path) -> dict:
    """The summary of one pipeline run of `recipe` (run once, then reused from the cache dir)."""
    root = cache_dir / recipe
    return cached_run(recipe, root / "summary.json", root, "--epochs", "1")


def train_once(recipe: str, summary: dict, overrides: dict, scratch: Path) -> dict:
    """One Trainer run in a fresh process, `overrides` on the recipe; returns its history record."""
    config = resolved_config(REPO / "configs" / f"{recipe}.yaml", overrides)
    run_dir = Path(tempfile.mkdtemp(dir=scratch))
    spec_file = run_dir / "spec.json"
    spec_file.write_text(json.dumps(trainer_spec(summary, config, str(run_dir / "model"), str(run_dir / "run"))))
    subprocess.run(
        [sys.executable, "-m", "components.trainer.standalone", str(spec_file)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return json.loads((run_dir / "run" / "history.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["penguins", "digits_mlp"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "strategies")
    args = parser.parse_args(argv)

    print(
        f"MirroredStrategy (2 logical CPUs) vs default, {args.epochs} epochs, median of {args.repeats}, "
        f"{os.cpu_count()} cores"
    )
    print("| recipe | strategy | replicas | global batch | fit s | ratio to default | final val_loss |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for recipe in args.recipes:
            summary = prepared_run(recipe, args.cache_dir)
            records: dict[str, list[dict]] = {name: [] for name in STRATEGIES}
            for _ in range(args.repeats):
                for name, strategy in STRATEGIES.items():
                    overrides = {"training.epochs": args.epochs, "training.early_stopping.enabled": False, **strategy}
                    records[name].append(train_once(recipe, summary, overrides, Path(scratch)))
            baseline = statistics.median(r["fit_seconds"] for r in records["default"])
            for name, runs in records.items():
                seconds = statistics.median(r["fit_seconds"] for r in runs)
                last = runs[-1]
                print(
                    f"| {recipe} | {name} | {last['strategy']['replicas']} | {last['global_batch_size']} | "
                    f"{seconds:.2f} | {seconds / baseline:.2f} | {last['history']['val_loss'][-1]:.4f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
