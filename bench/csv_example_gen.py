"""CsvExampleGen's columnar executor vs TFX's own CSV executor, on the same file, side by side.

    .venv/bin/python bench/csv_example_gen.py                      # 100,000 rows, 3 repeats
    .venv/bin/python bench/csv_example_gen.py --rows 1000000 --repeats 1
    .venv/bin/python bench/csv_example_gen.py --rows 300 --repeats 1   # smoke

Each measurement is a fresh process that imports both executors, then times one executor's `Do`
alone (Beam in this process, as a local run below runner.multi_process_rows), on the scaled
penguins CSV (bench/scaled_data.py); the executors take turns. Then the outputs of the last
round are compared split by split as multisets of deterministically serialized examples (TFX's
own order inside a split changes from run to run), and the table says whether they are equal.
Preflight's row checks, columnar and row by row (components/example_gen/csv_input.py), are
timed the same way on the same file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scaled_data import scaled_penguins  # noqa: E402

EXECUTORS = {
    "TFX's CSV executor": "tfx.components.example_gen.csv_example_gen.executor",
    "columnar executor": "components.example_gen.csv_examples",
}
ROW_CHECKS = {"row by row": "_row_by_row_labels", "columnar": "_columnar_labels"}
SPLITS = (("train", 2), ("eval", 1))


def run_executor(module: str, data: Path, output: Path, split_key: str | None = None) -> float:
    """One executor's `Do` on every *.csv of `data`, hash-split train 2 : eval 1 (of the whole
    example, or of the `split_key` column's value); its seconds."""
    import importlib

    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts

    executor = importlib.import_module(module).Executor
    examples = standard_artifacts.Examples()
    examples.uri = str(output)
    exec_properties = {
        "input_base": str(data),
        "input_config": json.dumps({"splits": [{"name": "single_split", "pattern": "*.csv"}]}),
        "output_config": json.dumps(
            {
                "split_config": {
                    "splits": [{"name": name, "hash_buckets": b} for name, b in SPLITS],
                    **({"partition_feature_name": split_key} if split_key else {}),
                }
            }
        ),
        "output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE,
        "output_file_format": example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    }
    started = time.perf_counter()
    executor().Do({}, {"examples": [examples]}, exec_properties)
    return time.perf_counter() - started


def split_contents(output: Path) -> dict[str, Counter]:
    """Each split as a multiset of deterministically serialized examples."""
    import tensorflow as tf
    from tensorflow.core.example import example_pb2

    contents = {}
    for split, _ in SPLITS:
        files = sorted(str(file) for file in (output / f"Split-{split}").iterdir())
        records = tf.data.TFRecordDataset(files, compression_type="GZIP")
        contents[split] = Counter(
            example_pb2.Example.FromString(record.numpy()).SerializeToString(deterministic=True) for record in records
        )
    return contents


def timed_row_check(function: str, csv: Path) -> float:
    from components.example_gen import csv_input

    started = time.perf_counter()
    getattr(csv_input, function)(str(csv), "species", "multiclass")
    return time.perf_counter() - started


def in_fresh_process(*args: str) -> float:
    """Seconds printed by this script's --worker mode, run in a new process."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=True, cwd=REPO
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "data")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        seconds = run_executor(rest[0], Path(rest[1]), Path(rest[2])) if kind == "executor" else None
        print(seconds if seconds is not None else timed_row_check(rest[0], Path(rest[1])))
        return 0

    csv = scaled_penguins(args.rows, args.cache_dir)
    print(f"CsvExampleGen on {args.rows:,} rows, Beam in process, median of {args.repeats} fresh processes")
    print("| step | variant | s | ratio to the first | same examples in the same splits |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        data.mkdir()
        (data / csv.name).symlink_to(csv)
        seconds: dict[str, list[float]] = {name: [] for name in EXECUTORS}
        for repeat in range(args.repeats):
            for name, module in EXECUTORS.items():
                output = Path(scratch) / f"{module}-{repeat}"
                seconds[name].append(in_fresh_process("executor", module, str(data), str(output)))
        last = args.repeats - 1
        outputs = [split_contents(Path(scratch) / f"{module}-{last}") for module in EXECUTORS.values()]
        same = "yes" if outputs[0] == outputs[1] else "NO"
        print_rows("ExampleGen `Do`", seconds, same)
        checks: dict[str, list[float]] = {name: [] for name in ROW_CHECKS}
        for _ in range(args.repeats):
            for name, function in ROW_CHECKS.items():
                checks[name].append(in_fresh_process("rows", function, str(csv)))
        print_rows("preflight row checks", checks, "(the same labels: tests/test_csv_input.py)")
    return 0 if same == "yes" else 1


def print_rows(step: str, seconds: dict[str, list[float]], same: str) -> None:
    baseline = statistics.median(next(iter(seconds.values())))
    for name, runs in seconds.items():
        median = statistics.median(runs)
        print(f"| {step} | {name} | {median:.2f} | {median / baseline:.2f} | {same} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
