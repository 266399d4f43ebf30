import pytest

from components import features
from components.evaluator.evaluation import eval_config
from components.settings import ConfigError, EvaluationSpec


def metric(config, class_name):
    (spec,) = config.metrics_specs
    (found,) = [m for m in spec.metrics if m.class_name == class_name]
    return found


def test_classification_gates_loss_from_above_and_accuracy_from_below():
    config = eval_config("multiclass", EvaluationSpec(max_loss=0.3, min_accuracy=0.9, baseline_tolerance=0.01))
    loss = metric(config, "SparseCategoricalCrossentropy").threshold
    accuracy = metric(config, "SparseCategoricalAccuracy").threshold
    assert loss.value_threshold.upper_bound.value == 0.3
    assert not loss.value_threshold.HasField("lower_bound")
    assert accuracy.value_threshold.lower_bound.value == 0.9
    # No regression is the gate's paired test (components/evaluator/gate.py), not TFMA's point check.
    assert not loss.HasField("change_threshold") and not accuracy.HasField("change_threshold")


def test_unset_bounds_give_tfma_no_threshold():
    config = eval_config("binary", EvaluationSpec())
    assert not metric(config, "BinaryAccuracy").HasField("threshold")
    assert not metric(config, "BinaryCrossentropy").HasField("threshold")


def test_regression_gates_mean_absolute_error():
    config = eval_config("regression", EvaluationSpec(max_loss=400.0))
    assert metric(config, "MeanAbsoluteError").threshold.value_threshold.upper_bound.value == 400.0
    (model_spec,) = config.model_specs
    assert model_spec.prediction_key == features.PREDICTIONS
    with pytest.raises(ConfigError, match="evaluation.min_accuracy: applies to classification"):
        eval_config("regression", EvaluationSpec(min_accuracy=0.5))


def test_tfma_reads_transformed_label_and_weight_through_the_transform_signature():
    (model_spec,) = eval_config("multiclass", EvaluationSpec()).model_specs
    assert model_spec.signature_name == features.SERVING_EXAMPLES_SIGNATURE
    assert list(model_spec.preprocessing_function_names) == [features.TRANSFORM_SIGNATURE]
    assert model_spec.label_key == features.LABEL
    assert model_spec.example_weight_key == features.LABEL_WEIGHT
