"""Shared fixtures. Importing `components` first pins Keras 2 before TensorFlow loads."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import components  # noqa: F401
from pipeline.commands.cli import main

REPO = Path(__file__).resolve().parent.parent
# The nodes of the CSV pipeline, as runs and compiled specs name them.
CSV_PIPELINE_NODES = frozenset(
    {"CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer", "Evaluator", "Pusher"}
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def same_seeds_whatever_ran_before():
    """Every test starts from the same Python, NumPy and TensorFlow seeds, so what it computes
    does not depend on which tests its worker ran before it (pytest-randomly shuffles the order
    and reseeds Python and NumPy per test, but not TensorFlow)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Six rows with a string feature, an int and a float feature, a missing cell and a label."""
    return write_csv(
        tmp_path / "tiny.csv",
        ["size", "count", "color", "label"],
        [
            [1.0, 3, "red", "a"],
            [2.0, 4, "blue", "b"],
            ["", 5, "red", "a"],
            [4.0, 6, "", "b"],
            [5.0, 7, "green", "a"],
            [6.0, 8, "red", "b"],
        ],
    )


@dataclass
class Run:
    exit_code: int
    summary: dict
    serving_dir: Path
    printed: str


def run_cli(root: Path, *args: str) -> Run:
    summary_file = root / f"summary-{len(list(root.glob('summary-*.json')))}.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "run",
                *args,
                "--pipeline-root",
                str(root / "pipeline"),
                "--serving-dir",
                str(root / "serving"),
                "--summary-json",
                str(summary_file),
            ]
        )
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return Run(code, summary, root / "serving", printed.getvalue())


def shared_run(tmp_path_factory, name: str, build) -> Run:
    """`build(root)` once for all xdist workers: the first worker to get here runs it under a
    file lock and records it; the others wait and read that record. For runs the tests only read."""
    import fcntl

    session_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        session_dir = session_dir.parent  # popen-gwN's parent: this session's dir, shared by the workers
    root = session_dir / name
    record = root.with_suffix(".json")
    with open(root.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            root.mkdir(parents=True, exist_ok=True)
            run = build(root)
            record.write_text(json.dumps({**run.__dict__, "serving_dir": str(run.serving_dir)}))
    stored = json.loads(record.read_text())
    return Run(**{**stored, "serving_dir": Path(stored["serving_dir"])})


# What a fast answer must not wait for (bench/fast_answers.py times it).
HEAVY_MODULES = ("tensorflow", "tfx", "apache_beam", "keras", "tf_keras", "tensorflow_model_analysis")
_PROBE = (
    "import sys\nfrom pipeline.commands.cli import main\ncode = main(sys.argv[1:])\n"
    f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r}))\n"
    "print('RESULT', code, heavy)\n"
)


def cli_in_a_fresh_process(*args: str) -> tuple[subprocess.CompletedProcess, str]:
    """`python -m pipeline ARGS` as a user runs it, and its last line: `RESULT <exit code> <the
    heavy modules it imported>`."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    return done, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(file.relative_to(path)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file()
    }


@pytest.fixture(scope="session")
def penguins(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("penguins")
    return run_cli(root, "--config", str(REPO / "configs" / "penguins.yaml"), "--epochs", "15")


BUDGET = [
    "--set", "tuning.algorithm=random",
    "--set", "tuning.max_trials=2",
    "--set", "tuning.max_epochs=8",
    "--set", "tuning.folds=2",
]  # fmt: skip


def changed_penguins(path: Path) -> Path:
    with (REPO / "data" / "penguins" / "penguins.csv").open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["bill_length_mm"] not in ("", "NA"):
            row["bill_length_mm"] = f"{float(row['bill_length_mm']) * 1.2:.1f}"
        if row["island"] == "Torgersen":
            row["island"] = "Torgersen Island"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _two_runs(root: Path):
    recipe = str(REPO / "configs" / "penguins.yaml")
    first = run_cli(root, "--config", recipe, "--epochs", "15")
    assert first.exit_code == 0 and first.summary["blessed"], first.printed
    data = changed_penguins(root / "data" / "penguins.csv")
    return run_cli(root, "--config", recipe, "--data", str(data), "--epochs", "15", "--tune", *BUDGET)


@pytest.fixture(scope="session")
def tuned(tmp_path_factory) -> Run:
    """Two runs in one root: the penguins recipe (in production), then `--tune` on changed data."""
    return shared_run(tmp_path_factory, "tuned_over_production", _two_runs)


# One writer per image format the image ExampleGen and Transform must read.
def _pil(mode: str, size: int, seed: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, size=(size, size, channels), dtype=np.uint8)
    return Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode=mode)


