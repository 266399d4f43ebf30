from components import features


def test_reserved_names_cannot_come_from_any_column_name():
    columns = ["label", "__label__", "__label_weight__", "size", "size_missing", "label_weight"]
    produced = {features.transformed_name(c) for c in columns} | {features.missing_indicator_name(c) for c in columns}
    assert features.LABEL not in produced
    assert features.LABEL_WEIGHT not in produced
    assert len(produced) == 2 * len(columns)  # features and indicators never collide either


def test_signature_names_are_distinct():
    names = [features.SERVING_EXAMPLES_SIGNATURE, features.SERVING_RAW_SIGNATURE, features.TRANSFORM_SIGNATURE]
    assert len(set(names)) == 3
    assert features.SERVING_EXAMPLES_SIGNATURE == "serving_default"  # what TF Serving calls by default
