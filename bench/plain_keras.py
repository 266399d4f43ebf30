"""The script a Keras user would write instead of the pipeline: the baseline of bench/overhead.py.

    python bench/plain_keras.py DATA.csv --epochs 5

It is written as such a user would write it today: Keras 3 (TensorFlow 2.16's default
`keras`), not the pipeline's Keras 2. pandas reads the CSV; rows without a label are dropped;
numbers are imputed with the training mean and z-scored, with a missing
indicator per column; strings are one-hot encoded; 2/3 of the rows train, 1/3 validate. The
network is the penguins recipe's (Dense 32-16 ReLU, softmax, Adam 0.01, batch 32), fit for the
same epochs without early stopping, seeded like the pipeline's Trainer. Prints one JSON line:
seconds from start (imports included) to a fitted model, and the validation loss and accuracy.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def features_and_labels(frame: pd.DataFrame, label: str, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = frame[label].astype("category").cat.codes.to_numpy()
    columns = []
    for name in frame.columns.drop(label):
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values):
            observed = values[train]
            mean, std = observed.mean(), observed.std() or 1.0
            columns.append(((values.fillna(mean) - mean) / std).to_numpy()[:, None])
            columns.append(values.isna().to_numpy()[:, None])
        else:
            columns.append(pd.get_dummies(values.fillna("__missing__")).to_numpy())
    return np.hstack(columns).astype("float32"), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--label", default="species")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling (as the recipe's training.seed)")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    frame = pd.read_csv(args.data)
    frame = frame[frame[args.label].notna()].reset_index(drop=True)
    train = np.random.default_rng(0).random(len(frame)) < 2 / 3
    x, y = features_and_labels(frame, args.label, train)
    inputs = keras.Input((x.shape[1],))
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Dense(32, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(int(y.max()) + 1, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x[train],
        y[train],
        validation_data=(x[~train], y[~train]),
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
    )
    print(
        json.dumps(
            {
                "seconds": round(time.monotonic() - STARTED, 2),
                "val_loss": history.history["val_loss"][-1],
                "val_accuracy": history.history["val_accuracy"][-1],
            }
        )
    )


if __name__ == "__main__":
    main()
