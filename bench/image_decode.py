"""Where an image model's serving time goes before the model: decoding a batch of PNGs.

    .venv/bin/python bench/image_decode.py                  # 256 digits PNGs, 200 calls a variant
    .venv/bin/python bench/image_decode.py --batch 1 --calls 500

Each variant is a traced tf.function over the same batch of encoded PNGs (data/digits_images),
timed in this process; ms per call and the ratio to decoding alone:
- `decode only`: tf.io.decode_png per image (map_fn), nothing else: the floor of a per-image decode;
- `Transform's decode_images`: components/transform/preprocessing.py as the serving graph runs it
  (decode, channel conversion, resize, scale; map_fn with TensorFlow's 10 parallel iterations);
- the same with `parallel_iterations` = the batch size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import tensorflow as tf  # noqa: E402

import components  # noqa: E402,F401 - Keras 2 before TensorFlow
from components.settings import ImageSpec  # noqa: E402
from components.transform.preprocessing import decode_image  # noqa: E402

SPEC = ImageSpec(height=8, width=8, channels=1)


def variants(parallel: int) -> dict[str, tf.types.experimental.GenericFunction]:
    def mapped(fn, signature, iterations):
        return tf.function(lambda x: tf.map_fn(fn, x, fn_output_signature=signature, parallel_iterations=iterations))

    image = tf.TensorSpec(SPEC.shape, tf.float32)
    return {
        "decode only": mapped(lambda c: tf.io.decode_png(c, channels=1), tf.TensorSpec(SPEC.shape, tf.uint8), 10),
        "Transform's decode_images": mapped(lambda c: decode_image(c, SPEC), image, 10),
        f"decode_images, parallel_iterations={parallel}": mapped(lambda c: decode_image(c, SPEC), image, parallel),
    }


def milliseconds(fn, batch: tf.Tensor, calls: int) -> float:
    fn(batch)  # trace
    started = time.perf_counter()
    for _ in range(calls):
        fn(batch)
    return (time.perf_counter() - started) / calls * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    files = sorted((REPO / "data" / "digits_images" / "train").glob("*/*.png"))[: args.batch]
    batch = tf.constant([path.read_bytes() for path in files])
    print(f"| variant ({len(files)} PNGs of 8x8) | ms per call | vs decode only |")
    print("|---|---|---|")
    floor = None
    for name, fn in variants(len(files)).items():
        ms = milliseconds(fn, batch, args.calls)
        floor = floor or ms
        print(f"| {name} | {ms:.3f} | {ms / floor:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
