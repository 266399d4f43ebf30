"""Pipeline wiring, config, runners and CLI. Importing it pins Keras 2 (see `components`)."""

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
