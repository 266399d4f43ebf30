"""Pusher: the staged, atomic push and the serving dir's versions (push.py), and `predict`
on a pushed model (predict.py).

The rule for what a version is lives here, without TFX or TensorFlow, so the check before a
run (pipeline/preflight.py) can read a local serving dir as fast as the Pusher does."""

from __future__ import annotations

from typing import Iterable


def newest_version(names: Iterable[str]) -> str | None:
    """The newest model version among a serving dir's entries: the numbered dirs this Pusher
    (and TensorFlow Serving) use; staging dirs and other files are not versions."""
    versions = [name.rstrip("/") for name in names]
    versions = [name for name in versions if name.isdigit()]
    return max(versions, key=int) if versions else None
