"""The whole pipeline (BeamDagRunner) vs the plain Keras script, side by side, at growing row counts.

    .venv/bin/python bench/overhead.py                                   # 1k, 10k, 100k, 1M rows
    .venv/bin/python bench/overhead.py --rows 1000 --epochs 1            # smoke

For each size: the scaled penguins CSV (bench/scaled_data.py, cached), then bench/plain_keras.py
and a fresh pipeline run of the penguins recipe on it, both as new processes timed from start
to finish, both fitting the same network for the same epochs with early stopping off; then the
same pipeline command again (the cached re-run a user gets by repeating it). Prints a Markdown
table: seconds, the ratio pipeline/plain, the fixed overhead (pipeline - plain), and each
component's seconds as ML Metadata recorded them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scaled_data import scaled_penguins  # noqa: E402

COMPONENTS = ("CsvExampleGen", "StatisticsGen", "Transform", "Trainer", "Evaluator")
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def timed(command: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=QUIET)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started, result.stdout


def plain_run(data: Path, epochs: int) -> dict:
    seconds, printed = timed([sys.executable, str(REPO / "bench" / "plain_keras.py"), str(data), "--epochs", str(epochs)])
    return {"wall": seconds, **json.loads(printed.strip().splitlines()[-1])}


def pipeline_run(data: Path, epochs: int, root: Path) -> dict:
    summary_file = root / f"summary-{len(list(root.glob('summary-*.json')))}.json"
    command = [
        sys.executable, "-m", "pipeline", "run", "--config", str(REPO / "configs" / "penguins.yaml"),
        "--data", str(data), "--epochs", str(epochs), "--set", "training.early_stopping.enabled=false",
        "--set", "evaluation.max_loss=100", "--set", "evaluation.min_accuracy=0",
        "--pipeline-root", str(root / "pipeline"), "--serving-dir", str(root / "serving"),
        "--summary-json", str(summary_file),
    ]
    seconds, _ = timed(command)
    summary = json.loads(summary_file.read_text())
    return {"wall": seconds, "summary": summary}


def measure(rows: int, epochs: int, cache_dir: Path, scratch: Path) -> dict:
    data = scaled_penguins(rows, cache_dir)
    root = scratch / f"rows-{rows}"
    root.mkdir()
    plain = plain_run(data, epochs)
    first = pipeline_run(data, epochs, root)
    rerun = pipeline_run(data, epochs, root)
    return {"rows": rows, "plain": plain, "pipeline": first, "rerun": rerun}


def table(results: list[dict]) -> str:
    head = ["rows", "plain Keras s", "pipeline s", "ratio", "fixed overhead s", "re-run s", "re-run cached",
            *(f"{name} s" for name in COMPONENTS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        plain, pipeline, rerun = r["plain"]["wall"], r["pipeline"]["wall"], r["rerun"]["wall"]
        components = r["pipeline"]["summary"]["components"]
        rerun_states = r["rerun"]["summary"]["components"].values()
        cached = sum(state["state"] == "CACHED" for state in rerun_states)
        cells = [f"{r['rows']:,}", f"{plain:.1f}", f"{pipeline:.1f}", f"{pipeline / plain:.2f}",
                 f"{pipeline - plain:.1f}", f"{rerun:.1f}", f"{cached}/{len(rerun_states)}",
                 *(f"{components.get(name, {}).get('seconds', 0):.1f}" for name in COMPONENTS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "data")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    args = parser.parse_args(argv)
    print(f"pipeline (BeamDagRunner) vs plain Keras, penguins network, {args.epochs} epochs, "
          f"{os.cpu_count()} cores", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.rows:
            results.append(measure(rows, args.epochs, args.cache_dir, Path(scratch)))
            print(table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
