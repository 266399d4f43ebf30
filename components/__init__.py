"""Component code for the pipeline: preprocessing, training, models, evaluation config.

Importing this package pins Keras 2 (tf_keras) before TensorFlow is imported: TFX 1.16's
exporters and TFMA are tested with it, and our export/reload/serve test runs under it.
"""

import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"

if "tensorflow" in sys.modules:  # pragma: no cover - guard against late import order
    import tensorflow as _tf

    if not _tf.keras.__name__.startswith("tf_keras"):
        raise ImportError(
            "TensorFlow was imported before `components`, so tf.keras is Keras 3. "
            "Import `components` (or `pipeline`) first, or set TF_USE_LEGACY_KERAS=1."
        )

# On Kubeflow with an S3 or MinIO pipeline root, tf.io.gfile (which TFX writes artifacts
# with) needs tensorflow-io's s3:// filesystem; the image installs it (the `kubeflow` extra).
if os.environ.get("S3_ENDPOINT"):
    try:
        import tensorflow_io  # noqa: F401 - registers s3:// with tf.io.gfile
    except ImportError:
        pass
