"""What TFX hands an executor's `Do`: artifacts by key, and the execution properties."""

from __future__ import annotations

from typing import Any

from tfx import types

ArtifactDict = dict[str, list[types.Artifact]]
ExecProperties = dict[str, Any]
