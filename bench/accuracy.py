"""Each shipped dataset's recipe vs scikit-learn's classic models, on the pipeline's own split.

    .venv/bin/python bench/accuracy.py                                   # runs every recipe once (cached)
    .venv/bin/python bench/accuracy.py --recipes penguins --runs-dir DIR # reuse DIR/<recipe>.json summaries
    .venv/bin/python bench/accuracy.py --tuned-trials 0                  # without the tuned runs

"tuned" is the same recipe run with `--tune` (TFX Tuner, KerasTuner's Bayesian search over the
model's default space, `--tuned-trials` trials of 3-fold cross-validation on the train split;
the eval split is not seen until the Evaluator), with the tuning seconds beside it.

The scikit-learn models train on the pipeline's train split and are scored on its eval split,
read back from CsvExampleGen's output, with the same preprocessing idea (mean imputation with
a missing indicator and standardization for numbers, one-hot for strings; rows without a label
dropped, as the pipeline weights them 0). Our figure is the Evaluator's (TFMA) on that eval
split. Classification: accuracy (higher is better; target: ours >= the best baseline).
Regression: MAE in the label's units (lower is better).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, mean_absolute_error  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.svm import SVC, SVR  # noqa: E402

import components  # noqa: E402,F401 - Keras 2 before TensorFlow
from bench.recipe_runs import cached_run  # noqa: E402
from pipeline.config.resolve import resolved_config  # noqa: E402

RECIPES = [
    "penguins",
    "breast_cancer",
    "wine_dropout_batchnorm",
    "wine_batchnorm_input",
    "digits_mlp",
    "penguins_body_mass",
]
CLASSIFIERS = {
    "LogisticRegression": lambda: LogisticRegression(max_iter=5000),
    "RandomForest": lambda: RandomForestClassifier(n_estimators=300, random_state=0),
    "HistGradientBoosting": lambda: HistGradientBoostingClassifier(random_state=0),
    "SVC": lambda: SVC(),
}
REGRESSORS = {
    "LinearRegression": LinearRegression,
    "RandomForest": lambda: RandomForestRegressor(n_estimators=300, random_state=0),
    "HistGradientBoosting": lambda: HistGradientBoostingRegressor(random_state=0),
    "SVR": lambda: SVR(C=1000.0),
}


def run_summary(recipe: str, runs_dir: Path) -> dict:
    return cached_run(recipe, runs_dir / f"{recipe}.json", runs_dir / recipe)


def tuned_summary(recipe: str, runs_dir: Path, trials: int) -> dict:
    name = f"{recipe}_tuned{trials}"
    flags = ("--tune", "--set", f"tuning.max_trials={trials}", "--set", "tuning.max_seconds=3600")
    return cached_run(recipe, runs_dir / f"{name}.json", runs_dir / name, *flags)


def metric_value(summary: dict) -> float:
    """The Evaluator's accuracy (classification) or MAE (regression: the loss)."""
    return summary["metrics"]["accuracy" if summary["task"] != "regression" else "loss"]["value"]


def verdict(ours: float, best: float, classify: bool) -> str:
    # TFMA reports float32: a tie within 1e-6 is a tie.
    at_least = ours >= best - 1e-6 if classify else ours <= best + 1e-6
    return f"{'≥ best' if at_least else ('below best' if classify else 'above best')} ({ours - best:+.4f})"


def examples_dir(summary: dict) -> Path:
    """CsvExampleGen's output of that run (older summaries lack the artifact: the newest one)."""
    uri = summary.get("artifacts", {}).get("examples")
    if uri:
        return Path(uri)
    root = Path(summary["summary_file"]).parents[2]
    return max((root / "CsvExampleGen" / "examples").iterdir(), key=lambda p: int(p.name))


def read_split(examples: Path, split: str) -> pd.DataFrame:
    rows = []
    files = sorted(str(p) for p in (examples / f"Split-{split}").glob("*.gz"))
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        row = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            row[name] = (values[0].decode() if kind == "bytes_list" else values[0]) if values else None
        rows.append(row)
    return pd.DataFrame(rows)


def preprocessor(frame: pd.DataFrame) -> ColumnTransformer:
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    strings = [c for c in frame.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), numeric),
            (
                "strings",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"), OneHotEncoder(handle_unknown="ignore")
                ),
                strings,
            ),
        ]
    )


def baselines(recipe: str, summary: dict) -> dict[str, float]:
    config = resolved_config(REPO / "configs" / f"{recipe}.yaml")
    label, excluded = config.data.label, set(config.data.exclude)
    examples = examples_dir(summary)
    train, test = (read_split(examples, split) for split in ("train", "eval"))
    train, test = (frame[frame[label].notna()] for frame in (train, test))
    features = [
        c
        for c in train.columns
        if c != label and c not in excluded and (not config.data.features or c in config.data.features)
    ]
    classify = config.data.task != "regression"
    scores = {}
    for name, make in (CLASSIFIERS if classify else REGRESSORS).items():
        model = make_pipeline(preprocessor(train[features]), make())
        model.fit(train[features], train[label])
        predicted = model.predict(test[features])
        scores[name] = (
            accuracy_score(test[label], predicted) if classify else mean_absolute_error(test[label], predicted)
        )
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=RECIPES)
    parser.add_argument("--runs-dir", type=Path, default=Path.home() / ".cache" / "keras-tfx-bench" / "accuracy")
    parser.add_argument("--tuned-trials", type=int, default=20, help="trials of each tuned run (0: no tuned column)")
    args = parser.parse_args(argv)
    tuned_head = " | tuned | tuning s | tuned vs best" if args.tuned_trials else ""
    print(
        "| recipe | metric | ours | LogisticRegression / LinearRegression | RandomForest | HistGradientBoosting "
        f"| SVC / SVR | best baseline | ours vs best{tuned_head} |"
    )
    print("|---" * (9 + (3 if args.tuned_trials else 0)) + "|")
    for recipe in args.recipes:
        summary = run_summary(recipe, args.runs_dir)
        scores = baselines(recipe, summary)
        classify = summary["task"] != "regression"
        ours = metric_value(summary)
        best_name = (max if classify else min)(scores, key=scores.get)
        best = scores[best_name]
        number = "{:.4f}" if classify else "{:.1f}"
        cells = [number.format(v) for v in scores.values()]
        tuned_cells = ""
        if args.tuned_trials:
            tuned = tuned_summary(recipe, args.runs_dir, args.tuned_trials)
            tuned_value = metric_value(tuned)
            tuned_cells = (
                f" | {number.format(tuned_value)} | {tuned['tuning']['seconds']:.0f} | "
                f"{verdict(tuned_value, best, classify)}"
            )
        print(
            f"| {recipe} | {'accuracy' if classify else 'MAE'} | {number.format(ours)} | {' | '.join(cells)} | "
            f"{best_name} | {verdict(ours, best, classify)}{tuned_cells} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
