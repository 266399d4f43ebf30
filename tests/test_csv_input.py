import shutil

import pytest

from components.example_gen import csv_input
from components.example_gen.csv_input import InputError, check_csv, check_rows
from conftest import REPO, write_csv


def test_a_good_csv_returns_its_header(tiny_csv):
    assert check_csv(str(tiny_csv), "label") == ["size", "count", "color", "label"]


def test_a_folder_of_csvs_is_accepted(tmp_path):
    write_csv(tmp_path / "part1.csv", ["x", "y"], [[1, 0]])
    write_csv(tmp_path / "part2.csv", ["x", "y"], [[2, 1]])
    assert check_csv(str(tmp_path), "y") == ["x", "y"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "absent.csv", "absent.csv: no such file"),
        (lambda d: _text(d / "empty.csv", ""), "empty.csv: the file is empty"),
        (lambda d: _text(d / "header.csv", "x,y\n"), "header.csv: the file has a header but no data rows"),
        (lambda d: _text(d / "nolabel.csv", "x,z\n1,2\n"), "no label column 'y'; the columns are: x, z"),
        (lambda d: _bytes(d / "latin1.csv", b"x,y\n\xe9t\xe9,1\n"), "latin1.csv: not UTF-8 text"),
        (lambda d: (d / "sub").mkdir() or d / "sub", "the folder has no *.csv files"),
    ],
)
def test_bad_csv_input_names_the_file_and_column(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError) as error:
        check_csv(str(path), "y")
    assert message in str(error.value)


def test_folders_with_different_headers_are_refused(tmp_path):
    write_csv(tmp_path / "a.csv", ["x", "y"], [[1, 0]])
    write_csv(tmp_path / "b.csv", ["x", "w", "y"], [[1, 2, 0]])
    with pytest.raises(InputError, match="b.csv: its header differs"):
        check_csv(str(tmp_path), "y")


def _text(path, text):
    path.write_text(text)
    return path


def _bytes(path, data):
    path.write_bytes(data)
    return path


def test_trivial_loss_is_the_label_entropy_or_the_median_error(tmp_path):
    import math

    from components.evaluator.trivial_model import trivial_loss

    data = write_csv(tmp_path / "d.csv", ["x", "y", "v"], [[1, "a", 1.0], [2, "a", 2.0], [3, "b", ""], [4, "a", 10.0]])
    classes = check_rows(str(data), "y", "multiclass")
    assert trivial_loss(classes, "multiclass") == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    values = check_rows(str(data), "v", "regression")
    assert trivial_loss(values, "regression") == pytest.approx((1 + 0 + 8) / 3)  # median 2, missing cell skipped
    with pytest.raises(InputError, match="d.csv line 2: task regression needs a numeric label column 'y', got 'a'"):
        check_rows(str(data), "y", "regression")


ROWS = [[f"{i}.5", f"{i % 3}", "red" if i % 2 else "blue", "a" if i % 2 else "b"] for i in range(20)]


@pytest.mark.parametrize(
    "recipe_csv", ["penguins/penguins.csv", "breast_cancer/breast_cancer.csv", "wine/wine.csv", "digits/digits.csv"]
)
def test_the_shipped_csvs_pass_the_row_checks(recipe_csv):
    label = {"penguins": "species", "breast_cancer": "diagnosis", "wine": "cultivar", "digits": "digit"}
    check_rows(str(REPO / "data" / recipe_csv), label[recipe_csv.split("/")[0]], "multiclass")


def test_a_ragged_row_is_named_by_file_and_line(tmp_path):
    path = write_csv(tmp_path / "ragged.csv", ["x", "n", "color", "y"], ROWS)
    path.write_text(path.read_text() + "1.0,2,red\n")
    with pytest.raises(InputError, match=r"ragged.csv line 22: 3 fields, but the header has 4"):
        check_rows(str(path), "y", "binary")


