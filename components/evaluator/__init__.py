"""Evaluator: the gate's TFMA config and the reading of its results (evaluation.py), the
Evaluator that compares with the model in production (production.py), the default bar
(trivial_model.py), and the anomalies gate for a frozen schema (anomalies.py)."""
