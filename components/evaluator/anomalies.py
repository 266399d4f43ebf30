"""ExampleValidator's findings, read back; and the gate that stops a run on them.

With a frozen schema (`data.schema`, the schema.pbtxt of an earlier run) the data must match
it: a column added or removed, a type changed, or a string value outside the schema's domain is
an anomaly, and `AnomaliesGate` stops the run before Transform with the list. Without a frozen
schema SchemaGen infers one from the data each run, and the findings are only listed in the
run summary.
"""

import glob
import os

from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import ExampleAnomalies

from components.settings import InputError


def read_anomalies(anomalies_uri: str | None) -> dict[str, list[str]]:
    """ExampleValidator's findings per split, as "feature: description" lines."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found: dict[str, list[str]] = {}
    for path in sorted(glob.glob(os.path.join(anomalies_uri or "", "Split-*", "SchemaDiff.pb"))):
        with open(path, "rb") as f:
            anomalies = anomalies_pb2.Anomalies.FromString(f.read())
        split = os.path.basename(os.path.dirname(path))[len("Split-") :]
        found[split] = [
            f"{feature}: {info.short_description or info.description}"
            for feature, info in sorted(anomalies.anomaly_info.items())
        ]
    return found


@component  # (no `from __future__ import annotations` here: TFX reads these annotations as types)
def AnomaliesGate(anomalies: InputArtifact[ExampleAnomalies]) -> None:
    """Fails the run, listing every anomaly by split and column, when the data breaks the schema."""
    found = {split: lines for split, lines in read_anomalies(anomalies.uri).items() if lines}
    if found:
        listed = "\n".join(f"  {split} data: {line}" for split, lines in found.items() for line in lines)
        raise InputError(
            f"the data does not match the frozen schema (data.schema):\n{listed}\n"
            f"fix the data, or drop data.schema to infer a new schema from it"
        )