def test_text_in_a_numeric_column_is_named_with_its_lines(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[4][0], rows[9][0] = "NA", "n/a"
    path = write_csv(tmp_path / "typo.csv", ["x", "n", "color", "y"], rows)
    message = r"column 'x' holds numbers, but line 6 of typo.csv: 'NA'; line 11 of typo.csv: 'n/a': fix those cells"
    with pytest.raises(InputError, match=message):
        check_rows(str(path), "y", "binary")


def test_a_text_column_and_empty_cells_are_fine(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[3][0] = ""
    check_rows(str(write_csv(tmp_path / "ok.csv", ["x", "n", "color", "y"], rows)), "y", "binary")


def test_a_label_with_one_class_is_refused_for_classification_only(tmp_path):
    rows = [[row[0], row[1], row[2], "a"] for row in ROWS]
    path = write_csv(tmp_path / "one.csv", ["x", "n", "color", "y"], rows)
    with pytest.raises(InputError, match="the label column 'y' has only 'a': a classifier needs at least 2 classes"):
        check_rows(str(path), "y", "multiclass")
    check_rows(str(path), "n", "regression")


@pytest.mark.parametrize(
    "text, label, task, columnar",
    [
        ("x,n,color,y\n1.5,2,red,a\n,3,blue,b\n\n2.5,,red,a\n", "y", "binary", True),
        ("x,n,y\r\n1,2,3.5\r\n4,5,6\r\n", "y", "regression", True),
        # a few text cells in a mostly numeric column, under NUMERIC_SHARE: not refused
        ("x,y\n" + "".join(f"{i},a\n" for i in range(8)) + "NA,b\nn/a,b\n", "y", "binary", True),
        ('x,y\n1,"a"\n2,b\n', "y", "binary", False),  # quoted: row by row
        ("x,y\n 1,a\n2,b\n", "y", "binary", False),  # spaces around a cell: row by row
    ],
)
def test_the_columnar_pass_agrees_with_the_row_by_row_pass(tmp_path, text, label, task, columnar):
    path = _text(tmp_path / "d.csv", text)
    fast = csv_input._columnar_labels(str(path), label, task)
    assert (fast is not None) == columnar
    assert check_rows(str(path), label, task) == csv_input._row_by_row_labels(str(path), label, task)
    if columnar:
        assert fast == csv_input._row_by_row_labels(str(path), label, task)


@pytest.mark.parametrize("recipe_csv, label", [("penguins/penguins.csv", "species"), ("wine/wine.csv", "cultivar")])
def test_the_shipped_csvs_take_the_columnar_pass(recipe_csv, label):
    path = str(REPO / "data" / recipe_csv)
    assert csv_input._columnar_labels(path, label, "multiclass") == csv_input._row_by_row_labels(
        path, label, "multiclass"
    )


def test_a_split_key_must_be_filled_and_hold_integers_or_text(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("id,x,label\n7,1.5,a\nk9,2,b\n")
    csv_input.check_split_key(str(good), "id")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,x,label\n1,1.5,a\n,2,b\n")
    with pytest.raises(InputError, match=r"empty.csv:3: data.split_key column 'id' is empty"):
        csv_input.check_split_key(str(empty), "id")
    decimals = tmp_path / "decimals.csv"
    decimals.write_text("id,x,label\n1,1.5,a\n2,2,b\n")
    with pytest.raises(InputError, match=r"decimals.csv:2: '1.5': data.split_key column 'x' holds decimal numbers"):
        csv_input.check_split_key(str(decimals), "x")


def test_a_folder_pre_split_into_train_validation_and_test_keeps_its_splits(tmp_path):
    for folder, rows in (("train", 3), ("validation", 2), ("test", 2)):
        write_csv(tmp_path / folder / "part.csv", ["x", "label"], [[i, "ab"[i % 2]] for i in range(rows)])
    assert csv_input.stored_splits(str(tmp_path)) == {"train": "train", "validation": "validation", "eval": "test"}
    assert len(csv_input.csv_files(str(tmp_path))) == 3 and csv_input.stored_eval_rows(str(tmp_path)) == 2
    assert sorted(check_rows(str(tmp_path), "label", "binary")) == ["a"] * 4 + ["b"] * 3
    assert csv_input.stored_splits(str(tmp_path / "train")) is None  # a plain folder of CSVs
    with pytest.raises(InputError, match="stored in split folders; data.split_key applies to one folder"):
        csv_input.check_split_key(str(tmp_path), "x")
    shutil.rmtree(tmp_path / "validation")
    with pytest.raises(InputError, match=r"needs train/, validation/ and test/ \(or eval/\) .*; validation is missing"):
        csv_input.stored_splits(str(tmp_path))


def test_a_path_without_an_extension_is_a_folder_for_every_reader(tmp_path):
    """components/example_gen/__init__.py `is_folder`: preflight refuses what ExampleGen would
    read as a folder (its input pattern *.csv under that path), before anything runs."""
    from components.example_gen import is_folder

    file = tmp_path / "rows"
    file.write_text("a,b\n1,2\n")
    assert is_folder(str(file)) and is_folder("gs://bucket/data/") and not is_folder("gs://bucket/x.csv")
    with pytest.raises(InputError, match="no such folder .* a CSV file needs its .csv"):
        csv_input.csv_files(str(file))
