import pytest
import tensorflow_model_analysis as tfma

from components import features
from components.evaluator.evaluation import eval_config
from components.settings import EvaluationSpec


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
    assert loss.change_threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER
    assert loss.change_threshold.absolute.value == pytest.approx(0.01)
    assert accuracy.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert accuracy.change_threshold.absolute.value == pytest.approx(-0.01)


def test_unset_bounds_leave_only_the_no_regression_check():
    config = eval_config("binary", EvaluationSpec())
    threshold = metric(config, "BinaryAccuracy").threshold
    assert not threshold.HasField("value_threshold")
    assert threshold.change_threshold.absolute.value == pytest.approx(0.0, abs=1e-9)
    assert metric(config, "BinaryCrossentropy").threshold.HasField("change_threshold")


def test_regression_gates_mean_absolute_error():
    config = eval_config("regression", EvaluationSpec(max_loss=400.0))
    assert metric(config, "MeanAbsoluteError").threshold.value_threshold.upper_bound.value == 400.0
    (model_spec,) = config.model_specs
    assert model_spec.prediction_key == features.PREDICTIONS
    with pytest.raises(ValueError, match="applies to classification only"):
        eval_config("regression", EvaluationSpec(min_accuracy=0.5))


def test_tfma_reads_transformed_label_and_weight_through_the_transform_signature():
    (model_spec,) = eval_config("multiclass", EvaluationSpec()).model_specs
    assert model_spec.signature_name == features.SERVING_EXAMPLES_SIGNATURE
    assert list(model_spec.preprocessing_function_names) == [features.TRANSFORM_SIGNATURE]
    assert model_spec.label_key == features.LABEL
    assert model_spec.example_weight_key == features.LABEL_WEIGHT
