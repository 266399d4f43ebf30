"""Per-component progress of a run on the terminal.

Not a TTY (CI logs, pipes, files): one plain line as each component starts and finishes. On a
TTY, a status line at the bottom shows the running component and its elapsed time, redrawn
every half second; everything else written to stdout meanwhile (Keras' epoch lines from the
Trainer) is printed above it, so the two never run into each other.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator, TextIO

from pipeline.orchestration.progress import ProgressCallback

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
