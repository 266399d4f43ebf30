"""One pipeline run of a shipped recipe, made once and reused: the benchmarks' shared input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cached_run(recipe: str, summary_file: Path, root: Path, *flags: str) -> dict:
    """The run summary in `summary_file`; if it is missing, runs `recipe` (with `flags`) under
    `root` (pipeline/ and serving/) and writes it there first."""
    if not summary_file.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline",
                "run",
                "--config",
                str(REPO / "configs" / f"{recipe}.yaml"),
                *flags,
                "--pipeline-root",
                str(root / "pipeline"),
                "--serving-dir",
                str(root / "serving"),
                "--summary-json",
                str(summary_file),
            ],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return json.loads(summary_file.read_text())
