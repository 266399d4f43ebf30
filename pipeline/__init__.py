"""The pipeline: its commands (commands/), the wiring and runners (orchestration/), a run's
records and report (runs/) and the config they share (config/); docs/architecture.md draws the
floors. Importing it pins Keras 2 (see `components`)."""

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
