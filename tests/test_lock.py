"""requirements.lock pins the whole venv, and still satisfies setup.py and constraints.txt."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PROJECT = "keras-tfx-pipeline"
# What a venv has besides the lock: pip comes with the venv, the project is installed after.
NOT_LOCKED = {"pip", PROJECT}


def locked() -> dict[str, str]:
    text = (REPO / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\\n    --hash=sha256:[0-9a-f]{64}$", text, re.M)
    entries = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert len(pins) == len(entries), "every lock entry is name==version with one sha256 hash"
    return {canonicalize_name(name): version for name, version in pins}


def test_the_venv_holds_exactly_the_locked_packages_and_versions():
    # Only the venv's site-packages: once imported, setuptools puts its vendored copies (with
    # their own .dist-info) on sys.path too.
    site_packages = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions(path=site_packages)
    }
    for name in NOT_LOCKED:
        installed.pop(name, None)
    lock = locked()
    assert {n: v for n, v in installed.items() if lock.get(n) != v} == {}, (
        "installed but not locked (or at another version)"
    )
    assert sorted(set(lock) - set(installed)) == [], "locked but not installed"


def test_the_lock_satisfies_every_requirement_of_the_project_and_its_extras():
    lock = locked()
    requirements = [Requirement(text) for text in metadata.requires(PROJECT)]
    assert {"data", "test", "kubeflow"} <= set(metadata.metadata(PROJECT).get_all("Provides-Extra"))
    unmet = [
        str(r)
        for r in requirements
        if canonicalize_name(r.name) not in lock or not r.specifier.contains(lock[canonicalize_name(r.name)])
    ]
    assert unmet == [], "run `make lock`: setup.py asks for more than the lock holds"


def test_the_lock_keeps_every_pin_of_constraints_txt():
    lock = locked()
    pins = [
        Requirement(line.split("#")[0])
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert {"tfx", "apache-beam", "tensorflow"} <= {p.name for p in pins}
    assert [str(p) for p in pins if not p.specifier.contains(lock[canonicalize_name(p.name)])] == []


def test_tensorboards_own_program_runs_with_the_locked_setuptools():
    """`tensorboard --logdir` (for the Trainer's logs) imports pkg_resources, gone in setuptools 82."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "tensorboard"), "--version_tb"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == locked()["tensorboard"]
