"""The CLI's contract for bad input: one clear message, exit code 2, nothing run."""

import json

import pytest

from conftest import REPO, cli_in_a_fresh_process, tree_digest, write_image_tree
from pipeline.commands.cli import EXIT_BAD_INPUT, build_parser, main

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
        (["--data", str(REPO / "data" / "digits_npz")], "holds no CSV files, IDX files or class sub-folders"),
        (
            [
                "--config",
                str(REPO / "configs" / "digits_transfer.yaml"),
                "--set",
                "model.transfer.base_model=/nonexistent/serving",
            ],
            "model.transfer.base_model: /nonexistent/serving does not exist",
        ),
        (
            ["--data", str(REPO / "data" / "digits_images"), "--set", "data.classes=[a, b]"],
            "data.classes ['a', 'b'] must name exactly the class folders",
        ),
    ],
)
def test_bad_configuration_or_input_exits_2_with_one_message(args, message, capsys, tmp_path, earlier_push):
    serving, digests = earlier_push
    code = main(["run", *args, "--pipeline-root", str(tmp_path / "root"), "--serving-dir", str(serving)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "root").exists()  # nothing ran
    assert tree_digest(serving) == digests  # the earlier model, byte for byte


BAD_CSV = {
    "empty.csv": (b"", "empty.csv: the file is empty"),
    "header.csv": (b"x,y\n", "header.csv: the file has a header but no data rows"),
    "ragged.csv": (b"x,y\n1,a\n2\n3,b\n", "ragged.csv line 3: 1 fields, but the header has 2"),
    "typo.csv": (
        b"x,y\n" + b"".join(b"%d,%s\n" % (i, b"ab"[i % 2 : i % 2 + 1]) for i in range(9)) + b"NA,b\n",
        "column 'x' holds numbers, but line 11 of typo.csv: 'NA'",
    ),
    "one_class.csv": (b"x,y\n1,a\n2,a\n", "the label column 'y' has only 'a': a classifier needs at least 2 classes"),
    "latin1.csv": (b"x,y\n\xe9t\xe9,a\n", "latin1.csv: not UTF-8 text"),
}


@pytest.mark.parametrize("name", sorted(BAD_CSV))
def test_bad_csv_is_refused_by_file_and_line_before_anything_runs(name, capsys, tmp_path, earlier_push):
    serving, digests = earlier_push
    content, message = BAD_CSV[name]
    (tmp_path / name).write_bytes(content)
    code = main(
        [
            "run",
            "--data",
            str(tmp_path / name),
            "--label",
            "y",
            "--task",
            "multiclass",
            "--pipeline-root",
            str(tmp_path / "root"),
            "--serving-dir",
            str(serving),
        ]
    )
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and message in err, err
    assert not (tmp_path / "root").exists() and tree_digest(serving) == digests


def test_an_image_class_folder_without_images_is_refused(capsys, tmp_path, earlier_push):
    serving, digests = earlier_push
    write_image_tree(tmp_path / "pets", classes=("cat", "dog"), copies=1, bad=False)
    (tmp_path / "pets" / "emu").mkdir()
    code = main(
        [
            "run",
            "--data",
            str(tmp_path / "pets"),
            "--pipeline-root",
            str(tmp_path / "root"),
            "--serving-dir",
            str(serving),
        ]
    )
    assert code == EXIT_BAD_INPUT
    assert "class folder emu holds no images: add images or remove the folder" in capsys.readouterr().err
    assert tree_digest(serving) == digests


def test_missing_label_column_is_named_with_the_columns(capsys, tmp_path):
    main(["run", "--config", PENGUINS, "--label", "wingspan", "--pipeline-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert "no label column 'wingspan'; the columns are: species, island, bill_length_mm" in err


def test_run_help_lists_the_flags_and_examples():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for flag in (
        "--data",
        "--label",
        "--task",
        "--model",
        "--epochs",
        "--pipeline-root",
        "--serving-dir",
        "--runner",
        "--summary-json",
        "--set",
        "--debug",
    ):
        assert flag in text
    assert "python -m pipeline run --data my.csv --label price --task regression" in text
    flat = " ".join(text.split())
    assert "an image folder (one sub-folder per class" in flat and ".npz file" in flat and "IDX files" in flat
    assert "package.module:function" in flat  # --model takes a user's own builder


def test_models_lists_every_model_with_its_parameter_count(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    from components.trainer.models import REGISTRY

    for name in REGISTRY:
        assert f"\n{name} " in out
    mnist_row = next(line for line in out.splitlines() if line.startswith("mnist_mlp "))
    assert "269,322" in mnist_row
    assert "model.transfer.base_model: name a .h5/.keras file" in out  # transfer needs a base
    image_rows = [line for line in out.splitlines() if "(images)" in line]
    assert len(image_rows) == 5 and not any("regression" in line for line in image_rows)  # the config refuses it


def test_models_summary_prints_the_keras_summary(capsys):
    assert main(["models", "--summary", "mnist_mlp"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 269322" in out.replace(",", "") and "dropout_1" in out


def test_models_with_a_bad_shape_or_name_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "--input-shape", "28x28"])
    assert exit_info.value.code == 2
    assert main(["models", "--summary", "resnet"]) == EXIT_BAD_INPUT
    assert "--summary: unknown model 'resnet'" in capsys.readouterr().err


def test_predict_names_a_folder_without_a_model(capsys, tmp_path):
    code = main(["predict", "--model", str(tmp_path), str(REPO / "data" / "digits_images" / "test" / "0" / "0000.png")])
    assert code == EXIT_BAD_INPUT
    assert f"{tmp_path}: neither a SavedModel nor a serving dir" in capsys.readouterr().err


def test_every_subcommand_has_help_with_examples():
    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == {"run", "sweep", "compile", "submit", "predict", "report", "runs", "models"}
    for name, parser in commands.items():
        text = parser.format_help()
        assert "examples:" in text and f"python -m pipeline {name}" in text, name


def test_runs_table_has_a_row_per_run_with_metrics_blessing_and_version():
    from pipeline.commands.terminal import format_runs

    records = [
        {
            "pipeline": "penguins",
            "run_id": "20261125-1",
            "started": 0.0,
            "state": "complete",
            "metrics": {"loss": 0.03371, "accuracy": 0.98571, "macro_f1": 0.98123},
            "blessed": True,
            "pushed_model_dir": "/s/1795",
        },
        {
            "pipeline": "penguins",
            "run_id": "20261125-2",
            "started": 60.0,
            "state": "failed",
            "metrics": {},
            "blessed": False,
            "pushed_model_dir": None,
        },
    ]
    head, rule, first, second, count = format_runs(records).splitlines()
    assert head.split()[:4] == ["started", "pipeline", "run", "state"] and set(rule) <= {"-", " "}
    assert first.split()[2:] == [
        "penguins",
        "20261125-1",
        "complete",
        "0.0337",
        "0.9857",
        "yes",
        "/s/1795",
        "macro_f1",
        "0.9812",
    ]
    assert second.split()[2:] == ["penguins", "20261125-2", "failed", "-", "-", "no", "-", "-"]
    assert count == "2 run(s)"


def test_version_names_this_project_and_its_stack(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("keras-tfx-pipeline 0.1.0 (TFX 1.16.0, TensorFlow 2.16.2, Keras 2 through tf_keras 2.16")


def test_runs_json_is_the_records_with_an_iso_start():
    from pipeline.commands.terminal import runs_json

    record = {"pipeline": "p", "run_id": "r", "started": 86400.5, "state": "complete", "metrics": {"loss": 0.1}}
    assert json.loads(runs_json([record])) == [{**record, "started_iso": "1970-01-02T00:00:00Z"}]


def test_report_without_runs_says_how_to_get_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "no runs under ./output; give --config or --pipeline-root" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--data", "/nope.csv", "--label", "x", "--task", "binary"], "/nope.csv: no such file"),
        (
            ["run", "--data", "data/penguins/penguins.csv", "--label", "nope", "--task", "multiclass"],
            "no label column 'nope'",
        ),
        (["run", "--config", "configs/penguins.yaml", "--model", "nope"], "unknown model 'nope'"),
    ],
    ids=["missing-file", "wrong-label", "unknown-model"],
)
def test_mistakes_are_reported_before_tensorflow_tfx_or_beam_are_imported(args, message):
    """A fresh process, as a user runs it: the answer must not wait for TensorFlow's import
    (bench/fast_answers.py times it)."""
    done, result = cli_in_a_fresh_process(*args)
    assert message in done.stderr
    assert result == "RESULT 2 []", done.stdout + done.stderr
