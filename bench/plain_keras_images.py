"""The script a Keras user would write for a folder of class sub-folders: the image baseline of
bench/overhead.py (`--recipe digits_cnn`).

    python bench/plain_keras_images.py data/digits_images/train --epochs 5

Keras 3 as TensorFlow 2.16 installs it. `image_dataset_from_directory` reads the PNGs (2/3 train,
1/3 validation, seed 0), pixels are scaled to [0, 1], and the network is the digits_cnn recipe's:
random shifts (1/8) and rotations (0.04 turn), Conv2D 64 and 128 (3x3, ReLU, "same") each with a
2x2 max pool, Dense 256 ReLU, Dropout 0.5, softmax; Adam 0.001, batch 32, the same epochs and no
early stopping. Prints one JSON line: seconds from start (imports included) to a fitted model,
and the validation loss and accuracy.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402

import keras  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a folder of class sub-folders of images")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--size", type=int, default=8, help="image height and width")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="weights, augmentation and shuffling")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    common = dict(
        color_mode="grayscale",
        image_size=(args.size, args.size),
        batch_size=args.batch_size,
        validation_split=1 / 3,
        seed=0,
    )
    train = keras.utils.image_dataset_from_directory(args.data, subset="training", **common)
    validation = keras.utils.image_dataset_from_directory(args.data, subset="validation", **common)
    classes = len(train.class_names)
    model = keras.Sequential(
        [
            keras.Input((args.size, args.size, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant"),
            keras.layers.RandomRotation(0.04, fill_mode="constant"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Conv2D(128, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.001), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        train.cache().prefetch(2), validation_data=validation.cache().prefetch(2), epochs=args.epochs, verbose=0
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
