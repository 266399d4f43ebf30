"""Write requirements.lock: every package of the project's venv, pinned with its file's hash.

    python3.11 tools/lock.py          (what `make lock` runs)

pip-tools and uv cannot resolve this project: TFX 1.16's wheels declare Python < 3.11, and
neither has an equivalent of pip's `--ignore-requires-python` (pip-tools 7.6 passes
`ignore_requires_python=False` to pip's finder). So the lock comes from pip's own resolver, the
one `make venv` installed with before the lock: a dry run in a throw-away venv of
`pip install '.[data,test,kubeflow]' -c constraints.txt` that writes its installation report
(`--report`, pip >= 22.2), turned here into `name==version --hash=sha256:...` lines.

The hash is of the exact file pip chose for this interpreter and platform (CPython 3.11, Linux
x86_64: the dev machines, CI and the Kubeflow image). `make venv` installs the lock with
`--require-hashes --no-deps`, so a venv built on any day has the same files, whatever PyPI
publishes later.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
EXTRAS = "data,test,kubeflow"


def resolve(workdir: Path) -> dict:
    """pip's installation report for the project with every extra, from a fresh venv."""
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    report = workdir / "report.json"
    env = {**os.environ, "PIP_IGNORE_REQUIRES_PYTHON": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            f"{ROOT}[{EXTRAS}]",
            "-c",
            str(ROOT / "constraints.txt"),
        ],
        check=True,
        env=env,
    )
    return json.loads(report.read_text())


def lock_lines(report: dict) -> list[str]:
    """One requirement per resolved distribution, sorted by name; the project itself left out."""
    lines = []
    for item in report["install"]:
        archive = item["download_info"].get("archive_info")
        if archive is None:  # the project's own directory
            continue
        name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
        sha256 = archive["hashes"]["sha256"]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha256}")
    return sorted(lines)


def header(report: dict) -> str:
    env = report["environment"]
    return (
        "# Every package of the project's venv, pinned with the hash of its file. Generated: do not edit.\n"
        "# Regenerate with `make lock` after changing setup.py or constraints.txt (see README).\n"
        f"# Resolved by pip {report['pip_version']} for {env['implementation_name']} "
        f"{env['python_version']}, {env['sys_platform']} {env['platform_machine']}, "
        f"extras [{EXTRAS}].\n"
    )


# The packages that declare Python < 3.11 and are taken on 3.11 on purpose (see README): TFX 1.16
# and its libraries. Any other package that declares no 3.11 support is a resolver slip caused by
# PIP_IGNORE_REQUIRES_PYTHON, which would install a release that cannot run here.
IGNORED_REQUIRES_PYTHON = {
    "tfx",
    "tfx-bsl",
    "ml-metadata",
    "ml-pipelines-sdk",
    "tensorflow-data-validation",
    "tensorflow-transform",
    "tensorflow-model-analysis",
    "struct2tensor",
    "tensorflow-serving-api",
    "tensorflow-hub",
    "tensorflowjs",
}


def unsupported_python(report: dict) -> list[str]:
    """`name==version (Requires-Python)` of each resolved package that excludes this Python,
    beyond IGNORED_REQUIRES_PYTHON."""
    from pip._vendor.packaging.specifiers import SpecifierSet

    python = report["environment"]["python_full_version"]
    found = []
    for item in report["install"]:
        metadata = item["metadata"]
        requires = metadata.get("requires_python")
        name = metadata["name"].lower()
        if requires and name not in IGNORED_REQUIRES_PYTHON and python not in SpecifierSet(requires):
            found.append(f"{name}=={metadata['version']} (Requires-Python {requires})")
    return found


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lock-") as workdir:
        report = resolve(Path(workdir))
    slips = unsupported_python(report)
    if slips:
        sys.exit(
            "these releases do not support this Python; pin an older one in constraints.txt:\n  " + "\n  ".join(slips)
        )
    lines = lock_lines(report)
    LOCK.write_text(header(report) + "\n".join(lines) + "\n")
    print(f"{LOCK.name}: {len(lines)} packages")


if __name__ == "__main__":
    main()
