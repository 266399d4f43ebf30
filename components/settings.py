"""Every typed setting of a run, `RunConfig` and its sections: shared by the wiring and by the
component code that runs inside TFX (pipeline/config/recipe.py loads a recipe into them, resolve.py resolves it).

The pipeline hands these to Transform and Trainer as `custom_config` (plain JSON), and the
component code reads them back with `from_dict`, so both sides agree on one typed schema.
`from_dict` validates as it builds: unknown keys, wrong types and bad values raise
`ConfigError` naming the dotted key (e.g. `training.early_stopping.patience`).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypeVar, get_args

from components import features

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = get_args(Task)
TASKS: tuple[str, ...] = typing.get_args(Task)
CLASSIFICATION_TASKS = ("binary", "multiclass")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or invalid; the message names the key."""


class InputError(ValueError):
    """The input data cannot be used; the message names the file, column or value.

    Raised before the pipeline starts and inside components alike: Beam re-raises an
    exception with its type, so the CLI reports both as bad input (exit code 2)."""


class TrainingError(RuntimeError):
    """Training produced a model that must not be exported (its loss is not a number).

    Defined here, not in components/trainer/run.py: TFX re-imports the module that holds `run_fn`,
    which would give a class defined there a second identity."""


DataFormat = Literal["auto", "csv", "image_folder", "npz", "idx"]
IMAGE_FORMATS = ("image_folder", "npz", "idx")


@dataclass
class ImageSpec:
    """How Transform turns an encoded image into the model's input (image data only).

    Every image is decoded (PNG, JPEG, BMP, GIF: its first frame), converted to `channels`
    (alpha is dropped, grey is repeated into RGB, RGB becomes grey by luma), resized to
    `height` x `width` and scaled to [0, 1] (`unit`) or z-scored per channel with the
    training set's mean and deviation.
    ExampleGen skips files that do not decode and names each in the run summary; the run fails
    instead when `bad_images` is `fail`, or when more than `max_bad_fraction` of them are bad."""

    height: int = 28
    width: int = 28
    channels: Literal[1, 3] = 1
    scale: Literal["unit", "zscore"] = "unit"
    bad_images: Literal["skip", "fail"] = "skip"
    max_bad_fraction: float = 0.1

    def validate(self) -> None:
        if self.height <= 0 or self.width <= 0:
            raise ConfigError(f"data.image: height and width must be > 0, got {self.height}x{self.width}")
        if not 0.0 <= self.max_bad_fraction <= 1.0:
            raise ConfigError(f"data.image.max_bad_fraction: must be in [0, 1], got {self.max_bad_fraction}")

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.height, self.width, self.channels


@dataclass
class ImageSplit:
    """One split of image data as it is stored (filled when the config is loaded).

    `pattern` (relative to the data root) is what TFX fingerprints for caching; `source` is
    the split's folder (image_folder), array suffix (npz: x_<source>) or file prefix (idx)."""

    name: Literal["train", "validation", "eval"] = "train"
    pattern: str = ""
    source: str = ""


