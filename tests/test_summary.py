from pathlib import Path

from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.evaluator.anomalies import read_anomalies


def test_anomalies_are_read_per_split_with_the_feature_named(tmp_path: Path):
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["island"]
    info.short_description = "Unexpected string values"
    info.description = "Examples contain values missing from the schema: Atlantis (<1%)."
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "SchemaDiff.pb").write_bytes(anomalies_pb2.Anomalies().SerializeToString())
    assert read_anomalies(str(tmp_path)) == {"eval": ["island: Unexpected string values"], "train": []}
    assert read_anomalies(None) == {}
