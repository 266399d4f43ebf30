"""A serving dir's model versions: the one rule of what a version is, read by the Pusher (which
writes them), the Evaluator (whose baseline is the newest), `predict` and the check before a run.
No TFX or TensorFlow at import, so that check reads a local serving dir at once."""

from __future__ import annotations

from typing import Iterable


def newest_version(names: Iterable[str]) -> str | None:
    """The newest model version among a serving dir's entries: the numbered dirs this Pusher
    (and TensorFlow Serving) use; staging dirs and other files are not versions."""
    versions = [name.rstrip("/") for name in names]
    versions = [name for name in versions if name.isdigit()]
    return max(versions, key=int) if versions else None


def latest_version(base_directory: str) -> str | None:
    """The newest model version under a serving dir (local, gs:// or s3://): the model in
    production. None when nothing was pushed there yet (see `newest_version`)."""
    from tfx.dsl.io import fileio

    if not fileio.isdir(base_directory):
        return None
    newest = newest_version(fileio.listdir(base_directory))
    return f"{base_directory.rstrip('/')}/{newest}" if newest else None
