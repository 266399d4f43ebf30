"""ExampleGen: the user's CSV checked before TFX reads it, and image data (class folders,
npz, IDX) read by our ImageExampleGen."""

from __future__ import annotations

import os


def is_folder(path: str) -> bool:
    """Whether a data path names a folder: it ends with / or has no extension. The one rule of
    the format detection, the CSV checks and the pipeline's input pattern; it needs no listing,
    so it holds for gs:// and s3:// paths as well."""
    return path.endswith("/") or not os.path.splitext(path.rstrip("/"))[1]
