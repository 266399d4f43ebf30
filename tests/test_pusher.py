"""The Pusher's copy: a whole new version or nothing, and the versions already pushed untouched."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.pusher import push as pusher
from conftest import REPO, tree_digest


def saved_model(root: Path, content: str = "weights", files: int = 5) -> Path:
    """A directory shaped like a SavedModel (variables/, assets/, saved_model.pb)."""
    (root / "variables").mkdir(parents=True)
    (root / "assets").mkdir()
    for i in range(files):
        (root / "variables" / f"variables.data-{i:05d}").write_text(f"{content} {i}" * 1000)
    (root / "assets" / "vocab").write_text("a\nb\n")
    (root / "saved_model.pb").write_text(f"graph of {content}")
    return root


@pytest.fixture
def serving_with_one_version(tmp_path) -> tuple[Path, dict[str, str]]:
    serving = tmp_path / "serving"
    first = pusher.push(str(saved_model(tmp_path / "first", "first")), str(serving))
    return serving, tree_digest(Path(first))


def test_a_push_writes_the_whole_model_under_a_new_version(tmp_path, serving_with_one_version):
    serving, first = serving_with_one_version
    model = saved_model(tmp_path / "second", "second")
    pushed = Path(pusher.push(str(model), str(serving)))
    assert tree_digest(pushed) == tree_digest(model)
    older = [p for p in serving.iterdir() if p != pushed]  # no staging dir is left beside the two versions
    assert len(older) == 1 and older[0].name.isdigit() and tree_digest(older[0]) == first


def test_two_pushes_in_one_second_get_two_versions(tmp_path):
    serving = tmp_path / "serving"
    versions = {pusher.push(str(saved_model(tmp_path / f"m{i}", f"m{i}")), str(serving)) for i in range(3)}
    assert len(versions) == 3 and all(Path(v, "saved_model.pb").is_file() for v in versions)


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EACCES])
def test_a_failed_copy_is_reported_and_leaves_no_partial_version(
    tmp_path, serving_with_one_version, monkeypatch, failure
):
    serving, first = serving_with_one_version
    copied, copy = [], shutil.copy2

    def copy_then_fail(source, target, **kwargs):
        copied.append(copy(source, target))
        if len(copied) == 3:
            raise OSError(failure, os.strerror(failure))
        return target

    monkeypatch.setattr(shutil, "copy2", copy_then_fail)
    message = (
        f"{re.escape(str(serving))}: cannot push the model: .*{os.strerror(failure)}"
        ".*versions already there are untouched"
    )
    with pytest.raises(pusher.PushError, match=message):
        pusher.push(str(saved_model(tmp_path / "second", "second")), str(serving))
    (version,) = serving.iterdir()  # no second version, no staging dir
    assert tree_digest(version) == first


def test_a_push_killed_mid_copy_leaves_no_version_and_the_next_push_cleans_up(tmp_path, serving_with_one_version):
    serving, first = serving_with_one_version
    model = saved_model(tmp_path / "second", "second", files=200)
    slow_push = (
        "import shutil, sys, time\n"
        "from components.pusher import push as pusher\n"
        "copy = shutil.copy2\n"
        "def slow(*args, **kwargs):\n"
        "    time.sleep(0.05)\n"
        "    return copy(*args, **kwargs)\n"
        "shutil.copy2 = slow\n"
        "pusher.push(sys.argv[1], sys.argv[2])\n"
    )
    process = subprocess.Popen([sys.executable, "-c", slow_push, str(model), str(serving)], cwd=REPO)
    deadline = time.monotonic() + 60
    while not any(
        p.name.startswith(pusher.STAGING_PREFIX) and any(p.rglob("variables.data-*")) for p in serving.iterdir()
    ):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    versions = [p for p in serving.iterdir() if not p.name.startswith(pusher.STAGING_PREFIX)]
    assert len(versions) == 1 and tree_digest(versions[0]) == first  # nothing half-written is a version

    pushed = Path(pusher.push(str(model), str(serving)))
    assert tree_digest(pushed) == tree_digest(model)
    assert sorted(p.name for p in serving.iterdir()) == sorted([versions[0].name, pushed.name])
