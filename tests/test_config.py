from pathlib import Path

import pytest
import yaml

from components.settings import ConfigError
from conftest import REPO
from pipeline.config.recipe import parse_assignment
from pipeline.config.resolve import resolved_config

RECIPES = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_every_shipped_recipe_loads(recipe: Path):
    config = resolved_config(recipe)
    assert config.name == recipe.stem
    assert Path(config.data.path).exists()
    assert Path(config.output.pipeline_root).is_absolute()


def test_defaults_follow_the_data_and_task(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my data.csv").write_text("rooms,price\n" + "".join(f"{i},{100 + 7 * i}\n" for i in range(20)))
    config = resolved_config(None, {"data.path": "my data.csv", "data.label": "price", "data.task": "regression"})
    assert config.name == "my_data"
    assert config.model.name == "mlp_regressor"
    assert config.data.path == str(tmp_path / "my data.csv")
    assert config.output.serving_dir == str(tmp_path / "output" / "my_data" / "serving")
    assert config.training.early_stopping.min_delta == 0.001
    assert config.training.early_stopping.patience == 20


def test_flags_override_the_recipe():
    config = resolved_config(REPO / "configs" / "penguins.yaml", {"training.epochs": 3, "model.dropout": 0.5})
    assert config.training.epochs == 3
    assert config.model.dropout == 0.5
    assert config.data.label == "species"  # untouched keys keep the recipe's values


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"training.epoch": 3}, "training.epoch: unknown key"),
        ({"training.epochs": "ten"}, "training.epochs: expected an integer, got 'ten'"),
        ({"training.epochs": 0}, "training.epochs: must be > 0"),
        ({"data.task": "ranking"}, "data.task: must be one of binary, multiclass, regression"),
        ({"model.name": "resnet999"}, "model.name: unknown model 'resnet999'"),
        ({"model.hidden_units": [8, -1]}, "model.hidden_units: every width must be > 0"),
        ({"model.hidden_units": "8"}, "model.hidden_units: expected a list"),
        ({"evaluation.min_accuracy": 1.5}, "evaluation.min_accuracy: must be in [0, 1]"),
        ({"training.early_stopping.patience": -1}, "training.early_stopping.patience: must be >= 0"),
        ({"missing_indicators": True}, "missing_indicators: unknown key"),
        ({"runner.kind": "spark"}, "runner.kind: must be one of beam, local"),
        ({"model.name": "mlp_regressor"}, "model.name: model mlp_regressor fits task regression, not multiclass"),
        ({"model.name": "cnn"}, "model.name: cnn needs image data; CSV data has tabular features only"),
        (
            {"data.path": str(REPO / "data" / "digits_images"), "data.task": "regression", "model.name": "auto"},
            "data.task: image data is classified",
        ),
        (
            {"data.path": str(REPO / "data" / "digits_images"), "data.task": "regression", "model.name": "cnn"},
            "model.name: model cnn fits task binary or multiclass, not regression",
        ),
        ({"data.image.channels": 2}, "data.image.channels: must be one of 1, 3"),
        ({"data.image.max_bad_fraction": 2}, "data.image.max_bad_fraction: must be in [0, 1]"),
        ({"data.features": ["x"], "data.exclude": ["y"]}, "set one or the other, not both"),
        ({"model.conv.padding": "full"}, "model.conv.padding: must be one of same, valid"),
        ({"model.vgg.widths": [8, 16]}, "model.vgg: widths and convs need one entry per block"),
    ],
)
def test_bad_values_are_rejected_by_key(overrides, message):
    with pytest.raises(ConfigError) as error:
        resolved_config(REPO / "configs" / "penguins.yaml", overrides)
    assert message in str(error.value)


def test_accuracy_bound_on_a_regression_task_is_rejected():
    with pytest.raises(ConfigError, match="evaluation.min_accuracy: applies to classification"):
        resolved_config(REPO / "configs" / "penguins_body_mass.yaml", {"evaluation.min_accuracy": 0.9})


def test_config_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolved_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: [unclosed")
    with pytest.raises(ConfigError, match=f"config file {broken} is not valid YAML"):
        resolved_config(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        resolved_config(listing)


def test_set_assignments_are_parsed_as_yaml():
    assert parse_assignment("training.epochs=5") == ("training.epochs", 5)
    assert parse_assignment("model.hidden_units=[8, 4]") == ("model.hidden_units", [8, 4])
    assert parse_assignment("data.label=species") == ("data.label", "species")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignment("training.epochs")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"data.classes": ["a", "a", "b"]}, "data.classes: names a class twice"),
        (
            {"data.classes": ["a", "b", "c"], "data.task": "binary", "evaluation.min_accuracy": None},
            "data.classes: task binary needs exactly 2 classes",
        ),
        ({"data.classes": [0, 1]}, "data.classes[0]: expected a string, got 0"),
    ],
)
def test_class_lists_are_checked(overrides, message):
    with pytest.raises(ConfigError) as error:
        resolved_config(REPO / "configs" / "penguins.yaml", overrides)
    assert message in str(error.value)


