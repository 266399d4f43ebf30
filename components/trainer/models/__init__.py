"""Model registry: a name in the config maps to a builder and what it can be used for.

A builder takes the transformed inputs (`InputSpec`), the task (`TaskSpec`) and the model's
hyperparameters (`ModelSpec`) and returns a compiled Keras model. Which tasks a model fits and
whether it needs images is declared here, once, and checked both when a config is loaded and
when a model is built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from components.settings import CLASSIFICATION_TASKS, TASKS, ModelSpec

if TYPE_CHECKING:
    from components.trainer.models.inputs import InputSpec, TaskSpec

# No TensorFlow here: loading a config checks the model's name and task against this table, and
# a wrong name is reported before TensorFlow is imported. The builders are imported on use.
Builder = Callable[["InputSpec", "TaskSpec", ModelSpec], Any]


@dataclass(frozen=True)
class ModelInfo:
    builder_path: str  # "module:function"
    tasks: tuple[str, ...]
    needs_image: bool = False

    @property
    def builder(self) -> Builder:
        module, function = self.builder_path.split(":")
        return getattr(importlib.import_module(module), function)

    @property
    def description(self) -> str:
        """The first sentence of the builder's docstring."""
        paragraph = " ".join((self.builder.__doc__ or "").strip().split("\n\n")[0].split())
        return paragraph.split(". ")[0].rstrip(".")


_MLP, _CONV, _TRANSFER = (
    "components.trainer.models.mlp",
    "components.trainer.models.conv",
    "components.trainer.models.transfer",
)
REGISTRY: dict[str, ModelInfo] = {
    info.builder_path.split(":")[1]: info
    for info in (
        ModelInfo(f"{_MLP}:linear", TASKS),
        ModelInfo(f"{_MLP}:mlp_regressor", ("regression",)),
        ModelInfo(f"{_MLP}:mlp_classifier", CLASSIFICATION_TASKS),
        ModelInfo(f"{_MLP}:binary_classifier", ("binary",)),
        ModelInfo(f"{_MLP}:mlp_dropout_batchnorm", TASKS),
        ModelInfo(f"{_MLP}:mlp_batchnorm_input", TASKS),
        ModelInfo(f"{_MLP}:mnist_mlp", ("multiclass",)),
        ModelInfo(f"{_CONV}:cnn", TASKS, needs_image=True),
        ModelInfo("components.trainer.models.rnn:rnn", CLASSIFICATION_TASKS, needs_image=True),
        ModelInfo(f"{_CONV}:vgg", TASKS, needs_image=True),
        ModelInfo(f"{_CONV}:squeezenet", ("multiclass",), needs_image=True),
        ModelInfo(f"{_TRANSFER}:transfer", TASKS, needs_image=True),
    )
}


def default_model(task: str) -> str:
    """The model a recipe gets when it names none (`model.name: auto`), and a sweep's rows build on."""
    return "mlp_classifier" if task in CLASSIFICATION_TASKS else "mlp_regressor"


def check_model(name: str, task: str) -> ModelInfo:
    """The model's registry entry, or a ValueError saying why it cannot serve `task`."""
    info = check_known(name)
    if task not in info.tasks:
        raise ValueError(f"model {name} fits task {' or '.join(info.tasks)}, not {task}")
    return info


def build_model(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> Any:
    info = check_model(spec.name, task.task)
    if info.needs_image and inputs.image is None:
        raise ValueError(f"model {spec.name} needs image data; this data has only tabular features")
    return info.builder(inputs, task, spec)


@dataclass(frozen=True)
class CatalogRow:
    name: str
    tasks: tuple[str, ...]
    needs_image: bool
    parameters: int | None  # None where the model cannot be built without more settings
    description: str
    note: str = ""


def example_task(info: ModelInfo, num_classes: int) -> TaskSpec:
    """The task a catalogue entry is shown with: multiclass where it fits, else its first task."""
    from components.trainer.models.inputs import TaskSpec

    if "multiclass" in info.tasks:
        return TaskSpec("multiclass", num_classes)
    return TaskSpec(info.tasks[0], 2 if info.tasks[0] == "binary" else 0)


def catalog(image_shape: tuple[int, int, int], num_classes: int, base_model: str = "") -> list[CatalogRow]:
    """Every registered model built for one image shape (dense models read it flattened)."""
    from components.settings import TransferSpec
    from components.trainer.models.inputs import ImageInput, InputSpec

    spec = ModelSpec(transfer=TransferSpec(base_model=base_model))
    inputs = InputSpec(image=ImageInput("image", image_shape))
    rows = []
    for name, info in REGISTRY.items():
        model_spec = ModelSpec(**{**vars(spec), "name": name})
        try:
            parameters, note = build_model(inputs, example_task(info, num_classes), model_spec).count_params(), ""
        except ValueError as error:
            parameters, note = None, str(error)
        rows.append(CatalogRow(name, info.tasks, info.needs_image, parameters, info.description, note))
    return rows


def model_summary(name: str, image_shape: tuple[int, int, int], num_classes: int, base_model: str = "") -> str:
    """Keras' layer table of one registered model, built for one image shape."""
    from components.settings import TransferSpec
    from components.trainer.models.inputs import ImageInput, InputSpec

    lines: list[str] = []
    spec = ModelSpec(name=name, transfer=TransferSpec(base_model=base_model))
    model = build_model(
        InputSpec(image=ImageInput("image", image_shape)), example_task(check_known(name), num_classes), spec
    )
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def check_known(name: str) -> ModelInfo:
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]
