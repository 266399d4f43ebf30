"""Preflight: what `run` and `compile` do before TFX, Beam or TensorFlow start, in one place.

`prepare` loads the recipe (config/recipe.py), answers at once when a local run is up to date,
and otherwise resolves it (config/resolve.py: the data read once, the gate's default bounds set)
and checks the files it names. A local run whose inputs are those of a completed run
(`inputs_fingerprint`: the recipe, the data files, the code, the model in production) is up to
date: `prepare` says which run it matches, before the data is read or TensorFlow imported, and
nothing runs unless forced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.code_version import code_fingerprint, model_code_fingerprint, tree_fingerprint
from components.serving_dir import newest_version
from components.settings import RunConfig
from pipeline.config.recipe import PROJECT_ROOT, load, recipe_or_default
from pipeline.config.resolve import Resolved, absolute, check_files, local_data_path, location, resolve
from pipeline.runs.summary import SUMMARY_FILE, RunSummary, write_json

UP_TO_DATE_FILE = "up_to_date.json"  # in the pipeline root: completed runs by their inputs' fingerprint


@dataclass(frozen=True)
class UpToDate:
    """The completed run whose inputs a command's are."""

    run_id: str
    summary_file: str


@dataclass(frozen=True)
class Prepared:
    """A command's config: resolved, or (`up_to_date`) matched to a completed run instead."""

    recipe: RunConfig  # as loaded: what is fingerprinted
    resolved: Resolved | None = None  # None when up to date (the data was not read)
    up_to_date: UpToDate | None = None

    @property
    def config(self) -> RunConfig:
        """The resolved config; an up-to-date command resolved none."""
        if self.resolved is None:
            raise ValueError("an up-to-date command resolved no config")
        return self.resolved.config


def prepare(config_file: str | None, overrides: dict[str, Any], force: bool = False) -> Prepared:
    """A config ready to run or compile: checked, its data read once, its gate's bounds set.
    A local run that is up to date (and not forced) is returned as such, its data not read."""
    recipe = load(recipe_or_default(config_file, overrides), overrides)
    local = recipe.runner.kind != "kubeflow"
    match = up_to_date(recipe) if local and not force else None
    if match:
        return Prepared(recipe, up_to_date=match)
    resolved = resolve(recipe)
    if local:
        check_files(resolved.config)
    return Prepared(recipe, resolved)


def inputs_fingerprint(recipe: RunConfig) -> str | None:
    """What decides a local run's outcome, without reading the data: the recipe, each input
    file's path, size and modification time (as TFX's ExampleGen fingerprints its input files),
    this project's code, a user's model code and the locked packages, and the model in
    production (a run that pushed changed it; a push or rollback since then means the gate has
    another bar). None when an input is not on this machine (gs://, s3://): such a run is never
    taken as up to date."""
    _, output = location(recipe)
    data = local_data_path(recipe)
    inputs = [recipe.data.schema, recipe.model.transfer.base_model]
    if data is None or any("://" in path for path in (*inputs, output.serving_dir, output.pipeline_root)):
        return None
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(recipe), sort_keys=True, default=str).encode())
    for path in [data, *(absolute(path, os.getcwd()) for path in inputs if path)]:
        for file, size, modified in _file_stats(path):
            digest.update(f"{file}\0{size}\0{modified}\n".encode())
    wiring = tree_fingerprint(Path(__file__).resolve().parents[1])  # pipeline/: the wiring and the commands
    name = recipe.model.name
    digest.update(f"{code_fingerprint()} {wiring} {model_code_fingerprint(name)}".encode())
    lock = PROJECT_ROOT / "requirements.lock"  # the packages `make` installs: an upgrade is a change
    digest.update(lock.read_bytes() if lock.is_file() else b"no lock")
    serving = output.serving_dir
    production = newest_version(os.listdir(serving)) if os.path.isdir(serving) else None
    digest.update(f"in production: {production}".encode())
    return digest.hexdigest()


def up_to_date(recipe: RunConfig) -> UpToDate | None:
    """A completed run of this pipeline root whose inputs are this recipe's, if there is one."""
    _, output = location(recipe)
    match = _completed_runs(output.pipeline_root).get(inputs_fingerprint(recipe) or "")
    if not match or not os.path.isfile(match["summary_file"]):
        return None
    return UpToDate(match["run_id"], match["summary_file"])


def record_completed_run(prepared: Prepared, summary: RunSummary) -> None:
    """After a local run: its inputs' fingerprint, taken now that the run has pushed (or not).
    One entry per fingerprint, the newest run's, at most `_REMEMBERED`."""
    fingerprint = inputs_fingerprint(prepared.recipe)
    if fingerprint is None or os.path.basename(summary.summary_file or "") != SUMMARY_FILE:
        return
    root = prepared.config.output.pipeline_root
    runs = _completed_runs(root)
    runs.pop(fingerprint, None)
    runs[fingerprint] = {"run_id": summary.run_id, "summary_file": summary.summary_file}
    write_json({"runs": dict(list(runs.items())[-_REMEMBERED:])}, os.path.join(root, UP_TO_DATE_FILE))


_REMEMBERED = 100


def _completed_runs(pipeline_root: str) -> dict[str, dict[str, str]]:
    """Inputs' fingerprint -> the newest completed run with those inputs, oldest first."""
    try:
        with open(os.path.join(pipeline_root, UP_TO_DATE_FILE), encoding="utf-8") as f:
            return dict(json.load(f)["runs"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _file_stats(path: str) -> list[tuple[str, int, int]]:
    """(path, size, mtime in ns) of a file, or of every file under a folder; [] for nothing there."""
    if os.path.isfile(path):
        stat = os.stat(path)
        return [(path, stat.st_size, stat.st_mtime_ns)]
    stats = []
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        for name in sorted(files):
            stat = os.stat(os.path.join(folder, name))
            stats.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return stats
