import logging
import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO
from pipeline.commands.cli import EXIT_FAILED, main
from pipeline.orchestration.local_runner import LOCK_FILE, RunInProgress, exclusive_run
from pipeline.orchestration.progress import ComponentProgress


def test_progress_handler_turns_both_runners_log_lines_into_events():
    events = []
    handler = ComponentProgress(lambda node, event, seconds: events.append((node, event, seconds)))
    logger = logging.getLogger("test_progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("node %s is running.", "Trainer")  # BeamDagRunner's wording
        logger.info("node %s is finished.", "Trainer")
        logger.info("Component %s is running.", "Pusher")  # LocalDagRunner's wording
        logger.info("Component %s is finished.", "Pusher")
        logger.info("Component %s is skipped.", "Evaluator")
        logger.info("unrelated %s", "message")
    finally:
        logger.removeHandler(handler)
    assert [(node, event) for node, event, _ in events] == [
        ("Trainer", "started"),
        ("Trainer", "finished"),
        ("Pusher", "started"),
        ("Pusher", "finished"),
    ]
    assert all(seconds >= 0 for _, _, seconds in events)


def test_progress_handler_counts_a_components_cpu_seconds_and_its_ended_workers():
    """Two cores busy for a second in child processes count as about two CPU seconds: what
    bench/overhead.py divides by the wall seconds for a component's cores in use."""
    handler = ComponentProgress(lambda node, event, seconds: None)
    spin = "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass"
    handler.emit(logging.LogRecord("absl", logging.INFO, "", 0, "node %s is running.", ("Transform",), None))
    workers = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    for worker in workers:
        worker.wait()
    handler.emit(logging.LogRecord("absl", logging.INFO, "", 0, "node %s is finished.", ("Transform",), None))
    assert 2.0 <= handler.cpu_seconds["Transform"] < 3.5


def test_a_second_run_on_the_same_pipeline_root_is_refused_until_the_first_ends(tmp_path, capsys):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pipeline.orchestration.local_runner import exclusive_run\n"
            "with exclusive_run(sys.argv[1], 'first'):\n    print('locked', flush=True)\n    time.sleep(600)\n",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunInProgress, match=f"a run of pipeline second is already in progress \\(pid {holder.pid}"):
            with exclusive_run(str(tmp_path), "second"):
                pass
        code = main(
            [
                "run",
                "--config",
                str(REPO / "configs" / "penguins.yaml"),
                "--pipeline-root",
                str(tmp_path),
                "--serving-dir",
                str(tmp_path / "serving"),
            ]
        )
        assert code == EXIT_FAILED
        assert "already in progress" in capsys.readouterr().err
        assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE]  # the refused run wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)  # a killed run releases the lock with its process
        holder.wait()
    with exclusive_run(str(tmp_path), "third"):
        assert f"pid {os.getpid()}" in (tmp_path / LOCK_FILE).read_text()
