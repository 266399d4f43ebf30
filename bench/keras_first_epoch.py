"""The first `fit` epoch of a small Keras 2 model, with and without AutoGraph converting tf_keras.

    .venv/bin/python bench/keras_first_epoch.py [--repeats 3]

Each measurement is a fresh process (AutoGraph caches conversions per process), alternating
the two settings. Prints the median seconds of each and their ratio; see components/trainer/keras_setup.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import numpy as np
    import tensorflow as tf
    if sys.argv[1] == "skip":
        from components.trainer.keras_setup import skip_autograph_for_keras
        skip_autograph_for_keras()
    keras = tf.keras
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(64, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((256, 8), dtype="float32")
    y = np.arange(256) % 3
    started = time.monotonic()
    model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=32, verbose=0)
    print(time.monotonic() - started)
    """
)


def first_epoch_seconds(setting: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, setting],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    return float(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"convert": [], "skip": []}
    for _ in range(args.repeats):
        for setting in times:
            times[setting].append(first_epoch_seconds(setting))
    converted, skipped = (statistics.median(times[s]) for s in ("convert", "skip"))
    print(f"first epoch, median of {args.repeats} fresh processes:")
    print(f"  AutoGraph converts tf_keras (TensorFlow's default): {converted:.2f} s")
    print(f"  tf_keras left to graph tracing (components.trainer.keras_setup): {skipped:.2f} s")
    print(f"  ratio: {skipped / converted:.3f} ({converted / skipped:.1f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