IMAGE_WRITERS = {
    "grey.png": lambda path, seed: _pil("L", 6, seed).save(path),
    "grey_alpha.png": lambda path, seed: _pil("LA", 6, seed).save(path),
    "rgba.png": lambda path, seed: _pil("RGBA", 5, seed).save(path),
    "palette.png": lambda path, seed: _pil("RGB", 7, seed).convert("P", palette=1, colors=16).save(path),
    "photo.jpg": lambda path, seed: _pil("RGB", 9, seed).save(path, quality=90),
    "photo.jpeg": lambda path, seed: _pil("L", 8, seed).save(path, format="JPEG"),
    "bitmap.bmp": lambda path, seed: _pil("RGB", 6, seed).save(path),
    "animated.gif": lambda path, seed: _pil("RGB", 6, seed).save(
        path, save_all=True, append_images=[_pil("RGB", 6, seed + 1)]
    ),
}
# Name -> what makes it unusable; every one must be skipped and reported, never crash a component.
BAD_FILES = {
    "empty.png": b"",
    "truncated.png": None,  # the first half of a real PNG
    "not_an_image.jpg": b"this is text with an image extension\n",
    "notes.txt": b"a file without an image extension\n",
}


def write_image_tree(root: Path, classes=("cat", "dog"), copies: int = 3, bad: bool = True) -> list[str]:
    """`root/<class>/<copy>_<format>` in every format; with `bad`, the BAD_FILES in the first
    class. Returns the bad files' relative paths."""
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            for i, (file_name, write) in enumerate(IMAGE_WRITERS.items()):
                write(folder / f"{copy}_{file_name}", seed=100 * c + 10 * copy + i)
    if not bad:
        return []
    folder = root / classes[0]
    whole = (folder / "0_grey.png").read_bytes()
    for name, content in BAD_FILES.items():
        (folder / name).write_bytes(whole[: len(whole) // 2] if content is None else content)
    return sorted(f"{classes[0]}/{name}" for name in BAD_FILES)


@pytest.fixture
def earlier_push(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A serving dir holding one model version pushed earlier, and that version's digests:
    every failing run must leave it byte for byte as it was."""
    version = tmp_path / "serving" / "1700000000"
    (version / "variables").mkdir(parents=True)
    (version / "variables" / "variables.data-00000-of-00001").write_bytes(b"earlier weights")
    (version / "saved_model.pb").write_bytes(b"earlier graph")
    return tmp_path / "serving", tree_digest(tmp_path / "serving")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    from bench import s3_server

    server = s3_server.start(tmp_path_factory.mktemp("s3") / "moto.log")
    yield server
    server.stop()


# --- the run report in headless Chromium (test_report_e2e.py, test_tuning_e2e.py) ---

HARNESS_MARK = "REPORT-HARNESS"
# Appended to a copy of the page: after load, logs how many images decoded and how many did not.
HARNESS = f"""<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const broken = images.filter(image => !(image.complete && image.naturalWidth > 0)).map(image => image.alt);
  console.log("{HARNESS_MARK} images=" + images.length + " broken=" + JSON.stringify(broken)
              + " height=" + document.body.scrollHeight);
}});
</script></body>"""


def page_of(run) -> str:
    return Path(run.summary["report_file"]).read_text(encoding="utf-8")


def cells(page: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is `first`, as text."""
    row = re.search(rf"<tr><t[dh][^>]*>{re.escape(first)}</t[dh]>(.*?)</tr>", page)
    assert row, f"no row {first!r}"
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get (as root, or with password-less sudo) when missing."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() == 0:
        as_root = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        as_root = ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    else:
        pytest.fail("chromium is missing and apt-get needs root: install it with `sudo apt-get install chromium`")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(as_root + command, capture_output=True, text=True, env=environment)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return shutil.which("chromium") or pytest.fail("apt-get installed chromium but it is not on PATH")


def render(chromium: str, page: Path, screenshot: Path) -> str:
    """Loads the page in headless Chromium, saves a screenshot, returns what it logged."""
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--window-size=1280,2400",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and screenshot.is_file(), result.stderr[-3000:]
    return result.stderr


def render_harnessed(chromium: str, page: str, copy: Path, screenshot: Path) -> list[str]:
    """Renders a copy of `page` with HARNESS added; returns the console lines Chromium logged.

    The harness needs to run a script, which the report's policy forbids: the copy allows
    inline scripts, and nothing more."""
    from pipeline.runs.report import CONTENT_SECURITY_POLICY

    assert CONTENT_SECURITY_POLICY in page
    harnessed = page.replace(CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY + "; script-src 'unsafe-inline'")
    copy.write_text(harnessed.replace("</body>", HARNESS, 1), encoding="utf-8")
    logged = render(chromium, copy, screenshot)
    console = [line for line in logged.splitlines() if ":CONSOLE" in line]
    assert any(HARNESS_MARK in line for line in console), logged[-3000:]
    return console
