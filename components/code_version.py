"""Fingerprints of the code a run executes, passed to Transform and Trainer.

Our component functions are referenced by import path, not as TFX module files, so TFX does
not rebuild a wheel on every run; the price is that TFX cannot see when their code changes.
Putting these fingerprints in their `custom_config` makes a code change invalidate the cache:
this package's source, and a user's own model builder (`model.name: package.module:function`).
"""

import functools
import hashlib
from pathlib import Path


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """This package's source: what Transform and Trainer run."""
    return tree_fingerprint(Path(__file__).resolve().parent)


def model_code_fingerprint(model_name: str) -> str:
    """For a user's builder: its package's source (or its module's, for a lone file); "" for ours."""
    from components.trainer.models import is_own_model, own_model_source

    if not is_own_model(model_name):
        return ""
    source = Path(own_model_source(model_name)).resolve()
    top_level = model_name.partition(":")[0].split(".")[0]
    package = next((parent for parent in source.parents if parent.name == top_level), None)
    if package is not None and (package / "__init__.py").is_file():
        return tree_fingerprint(package)
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def tree_fingerprint(package: Path) -> str:
    """Every .py file under `package`, by relative path and content."""
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