@dataclass
class DataSpec:
    """What the data holds and how Transform should treat it.

    `format` says how ExampleGen reads `path` (`auto` tells by the path): `csv` (a file or a
    folder of CSV files), `image_folder` (one sub-folder of images per class, optionally under
    train/, validation/ and test/), `npz` (x_train, y_train, x_test, y_test as in Keras'
    mnist.npz) or `idx` (a folder of MNIST's IDX files). For image data the label is the class
    (`label`, `features`, `exclude` and the tabular settings do not apply) and `classes` is
    filled from the data when the config is loaded."""

    path: str = "data/penguins/penguins.csv"  # a CSV file, a folder of CSV files, or image data
    format: DataFormat = "auto"
    label: str = "species"
    task: Task = "multiclass"
    features: list[str] = field(default_factory=list)  # only these columns (default: all but the label)
    exclude: list[str] = field(default_factory=list)  # columns that are not features (ids)
    missing_indicators: bool = True  # add `<name>_missing` (0/1) for every numeric feature
    standardize: bool = True  # z-score numeric features; false leaves them imputed but raw
    # Class names in class-id order (binary: the second is the positive class). Default: the
    # label's values, most frequent first.
    classes: list[str] = field(default_factory=list)
    image: ImageSpec = field(default_factory=ImageSpec)
    # A schema.pbtxt frozen from an earlier run (its summary's artifacts.schema): the data must
    # match it, and anomalies stop the run before Transform. Default: infer a schema each run.
    schema: str = ""
    # A column whose value decides a row's split (an id): a row keeps its split when other columns
    # change or are added. Default: the hash of the whole row.
    split_key: str = ""
    # Image data: its stored splits, found when the config is loaded (see components/example_gen/image_data.py).
    splits: list[ImageSplit] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return self.format in IMAGE_FORMATS

    def validate(self) -> None:
        if not self.label:
            raise ConfigError("data.label: must name the label column")
        if self.label in self.exclude or self.label in self.features:
            raise ConfigError(f"data.features/exclude: lists the label column {self.label!r}")
        if self.features and self.exclude:
            raise ConfigError("data.features and data.exclude: set one or the other, not both")
        if len(set(self.classes)) != len(self.classes):
            raise ConfigError(f"data.classes: names a class twice: {self.classes}")
        if self.classes and self.task == "regression":
            raise ConfigError("data.classes: applies to classification, but data.task is regression")
        if self.task == "binary" and self.classes and len(self.classes) != 2:
            raise ConfigError(f"data.classes: task binary needs exactly 2 classes, got {self.classes}")
        if self.split_key and (self.split_key == self.label or self.split_key in self.features):
            raise ConfigError(
                f"data.split_key: {self.split_key!r} decides the splits; it cannot be the label or a feature"
            )


@dataclass
class ConvSpec:
    """Conv2D/ReLU/MaxPool blocks of the `cnn` model (one block per entry of `filters`)."""

    filters: list[int] = field(default_factory=lambda: [32, 64])
    kernel_size: int = 3
    strides: int = 1
    padding: Literal["same", "valid"] = "same"
    pool_size: int = 2

    def validate(self) -> None:
        if not self.filters or any(f <= 0 for f in self.filters):
            raise ConfigError(f"model.conv.filters: one width > 0 per block, got {self.filters}")
        for name in ("kernel_size", "strides", "pool_size"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"model.conv.{name}: must be > 0, got {getattr(self, name)}")


@dataclass
class RnnSpec:
    """The `rnn` model reads an image row by row: rows are time steps, pixels are features."""

    cell: Literal["lstm", "simple_rnn"] = "lstm"
    units: int = 128

    def validate(self) -> None:
        if self.units <= 0:
            raise ConfigError(f"model.rnn.units: must be > 0, got {self.units}")


@dataclass
class VggSpec:
    """VGG-style blocks: `convs[i]` 3x3 convolutions of `widths[i]` filters, then a 2x2 max-pool.

    The defaults are VGG16's convolutional base."""

    widths: list[int] = field(default_factory=lambda: [64, 128, 256, 512, 512])
    convs: list[int] = field(default_factory=lambda: [2, 2, 3, 3, 3])

    def validate(self) -> None:
        if len(self.widths) != len(self.convs) or not self.widths:
            raise ConfigError(
                f"model.vgg: widths and convs need one entry per block, got {self.widths} and {self.convs}"
            )
        if any(v <= 0 for v in self.widths + self.convs):
            raise ConfigError("model.vgg: widths and convs must be > 0")


@dataclass
class SqueezeNetSpec:
    """SqueezeNet v1.0 with fire modules. `stem: imagenet` is the published 7x7/2 stem with three
    max-pools; `small` (3x3/1 stem, two pools) suits images of a few dozen pixels. `scale`
    multiplies every squeeze and expand width."""

    stem: Literal["imagenet", "small"] = "imagenet"
    scale: float = 1.0

    def validate(self) -> None:
        if self.scale <= 0:
            raise ConfigError(f"model.squeezenet.scale: must be > 0, got {self.scale}")


@dataclass
class TransferSpec:
    """A frozen pretrained conv base under a new head. `base_model` is a local Keras file
    (.h5/.keras) or a SavedModel directory this pipeline pushed; its layers up to and including
    `base_output_layer` (default: the last conv/pool layer before its head) form the base."""

    base_model: str = ""
    base_output_layer: str = ""
    head_units: int = 256
    fine_tune_layers: int = 0  # unfreeze this many of the base's top layers

    def validate(self) -> None:
        if self.head_units <= 0 or self.fine_tune_layers < 0:
            raise ConfigError("model.transfer: head_units must be > 0 and fine_tune_layers >= 0")


