"""Per-component progress of a run on the terminal.

Not a TTY (CI logs, pipes, files): one plain line as each component starts and finishes. On a
TTY, a status line at the bottom shows the running component and its elapsed time, redrawn
every half second; everything else written to stdout meanwhile (Keras' epoch lines from the
Trainer) is printed above it, so the two never run into each other.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import time
from typing import Callable, Iterator, TextIO

ProgressCallback = Callable[[str, str, float], None]  # (component id, "started"|"finished", seconds)
_SPINNER = "|/-\\"
_CLEAR_LINE = "\r\033[K"


def plain_progress(stream: TextIO, started: float) -> ProgressCallback:
    def progress(node_id: str, event: str, seconds: float) -> None:
        took = f" in {seconds:.1f}s" if event == "finished" else ""
        stream.write(f"[{time.monotonic() - started:6.1f}s] {node_id} {event}{took}\n")
        stream.flush()

    return progress


class StatusLineStream:
    """Stands in for sys.stdout on a TTY: other output goes above the status line."""

    def __init__(self, terminal: TextIO):
        self._terminal = terminal
        self._lock = threading.Lock()
        self._status = ""
        self._at_line_start = True

    def write(self, text: str) -> int:
        with self._lock:
            if self._status and self._at_line_start:
                self._terminal.write(_CLEAR_LINE)
            self._terminal.write(text)
            if text:
                self._at_line_start = text.endswith("\n")
            if self._status and self._at_line_start:
                self._terminal.write(self._status)
            self._terminal.flush()
        return len(text)

    def show(self, status: str) -> None:
        """Replaces the status line (drawn only when no other output is mid-line)."""
        with self._lock:
            self._status = status
            if self._at_line_start:
                self._terminal.write(_CLEAR_LINE + status)
                self._terminal.flush()

    def flush(self) -> None:
        self._terminal.flush()

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str):
        return getattr(self._terminal, name)


@contextlib.contextmanager
def component_progress(stream: TextIO | None = None) -> Iterator[ProgressCallback]:
    """The progress callback for `run_pipeline`: a live status line on a TTY, plain lines otherwise."""
    terminal = stream or sys.stdout
    started = time.monotonic()
    if not terminal.isatty():
        yield plain_progress(terminal, started)
        return
    status = StatusLineStream(terminal)
    lines = plain_progress(status, started)
    running: dict[str, float] = {}
    stop = threading.Event()

    def progress(node_id: str, event: str, seconds: float) -> None:
        if event == "started":
            running[node_id] = time.monotonic()
        else:
            running.pop(node_id, None)
        lines(node_id, event, seconds)

    def redraw() -> None:
        tick = 0
        while not stop.wait(0.5):
            tick += 1
            now = time.monotonic()
            what = ", ".join(f"{name} {now - since:.0f}s" for name, since in running.items()) or "between components"
            status.show(f"{_SPINNER[tick % len(_SPINNER)]} [{now - started:6.1f}s] running: {what}")

    previous_stdout = sys.stdout
    sys.stdout = status
    thread = threading.Thread(target=redraw, daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()
        status.show("")
        sys.stdout = previous_stdout


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
