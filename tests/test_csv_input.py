import pytest

from components.csv_input import InputError, check_csv

from conftest import write_csv


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

    from components.csv_input import trivial_loss

    data = write_csv(tmp_path / "d.csv", ["x", "y", "v"], [[1, "a", 1.0], [2, "a", 2.0], [3, "b", ""], [4, "a", 10.0]])
    assert trivial_loss(str(data), "y", "multiclass") == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert trivial_loss(str(data), "v", "regression") == pytest.approx((1 + 0 + 8) / 3)  # median 2, missing cell skipped
    with pytest.raises(InputError, match="task regression needs a numeric label column 'y'"):
        trivial_loss(str(data), "y", "regression")
