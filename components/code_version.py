"""A fingerprint of this package's source, passed to Transform and Trainer.

Our component functions are referenced by import path, not as TFX module files, so TFX does
not rebuild a wheel on every run; the price is that TFX cannot see when their code changes.
Putting this fingerprint in their `custom_config` makes a code change invalidate the cache.
"""

import functools
import hashlib
from pathlib import Path


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
