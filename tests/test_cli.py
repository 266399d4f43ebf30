"""The CLI's contract for bad input: one clear message, exit code 2, nothing run."""

import pytest

from pipeline.cli import EXIT_BAD_INPUT, build_parser, main

from conftest import REPO

PENGUINS = str(REPO / "configs" / "penguins.yaml")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", PENGUINS, "--set", "training.epoch=3"], "configuration error: training.epoch: unknown key"),
        (["--config", PENGUINS, "--model", "resnet999"], "configuration error: model.name: unknown model 'resnet999'"),
        (["--config", PENGUINS, "--set", "evaluation.min_accuracy=2"], "evaluation.min_accuracy: must be in [0, 1]"),
        (["--config", PENGUINS, "--label", "wingspan"], "input error: "),
        (["--data", "/nonexistent/x.csv", "--label", "y", "--task", "binary"], "/nonexistent/x.csv: no such file"),
        (["--config", "/nonexistent.yaml"], "config file /nonexistent.yaml does not exist"),
    ],
)
def test_bad_configuration_or_input_exits_2_with_one_message(args, message, capsys, tmp_path):
    code = main(["run", *args, "--pipeline-root", str(tmp_path / "root")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "root").exists()  # nothing ran


def test_missing_label_column_is_named_with_the_columns(capsys, tmp_path):
    main(["run", "--config", PENGUINS, "--label", "wingspan", "--pipeline-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert "no label column 'wingspan'; the columns are: species, island, bill_length_mm" in err


def test_run_help_lists_the_flags_and_examples():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for flag in ("--data", "--label", "--task", "--model", "--epochs", "--pipeline-root",
                 "--serving-dir", "--runner", "--summary-json", "--set", "--debug"):
        assert flag in text
    assert "python -m pipeline run --data my.csv --label price --task regression" in text
