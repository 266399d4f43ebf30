"""Keras 2 (tf_keras) under TensorFlow 2.16: leave its code to graph tracing, not to AutoGraph.

AutoGraph skips the `tensorflow` and `keras` packages (their code is written for graph mode)
but not `tf_keras`, Keras 2's package name since TensorFlow 2.16. So every model's first
`fit` rewrote Keras' own train step, losses and metrics through AutoGraph's AST transformer:
about 20 s on this project's 2-core machine for any model, against 1 s without
(bench/keras_first_epoch.py measures it). Adding the same rule TensorFlow has for `keras`
restores the behaviour Keras 2 had when it was named `keras`; user code is still converted.
"""

from __future__ import annotations

from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.core import config_lib

KERAS_2_PACKAGE = "tf_keras"


def skip_autograph_for_keras() -> None:
    """Idempotent: adds the rule once, in front, as TensorFlow's rule list is first-match."""
    rules = autograph_config.CONVERSION_RULES
    if any(isinstance(rule, config_lib.DoNotConvert) and rule.matches(KERAS_2_PACKAGE) for rule in rules):
        return
    autograph_config.CONVERSION_RULES = (config_lib.DoNotConvert(KERAS_2_PACKAGE),) + tuple(rules)
