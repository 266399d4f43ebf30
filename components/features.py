"""The one place that names things: transformed features, the label, the example weight.

Nothing else spells a transformed name by hand.
"""

# Names are collision-free by construction: a transformed feature always ends in "_xf", an
# indicator in "_missing", and the reserved names below in "__", whatever the CSV's columns are.
TRANSFORMED_SUFFIX = "_xf"
MISSING_SUFFIX = "_missing"

# Vocabulary file of the label's classes (class id -> class name), written by Transform.
LABEL_VOCABULARY = "label_classes"
# Weight 1 for rows whose label is present and known, 0 otherwise. Training and TFMA weight
# every example by it, so a row with a missing label counts nowhere and breaks nothing.
LABEL_WEIGHT = "__label_weight__"
# Transformed label, whatever the raw label column is called.
LABEL = "__label__"

# ExampleGen's output splits: what the model fits, what early stopping and every other training
# decision watch, and what the gate judges (nothing else reads it). Configured in settings.SplitSpec.
TRAIN_SPLIT = "train"
VALIDATION_SPLIT = "validation"
EVAL_SPLIT = "eval"
SPLITS = (TRAIN_SPLIT, VALIDATION_SPLIT, EVAL_SPLIT)
# Sub-folders of CSV data stored pre-split -> output split. Keras calls the held-out split `test`,
# TFX `eval`: either names the split the gate judges.
CSV_SPLIT_FOLDERS = {"train": TRAIN_SPLIT, "validation": VALIDATION_SPLIT, "test": EVAL_SPLIT, "eval": EVAL_SPLIT}

# Raw features of an image example, as the image ExampleGen writes them.
IMAGE = "image"  # the encoded file (PNG, JPEG, BMP or GIF); arrays are written as PNG
IMAGE_LABEL = "label"  # class id: the class's position in `data.classes`
IMAGE_CLASS = "class"  # class name
IMAGE_PATH = "path"  # relative path of the file, or `<file>:x_train[<row>]` for arrays

# Signature names of the exported SavedModel.
SERVING_EXAMPLES_SIGNATURE = "serving_default"  # serialized tf.Example with raw features
SERVING_RAW_SIGNATURE = "serving_raw"  # one named tensor per raw feature
TRANSFORM_SIGNATURE = "transform_features"  # raw tf.Example -> transformed features (TFMA)

# The exported model's function for Python callers: `serving_raw`'s columns as a dict, numeric
# ones as any int or float dtype (see components/trainer/serving.py).
SERVE_COLUMNS_FUNCTION = "serve_columns"
# The class names in class-id order, one per line, in the SavedModel's assets/.
CLASS_NAMES_ASSET = "class_names.txt"

# Outputs of the serving signatures.
PROBABILITIES = "probabilities"  # classification: [n, classes] ([n, 1] for binary: the second class's)
CLASS_IDS = "class_ids"  # the predicted class's id: its position in CLASS_NAMES
CLASSES = "classes"  # the predicted class's name
CLASS_NAMES = "class_names"  # [n, classes]: every class's name in id order, naming PROBABILITIES' columns
PREDICTIONS = "predictions"  # regression: [n, 1]

# The Evaluator's blessing: which pushed version (the model in production) the candidate was
# compared with, "" for none. Written by components/evaluator/production.py, read by the run summary.
BASELINE_VERSION = "baseline_version"


def transformed_name(key: str) -> str:
    return key + TRANSFORMED_SUFFIX


def missing_indicator_name(key: str) -> str:
    return key + MISSING_SUFFIX


def categorical_vocabulary(key: str) -> str:
    """Vocabulary file name of string feature `key` (the model reads its size)."""
    return f"vocab_{key}"
