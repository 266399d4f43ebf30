"""Trainer: `run_fn` (run.py), the distribution strategy, the model registry and builders
(models/), the serving signatures, and the standalone trainer for multi-worker clusters.

Nothing is imported here: `components.trainer.models` is read when a config loads, before
TensorFlow."""
