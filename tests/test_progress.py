"""Component progress on the terminal: plain lines in logs, a live status line on a TTY."""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import sys
import time
from pathlib import Path

import pytest

from pipeline.commands.progress import StatusLineStream, component_progress
from pipeline.orchestration.progress import ComponentProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_tty_prints_one_plain_line_per_event():
    stream = io.StringIO()
    with component_progress(stream) as progress:
        progress("Transform", "started", 0.0)
        progress("Transform", "finished", 12.34)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].endswith("] Transform started") and lines[1].endswith("] Transform finished in 12.3s")


def test_on_a_tty_the_status_line_names_the_running_component_and_other_output_goes_above_it():
    terminal = FakeTerminal()
    stdout = sys.stdout
    with component_progress(terminal) as progress:
        assert sys.stdout is not stdout  # Keras' prints go through the status line's stream
        progress("Trainer", "started", 0.0)
        time.sleep(1.2)  # at least two redraws
        print("Epoch 1/5")
        time.sleep(0.6)
        progress("Trainer", "finished", 1.8)
    assert sys.stdout is stdout
    text = terminal.getvalue()
    assert "running: Trainer 1s" in text
    # the epoch line starts on a cleared line and is whole; the status is redrawn after it
    assert "\r\033[KEpoch 1/5\n" in text
    assert text.index("Epoch 1/5") < text.rindex("running: Trainer")
    assert text.endswith("\r\033[K")  # the status line is cleared at the end
    assert "] Trainer finished in 1.8s\n" in text


def test_a_line_written_in_pieces_is_not_interrupted_by_the_status():
    terminal = FakeTerminal()
    stream = StatusLineStream(terminal)
    stream.show("status")
    stream.write("7/7 - 0s")
    stream.show("status 2")  # mid-line: not drawn
    stream.write(" - loss: 0.1\n")
    assert "7/7 - 0s - loss: 0.1\nstatus 2" in terminal.getvalue()


# The component lines depend on these log statements of TFX 1.16's runners: TFX offers no
# per-node callback to BeamDagRunner or LocalDagRunner (their run() takes the pipeline alone),
# so pipeline/commands/progress.py matches the records. An upgrade that rewords them fails here.
RUNNER_SOURCES = {
    "tfx.orchestration.beam.beam_dag_runner": ("node %s is running.", "node %s is finished."),
    "tfx.orchestration.local.local_dag_runner": ("Component %s is running.", "Component %s is finished."),
}


@pytest.mark.parametrize("module", sorted(RUNNER_SOURCES))
def test_the_tfx_runner_log_lines_the_progress_depends_on_are_still_logged(module):
    source = Path(importlib.util.find_spec(module).origin).read_text()
    logged = re.findall(r"logging\.info\(\s*'([^']*is (?:running|finished)\.)'", source)
    assert tuple(logged) == RUNNER_SOURCES[module], f"{module} now logs {logged}: update pipeline/commands/progress.py"
    events = []
    handler = ComponentProgress(lambda node, event, seconds: events.append((node, event)))
    for message in logged:
        handler.emit(logging.LogRecord("absl", logging.INFO, module, 0, message, ("Trainer",), None))
    assert events == [("Trainer", "started"), ("Trainer", "finished")]
