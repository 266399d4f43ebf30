"""A run's per-component progress as the local runners report it: which node started and finished,
after how long, and with how much CPU. The terminal's display of it is commands/progress.py's."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Callable

ProgressCallback = Callable[[str, str, float], None]  # (component id, "started"|"finished", seconds)


# What TFX 1.16's runners log around each node: BeamDagRunner says "node %s is running.",
# LocalDagRunner "Component %s is running."; both are absl (Python logging) records.
_NODE_EVENT = re.compile(r"^(?:node|Component) %s is (running|finished)\.$")


class ComponentProgress(logging.Handler):
    """Turns the runners' per-node log records into start/finish callbacks with elapsed time, and
    keeps each finished node's CPU seconds (`cpu_seconds`).

    CPU seconds are this process's, plus those of its child processes that have ended (Beam's
    multi-processing workers end with their component): over a component's wall seconds, how
    many of the machine's cores it kept busy."""

    def __init__(self, callback: ProgressCallback):
        super().__init__(level=logging.INFO)
        self._callback = callback
        self._started: dict[str, tuple[float, float]] = {}
        self.cpu_seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = _NODE_EVENT.match(str(record.msg))
        if not match or not record.args:
            return
        node_id = str(record.args[0])
        if match.group(1) == "running":
            self._started[node_id] = (time.monotonic(), process_cpu_seconds())
            self._callback(node_id, "started", 0.0)
        else:
            wall, cpu = self._started.pop(node_id, (time.monotonic(), process_cpu_seconds()))
            self.cpu_seconds[node_id] = round(process_cpu_seconds() - cpu, 2)
            self._callback(node_id, "finished", time.monotonic() - wall)


def process_cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its ended child processes."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
