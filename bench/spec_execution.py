"""A local `pipeline run` vs executing the same recipe's compiled Kubeflow spec here, side by side.

    .venv/bin/python bench/spec_execution.py                    # penguins, the recipe as shipped
    .venv/bin/python bench/spec_execution.py --recipe breast_cancer

Both are one command, timed from start to finish as new processes, on this machine:
`python -m pipeline run --config configs/<recipe>.yaml` (BeamDagRunner, every component in one
process, artifacts on local disk) and `python -m pipeline run --spec pipeline.json` (each task its
own process started as KFP starts the pod's command, artifacts on s3:// through an S3-compatible
server started here on 127.0.0.1, as open-source KFP keeps them in MinIO). Compiling is not
timed. Prints the seconds, the ratio spec/local, and each component's seconds on both sides.
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

from bench import s3_server  # noqa: E402
from bench.recipe_runs import run_command  # noqa: E402

QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="penguins")
    args = parser.parse_args()
    recipe = REPO / "configs" / f"{args.recipe}.yaml"
    with tempfile.TemporaryDirectory(prefix="spec-bench-") as scratch:
        work = Path(scratch)
        local_summary, spec_summary, spec = work / "local.json", work / "spec.json", work / "pipeline.json"
        pipeline = [sys.executable, "-m", "pipeline"]
        local = timed(run_command(args.recipe, work / "local", local_summary), QUIET)
        server = s3_server.start(work / "moto.log")
        server.bucket("bench")
        try:
            compile_flags = ["--image", "keras-tfx:bench", "--config", str(recipe), "--output", str(spec)]
            store = ["--pipeline-root", f"s3://bench/{args.recipe}", "--set", f"kubeflow.image_workdir={REPO}"]
            timed([*pipeline, "compile", *compile_flags, *store], QUIET)
            spec_run = ["run", "--spec", str(spec), "--workdir", str(work / "spec")]
            executed = timed([*pipeline, *spec_run, "--summary-json", str(spec_summary)], {**QUIET, **server.env})
        finally:
            server.stop()
        local_components = json.loads(local_summary.read_text())["components"]
        spec_components = json.loads(spec_summary.read_text())["components"]
    print(f"| {args.recipe} | local `pipeline run` | `pipeline run --spec` (s3://) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| wall seconds | {local:.1f} | {executed:.1f} | {executed / local:.2f}x |")
    for name in spec_components:
        mine = local_components.get(name, {}).get("seconds")
        theirs = spec_components[name]["seconds"]
        print(
            f"| {name} | {mine if mine is not None else '-'} | {theirs} | {f'{theirs / mine:.1f}x' if mine else '-'} |"
        )


if __name__ == "__main__":
    main()
