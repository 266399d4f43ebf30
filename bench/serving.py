"""Latency and throughput of a pushed SavedModel's serving signatures vs the bare Keras model.

    .venv/bin/python bench/serving.py                      # trains and pushes the penguins recipe once
    .venv/bin/python bench/serving.py --model output/penguins/serving/<version>
    .venv/bin/python bench/serving.py --model output/digits_cnn/serving/<version>   # an image model

Three ways to get class probabilities for the same penguins rows, each a traced TensorFlow graph
called from Python, at batch 1 and 256:
- `bare Keras`: the Keras model alone on already-standardized tensors (tf.function of model(x)),
  what a user serves when preprocessing happens elsewhere;
- `serving_raw`: raw column tensors in, the Transform graph and the model inside;
- `serving_default`: serialized tf.Examples in (parsing, Transform, model).
Prints p50 and p99 milliseconds per call, rows per second, and p50 as a ratio of the bare
model's; the target is p50 <= 1.5x.

For an image model (its raw input is `image`) the inputs are the held-out digits PNGs
(data/digits_images/test): `bare Keras` gets them decoded and scaled by the model's own
Transform graph beforehand, `serving_raw` gets the PNG bytes, `serving_default` tf.Examples
holding them.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import components  # noqa: E402,F401 - Keras 2 before TensorFlow
from bench.recipe_runs import cached_run  # noqa: E402
from components import features  # noqa: E402
from components.pusher.predict import load_model, raw_columns, raw_input_dtypes, takes_images, to_example  # noqa: E402

PENGUINS = REPO / "data" / "penguins" / "penguins.csv"
DIGITS_TEST = REPO / "data" / "digits_images" / "test"


def pushed_model(cache_dir: Path) -> Path:
    return Path(cached_run("penguins", cache_dir / "summary.json", cache_dir)["pushed_model_dir"])


def rows_of(size: int) -> list[dict[str, str]]:
    with PENGUINS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [rows[i % len(rows)] for i in range(size)]


def callables(model_dir: Path, batch: int) -> dict:
    """Name -> a zero-argument call of that variant on `batch` rows (inputs prepared beforehand)."""
    serving = load_model(str(model_dir))
    keras_model = tf.keras.models.load_model(str(model_dir))
    if takes_images(serving):
        pngs = sorted(DIGITS_TEST.glob("*/*.png"))
        contents = [pngs[i % len(pngs)].read_bytes() for i in range(batch)]
        examples = tf.constant([image_example(content) for content in contents])
        columns = {features.IMAGE: tf.constant(contents)}
    else:
        dtypes = raw_input_dtypes(serving)
        rows = rows_of(batch)
        examples = tf.constant([to_example(row, dtypes).SerializeToString() for row in rows])
        columns = raw_columns(rows, dtypes)
    transformed = serving.signatures[features.TRANSFORM_SIGNATURE](examples=examples)
    model_inputs = {name: transformed[name] for name in keras_model.input_names}
    bare = tf.function(lambda inputs: keras_model(inputs, training=False))
    raw_signature = serving.signatures[features.SERVING_RAW_SIGNATURE]
    example_signature = serving.signatures[features.SERVING_EXAMPLES_SIGNATURE]
    return {
        "bare Keras": lambda: bare(model_inputs),
        "serving_raw": lambda: raw_signature(**columns),
        "serving_default": lambda: example_signature(examples=examples),
    }


def image_example(content: bytes) -> bytes:
    example = tf.train.Example()
    example.features.feature[features.IMAGE].bytes_list.value.append(content)
    return example.SerializeToString()


def latencies(call, calls: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        result = call()
        np.asarray(next(iter(result.values())) if isinstance(result, dict) else result)  # wait for the values
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a pushed model directory (default: push one)")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "serving")
    args = parser.parse_args(argv)
    model_dir = args.model or pushed_model(args.cache_dir)
    print(f"serving latency of {model_dir}, {args.calls} calls after warm-up")
    print("| batch | variant | p50 ms | p99 ms | rows/s | p50 vs bare |")
    print("|---|---|---|---|---|---|")
    for batch in args.batches:
        measured = {name: latencies(call, args.calls) for name, call in callables(model_dir, batch).items()}
        bare_p50 = statistics.median(measured["bare Keras"])
        for name, seconds in measured.items():
            p50, p99 = statistics.median(seconds), float(np.percentile(seconds, 99))
            print(
                f"| {batch} | {name} | {p50 * 1e3:.3f} | {p99 * 1e3:.3f} | {batch / statistics.fmean(seconds):,.0f} | "
                f"{p50 / bare_p50:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