@dataclass
class AugmentationSpec:
    """Random changes to each training image in the image models (Keras preprocessing layers,
    inactive at inference). `rotate`, `translate` and `zoom` are fractions: of a full turn, of
    the height/width, of the size."""

    flip: Literal["none", "horizontal", "vertical", "horizontal_and_vertical"] = "none"
    rotate: float = 0.0
    translate: float = 0.0
    zoom: float = 0.0

    def validate(self) -> None:
        for name in ("rotate", "translate", "zoom"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"model.augmentation.{name}: must be in [0, 1), got {getattr(self, name)}")


@dataclass
class ModelSpec:
    """Which registered builder to use, and its hyperparameters (each family reads its section)."""

    name: str = "mlp_classifier"
    hidden_units: list[int] = field(default_factory=lambda: [64, 32])
    dropout: float = 0.0
    batch_norm: bool = False  # BatchNormalization after each hidden Dense layer
    l2: float = 0.0  # L2 penalty on Dense kernels
    optimizer: Literal["adam", "sgd", "rmsprop"] = "adam"
    learning_rate: float = 0.01
    conv: ConvSpec = field(default_factory=ConvSpec)
    rnn: RnnSpec = field(default_factory=RnnSpec)
    vgg: VggSpec = field(default_factory=VggSpec)
    squeezenet: SqueezeNetSpec = field(default_factory=SqueezeNetSpec)
    transfer: TransferSpec = field(default_factory=TransferSpec)
    augmentation: AugmentationSpec = field(default_factory=AugmentationSpec)  # image models only

    def validate(self) -> None:
        if any(units <= 0 for units in self.hidden_units):
            raise ConfigError(f"model.hidden_units: every width must be > 0, got {self.hidden_units}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout: must be in [0, 1), got {self.dropout}")
        if self.l2 < 0:
            raise ConfigError(f"model.l2: must be >= 0, got {self.l2}")
        if self.learning_rate <= 0:
            raise ConfigError(f"model.learning_rate: must be > 0, got {self.learning_rate}")


@dataclass
class EarlyStoppingSpec:
    """Keras EarlyStopping on val_loss; the best epoch's weights are restored."""

    enabled: bool = True
    min_delta: float = 0.001
    patience: int = 20

    def validate(self) -> None:
        if self.min_delta < 0:
            raise ConfigError(f"training.early_stopping.min_delta: must be >= 0, got {self.min_delta}")
        if self.patience < 0:
            raise ConfigError(f"training.early_stopping.patience: must be >= 0, got {self.patience}")


StrategyKind = Literal["auto", "tpu", "mirrored", "multi_worker", "default"]


@dataclass
class TrainingSpec:
    epochs: int = 200
    batch_size: int = 32  # per replica: the global batch is this times the strategy's replicas
    seed: int = 42
    early_stopping: EarlyStoppingSpec = field(default_factory=EarlyStoppingSpec)
    # tf.distribute strategy (see components/trainer/distribution.py); auto picks TPU, cluster, GPUs, CPU.
    strategy: StrategyKind = "auto"
    # Split the host CPU into this many logical devices, so MirroredStrategy runs without GPUs.
    cpu_devices: int = 0
    # Largest transformed train + eval (MB) read once and held in memory; above it, or 0, the
    # Trainer reads the files every epoch (components/trainer/data.py).
    in_memory_mb: int = 1024
    # Batches Keras runs per call of its train function when the data is in memory.
    steps_per_execution: int = 32

    def validate(self) -> None:
        if self.epochs <= 0:
            raise ConfigError(f"training.epochs: must be > 0, got {self.epochs}")
        if self.batch_size <= 0:
            raise ConfigError(f"training.batch_size: must be > 0, got {self.batch_size}")
        if self.cpu_devices < 0:
            raise ConfigError(f"training.cpu_devices: must be >= 0, got {self.cpu_devices}")
        if self.in_memory_mb < 0:
            raise ConfigError(f"training.in_memory_mb: must be >= 0, got {self.in_memory_mb}")
        if self.steps_per_execution < 1:
            raise ConfigError(f"training.steps_per_execution: must be >= 1, got {self.steps_per_execution}")


