"""One pipeline run of a shipped recipe, made once and reused: the benchmarks' shared input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_command(recipe: str, root: Path, summary_file: Path, *flags: str) -> list[str]:
    """`pipeline run` of a shipped recipe with `flags`, its outputs under `root` (pipeline/, serving/)."""
    config = str(REPO / "configs" / f"{recipe}.yaml")
    outputs = ["--pipeline-root", str(root / "pipeline"), "--serving-dir", str(root / "serving")]
    command = [sys.executable, "-m", "pipeline", "run", "--config", config, *flags, *outputs]
    return [*command, "--summary-json", str(summary_file)]


def cached_run(recipe: str, summary_file: Path, root: Path, *flags: str) -> dict:
    """The run summary in `summary_file`; if it is missing, runs `recipe` (with `flags`) under
    `root` and writes it there first."""
    if not summary_file.exists():
        subprocess.run(run_command(recipe, root, summary_file, *flags), cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return json.loads(summary_file.read_text())
