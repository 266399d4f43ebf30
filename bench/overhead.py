"""The whole pipeline (BeamDagRunner) vs the plain Keras script, side by side, at growing row counts.

    .venv/bin/python bench/overhead.py                                   # 1k, 10k, 100k, 1M rows
    .venv/bin/python bench/overhead.py --rows 1000 --epochs 1            # smoke
    .venv/bin/python bench/overhead.py --recipe digits_cnn               # the image folder, CNN

For each size: the scaled penguins CSV (bench/scaled_data.py, cached), then bench/plain_keras.py
and a fresh pipeline run of the penguins recipe on it, both as new processes timed from start
to finish, both fitting the same network for the same epochs with early stopping off; then the
same pipeline command again (up to date: it answers with the run it matches, before TensorFlow
is imported), and again with --force (TFX's cache decides per component). Prints a Markdown
table: seconds, the ratio pipeline/plain, the fixed overhead (pipeline - plain), and each
component's seconds as ML Metadata recorded them with the cores it kept busy (its CPU seconds
over its wall seconds: 1.0 is one core); then, for 100,000 rows and more, each component's
seconds per 100,000 rows (linear growth keeps them level).

`--beam-mode in_process|multi_process` forces where the Beam components run (by default the
pipeline picks by the number of rows: README "Large data").

`--recipe digits_cnn` does the same for the image recipe on the shipped digits PNG folder
(data/digits_images/train, 1,437 images; no scaling): bench/plain_keras_images.py reads it with
`image_dataset_from_directory` and fits the recipe's CNN.
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

from bench.recipe_runs import run_command  # noqa: E402
from bench.scaled_data import scaled_penguins  # noqa: E402
from components.settings import MULTI_PROCESS_BEAM_ARGS  # noqa: E402

COMPONENTS = ("ExampleGen", "StatisticsGen", "Transform", "Trainer", "Evaluator")
# recipe -> the plain script that is its baseline
PLAIN_SCRIPTS = {"penguins": "plain_keras.py", "digits_cnn": "plain_keras_images.py"}
DIGITS_TRAIN = REPO / "data" / "digits_images" / "train"
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def timed(command: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=QUIET)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started, result.stdout


def plain_run(recipe: str, data: Path, epochs: int) -> dict:
    script = REPO / "bench" / PLAIN_SCRIPTS[recipe]
    seconds, printed = timed([sys.executable, str(script), str(data), "--epochs", str(epochs)])
    return {"wall": seconds, **json.loads(printed.strip().splitlines()[-1])}


def beam_flags(mode: str) -> list[str]:
    """`pipeline run` flags for a Beam mode (pipeline/config/beam_mode.py); none for the pipeline's own choice."""
    return [] if mode == "auto" else ["--set", f"runner.beam_mode={mode}"]


def pipeline_run(recipe: str, data: Path, epochs: int, root: Path, *flags: str) -> dict:
    summary_file = root / f"summary-{len(list(root.glob('summary-*.json')))}.json"
    gate_off = ["--set", "evaluation.max_loss=100", "--set", "evaluation.min_accuracy=0"]
    epochs_all = ["--epochs", str(epochs), "--set", "training.early_stopping.enabled=false"]
    command = run_command(recipe, root, summary_file, "--data", str(data), *epochs_all, *gate_off, *flags)
    seconds, _ = timed(command)
    summary = json.loads(summary_file.read_text())
    return {"wall": seconds, "summary": summary}


def measure(recipe: str, rows: int, epochs: int, cache_dir: Path, scratch: Path, beam_mode: str = "auto") -> dict:
    data = scaled_penguins(rows, cache_dir) if recipe == "penguins" else DIGITS_TRAIN
    root = scratch / f"{recipe}-{rows}"
    root.mkdir()
    plain = plain_run(recipe, data, epochs)
    beam = beam_flags(beam_mode)
    first = pipeline_run(recipe, data, epochs, root, *beam)
    rerun = pipeline_run(recipe, data, epochs, root, *beam)
    forced = pipeline_run(recipe, data, epochs, root, *beam, "--force")
    return {"rows": rows, "plain": plain, "pipeline": first, "rerun": rerun, "forced": forced}


def component(components: dict, name: str) -> dict:
    """A component's record; "ExampleGen" is CsvExampleGen or ImageExampleGen."""
    return components.get(name) or components.get(f"Csv{name}") or components.get(f"Image{name}") or {}


def component_seconds(components: dict, name: str) -> float:
    return component(components, name).get("seconds", 0)


def component_cell(components: dict, name: str) -> str:
    """Seconds, and the cores in use: CPU seconds over wall seconds."""
    found = component(components, name)
    seconds, cpu = found.get("seconds", 0), found.get("cpu_seconds")
    return f"{seconds:.1f} ({cpu / seconds:.2f})" if cpu is not None and seconds > 0 else f"{seconds:.1f}"


def table(results: list[dict]) -> str:
    head = [
        "rows",
        "plain Keras s",
        "pipeline s",
        "ratio",
        "fixed overhead s",
        "re-run s (up to date)",
        "forced re-run s",
        "forced re-run cached",
        "Beam",
        *(f"{name} s (cores)" for name in COMPONENTS),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        plain, pipeline, rerun = r["plain"]["wall"], r["pipeline"]["wall"], r["rerun"]["wall"]
        components = r["pipeline"]["summary"]["components"]
        forced_states = r["forced"]["summary"]["components"].values()
        cached = sum(state["state"] == "CACHED" for state in forced_states)
        cells = [
            f"{r['rows']:,}",
            f"{plain:.1f}",
            f"{pipeline:.1f}",
            f"{pipeline / plain:.2f}",
            f"{pipeline - plain:.1f}",
            f"{rerun:.1f}",
            f"{r['forced']['wall']:.1f}",
            f"{cached}/{len(forced_states)}",
            beam_text(r["pipeline"]["summary"].get("beam_args") or []),
            *(component_cell(components, name) for name in COMPONENTS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def beam_text(beam_args: list[str]) -> str:
    """Where the run's Beam components ran, from the Beam args its summary records."""
    return "worker processes" if set(MULTI_PROCESS_BEAM_ARGS) <= set(beam_args) else "in process"


GROWTH_FROM = 100_000


def growth_table(results: list[dict]) -> str:
    """Each component's seconds per 100,000 rows at every size from 100,000 rows on."""
    sized = [r for r in results if r["rows"] >= GROWTH_FROM]
    if not sized:
        return ""
    head = ["component", *(f"s per 100k rows at {r['rows']:,}" for r in sized)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in COMPONENTS:
        cells = [
            f"{component_seconds(r['pipeline']['summary']['components'], name) * GROWTH_FROM / r['rows']:.2f}"
            for r in sized
        ]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(PLAIN_SCRIPTS), default="penguins")
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 100_000, 1_000_000],
        help="penguins rows per run (the image recipe runs once, on its 1,437 images)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "data")
    parser.add_argument("--beam-mode", choices=["auto", "in_process", "multi_process"], default="auto")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    args = parser.parse_args(argv)
    print(
        f"pipeline (BeamDagRunner, Beam mode: {args.beam_mode}) vs plain Keras, {args.recipe} network, "
        f"{args.epochs} epochs, {os.cpu_count()} cores",
        flush=True,
    )
    sizes = args.rows if args.recipe == "penguins" else [sum(1 for _ in DIGITS_TRAIN.glob("*/*.png"))]
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for rows in sizes:
            results.append(measure(args.recipe, rows, args.epochs, args.cache_dir, Path(scratch), args.beam_mode))
            print(table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    growth = growth_table(results)
    if growth:
        print()
        print(growth)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
