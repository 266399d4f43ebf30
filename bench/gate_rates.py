"""How often the gate pushes an equal re-train and refuses a clearly worse model.

    .venv/bin/python bench/gate_rates.py                  # seeds 1-10 of each kind of candidate
    .venv/bin/python bench/gate_rates.py --seeds 3 --kinds equal two_epochs

One model is pushed first (penguins, seed 42). Then each candidate, one per seed and kind, is
gated against that same model in production (each in a serving dir holding only the first push):
- `equal`: the same data and recipe, another training seed: a re-train of equal quality;
- `two_epochs`: trained for 2 epochs at a tenth of the recipe's learning rate (0.001);
- `two_epochs_recipe_rate`: 2 epochs at the recipe's own rate (0.01), which on penguins is not
  always worse: some seeds reach production's accuracy and loss within 14 steps (bench/RESULTS.md);
- `shuffled_labels`: trained on labels shuffled among the train and validation rows (the eval
  rows, which the gate judges, keep their true labels);
- `no_bill_length`: without bill_length_mm, the column that tells Adelie from Chinstrap.
The absolute bounds are relaxed for the worse kinds (loss <= 2, accuracy >= 0.3), so what
refuses them is the comparison with production. Every run splits by a row id
(`data.split_key`), so all of them judge the same eval rows.

Prints one row per kind: candidates, pushed, refused, and which metric refused them.
tests/test_gate_e2e.py runs this and holds the rates to their targets.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PENGUINS = REPO / "data" / "penguins" / "penguins.csv"
KINDS = ("equal", "two_epochs", "two_epochs_recipe_rate", "shuffled_labels", "no_bill_length")
# The candidates that are clearly worse than production (the gate must refuse every one).
WORSE = ("two_epochs", "shuffled_labels", "no_bill_length")
RELAXED = ["evaluation.max_loss=2", "evaluation.min_accuracy=0.3"]
OVERRIDES = {
    "equal": [],
    "two_epochs": ["training.epochs=2", "model.learning_rate=0.001", *RELAXED],
    "two_epochs_recipe_rate": ["training.epochs=2", *RELAXED],
    "shuffled_labels": RELAXED,
    "no_bill_length": ["data.exclude=[bill_length_mm]", *RELAXED],
}
ID = "row_id"
LABEL = "species"


def is_eval_row(row_id: int) -> bool:
    """Whether ExampleGen puts this row id in the eval split: TFX's own partition rule
    (`_PartitionFn`, which hashes the split key's feature) with the default 3:1:1 buckets."""
    import tensorflow as tf
    from tfx.components.example_gen.base_example_gen_executor import _PartitionFn
    from tfx.proto import example_gen_pb2

    from components.settings import SplitSpec

    buckets = SplitSpec().buckets
    config = example_gen_pb2.SplitConfig(
        splits=[example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=n) for name, n in buckets.items()],
        partition_feature_name=ID,
    )
    example = tf.train.Example()
    example.features.feature[ID].int64_list.value.append(row_id)
    bounds = [sum(list(buckets.values())[: i + 1]) for i in range(len(buckets))]
    return list(buckets)[_PartitionFn(example, len(bounds), bounds, config)] == "eval"


def write_data(workdir: Path) -> tuple[Path, Path]:
    """Penguins with a row id; and the same rows with the label shuffled outside the eval split."""
    with PENGUINS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    header = [ID, *rows[0]]
    for number, row in enumerate(rows):
        row[ID] = str(number)
    shuffled = [dict(row) for row in rows]
    trained = [row for row in shuffled if not is_eval_row(int(row[ID]))]
    labels = [row[LABEL] for row in trained]
    random.Random(0).shuffle(labels)
    for row, label in zip(trained, labels):
        row[LABEL] = label
    paths = workdir / "penguins_ids" / "penguins.csv", workdir / "penguins_shuffled" / "penguins.csv"
    for path, content in zip(paths, (rows, shuffled)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, header)
            writer.writeheader()
            writer.writerows(content)
    return paths


def run(workdir: Path, data: Path, serving: Path, sets: list[str], *flags: str) -> tuple[int, dict]:
    """One `pipeline run` in this process (imports paid once), its exit code and summary."""
    from pipeline.commands.cli import main

    summary_file = workdir / "summary.json"
    summary_file.unlink(missing_ok=True)
    args = ["run", "--data", str(data), "--label", LABEL, "--task", "multiclass", "--force"]
    args += ["--pipeline-root", str(workdir / "pipeline"), "--serving-dir", str(serving)]
    args += ["--summary-json", str(summary_file), "--set", "name=gate_rates", "--set", f"data.split_key={ID}"]
    for assignment in sets:
        args += ["--set", assignment]
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([*args, *flags])
    return code, json.loads(summary_file.read_text()) if summary_file.exists() else {}


def gate_rates(workdir: Path, plan: dict[str, list[int]]) -> dict[str, dict]:
    """Per kind of `plan`, a candidate per seed: whether it was pushed, and what refused it."""
    base, shuffled = write_data(workdir)
    first = workdir / "first"
    code, summary = run(workdir, base, first, ["training.seed=42"])
    if code != 0 or not summary.get("pushed_model_dir"):
        raise RuntimeError(f"the first model was not pushed (exit {code}): {summary.get('metrics')}")
    results: dict[str, dict] = {}
    for kind, seeds in plan.items():
        candidates = []
        for seed in seeds:
            serving = workdir / f"serving-{kind}-{seed}"
            shutil.copytree(first, serving)
            data = shuffled if kind == "shuffled_labels" else base
            code, found = run(workdir, data, serving, [*OVERRIDES[kind], f"training.seed={seed}"])
            if code != 0:
                raise RuntimeError(f"{kind} seed {seed}: exit {code}")
            metrics = found["metrics"]
            candidates.append(
                {
                    "seed": seed,
                    "pushed": bool(found["pushed_model_dir"]),
                    "refused_by": metrics["refused_by"],
                    "loss": metrics["loss"]["value"],
                    "accuracy": metrics["accuracy"]["value"],
                    "production_loss": metrics["loss"]["baseline"],
                }
            )
            shutil.rmtree(serving)
        results[kind] = {
            "candidates": candidates,
            "pushed": sum(c["pushed"] for c in candidates),
            "eval_rows": metrics["example_count"],
        }
    return results


def table(results: dict[str, dict]) -> str:
    lines = [
        "| candidates | eval rows | runs | pushed | refused | refused by (loss / accuracy) "
        "| candidate loss (min-max) |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, result in results.items():
        candidates = result["candidates"]
        by = [
            sum(any(line.startswith(name) or f": {name} " in line for line in c["refused_by"]) for c in candidates)
            for name in ("loss", "accuracy")
        ]
        losses = [c["loss"] for c in candidates]
        lines.append(
            f"| {kind} | {result['eval_rows']} | {len(candidates)} | {result['pushed']} | "
            f"{len(candidates) - result['pushed']} | {by[0]} / {by[1]} | {min(losses):.4f}-{max(losses):.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="candidates per kind: seeds 1..N")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--workdir", default="output/bench-gate-rates")
    parser.add_argument("--json", help="also write every candidate's record here")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    results = gate_rates(workdir, {kind: list(range(1, args.seeds + 1)) for kind in args.kinds})
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    import components  # noqa: F401 - Keras 2 before TensorFlow

    sys.exit(main())
