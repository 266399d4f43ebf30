"""Image recipes on the digits vs scikit-learn's SVC and LogisticRegression, on the held-out test split.

    .venv/bin/python bench/image_accuracy.py                       # runs every recipe once (cached)
    .venv/bin/python bench/image_accuracy.py --recipes digits_cnn  # a subset (transfer needs digits_cnn)
    .venv/bin/python bench/image_accuracy.py --recipes digits_cnn --seeds 42 1 2  # one run per training seed

Every recipe runs the whole pipeline (its summary is cached under --runs-dir). Our test accuracy
is the pushed model's, served the way a client would call it: the test images' encoded PNG
bytes, as ImageExampleGen wrote them, go to the `serving_raw` signature, which decodes, scales
and classifies inside the SavedModel. The scikit-learn models train on the same run's train split
(pixels / 255, flattened; the rows the Keras model fitted) and predict the same test split. The
eval accuracy is the Evaluator's (TFMA) on the eval split the gate used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

import components  # noqa: E402,F401 - Keras 2 before TensorFlow
from bench.recipe_runs import cached_run  # noqa: E402
from components import features  # noqa: E402
from components.pusher.predict import load_model, predict_images  # noqa: E402

# digits_cnn first: digits_transfer's frozen base is the conv base that run pushed.
RECIPES = ["digits_cnn", "digits_npz_mlp", "digits_rnn", "digits_vgg", "digits_squeezenet", "digits_transfer"]
BASELINES = {
    "SVC": lambda: SVC(),
    "LogisticRegression": lambda: LogisticRegression(max_iter=5000),
}


def run_summary(recipe: str, runs_dir: Path, seed: int | None = None) -> dict:
    """The recipe's run (with `training.seed` when given); transfer's base is this bench's CNN of the same seed."""

    def run_name(name: str) -> str:
        return name if seed is None else f"{name}_seed{seed}"

    flags = [] if seed is None else ["--set", f"training.seed={seed}"]
    if recipe == "digits_transfer":
        flags += ["--set", f"model.transfer.base_model={runs_dir / run_name('digits_cnn') / 'serving'}"]
    return cached_run(recipe, runs_dir / f"{run_name(recipe)}.json", runs_dir / run_name(recipe), *flags)


def read_split(examples: Path, split: str) -> tuple[list[bytes], np.ndarray]:
    """(encoded images, class ids) of one split of ImageExampleGen's output."""
    files = sorted(str(p) for p in (examples / f"Split-{split}").glob("*.gz"))
    images, labels = [], []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        images.append(feature[features.IMAGE].bytes_list.value[0])
        labels.append(feature[features.IMAGE_LABEL].int64_list.value[0])
    return images, np.array(labels)


def pixels(encoded: list[bytes]) -> np.ndarray:
    return np.stack(
        [tf.io.decode_image(content, expand_animations=False).numpy().reshape(-1) / 255.0 for content in encoded]
    )


def served_accuracy(model_dir: str, images: list[bytes], labels: np.ndarray) -> float:
    outputs = predict_images(load_model(model_dir), images)
    return float(np.mean(outputs[features.CLASS_IDS] == labels))


def baseline_accuracies(
    train: tuple[list[bytes], np.ndarray], test: tuple[list[bytes], np.ndarray]
) -> dict[str, float]:
    x_train, x_test = pixels(train[0]), pixels(test[0])
    return {
        name: float(np.mean(make().fit(x_train, train[1]).predict(x_test) == test[1]))
        for name, make in BASELINES.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=RECIPES)
    parser.add_argument("--runs-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "images")
    parser.add_argument("--seeds", type=int, nargs="+", help="run every recipe once per training seed")
    args = parser.parse_args(argv)
    print(
        "| recipe | data | model | parameters | epochs (kept) | eval accuracy (TFMA) | test accuracy (pushed model, "
        "PNG bytes) | SVC | LogisticRegression | ours vs best baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for recipe in args.recipes:
        for seed in args.seeds or [None]:
            print(
                table_row(
                    recipe if seed is None else f"{recipe} (seed {seed})", run_summary(recipe, args.runs_dir, seed)
                ),
                flush=True,
            )
    return 0


def table_row(label: str, summary: dict) -> str:
    if not summary["pushed_model_dir"]:
        return f"| {label} | not blessed: nothing pushed to test |"
    examples = Path(summary["artifacts"]["examples"])
    # The held-out test folder (or arrays) is the eval split the gate judges (components/example_gen/image_data.py).
    train, test = read_split(examples, "train"), read_split(examples, "eval")
    ours = served_accuracy(summary["pushed_model_dir"], *test)
    scores = baseline_accuracies(train, test)
    best = max(scores.values())
    training = summary["training"]
    return (
        f"| {label} | {Path(summary['data']).name} | {summary['model']} | {training['model']['parameters']:,} | "
        f"{training['epochs_run']} ({training['kept_epoch']}) | {summary['metrics']['accuracy']['value']:.4f} | "
        f"{ours:.4f} (n={len(test[1])}) | {scores['SVC']:.4f} | {scores['LogisticRegression']:.4f} | "
        f"{ours - best:+.4f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