def test_a_partial_section_keeps_that_sections_own_defaults():
    config = resolved_config(None, {"kubeflow.trainer.memory": "85Gi", "model.hidden_units": [8]})
    trainer = config.kubeflow.trainer
    assert trainer.memory == "85Gi"
    assert (trainer.cpu, trainer.accelerator_type, trainer.accelerator_count) == (4, "nvidia.com/gpu", 1)
    # `model` without a name keeps the run's default: the model follows the task
    assert config.model.name == "mlp_classifier" and config.model.hidden_units == [8]
    regression = resolved_config(None, {"data.task": "regression", "data.label": "body_mass_g", "model.dropout": 0.1})
    assert regression.model.name == "mlp_regressor"


def test_kubeflow_runs_are_compiled_not_run_here():
    from pipeline.orchestration.local_runner import run_pipeline

    config = resolved_config(None, {"runner.kind": "kubeflow", "output.pipeline_root": "gs://b/r"})
    assert config.data.path == "/pipeline/data/penguins/penguins.csv"  # inside the image
    with pytest.raises(ConfigError, match="compile"):
        run_pipeline(config)


def test_image_data_is_resolved_to_its_format_classes_and_splits(monkeypatch):
    monkeypatch.chdir(REPO)
    folder = resolved_config(None, {"data.path": "data/digits_images", "model.name": "cnn"})
    assert (folder.name, folder.data.format, folder.data.label) == ("digits_images", "image_folder", "label")
    assert folder.data.classes == [str(d) for d in range(10)]
    assert [(s.name, s.pattern) for s in folder.data.splits] == [("train", "train/*/*"), ("eval", "test/*/*")]
    arrays = resolved_config(None, {"data.path": "data/digits_npz/digits.npz"})
    assert (arrays.data.format, arrays.model.name) == ("npz", "mlp_classifier")
    assert [(s.name, s.pattern, s.source) for s in arrays.data.splits] == [
        ("train", "digits.npz", "train"),
        ("eval", "digits.npz", "test"),
    ]
    assert resolved_config(None, {"data.path": "data/penguins/penguins.csv"}).data.format == "csv"


def test_transfer_base_in_a_serving_dir_is_its_newest_version(tmp_path):
    for version in ("17", "9", "123"):
        (tmp_path / "serving" / version).mkdir(parents=True)
        (tmp_path / "serving" / version / "saved_model.pb").write_bytes(b"")
    config = resolved_config(
        REPO / "configs" / "digits_transfer.yaml", {"model.transfer.base_model": str(tmp_path / "serving")}
    )
    assert config.model.transfer.base_model == str(tmp_path / "serving" / "123")


def test_kubeflow_pipeline_names_have_no_underscores():
    config = resolved_config(
        REPO / "configs" / "digits_cnn.yaml", {"runner.kind": "kubeflow", "output.pipeline_root": "gs://bucket/root"}
    )
    assert config.name == "digits-cnn"


def test_exponent_numbers_are_numbers_although_yaml_reads_them_as_text():
    config = resolved_config(REPO / "configs" / "penguins.yaml", {"model.learning_rate": "1e-3"})
    assert config.model.learning_rate == 0.001
    config = resolved_config(REPO / "configs" / "penguins.yaml", dict([parse_assignment("model.learning_rate=2e-4")]))
    assert config.model.learning_rate == 0.0002
    with pytest.raises(ConfigError, match="model.learning_rate: expected a number, got 'fast'"):
        resolved_config(REPO / "configs" / "penguins.yaml", {"model.learning_rate": "fast"})


def test_local_runs_give_tfx_no_beam_args_so_it_builds_no_sdist_of_itself(tmp_path):
    """With any Beam args, each TFX Beam component first packages TFX for remote workers
    (dependency_utils.make_beam_dependency_flags): seconds per component that a local
    DirectRunner never uses. Beam's own defaults are the in-memory DirectRunner."""
    from pipeline.orchestration.factory import create_pipeline, local_deployment

    config = resolved_config(REPO / "configs" / "penguins.yaml", {"output.pipeline_root": str(tmp_path)})
    assert create_pipeline(config, local_deployment(config)).beam_pipeline_args == []
    multi = resolved_config(
        REPO / "configs" / "penguins.yaml",
        {"output.pipeline_root": str(tmp_path), "runner.beam_args": ["--direct_running_mode=multi_processing"]},
    )
    assert create_pipeline(multi, local_deployment(multi)).beam_pipeline_args == [
        "--direct_running_mode=multi_processing"
    ]