SpecT = TypeVar("SpecT")


def from_dict(cls: type[SpecT], data: Any, key: str = "") -> SpecT:
    """Builds dataclass `cls` from a mapping, checking keys and types recursively."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{key or 'config'}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{key}." if key else ""
        raise ConfigError(f"{where}{unknown[0]}: unknown key (known keys: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    values = {
        name: _coerce(hints[name], _over_default(fields[name], data[name]), f"{key}.{name}" if key else name)
        for name in data
    }
    spec = cls(**values)
    validate = getattr(spec, "validate", None)
    if validate:
        # A spec used under several keys (a pod's resources) takes the key its messages name.
        validate(key) if inspect.signature(validate).parameters else validate()
    return spec


def _over_default(spec_field: dataclasses.Field, value: Any) -> Any:
    """A partial mapping for a nested section keeps the section's own defaults for the keys it
    leaves out (e.g. `kubeflow.trainer.memory` alone keeps the Trainer's default GPU)."""
    if not (isinstance(value, dict) and spec_field.default_factory is not dataclasses.MISSING):
        return value
    default = spec_field.default_factory()
    if not dataclasses.is_dataclass(default):
        return value
    return {**{f.name: getattr(default, f.name) for f in dataclasses.fields(default)}, **value}


def _coerce_dataclass_value(hint: Any, value: Any, key: str) -> Any:
    """An already built spec (a section's default) is taken as it is."""
    return value if isinstance(value, hint) else from_dict(hint, value, key)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """Checks `value` against type `hint` (the few forms our specs use)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _coerce_dataclass_value(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: must be one of {', '.join(map(str, args))}; got {value!r}")
        return value
    if hint is Any:
        return value
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {name: _coerce(args[1], item, f"{key}.{name}") for name, item in value.items()}
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_coerce(args[0], item, f"{key}[{i}]") for i, item in enumerate(value)]
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):
            value = _yaml_exponent(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported type hint {hint!r}")  # a bug in our specs, not input


def _yaml_exponent(text: str) -> Any:
    """YAML 1.1 reads `1e-3` (no dot, no sign) as a string; as a number it is what was meant."""
    try:
        return float(text) if "e" in text.lower() and text.strip().lower() not in ("inf", "nan") else text
    except ValueError:
        return text


@dataclass
class MetricGate:
    """The gate on one metric (components/evaluator/gate.py names them per task): absolute
    bounds, and whether the candidate may be worse than the model in production only by what the
    eval split cannot tell from chance (`no_regression`; default: on for loss and accuracy)."""

    min: Optional[float] = None
    max: Optional[float] = None
    no_regression: Optional[bool] = None


@dataclass
class EvaluationSpec:
    """The gate, on the eval split (which no training decision saw): absolute bounds, and no
    regression against the model in production (the newest version in the serving dir).

    `loss` is the training loss (cross-entropy, or MAE for regression); `accuracy` applies to
    classification only; `metrics` bounds any metric of the task by name (e.g. `auc: {min: 0.8}`).
    No regression: candidate and production are scored on the same eval examples, and the
    candidate is refused when the `confidence` interval of the difference (a paired bootstrap
    over the examples, `bootstrap_samples` resamples) lies wholly on the worse side by more than
    `baseline_tolerance` (in the metric's own units; 0: worse beyond chance).
    """

    max_loss: Optional[float] = None
    min_accuracy: Optional[float] = None
    baseline_tolerance: float = 0.0
    metrics: dict[str, MetricGate] = field(default_factory=dict)
    confidence: float = 0.95
    bootstrap_samples: int = 1000

    def validate(self) -> None:
        if self.min_accuracy is not None and not 0.0 <= self.min_accuracy <= 1.0:
            raise ConfigError(f"evaluation.min_accuracy: must be in [0, 1], got {self.min_accuracy}")
        if self.max_loss is not None and self.max_loss < 0:
            raise ConfigError(f"evaluation.max_loss: must be >= 0, got {self.max_loss}")
        if self.baseline_tolerance < 0:
            raise ConfigError(f"evaluation.baseline_tolerance: must be >= 0, got {self.baseline_tolerance}")
        if not 0.5 <= self.confidence < 1.0:
            raise ConfigError(f"evaluation.confidence: must be in [0.5, 1), got {self.confidence}")
        if self.bootstrap_samples < 100:
            raise ConfigError(f"evaluation.bootstrap_samples: at least 100 resamples, got {self.bootstrap_samples}")


TuningAlgorithm = Literal["random", "bayesian", "hyperband"]
TuningObjective = Literal["loss", "accuracy"]


@dataclass
class TuningSpec:
    """Hyperparameter search with KerasTuner in TFX's Tuner component, before the Trainer.

    `space` maps a dotted key of `model` or `training` to the values to try, e.g.
    `model.dropout: [0.0, 0.2, 0.4]`; empty means the model's default space
    (components/tuner/space.py). Each trial trains on the train split by `folds`-fold
    cross-validation (the eval split stays unseen until the Evaluator) with early stopping
    after `patience` epochs, and scores the mean best validation loss (or accuracy) over the
    folds. The search ends after `max_trials` trials or `max_seconds`, whichever comes first;
    the Trainer then trains the best values on the whole train split."""

    enabled: bool = False
    algorithm: TuningAlgorithm = "bayesian"
    objective: TuningObjective = "loss"
    max_trials: int = 12
    max_epochs: int = 100  # per trial (hyperband: the largest bracket's epochs)
    max_seconds: float = 900.0
    patience: int = 10
    folds: int = 3
    seed: int = 42
    space: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        for name in ("max_trials", "max_epochs", "max_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"tuning.{name}: must be > 0, got {getattr(self, name)}")
        if self.folds < 2:
            raise ConfigError(f"tuning.folds: cross-validation needs at least 2 folds, got {self.folds}")
        if self.patience < 0:
            raise ConfigError(f"tuning.patience: must be >= 0, got {self.patience}")
        # `--set tuning.space.model.dropout=[0,0.2]` arrives nested; a recipe writes the dotted key.
        self.space = flat_keys(self.space)
        for key, values in self.space.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"tuning.space.{key}: expected a non-empty list of values to try, got {values!r}")


def flat_keys(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model": {"dropout": 0.1}} -> {"model.dropout": 0.1}: nested sections as dotted keys."""
    flat: dict[str, Any] = {}
    for name, value in mapping.items():
        if isinstance(value, dict):
            flat.update(flat_keys(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


# --- The run as a whole: its sections beyond the component specs above, and RunConfig. ---

AUTO_MODEL = "auto"
METADATA_FILE = "metadata.sqlite"  # ML Metadata's SQLite store, in the pipeline root
# None: Beam's defaults, the in-memory DirectRunner with one worker (on small data a multi-process
# runner spends more on start-up than on work). Empty on purpose: given any Beam args, each TFX
# Beam component first builds an sdist of TFX itself for remote workers (about 2.5 s apiece,
# four components a run), which a local DirectRunner never reads.
DEFAULT_BEAM_ARGS: list[str] = []
# DirectRunner with one worker process per core (pipeline/config/beam_mode.py: local runs on large data;
# every Kubeflow pod). A dependency flag is set so that TFX does not build that sdist for them
# (tfx/utils/dependency_utils.py, make_beam_dependency_flags, skips it when one is given): the
# workers import the installed TFX. It also leaves a 52 MB build dir in /tmp each time.
MULTI_PROCESS_BEAM_ARGS = [
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=0",
    "--sdk_container_image=none",
]
KUBEFLOW_BEAM_ARGS = MULTI_PROCESS_BEAM_ARGS


@dataclass
class SplitSpec:
    """Hash buckets of the rows (or image paths) for the three splits, 3:1:1 by default: `train`
    is what the model fits, `validation` what early stopping and every other training decision
    watch, `eval` what the gate judges and nothing else sees. Data stored pre-split keeps its
    splits (docs/data.md)."""

    train: int = 3
    validation: int = 1
    eval: int = 1

    def validate(self) -> None:
        if self.train <= 0 or self.validation <= 0 or self.eval <= 0:
            raise ConfigError(
                f"split: every bucket must be > 0, got train={self.train} validation={self.validation} eval={self.eval}"
            )

    @property
    def buckets(self) -> dict[str, int]:
        """Output split name -> hash buckets, in ExampleGen's order."""
        return {
            features.TRAIN_SPLIT: self.train,
            features.VALIDATION_SPLIT: self.validation,
            features.EVAL_SPLIT: self.eval,
        }

    def share(self, name: str) -> float:
        return self.buckets[name] / sum(self.buckets.values())


@dataclass
class OutputSpec:
    """Where TFX keeps artifacts and ML Metadata, and where blessed models are pushed."""

    pipeline_root: str = ""  # default: output/<name>/pipeline
    serving_dir: str = ""  # default: output/<name>/serving


RunnerKind = Literal["beam", "local", "kubeflow"]
# What runs here (`run --runner`); `kubeflow` is set by `compile`.
LOCAL_RUNNERS: tuple[str, ...] = tuple(kind for kind in get_args(RunnerKind) if kind != "kubeflow")


@dataclass
class RunnerSpec:
    """`beam`/`local` run here; `kubeflow` is set by `compile` (the pipeline runs on a cluster).

    `beam_args` reach every Beam-based component (ExampleGen, StatisticsGen, Transform,
    Evaluator) in local runs; `kubeflow.beam_args` in Kubeflow pods. docs/kubeflow.md has
    DirectRunner multi-processing and Dataflow/Flink/Spark examples."""

    kind: RunnerKind = "beam"
    beam_args: list[str] = field(default_factory=lambda: list(DEFAULT_BEAM_ARGS))
    # DirectRunner in this process, or in one worker process per core; `auto` picks the workers
    # from `multi_process_rows` rows of data on (pipeline/config/beam_mode.py). Beam args that name a
    # runner or running mode override both.
    beam_mode: Literal["auto", "in_process", "multi_process"] = "auto"
    multi_process_rows: int = 500_000

    def validate(self) -> None:
        if self.multi_process_rows < 0:
            raise ConfigError(f"runner.multi_process_rows: must be >= 0, got {self.multi_process_rows}")


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(K|M|G|T|Ki|Mi|Gi|Ti)$")
_TO_GB = {
    "K": 1e-6,
    "M": 1e-3,
    "G": 1.0,
    "T": 1e3,
    "Ki": 1024 / 1e9,
    "Mi": 1024**2 / 1e9,
    "Gi": 1024**3 / 1e9,
    "Ti": 1024**4 / 1e9,
}


@dataclass
class ResourceRequest:
    """What one component's pod asks Kubernetes for on Kubeflow.

    `accelerator_type` is the Kubernetes resource on open-source Kubeflow Pipelines
    (`nvidia.com/gpu`) or the machine accelerator on Vertex AI Pipelines (`NVIDIA_TESLA_T4`,
    `NVIDIA_TESLA_A100`, `TPU_V3`...)."""

    cpu: float = 0.0  # cores requested (0: the cluster's default)
    memory: str = ""  # e.g. "16G" or "15Gi" ("": the cluster's default)
    accelerator_type: str = ""
    accelerator_count: int = 0

    def validate(self, key: str) -> None:
        if self.cpu < 0:
            raise ConfigError(f"{key}.cpu: must be >= 0, got {self.cpu}")
        if self.memory and not _QUANTITY.match(self.memory):
            raise ConfigError(f"{key}.memory: expected a quantity such as 16G or 15Gi, got {self.memory!r}")
        if self.accelerator_count < 0:
            raise ConfigError(f"{key}.accelerator_count: must be >= 0, got {self.accelerator_count}")
        if bool(self.accelerator_type) != bool(self.accelerator_count):
            raise ConfigError(
                f"{key}.accelerator_type and accelerator_count: set both (e.g. nvidia.com/gpu and 1) or neither"
            )

    @property
    def memory_gb(self) -> float:
        number, unit = _QUANTITY.match(self.memory).groups()
        return float(number) * _TO_GB[unit]


# Where a compiled pipeline runs: open-source Kubeflow Pipelines v2, or Vertex AI Pipelines.
Target = Literal["kubeflow", "vertex"]
TARGETS: tuple[str, ...] = get_args(Target)
# `accelerator_type: gpu` is each target's usual GPU: a Kubernetes resource on open-source KFP,
# a machine accelerator on Vertex AI.
GPU = "gpu"
TARGET_GPU = {"kubeflow": "nvidia.com/gpu", "vertex": "NVIDIA_TESLA_T4"}
# The artifact stores each target's pods can use. On open-source KFP the launcher maps only
# gs://, s3:// and minio:// to the pod's disk (LocalPathForURI in backend/src/v2/component/
# launcher_v2.go), and TFX's executors open the `uri` itself with tf.io.gfile, which knows gs://
# and (tensorflow-io) s3:// but no minio://: MinIO is reached as s3:// with S3_ENDPOINT.
TARGET_STORES = {"kubeflow": ("gs://", "s3://"), "vertex": ("gs://",)}


@dataclass
class KubeflowSpec:
    """How `compile` builds the Kubeflow Pipelines spec, for `target` kubeflow (open-source KFP
    v2) or vertex (Vertex AI Pipelines).

    Only the Trainer asks for an accelerator by default; the Evaluator gets one when its
    section sets it. `image_workdir` is where the image holds this project: relative paths in
    a recipe (the shipped data) are resolved there, not on the machine that compiles."""

    target: Target = "kubeflow"
    image: str = ""
    image_workdir: str = "/pipeline"
    # Beam in each pod: DirectRunner over all the pod's cores (see docs/kubeflow.md for Dataflow).
    beam_args: list[str] = field(default_factory=lambda: list(KUBEFLOW_BEAM_ARGS))
    trainer: ResourceRequest = field(
        default_factory=lambda: ResourceRequest(cpu=4, memory="16G", accelerator_type=GPU, accelerator_count=1)
    )
    evaluator: ResourceRequest = field(default_factory=ResourceRequest)

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"kubeflow.target: one of {', '.join(TARGETS)}, got {self.target!r}")
        for key in ("trainer", "evaluator"):  # each request validated itself when loaded
            request = getattr(self, key)
            _check_accelerator_name(f"kubeflow.{key}.accelerator_type", request.accelerator_type, self.target)
        if not self.image_workdir.startswith("/"):
            raise ConfigError(f"kubeflow.image_workdir: must be an absolute path, got {self.image_workdir!r}")

    def for_target(self) -> "KubeflowSpec":
        """`gpu` replaced by the target's GPU name."""

        def named(request: ResourceRequest) -> ResourceRequest:
            if request.accelerator_type != GPU:
                return request
            return dataclasses.replace(request, accelerator_type=TARGET_GPU[self.target])

        return dataclasses.replace(self, trainer=named(self.trainer), evaluator=named(self.evaluator))


def _check_accelerator_name(key: str, name: str, target: str) -> None:
    """Open-source KFP asks Kubernetes for a resource (`nvidia.com/gpu`, `google.com/tpu`);
    Vertex AI for a machine accelerator (`NVIDIA_TESLA_T4`, `TPU_V3`). The other kind of name
    compiles but never schedules."""
    if not name or name == GPU:
        return
    if target == "kubeflow" and "/" not in name:
        raise ConfigError(
            f"{key}: open-source Kubeflow asks Kubernetes for a resource such as "
            f"nvidia.com/gpu or google.com/tpu, got {name!r} (a Vertex AI name: use --target vertex)"
        )
    if target == "vertex" and "/" in name:
        raise ConfigError(
            f"{key}: Vertex AI takes a machine accelerator such as NVIDIA_TESLA_T4 or TPU_V3, "
            f"got the Kubernetes resource {name!r}"
        )


@dataclass
class RunConfig:
    name: str = ""  # pipeline name; default: the data file's stem
    data: DataSpec = field(default_factory=DataSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    model: ModelSpec = field(default_factory=lambda: ModelSpec(name=AUTO_MODEL))
    training: TrainingSpec = field(default_factory=TrainingSpec)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    tuning: TuningSpec = field(default_factory=TuningSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    runner: RunnerSpec = field(default_factory=RunnerSpec)
    kubeflow: KubeflowSpec = field(default_factory=KubeflowSpec)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output.pipeline_root, METADATA_FILE)
