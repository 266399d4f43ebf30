"""End to end on image data: a class-folder tree (with bad files in it) and an .npz, each through
the whole pipeline to a pushed model that classifies encoded image bytes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from bench import image_accuracy, serving
from components import features
from components.example_gen import image_data
from components.pusher.predict import load_model, predict_images
from conftest import BAD_FILES, REPO, Run, run_cli, shared_run, tree_digest, write_image_tree
from pipeline.commands.cli import main

pytestmark = pytest.mark.e2e

DIGITS = REPO / "data" / "digits_images"
DIGITS_NPZ = REPO / "data" / "digits_npz" / "digits.npz"


@pytest.fixture(scope="session")
def folder_run(tmp_path_factory) -> tuple[Run, list[str]]:
    """The CNN recipe on a copy of the digits folder with one of each bad file under train/3/."""

    def build(root: Path) -> Run:
        data = root / "digits"
        shutil.copytree(DIGITS, data)
        whole = (data / "train" / "3" / "0003.png").read_bytes()
        for name, content in BAD_FILES.items():
            (data / "train" / "3" / name).write_bytes(whole[: len(whole) // 2] if content is None else content)
        return run_cli(
            root, "--config", str(REPO / "configs" / "digits_cnn.yaml"), "--data", str(data), "--epochs", "20"
        )

    return shared_run(tmp_path_factory, "digits_folder", build), sorted(f"train/3/{name}" for name in BAD_FILES)


@pytest.fixture(scope="session")
def npz_run(tmp_path_factory) -> Run:
    return shared_run(
        tmp_path_factory,
        "digits_npz",
        lambda root: run_cli(root, "--config", str(REPO / "configs" / "digits_npz_mlp.yaml"), "--epochs", "15"),
    )


def test_folder_run_is_blessed_and_reports_each_skipped_file(folder_run):
    run, bad = folder_run
    assert run.exit_code == 0 and run.summary["blessed"], run.printed
    assert "ImageExampleGen" in run.summary["components"]
    images = run.summary["images"]
    assert images["read"] == 1797 + len(bad) and images["skipped"] == len(bad)
    assert [record["path"] for record in images["skipped_files"]] == bad
    for path in bad:
        assert f"skipped {path}: " in run.printed
    assert run.summary["metrics"]["accuracy"]["value"] >= 0.9
    page = Path(run.summary["report_file"]).read_text()
    assert f"Images: {images['read']} read, {images['skipped']} skipped." in page
    assert all(f"<td>{path}</td>" in page for path in bad)
    # per-class scores by class name, and their examples add up to the eval split the gate read
    support = [
        float(n) for n in re.findall(r"<tr><td[^>]*>\d</td>(?:<td[^>]*>[\d.]+</td>){2}<td[^>]*>(\d+)</td></tr>", page)
    ]
    assert len(support) == 10 and sum(support) == run.summary["metrics"]["example_count"]


def test_report_shows_eval_images_with_their_classes_misclassified_first(folder_run):
    run, _ = folder_run
    record = json.loads(Path(run.summary["image_samples"]).read_text())
    samples = record["samples"]
    assert 0 < len(samples) <= 24 and record["scanned"] >= len(samples)
    assert [sample["correct"] for sample in samples] == sorted(sample["correct"] for sample in samples)
    right = [sample["true"] for sample in samples if sample["correct"]]
    assert len(set(right[:10])) == min(10, len(right))  # the correct ones class by class, not all 0s
    for sample in samples:
        # the eval split is the stored test/ folder (components/example_gen/image_data.py)
        assert sample["path"].startswith("test/") and sample["path"].split("/")[1] == sample["true"]
        assert (sample["true"] == sample["predicted"]) == sample["correct"]
        assert sample["image"].startswith("data:image/png;base64,")
    page = Path(run.summary["report_file"]).read_text()
    assert page.count('<figure class="sample') == len(samples)
    assert "<td>path</td>" not in page and "<td>image</td>" not in page  # no statistics rows for them
    assert "<th>conv.filters</th>" in page and "<code>tensorboard --logdir " in page


def test_pushed_cnn_classifies_png_bytes_of_the_test_folder(folder_run):
    run, _ = folder_run
    files = sorted((DIGITS / "test").glob("*/*.png"))
    labels = np.array([int(path.parent.name) for path in files])
    outputs = predict_images(load_model(run.summary["pushed_model_dir"]), [path.read_bytes() for path in files])
    assert outputs[features.PROBABILITIES].shape == (len(files), 10)
    assert np.mean(outputs[features.CLASS_IDS] == labels) >= 0.9
    np.testing.assert_array_equal(outputs[features.CLASSES], [str(i).encode() for i in outputs[features.CLASS_IDS]])


def test_serving_signatures_agree_and_do_not_augment(folder_run):
    run, _ = folder_run
    model = load_model(run.summary["pushed_model_dir"])
    files = sorted((DIGITS / "test" / "7").glob("*.png"))[:5]
    serialized = []
    for path in files:
        example = tf.train.Example()
        example.features.feature[features.IMAGE].bytes_list.value.append(path.read_bytes())
        serialized.append(example.SerializeToString())
    by_examples = model.signatures[features.SERVING_EXAMPLES_SIGNATURE](examples=tf.constant(serialized))
    by_bytes = predict_images(model, [path.read_bytes() for path in files])
    np.testing.assert_allclose(by_examples[features.PROBABILITIES].numpy(), by_bytes[features.PROBABILITIES], atol=1e-6)
    again = predict_images(model, [path.read_bytes() for path in files])  # the recipe's random augmentation
    np.testing.assert_array_equal(again[features.PROBABILITIES], by_bytes[features.PROBABILITIES])  # is off


def test_predict_command_prints_class_and_probability_per_file(folder_run):
    run, _ = folder_run
    files = [str(path) for path in sorted((DIGITS / "test" / "5").glob("*.png"))[:3]]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["predict", "--model", str(run.serving_dir), *files])
    assert code == 0
    lines = printed.getvalue().splitlines()
    assert lines[0] == f"model {run.summary['pushed_model_dir']}"  # the serving dir's newest version
    for path, line in zip(files, lines[1:]):
        name, prediction = line.split(": ")
        assert name == path
        assert prediction.startswith("5 (probability ")


def test_predict_skips_and_names_a_bad_image_and_predicts_the_others(folder_run, tmp_path, capsys):
    run, _ = folder_run
    good = [str(path) for path in sorted((DIGITS / "test" / "5").glob("*.png"))[:2]]
    bad = tmp_path / "not_an_image.png"
    bad.write_bytes(b"these bytes are no PNG")
    code = main(["predict", "--model", str(run.serving_dir), good[0], str(bad), good[1]])
    out, err = capsys.readouterr()
    assert code == 2
    assert [line.split(": ")[0] for line in out.splitlines()[1:]] == good  # nothing lost
    assert err.splitlines() == [
        "input error: skipped 1 of 3 files, the others predicted:",
        f"  {bad}: cannot decode: Unknown image file format. One of JPEG, PNG, GIF, BMP required.",
    ]
    assert main(["predict", "--model", str(run.serving_dir), str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"input error: no file is a usable image: {bad}: cannot decode")


def test_skip_reasons_are_one_readable_line(folder_run):
    run, _ = folder_run
    for record in run.summary["images"]["skipped_files"]:
        assert "{{" not in record["reason"] and "[Op:" not in record["reason"] and "\n" not in record["reason"]


def test_npz_run_is_blessed_and_its_model_classifies_png_bytes(npz_run):
    assert npz_run.exit_code == 0 and npz_run.summary["blessed"], npz_run.printed
    assert npz_run.summary["images"]["read"] == 1797 and npz_run.summary["images"]["skipped"] == 0
    x_test, y_test = image_data.load_arrays(str(DIGITS_NPZ), "npz", "test")
    encoded = [image_data.encode_png(image[..., np.newaxis]) for image in x_test]
    outputs = predict_images(load_model(npz_run.summary["pushed_model_dir"]), encoded)
    assert np.mean(outputs[features.CLASS_IDS] == y_test) >= 0.9


def test_image_accuracy_benchmark_scores_the_pushed_model_next_to_scikit_learn(folder_run, tmp_path):
    run, _ = folder_run
    (tmp_path / "digits_cnn.json").write_text(json.dumps(run.summary))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert image_accuracy.main(["--recipes", "digits_cnn", "--runs-dir", str(tmp_path)]) == 0
    row = [cell.strip() for cell in printed.getvalue().splitlines()[-1].strip("|").split("|")]
    assert row[:3] == ["digits_cnn", "digits", "cnn"]
    assert float(row[6].split()[0]) >= 0.9 and row[6].endswith("(n=360)")  # the pushed model on test PNG bytes
    assert all(0.9 < float(cell) <= 1.0 for cell in row[7:9])  # SVC and LogisticRegression, same split


def test_bad_images_fail_the_run_by_name_when_configured_and_nothing_is_pushed(tmp_path, capsys, earlier_push):
    serving, digests = earlier_push
    bad = write_image_tree(tmp_path / "pets", classes=("cat", "dog"), copies=2)
    run = run_cli(
        tmp_path,
        "--data",
        str(tmp_path / "pets"),
        "--model",
        "cnn",
        "--set",
        "data.image.bad_images=fail",
        "--set",
        "data.image.height=8",
        "--set",
        "data.image.width=8",
        "--epochs",
        "1",
    )
    err = capsys.readouterr().err
    assert run.exit_code == 2
    assert f"input error: {tmp_path / 'pets'}: {len(bad)} of " in err
    assert all(f"  {path}: " in err for path in bad)
    assert run.serving_dir == serving and tree_digest(serving) == digests


def test_serving_benchmark_times_the_image_model_on_png_bytes(folder_run):
    run, _ = folder_run
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert serving.main(["--model", run.summary["pushed_model_dir"], "--calls", "5", "--batches", "1", "4"]) == 0
    rows = [
        line.strip("|").split("|")
        for line in printed.getvalue().splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    rows = [[cell.strip() for cell in row] for row in rows[1:]]  # the header row first
    assert [(r[0], r[1]) for r in rows] == [
        (b, v) for b in ("1", "4") for v in ("bare Keras", "serving_raw", "serving_default")
    ]
    assert all(float(r[2]) > 0 for r in rows)
